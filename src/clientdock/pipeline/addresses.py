"""Addresses: one client address object out of what each door sends.

* :func:`gather` (the file door): a row's ``addresses.<type>.<part>`` cells become one object
  per type (``{"type": "billing", "line1": ..., "postalCode": ...}``); a type whose cells are
  all empty gives no object. A lone multi-line first line (an ``Address`` column holding the
  whole address) is split into ``line1``…``line4``, and its last lines are read as the
  ``postalCode`` (a UK or Dutch postcode, a US ZIP+4, or 4 or 5 digits as most of Europe
  writes them) and the ``country`` (a country's name in English, German,
  French, Spanish or Dutch) when they stand alone and the row has no such column filled.
* :func:`clean_item` (every door, through ``normalise``): one address item checked and
  trimmed. Besides our keys (:data:`ADDRESS_KEYS`) it takes the Propeller API's own:
  ``number`` + ``numberExtension`` become ``houseNumber`` ("12" + "A" -> "12A", "12" + "2" ->
  "12-2"), ``notes``/``company``/the contact person's names, email and phones and
  ``isDefault`` are kept on the object as sent (:data:`CONTACT_KEYS`), and the types
  ``delivery``/``invoice`` become ``shipping``/``billing`` (``home`` stays ``home``).
* :func:`merge_by_type` (the file door's updates): the file's addresses replace, part by part,
  the stored address of the same type; the client's other addresses are left as they are, so
  a column left empty or an address type the file has no column for is never cleared.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from clientdock.clients.fields import ADDRESS_FILE_FIELDS, ADDRESS_FILE_TYPES, ADDRESS_PARTS
from clientdock.pipeline import values as v
from clientdock.pipeline.country_names import NAMES as COUNTRY_NAMES

#: The keys of a stored address object that hold the address itself.
ADDRESS_KEYS: tuple[str, ...] = ("type", *ADDRESS_PARTS)
#: Who and what an address is for, kept on the object as sent (the Propeller API's names).
CONTACT_KEYS: tuple[str, ...] = ("company", "firstName", "middleName", "lastName", "email", "phone", "mobile", "notes", "isDefault")
#: The Propeller API's house number, given in two parts; joined into ``houseNumber``.
NUMBER_KEYS: tuple[str, ...] = ("number", "numberExtension")
#: Every key an address item may have.
ITEM_KEYS: tuple[str, ...] = (*ADDRESS_KEYS, *CONTACT_KEYS, *NUMBER_KEYS)
#: The Propeller API's address types -> ours (any case); other types are kept as sent.
PROPELLER_TYPES: dict[str, str] = {"delivery": "shipping", "invoice": "billing", "home": "home"}
TEXT_MAX_LENGTH = 255
NOTES_MAX_LENGTH = 4000
#: ``line1``…``line4``: what a split address fills; lines beyond the fourth join the fourth.
LINES = ("line1", "line2", "line3", "line4")

#: A postcode on a line of its own: UK ("SW1A 1AA"), Dutch ("1012 LG"), US ZIP+4, or 4-5 digits.
_POSTCODE = re.compile(r"GIR ?0AA|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|\d{4} ?[A-Z]{2}|\d{5}-\d{4}|\d{4,5}", re.IGNORECASE)
_MORE_COUNTRY_NAMES = (
    "UK", "U.K.", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland", "USA", "U.S.A.", "Holland",
    "The Netherlands", "Nederland", "Deutschland", "España", "United States of America",
)  # fmt: skip


# --- one item ------------------------------------------------------------------------------


def clean_item(item: Any, position: int) -> dict[str, Any]:
    """An address item as stored: known keys only, text trimmed, empty values dropped."""
    if not isinstance(item, dict):
        raise v.InvalidValue(f"item {position} must be an object")
    unknown = set(item) - set(ITEM_KEYS)
    if unknown:
        known = ", ".join(ADDRESS_KEYS)
        propeller = ", ".join((*NUMBER_KEYS, *CONTACT_KEYS))
        raise v.InvalidValue(f"item {position} has unknown keys {sorted(unknown)}; use {known} (or the Propeller API's {propeller})")
    out: dict[str, Any] = {}
    for key, raw in item.items():
        if raw is None or key in NUMBER_KEYS:
            continue
        try:
            limit = NOTES_MAX_LENGTH if key == "notes" else TEXT_MAX_LENGTH
            value = v.boolean(raw) if key == "isDefault" else v.text(raw, max_length=limit)
        except v.InvalidValue as exc:
            raise v.InvalidValue(f"item {position} {key} {exc}") from exc
        if value is not None:
            out[key] = value
    number = _house_number(item, position)
    if number is not None:
        if out.get("houseNumber"):
            raise v.InvalidValue(f"item {position} gives both houseNumber and number; send one of them")
        out["houseNumber"] = number
    if isinstance(out.get("type"), str):
        out["type"] = PROPELLER_TYPES.get(out["type"].casefold(), out["type"])
    return out


def _house_number(item: Mapping[str, Any], position: int) -> str | None:
    """``number`` and ``numberExtension`` as one house number: a letter follows directly
    ("12A", "12bis"), anything else after a hyphen ("12-2") unless it starts with one."""
    parts: list[str] = []
    for key in NUMBER_KEYS:
        raw = item.get(key)
        if raw is None:
            continue
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        try:
            text = v.text(raw, max_length=TEXT_MAX_LENGTH)
        except v.InvalidValue as exc:
            raise v.InvalidValue(f"item {position} {key} {exc}") from exc
        if text:
            parts.append(text)
    if len(parts) < 2:
        return parts[0] if parts else None
    number, extension = parts
    joiner = "" if extension[0].isalpha() or extension[0] in "-/ " else "-"
    return f"{number}{joiner}{extension}"


# --- a file's row ----------------------------------------------------------------------------


def gather(fields: dict[str, Any]) -> None:
    """Replace a file row's ``addresses.<type>.<part>`` cells with its ``addresses`` objects."""
    given: dict[str, dict[str, Any]] = {}
    for name in [name for name in fields if name in ADDRESS_FILE_FIELDS]:
        kind, part = ADDRESS_FILE_FIELDS[name]
        value = fields.pop(name)
        if value is not None and str(value).strip():
            given.setdefault(kind, {})[part] = value
    if given:
        fields["addresses"] = [{"type": kind, **split_lines(given[kind])} for kind in ADDRESS_FILE_TYPES if kind in given]


