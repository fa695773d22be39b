"""A person's full name as first and last name, for a row that gives only the whole name.

The rule, kept simple so anyone can predict it: ``"Lovelace, Ada"`` (one comma) is last name,
then first name(s); otherwise the first word is the first name and the rest the last name
(``"Ada Lovelace"``, ``"Jan van der Berg"`` -> Jan / van der Berg, ``"Juan García López"`` ->
Juan / García López). A leading honorific (Mr, Mrs, Ms, Dr, Herr, Mme, Sr, Dhr...) becomes the
title when the row has none. A single word is a first name alone.
"""

from __future__ import annotations

from dataclasses import dataclass

_HONORIFICS = frozenset("mr mrs ms miss mx dr prof sir dame lady lord rev herr frau mme mlle sr sra srta dhr mevr".split())


@dataclass(frozen=True)
class NameParts:
    title: str | None
    first: str | None
    last: str | None

    def fields(self, *, title_given: bool) -> dict[str, str]:
        """The parts as record fields (the title only when the record has none of its own)."""
        found = {"firstName": self.first, "lastName": self.last, **({} if title_given else {"title": self.title})}
        return {name: value for name, value in found.items() if value}


def _honorific(word: str) -> bool:
    return word.rstrip(".").casefold() in _HONORIFICS


def split_full_name(text: str) -> NameParts:
    """``text`` as title, first and last name (see the module docstring)."""
    if text.count(",") == 1:
        last, first = (part.strip() for part in text.split(","))
        if first and last:
            words = first.split()
            title = words.pop(0) if len(words) > 1 and _honorific(words[0]) else None
            return NameParts(title, " ".join(words), " ".join(last.split()))
    words = text.split()
    title = words.pop(0) if len(words) > 1 and _honorific(words[0]) else None
    if not words:
        return NameParts(None, None, None)
    return NameParts(title, words[0], " ".join(words[1:]) or None)
