"""Converters from raw input values to stored values, one per kind of field.

Each converter returns the normalised value or raises :class:`InvalidValue` with a message
meant for a person; the caller adds the field and row.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from clientdock.clients.types import CLIENT_TYPES, canonical_type
from clientdock.pipeline.uk_phones import uk_e164


class InvalidValue(ValueError):
    """A value that cannot be stored in its field.

    ``code`` says why: "invalid" (malformed, e.g. an email) or "invalid_value" (well-formed
    text that is not one of the allowed values, e.g. a boolean or a client type).
    """

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
#: Invisible format characters that a name or an email never means, removed from both: the
#: bidirectional controls (U+061C, U+200E/U+200F, U+202A-U+202E, U+2066-U+2069), which can make
#: a name display as another ("Trojan Source"), the zero-width characters (U+200B-U+200D,
#: U+2060) and U+FEFF (a byte order mark left inside text, or a zero-width no-break space).
INVISIBLE_FORMAT = frozenset(
    chr(code) for code in (0x061C, *range(0x200B, 0x2010), *range(0x202A, 0x202F), 0x2060, *range(0x2066, 0x206A), 0xFEFF)
)
_JOINERS = "\u200c\u200d"
_INVISIBLE = dict.fromkeys(map(ord, INVISIBLE_FORMAT), None)
_INVISIBLE_BUT_JOINERS = dict.fromkeys(map(ord, INVISIBLE_FORMAT - set(_JOINERS)), None)
# A joiner without a non-ASCII, non-space character on both sides joins nothing.
_STRAY_JOINER = re.compile(rf"(?<![^\x00-\x7f\s])[{_JOINERS}]|[{_JOINERS}](?![^\x00-\x7f\s])")
_EMAIL_IGNORED = {**_ZERO_WIDTH, **_INVISIBLE}
_BARE_CR = re.compile(r"\r(?!\n)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_RESERVED_TLDS = ("invalid", "example", "test", "localhost", "local")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
_TRUE = {"true", "yes", "y", "1", "on", "t"}
_FALSE = {"false", "no", "n", "0", "off", "f"}
NUL_MESSAGE = "contains a NUL character (\\u0000), which cannot be stored"
MAX_INTEGER_DIGITS = 30
#: Distinct (phone value, region) pairs whose E.164 form is remembered (~20 MB when full).
PHONE_CACHE_SIZE = 65_536


def strip_text(value: Any) -> str:
    """Trim leading/trailing whitespace, Unicode spaces included; keep the inside as given."""
    if type(value) is str:  # nearly every value: skip the type checks below
        if "\x00" in value:
            raise InvalidValue(NUL_MESSAGE)
        return value.strip()
    if isinstance(value, bool):
        raise InvalidValue("must be text, not a boolean")
    if isinstance(value, int | float):
        value = _number_text(value)
    if not isinstance(value, str):
        raise InvalidValue(f"must be text, not {type(value).__name__}")
    if "\x00" in value:
        raise InvalidValue(NUL_MESSAGE)
    return value.strip()


def _number_text(value: float) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValue(f"{value} is not a finite number")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def number(value: Any, *, integer: bool = False) -> int | float:
    """A finite number from a JSON number or text; an integer is kept exact (no float round trip).

    Text goes through Decimal, so ``12345678901234567891`` stays that number and ``1.7`` is not
    an integer. A non-integral number comes back as a float; one too large for a float fails.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidValue("is not a number")
    if isinstance(value, int):
        if abs(value) >= 10**MAX_INTEGER_DIGITS:
            raise InvalidValue(f"has more than {MAX_INTEGER_DIGITS} digits")
        return value
    try:
        exact = Decimal(repr(value) if isinstance(value, float) else strip_text(value))
    except InvalidOperation:
        raise InvalidValue("is not a number") from None
    if not exact.is_finite():
        raise InvalidValue("is not a finite number")
    whole = exact == exact.to_integral_value()
    if whole and exact.adjusted() < MAX_INTEGER_DIGITS:
        return int(exact)
    if integer:
        problem = f"has more than {MAX_INTEGER_DIGITS} digits" if whole else "is not a whole number"
        raise InvalidValue(problem)
    out = float(exact)
    if not math.isfinite(out):
        raise InvalidValue("is out of range")
    return out


def text(value: Any, *, max_length: int, name_like: bool = False) -> str | None:
    """Trimmed text, None when empty. A bare CR (classic Mac line end, or a cell typed in some
    spreadsheets) is a line break: it becomes LF. ``name_like`` text (names, companies) also
    loses the invisible format characters and other control characters (a CRLF becomes LF)."""
    # Printable text has none of the characters these remove (a CR, a control, a format character).
    if isinstance(value, str) and not value.isprintable():
        value = _BARE_CR.sub("\n", value)
        if name_like:
            value = _CONTROL.sub("", visible(value))
    out = strip_text(value)
    if len(out) > max_length:
        raise InvalidValue(f"is {len(out)} characters long; at most {max_length} allowed")
    return out or None