def split_lines(parts: Mapping[str, Any]) -> dict[str, Any]:
    """``parts`` with a lone multi-line ``line1`` spread over the lines (see the module docstring)."""
    first = parts.get("line1")
    if not isinstance(first, str) or any(line in parts for line in LINES[1:]):
        return dict(parts)
    lines = [line.strip(" \t,") for line in first.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    if len(lines) < 2:
        return dict(parts)
    lines = [line for line in lines if line]
    out = {key: value for key, value in parts.items() if key != "line1"}
    if len(lines) > 1 and "country" not in out and is_country(lines[-1]):
        out["country"] = lines.pop()
    if len(lines) > 1 and "postalCode" not in out and is_postcode(lines[-1]):
        out["postalCode"] = lines.pop()
    head, rest = lines[: len(LINES) - 1], lines[len(LINES) - 1 :]
    if rest:
        head.append(", ".join(rest))
    return {**dict(zip(LINES, head, strict=False)), **out}


def is_postcode(text: str) -> bool:
    return _POSTCODE.fullmatch(text.strip()) is not None


def is_country(text: str) -> bool:
    """A country's name (English, German, French, Spanish or Dutch; "UK", "USA" too)."""
    return _fold(text) in _country_names()


@lru_cache(maxsize=1)
def _country_names() -> frozenset[str]:
    return frozenset(_fold(name) for name in (*_MORE_COUNTRY_NAMES, *COUNTRY_NAMES))


def _fold(text: str) -> str:
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return " ".join(bare.casefold().replace(".", "").split())


# --- updates ---------------------------------------------------------------------------------


def merge_by_type(stored: list[dict[str, Any]] | None, given: list[dict[str, Any]], *, only_empty: bool = False) -> list[dict[str, Any]]:
    """The stored addresses with each given one merged, part by part, into the first of its
    type (appended when the client has none of that type). ``only_empty``: a part the stored
    address already has is kept (for ``onExisting=fillEmpty``)."""
    out = [dict(address) for address in stored or []]
    for address in given:
        same = next((i for i, old in enumerate(out) if old.get("type") == address.get("type")), None)
        if same is None:
            out.append(dict(address))
        elif only_empty:
            out[same] = {**address, **{key: value for key, value in out[same].items() if value not in (None, "")}}
        else:
            out[same] = {**out[same], **address}
    return out
