"""Cells every CSV we write passes through: formula injection neutralised (OWASP).

A cell that a spreadsheet could run as a formula (it starts with ``= + - @``, tab, CR or LF)
is written with a leading apostrophe. So that such a file imports back unchanged, the
importer removes that apostrophe again (:func:`restore`); a text that already starts with
apostrophes before such a character gets one more, which keeps the two exact inverses:
``restore(neutralise(text)) == text`` for every text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

DANGEROUS_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n")


def needs_escape(text: str) -> bool:
    """Does ``text`` start with a formula character, possibly behind apostrophes?"""
    return text.lstrip("'").startswith(DANGEROUS_LEADS)


def neutralise(value: Any) -> str:
    """Text of ``value`` with a leading apostrophe when a spreadsheet could run it as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = ", ".join(str(v) for v in value)
    else:
        text = str(value)
    return "'" + text if needs_escape(text) else text


def restore(cell: str) -> str:
    """The text a neutralised cell stands for: one leading apostrophe removed, if we added it."""
    if cell[:1] == "'" and needs_escape(cell[1:]):
        return cell[1:]
    return cell


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Stream a CSV (RFC 4180, CRLF, UTF-8) whose every cell is neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([neutralise(cell) for cell in row])
        yield buffer.getvalue()