def visible(value: str) -> str:
    """``value`` without the :data:`INVISIBLE_FORMAT` characters.

    The zero-width (non-)joiners U+200C/U+200D are kept where they join two characters of a
    script that needs them - Persian, Indic scripts, emoji sequences (a family is one emoji) -
    so a name written in those scripts is stored as written; between Latin letters, next to a
    space or at either end they join nothing and are removed like the others.
    """
    return _STRAY_JOINER.sub("", value.translate(_INVISIBLE_BUT_JOINERS))


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
#: Plain ASCII addresses: dot-atoms, a domain of LDH labels and a letters-only top-level label (or localhost).
FAST_EMAIL = re.compile(
    rf"(?P<local>{_ATEXT}(?:\.{_ATEXT})*)@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+[A-Za-z]{{2,63}}|localhost)"
)
#: Labels the fast path leaves to email-validator: IDNA's reserved "??--" (the "xn--" of an
#: internationalised domain, which email-validator decodes or refuses).
_IDNA_LABEL = re.compile(r"(?:^|\.)..--")
#: Special-use top-level names that email-validator refuses and SPEC does not reserve (the
#: reserved ones, :data:`_RESERVED_TLDS`, are accepted with a warning).
_REFUSED_TLDS = ("arpa", "onion")


def email(value: Any) -> tuple[str | None, str | None]:
    """Return (stored email, warning). Syntax only, no DNS; domain lower-cased.

    Plain ASCII addresses pass a strict regex (a few µs, :func:`fast_email`); anything else
    goes to email-validator (~74 µs), which also handles internationalised addresses.
    """
    raw = strip_text(value)
    if not raw.isascii():  # the ignored characters are all outside ASCII
        raw = raw.translate(_EMAIL_IGNORED).strip()
    if not raw:
        return None, None
    local, domain = fast_email(raw) or _validated_email(raw)
    return f"{local}@{domain}", _reserved_warning(domain)


def fast_email(raw: str) -> tuple[str, str] | None:
    """(local part, lower-cased domain) of an address the strict fast path accepts, else None:
    email-validator decides. It accepts nothing email-validator refuses, but for the reserved
    domains SPEC accepts with a warning, and stores what email-validator would
    (tests/pipeline/test_email_fast_path.py)."""
    found = FAST_EMAIL.fullmatch(raw) if len(raw) <= 254 else None
    if found is None or len(found.group("local")) > 64:
        return None
    domain = found.group("domain").lower()
    if _IDNA_LABEL.search(domain) or domain.rsplit(".", 1)[-1] in _REFUSED_TLDS:
        return None
    return found.group("local"), domain


