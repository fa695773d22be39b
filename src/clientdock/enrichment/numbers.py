"""Companies House company numbers: normalise what people type into the register's 8 characters.

A company number is always 8 characters ``[A-Z0-9]{8}`` (FACTS §3): England & Wales companies
are 8 digits, zero-padded (``00445790``); the others carry a two-character prefix and 6 digits
(``SC`` Scotland, ``NI``/``R0`` Northern Ireland, ``OC``/``SO``/``NC`` LLPs, ``LP``/``SL``/``NL``
limited partnerships, ``FC`` overseas, ``SE``, ``GE``, ``CE``/``CS`` CIOs, ``OE`` overseas
entities, …).

:func:`normalise_company_number` never raises: it returns the 8-character number or ``None``;
:func:`describe_invalid` says why a value gives ``None``. So the register is never called with a
number of the wrong length (it answers those with a 500).
"""

from __future__ import annotations

import re
import string

#: Two-character prefixes of the register's numbers (Companies House's list, as far as public
#: sources go: doorda.com glossary, forum.aws.chdev.org t/8468). ``R0`` is letter + digit.
PREFIXES: frozenset[str] = frozenset(
    {
        "AC", "BR", "CE", "CS", "ES", "FC", "FE", "GE", "GN", "GS", "IC", "IP", "LP", "NA", "NC", "NF", "NI", "NL", "NO",
        "NP", "NR", "NV", "NZ", "OC", "OE", "PC", "R0", "RC", "RS", "SA", "SC", "SE", "SF", "SG", "SI", "SL", "SO", "SP",
        "SR", "SZ", "ZC",
    }
)  # fmt: skip

_STRIP = set(string.whitespace + string.punctuation + "\u00a0\u2007\u202f\u2010\u2011\u2012\u2013\u2014")
_EXCEL_FLOAT = re.compile(r"^\s*(\d+)\.0+\s*$")
_ALNUM = re.compile(r"^[A-Z0-9]+$")
_PREFIXED = re.compile(r"^([A-Z][A-Z0-9])(\d+)$")


def _clean(raw: str) -> str:
    excel = _EXCEL_FLOAT.match(raw)  # 7798925.0: a spreadsheet turned the number into a float
    if excel:
        raw = excel.group(1)
    return "".join(ch for ch in raw if ch not in _STRIP).upper()


def _fit(digits: str, width: int) -> str | None:
    """``digits`` left-padded to ``width``; longer only if the excess is leading zeros."""
    if len(digits) > width:
        excess, digits = digits[: len(digits) - width], digits[len(digits) - width :]
        if excess.strip("0"):
            return None
    return digits.zfill(width)


def _check(raw: str | None) -> tuple[str | None, str]:
    if raw is None:
        return None, "no company number given"
    cleaned = _clean(raw)
    if not cleaned:
        return None, "the company number is empty"
    if not _ALNUM.match(cleaned):
        return None, f"{raw!r} has characters other than letters and digits"
    if cleaned.isdigit():
        number = _fit(cleaned, 8)
        if number is None:
            return None, f"{raw!r} has {len(cleaned)} digits; a company number has at most 8"
        if not number.strip("0"):
            return None, f"{raw!r} is all zeros"
        return number, ""
    prefixed = _PREFIXED.match(cleaned)
    if prefixed is None:
        return None, f"{raw!r} is not a company number: expected 8 digits, or a two-letter prefix (such as SC or OC) and 6 digits"
    prefix, digits = prefixed.groups()
    if prefix not in PREFIXES:
        return None, f"{raw!r} starts with {prefix!r}, which is not a Companies House prefix"
    fitted = _fit(digits, 6)
    if fitted is None:
        return None, f"{raw!r} has {len(digits)} digits after {prefix}; a company number has 6"
    return prefix + fitted, ""


def normalise_company_number(raw: str | None) -> str | None:
    """The register's 8-character number for ``raw``, or ``None`` if it cannot be one.

    Upper-cases, drops spaces and punctuation (``sc 123-456`` → ``SC123456``), left-pads digits
    (``123456`` → ``00123456``; ``SC1234`` → ``SC001234``), undoes a spreadsheet's ``.0``, and
    drops leading zeros beyond the width (``000123456`` → ``00123456``).
    """
    return _check(raw)[0]


def describe_invalid(raw: str | None) -> str:
    """Why ``raw`` is not a company number (an empty string if it is one)."""
    return _check(raw)[1]


def is_company_number(raw: str | None) -> bool:
    return _check(raw)[0] is not None
