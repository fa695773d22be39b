"""Individual or organisation: a client's type read from its name, and a record's kind.

One place for the rules every door shares (the file door and the connections door):

* :func:`type_from_name` reads the legal form a name ends in: ``PLC`` ->
  PublicLimitedCompany, ``LLP`` -> LimitedLiabilityPartnership, ``Ltd``/``Limited`` ->
  PrivateLimitedCompany, ``Trust`` -> Trust, ``Charity``/``CIO`` -> Charity, ``Partnership``,
  ``& Co`` and ``& Partners`` -> Partnership;
* :func:`infer_type` adds what else a record shows: a company number, a person's name parts,
  a company name;
* :func:`classify` settles a flat record that may give a type, a name, name parts and a
  company (the file door's rows): the type the record's names imply (kept in
  ``RawRecord.inferred_type``: a new client gets it, an existing client keeps its own type),
  and, for an individual given only a full name, that name split into first and last name.

SoleTrader counts as an organisation for the required fields (a name, which may be the
owner's first and last name or the trading name, and an email): a sole trader is often
recorded under a trading name, and nothing is gained by refusing one without a first name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from clientdock.clients.types import CLIENT_TYPES, canonical_type
from clientdock.pipeline.names import split_full_name
from clientdock.pipeline.records import RawRecord

INDIVIDUAL = "Individual"
OTHER = "Other"
#: Every type but Individual: such a client needs a name (not a first name) and an email.
ORGANISATION_TYPES: tuple[str, ...] = tuple(kind for kind in CLIENT_TYPES if kind != INDIVIDUAL)

_END = r"\.?\)?$"
_START = r"(?:^|[\s,.(])"
#: Legal forms at the end of a name, checked in this order ("Smith & Co Ltd" is a company).
_SUFFIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(_START + r"(?:plc|p\.l\.c)" + _END, re.IGNORECASE), "PublicLimitedCompany"),
    (re.compile(_START + r"(?:llp|l\.l\.p)" + _END, re.IGNORECASE), "LimitedLiabilityPartnership"),
    (re.compile(_START + r"(?:ltd|limited)" + _END, re.IGNORECASE), "PrivateLimitedCompany"),
    (re.compile(_START + r"trust" + _END, re.IGNORECASE), "Trust"),
    (re.compile(_START + r"(?:charity|cio)" + _END, re.IGNORECASE), "Charity"),
    (re.compile(_START + r"partnership" + _END, re.IGNORECASE), "Partnership"),
    (re.compile(r"(?:&|\band)\s*(?:co|company|partners)" + _END, re.IGNORECASE), "Partnership"),
)
_PERSON_PARTS = ("firstName", "middleName", "lastName")
_CAPITAL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def is_organisation(client_type: str | None) -> bool:
    """Whether a client of this type is an organisation (needs a name rather than a first name)."""
    return client_type in ORGANISATION_TYPES


def type_words(client_type: str) -> str:
    """A type as words for messages: "PrivateLimitedCompany" -> "private limited company"."""
    return _CAPITAL.sub(" ", client_type).lower()


def type_from_name(name: Any) -> str | None:
    """The type the legal form at the end of ``name`` says ("Acme Trading Ltd" ->
    PrivateLimitedCompany), or None when it ends in none."""
    if not isinstance(name, str):
        return None
    text = name.strip()
    for pattern, client_type in _SUFFIXES:
        if pattern.search(text):
            return client_type
    return None


def infer_type(names: Iterable[Any], *, person_parts: bool, first_and_last: bool, company_number: bool, company_name: bool) -> str | None:
    """The client type from what a record shows, in this order: the legal form one of
    ``names`` ends in; a company number (PrivateLimitedCompany); an organisation - no first,
    middle or last name, or a company name (Other); a person with a first and a last name
    (Individual); None (the tenant's default) otherwise."""
    for name in names:
        found = type_from_name(name)
        if found:
            return found
    if company_number:
        return "PrivateLimitedCompany"
    if company_name or not person_parts:
        return OTHER
    if first_and_last:
        return INDIVIDUAL
    return None


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    return value.strip() if isinstance(value, str) else ""


def classify(record: RawRecord) -> None:
    """Settle whether a flat record is an individual or an organisation (see the module docstring).

    * A ``type`` the record gives (and that is known) decides; otherwise :func:`infer_type`
      over its ``name`` and ``company``: a legal form, a company number, or a name or company
      without a person's name parts makes an organisation (``Other`` when nothing says which).
    * A ``name`` beside a different ``company`` and no name parts is a person's full name; beside
      a person's name (parts or full name) the company is their employer, so its legal form
      says nothing about the client.
    * An organisation's type, inferred, is kept in ``record.inferred_type``; an individual's is
      not (a new one gets the tenant's default type, as before).
    * An individual given a full name but no first or last name gets them from it
      (:func:`clientdock.pipeline.names.split_full_name`), so the row is not refused; the name
      is then built from the parts ("Lovelace, Ada" -> "Ada Lovelace").
    """
    fields = record.fields
    name, company = _text(fields, "name"), _text(fields, "company")
    parts = [part for part in _PERSON_PARTS if _text(fields, part)]
    given = canonical_type(_text(fields, "type")) if _text(fields, "type") else None
    if not (name or company or parts):
        return
    employee = bool(name and company and name.casefold() != company.casefold() and not type_from_name(name))
    person = bool(parts) or employee
    inferred = infer_type(
        [name] if person else [name, company], person_parts=person,
        first_and_last={"firstName", "lastName"} <= set(parts) or employee,
        company_number=bool(_text(fields, "companyNumber")), company_name=False,
    )  # fmt: skip
    if is_organisation(inferred):
        record.inferred_type = inferred
    if (given or inferred) == INDIVIDUAL and name and not parts:
        split = split_full_name(name)
        if split.first:
            del fields["name"]
            fields.update(split.fields(title_given=bool(_text(fields, "title"))))