def _validated_email(raw: str) -> tuple[str, str]:
    if len(raw) > 320 or not _EMAIL_SHAPE.match(raw):
        raise InvalidValue(f"'{clip(raw)}' is not a valid email address")
    try:
        result = validate_email(raw, check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError as exc:
        raise InvalidValue(f"'{clip(raw)}' is not a valid email address: {exc}") from exc
    local, _, domain = result.normalized.rpartition("@")
    return local, domain.lower()


def _reserved_warning(domain: str) -> str | None:
    if domain == "localhost" or domain.rsplit(".", 1)[-1] in _RESERVED_TLDS:
        return f"the domain '{domain}' is reserved and cannot receive mail"
    return None


def email_key(stored: str | None) -> str | None:
    return stored.casefold() if stored else None


def phone(value: Any, *, region: str) -> tuple[str | None, str | None]:
    """Return (as given, E.164 or None). Spreadsheet damage such as 4.47911E+11 is refused."""
    raw = strip_text(value)
    if not raw.isascii():  # the zero-width characters are all outside ASCII
        raw = raw.translate(_ZERO_WIDTH)
    if not raw:
        return None, None
    if _SCIENTIFIC.match(raw):
        raise InvalidValue(f"'{raw}' looks like a number mangled by a spreadsheet (scientific notation)")
    if len(raw) > 100:
        raise InvalidValue("is longer than 100 characters")
    shortcut = uk_e164(raw, region)
    if shortcut is not None:
        return raw, shortcut
    return raw, e164(raw, region)


@functools.lru_cache(maxsize=PHONE_CACHE_SIZE)
def e164(raw: str, region: str) -> str | None:
    """The E.164 form of a trimmed phone number, None when it cannot be read or is not a possible number.

    Parsing costs ~20-40 µs (phonenumbers) for each number the UK shortcut does not answer; the
    same number recurs in a file (a firm's switchboard) and in the next import of it, so the
    answers are kept per (value, region), a bounded number.
    """
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raw = strip_text(value).lower()
    if not raw:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise InvalidValue(f"'{clip(raw)}' is not a boolean (use true/false, yes/no, 1/0)", code="invalid_value")


def client_type(value: Any) -> str | None:
    raw = strip_text(value)
    if not raw:
        return None
    found = canonical_type(raw)
    if found is None:
        raise InvalidValue(f"'{clip(raw)}' is not a client type; use one of {', '.join(CLIENT_TYPES)}", code="invalid_value")
    return found


_GENDERS = frozenset(
    (
        # English, and the one-letter codes exports write
        "m", "f", "x", "u", "o", "male", "female", "man", "woman", "other", "unknown", "nonbinary", "diverse",
        "unspecified", "notspecified", "prefernottosay",
        # German, French, Spanish, Dutch
        "d", "männlich", "weiblich", "mann", "frau", "divers", "h", "homme", "femme", "masculin", "féminin", "autre",
        "hombre", "mujer", "masculino", "femenino", "otro", "v", "vrouw", "mannelijk", "vrouwelijk", "anders", "onbekend",
    )
)  # fmt: skip
_GENDER_FOLD = re.compile(r"[\s_\-.]+")


def gender(value: Any) -> str | None:
    """A gender as given (trimmed) when it is one of the words or codes firms write for one
    (in the five languages); anything else is refused, naming the value."""
    raw = strip_text(value)
    if not raw:
        return None
    if _GENDER_FOLD.sub("", raw).casefold() not in _GENDERS:
        raise InvalidValue(f"'{clip(raw)}' is not a gender (use e.g. female, male, other)", code="invalid_value")
    return raw


def iso_date(value: Any, *, order: str = "DMY") -> str | None:
    """A date as ISO ``YYYY-MM-DD``; ISO input always works, else ``order`` (DMY or MDY) decides."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raw = strip_text(value)
    if not raw or _NO_DATE.match(raw):
        return None
    parsed = parse_date(raw, order=order)
    if parsed is None:
        raise InvalidValue(f"'{clip(raw)}' {_why_not_a_date(raw)}")
    return parsed.isoformat()


_NO_DATE = re.compile(r"^0{1,4}[/.\-]0{1,2}[/.\-]0{1,4}$")  # Outlook and others write 0/0/00 for "no date"
_SLASHED = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_NO_YEAR = re.compile(r"^\d{1,2}[/.\-]\d{1,2}$|^-{2}\d{2}-\d{2}$")  # 03/14, vCard's --03-14
_DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}$")


def _why_not_a_date(raw: str) -> str:
    """What is wrong with text that is no date: no year, a day that does not exist, or no date at all."""
    if _NO_YEAR.match(raw):
        return "has no year (use YYYY-MM-DD)"
    if _DATE_SHAPE.match(raw):
        return "is not a date that exists (use YYYY-MM-DD)"
    return "is not a date (use YYYY-MM-DD)"


def parse_date(raw: str, *, order: str = "DMY") -> date | None:
    """ISO 8601 (a date, or a date-time whose date is kept), else dd/mm/yyyy or mm/dd/yyyy."""
    try:
        if len(raw) > 10 and raw[4:5] == "-":
            return datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
        return date.fromisoformat(raw)
    except ValueError:
        pass
    match = _SLASHED.match(raw)
    if not match:
        return None
    first, second, year = (int(g) for g in match.groups())
    day, month = (first, second) if order == "DMY" else (second, first)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    raw = strip_text(value)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        as_date = parse_date(raw)
        if as_date is None:
            raise InvalidValue(f"'{clip(raw)}' is not a date-time (use ISO 8601)") from None
        parsed = datetime(as_date.year, as_date.month, as_date.day)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_TAG_SEPARATOR = re.compile(r"[;,]| ::: ")


def tags(value: Any) -> list[str]:
    """Tags from a list, or from a text cell separated by commas, semicolons or Google Contacts'
    `` ::: ``. In a cell, quotes around a tag (Mailchimp writes ``"Clients","Newsletter"``) and
    Google's own system groups (``* myContacts``, ``* starred``) are not the firm's tags."""
    if isinstance(value, str):
        cells = [cell.strip().strip('"').strip() for cell in _TAG_SEPARATOR.split(value)]
        items: list[Any] = [cell for cell in cells if not cell.startswith("* ")]
    elif isinstance(value, list):
        items = value
    else:
        raise InvalidValue("must be a list of strings")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidValue("must be a list of strings")
        tag = unicodedata.normalize("NFC", strip_text(item))
        if len(tag) > 100:
            raise InvalidValue("a tag is longer than 100 characters")
        if tag and tag not in out:
            out.append(tag)
    return out


def clip(raw: str, limit: int = 60) -> str:
    return raw if len(raw) <= limit else raw[:limit] + "…"


def json_type(value: Any) -> str:
    """What a JSON value is, in a message's words: "a boolean", "an object", "a list", "null", "int"…"""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return type(value).__name__
