"""The E.164 form of the most common UK phone numbers without phonenumbers' parser.

Parsing with phonenumbers costs ~40 µs a number, the largest share of normalising a row, and an
import's numbers are mostly distinct, so a cache does not help. For the one shape that most UK
files hold — ten national digits after ``0`` or ``+44`` (``020 7946 0000``, ``07700 900123``,
``+44 7700 900123``), written with spaces, hyphens, dots or parentheses — the answer is known:
``+44`` and the ten digits. Every other number (other regions, nine-digit numbers, ``+44 (0)``,
extensions, letters, other digit scripts) goes to phonenumbers. ``tests/pipeline/test_uk_phones.py``
checks the two agree on hundreds of thousands of generated numbers.
"""

from __future__ import annotations

import re

_SHAPE = re.compile(r"\+?[0-9 ().\-]+")
_SEPARATORS = str.maketrans("", "", " ().-")
_TEN_DIGITS = re.compile(r"(?:0|\+44)([1-9][0-9]{9})")


def uk_e164(raw: str, region: str) -> str | None:
    """``+44`` and the ten national digits, or None when phonenumbers must decide."""
    if region != "GB" or not _SHAPE.fullmatch(raw):
        return None
    found = _TEN_DIGITS.fullmatch(raw.translate(_SEPARATORS))
    return "+44" + found.group(1) if found else None
