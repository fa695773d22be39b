"""Map an accounting platform's contact onto the pipeline's raw record (canonical field names).

:func:`xero_record` takes a Xero Contact, :func:`quickbooks_record` a QuickBooks Online
Customer. Like every door, the mapping only moves values onto the client's fields; the
pipeline trims, validates and normalises them. Blank and missing values are left out, so an
import never clears what the firm entered itself. A contact that cannot be mapped (not an
object, no id, a part of the wrong shape) gives a record whose errors name the platform's
field, so its row fails alone; these functions never raise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from clientdock.clients.fields import REF_MAX_LENGTHS
from clientdock.errors import FieldError
from clientdock.pipeline.organisations import infer_type
from clientdock.pipeline.records import FieldWarning, RawRecord, Ref
from clientdock.pipeline.values import json_type

XERO = "xero"
QUICKBOOKS = "quickbooks"
#: The role of a Xero contact person among the client's ``contacts``.
CONTACT_PERSON = "contact person"

_MASKED = re.compile(r"[*•]|[xX]{2,}")

#: Xero's AddressType -> our address ``type``.
XERO_ADDRESS_TYPES = {"POBOX": "postal", "STREET": "street"}
#: Xero's address keys -> ours.
XERO_ADDRESS_KEYS = {
    "AddressLine1": "line1", "AddressLine2": "line2", "AddressLine3": "line3", "AddressLine4": "line4",
    "City": "city", "Region": "region", "PostalCode": "postalCode", "Country": "country",
}  # fmt: skip
#: Xero's PhoneType -> our phone field.
XERO_PHONES = {"DEFAULT": "phone", "MOBILE": "mobile"}
#: QuickBooks' address objects -> our address ``type``.
QUICKBOOKS_ADDRESSES = {"BillAddr": "billing", "ShipAddr": "shipping"}
#: QuickBooks' address keys -> ours (``Line5`` is added to ``line4``).
QUICKBOOKS_ADDRESS_KEYS = {
    "Line1": "line1", "Line2": "line2", "Line3": "line3", "Line4": "line4",
    "City": "city", "CountrySubDivisionCode": "region", "PostalCode": "postalCode", "Country": "country",
}  # fmt: skip
#: The address keys the mapping writes (all of them ``pipeline.addresses.ADDRESS_KEYS``).
WRITTEN_ADDRESS_KEYS = ("type", *XERO_ADDRESS_KEYS.values(), *QUICKBOOKS_ADDRESS_KEYS.values())


class _Mapping:
    """One contact being mapped: the fields found so far and the problems, by platform field."""

    def __init__(self, index: int, raw: dict[str, Any]) -> None:
        self.index = index
        self.raw = raw
        self.fields: dict[str, Any] = {}
        self.errors: list[FieldError] = []
        self.warnings: list[FieldWarning] = []

    def fail(self, where: str, message: str, code: str = "invalid") -> None:
        self.errors.append(FieldError(where, message, self.index, code))

    def given(self, key: str, field: str) -> None:
        """``raw[key]`` into ``field`` unless missing or blank (the pipeline checks the value)."""
        value = self.raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return
        self.fields[field] = value

    def text(self, obj: dict[str, Any], key: str, where: str) -> str | None:
        """A part of a nested object as trimmed text (None when blank); a problem names ``where``."""
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(f"{where}.{key}", f"must be text, not {json_type(value)}")
            return None
        return str(value).strip() or None

    def obj(self, key: str) -> dict[str, Any] | None:
        """``raw[key]`` when it is an object; None when missing; a problem when it is something else."""
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(key, f"must be an object, not {json_type(value)}")
            return None
        return value

    def items(self, key: str) -> list[tuple[str, dict[str, Any]]]:
        """``raw[key]``'s objects with their paths (``Phones[2]``); a problem for anything else."""
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(key, f"must be a list, not {json_type(value)}")
            return []
        out = []
        for position, item in enumerate(value):
            if isinstance(item, dict):
                out.append((f"{key}[{position}]", item))
            else:
                self.fail(f"{key}[{position}]", f"must be an object, not {json_type(item)}")
        return out

    def record(self, ref: Ref) -> RawRecord:
        return RawRecord(
            index=self.index, fields=self.fields, refs=[ref], lookup_key=ref.external_id,
            errors=self.errors, warnings=self.warnings, source=self.raw,
        )  # fmt: skip


def _unmappable(index: int, source: Any, field: str | None, message: str, code: str = "invalid", key: str | None = None) -> RawRecord:
    return RawRecord(index=index, fields={}, lookup_key=key, errors=[FieldError(field, message, index, code)], source=source)


def _external_id(index: int, raw: dict[str, Any], key: str, what: str) -> str | RawRecord:
    value = raw.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        found = "missing" if value is None or value == "" else f"not text but {json_type(value)}"
        return _unmappable(index, raw, key, f"is required: the {what} ({found})", "missing")
    external_id = value.strip()
    limit = REF_MAX_LENGTHS["externalId"]
    if len(external_id) > limit:
        return _unmappable(index, raw, key, f"is {len(external_id)} characters long; at most {limit} allowed")
    return external_id


def _guarded(index: int, raw: Any, connection_code: str, entity: str, build: Callable[[int, dict[str, Any], str], RawRecord]) -> RawRecord:
    """``build`` on an object; anything else, or anything ``build`` did not foresee, fails the row."""
    if not isinstance(raw, dict):
        return _unmappable(index, raw, entity, f"must be an object, not {json_type(raw)}")
    try:
        return build(index, raw, connection_code)
    except Exception as exc:  # one odd contact must not stop the import
        return _unmappable(index, raw, entity, f"could not be mapped ({type(exc).__name__}: {exc})")


def xero_record(index: int, contact: dict[str, Any], connection_code: str) -> RawRecord:
    """A Xero Contact as a raw record, its ref (``connection_code``, ContactID); never raises."""
    return _guarded(index, contact, connection_code, "Contact", _xero)


def quickbooks_record(index: int, customer: dict[str, Any], connection_code: str) -> RawRecord:
    """A QuickBooks Online Customer as a raw record, its ref (``connection_code``, Id); never raises."""
    return _guarded(index, customer, connection_code, "Customer", _quickbooks)


def _has_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


# --- Xero ---------------------------------------------------------------------------------------


def _joined_phone(m: _Mapping, phone: dict[str, Any], where: str) -> str | None:
    """Xero's split phone: country and area codes joined to the number, ``+44 20 7946 0000``."""
    number = m.text(phone, "PhoneNumber", where)
    area = m.text(phone, "PhoneAreaCode", where)
    country = m.text(phone, "PhoneCountryCode", where)
    if number is None:
        return None
    if number.startswith("+"):
        return number
    if country:
        country = country.removeprefix("00") if country.startswith("00") else country
        country = country if country.startswith("+") else f"+{country}"
        if area and area.startswith("0"):
            area = area.lstrip("0") or None  # the trunk prefix is dialled at home only: +44 121, not +44 0121
    return " ".join(part for part in (country, area, number) if part)


def _xero(index: int, contact: dict[str, Any], connection_code: str) -> RawRecord:
    contact_id = _external_id(index, contact, "ContactID", "Xero ContactID")
    if isinstance(contact_id, RawRecord):
        return contact_id
    m = _Mapping(index, contact)
    for key, field in (("Name", "name"), ("FirstName", "firstName"), ("LastName", "lastName"), ("EmailAddress", "email")):
        m.given(key, field)
    m.given("CompanyNumber", "companyNumber")
    m.given("TaxNumber", "taxNumber")
    first, last = _has_text(contact.get("FirstName")), _has_text(contact.get("LastName"))
    kind = infer_type(
        [contact.get("Name")], person_parts=first or last, first_and_last=first and last,
        company_number=_has_text(contact.get("CompanyNumber")), company_name=False,
    )  # fmt: skip
    if kind:
        m.fields["type"] = kind
    for where, phone in m.items("Phones"):
        target = XERO_PHONES.get(str(phone.get("PhoneType") or "").upper())
        joined = _joined_phone(m, phone, where)
        if target and joined and target not in m.fields:
            m.fields[target] = joined
    addresses = []
    for where, address in m.items("Addresses"):
        parts = {ours: m.text(address, theirs, where) for theirs, ours in XERO_ADDRESS_KEYS.items()}
        given = m.text(address, "AddressType", where)
        parts = {"type": XERO_ADDRESS_TYPES.get(given.upper(), given.lower()) if given else None, **parts}
        if any(value for key, value in parts.items() if key != "type"):
            addresses.append({key: value for key, value in parts.items() if value})
    if addresses:
        m.fields["addresses"] = addresses
    people = []
    for where, person in m.items("ContactPersons"):
        first_name, last_name = m.text(person, "FirstName", where), m.text(person, "LastName", where)
        email = m.text(person, "EmailAddress", where)
        if not (first_name or last_name):
            if email:
                m.warnings.append(FieldWarning("contacts", f"{where} has no name; left out ({email})", email))
            continue
        found = {"firstName": first_name, "lastName": last_name, "email": email, "role": CONTACT_PERSON, "source": XERO}
        people.append({k: v for k, v in found.items() if v})
    if people:
        m.fields["contacts"] = people
    status = contact.get("ContactStatus")
    m.fields["active"] = not (isinstance(status, str) and status.strip().upper() == "ARCHIVED")
    return m.record(Ref(connection_code, contact_id))


# --- QuickBooks Online --------------------------------------------------------------------------


def _masked(value: Any) -> bool:
    return isinstance(value, str) and bool(_MASKED.search(value))


def _quickbooks(index: int, customer: dict[str, Any], connection_code: str) -> RawRecord:
    customer_id = _external_id(index, customer, "Id", "QuickBooks Customer Id")
    if isinstance(customer_id, RawRecord):
        return customer_id
    m = _Mapping(index, customer)
    names = (
        ("DisplayName", "name"), ("GivenName", "firstName"), ("MiddleName", "middleName"), ("FamilyName", "lastName"),
        ("Title", "title"), ("CompanyName", "company"),
    )  # fmt: skip
    for key, field in names:
        m.given(key, field)
    first, last = _has_text(customer.get("GivenName")), _has_text(customer.get("FamilyName"))
    parts = first or last or _has_text(customer.get("MiddleName"))
    company = _has_text(customer.get("CompanyName"))
    kind = infer_type(
        [customer.get("CompanyName"), customer.get("DisplayName")], person_parts=parts, first_and_last=first and last,
        company_number=False, company_name=company,
    )  # fmt: skip
    if kind:
        m.fields["type"] = kind
    for key, field, part in (
        ("PrimaryEmailAddr", "email", "Address"),
        ("PrimaryPhone", "phone", "FreeFormNumber"),
        ("Mobile", "mobile", "FreeFormNumber"),
    ):
        found = m.obj(key)
        value = m.text(found, part, key) if found is not None else None
        if value:
            m.fields[field] = value
    tax = customer.get("PrimaryTaxIdentifier")
    if _has_text(tax) and not _masked(tax):
        m.fields["taxNumber"] = tax
    addresses = []
    for key, kind_ours in QUICKBOOKS_ADDRESSES.items():
        address = m.obj(key)
        if address is None:
            continue
        lines = {ours: m.text(address, theirs, key) for theirs, ours in QUICKBOOKS_ADDRESS_KEYS.items()}
        line5 = m.text(address, "Line5", key)
        if line5:
            lines["line4"] = f"{lines['line4']}, {line5}" if lines["line4"] else line5
        if any(lines.values()):
            addresses.append({"type": kind_ours, **{k: v for k, v in lines.items() if v}})
    if addresses:
        m.fields["addresses"] = addresses
    active = customer.get("Active")
    m.fields["active"] = not (active is False or (isinstance(active, str) and active.strip().lower() == "false"))
    return m.record(Ref(connection_code, customer_id))


MAPPING_DOC = """
**Mapping** (blank or missing values are left out, so an import never clears a field; the
values are then checked like any other door's):

| client field | Xero Contact | QuickBooks Online Customer |
|---|---|---|
| `name` | `Name` | `DisplayName` |
| `firstName` / `middleName` / `lastName` | `FirstName` / – / `LastName` | `GivenName` / `MiddleName` / `FamilyName` |
| `title` | – | `Title` |
| `company` | – | `CompanyName` |
| `email` | `EmailAddress` | `PrimaryEmailAddr.Address` |
| `phone` | `Phones[]` of type `DEFAULT` (1) | `PrimaryPhone.FreeFormNumber` |
| `mobile` | `Phones[]` of type `MOBILE` (1) | `Mobile.FreeFormNumber` |
| `addresses` | `Addresses[]` (2) | `BillAddr`, `ShipAddr` (2) |
| `companyNumber` | `CompanyNumber` | – |
| `taxNumber` | `TaxNumber` | `PrimaryTaxIdentifier`, unless masked |
| `contacts` | `ContactPersons[]` (3) | – |
| `active` | `false` when `ContactStatus` is `ARCHIVED`, else `true` | `false` when `Active` is `false`, else `true` |
| `type` | (4) | (4) |
| external reference | (connection code, `ContactID`) | (connection code, `Id`) |

1. Country and area codes joined to the number: `+44 20 7946 0000`.
2. Xero `STREET` → address type `street`, `POBOX` → `postal`; `AddressLine1-4` → `line1-4`,
   `City` → `city`, `Region` → `region`, `PostalCode` → `postalCode`, `Country` → `country`.
   QuickBooks `BillAddr` → type `billing`, `ShipAddr` → `shipping`; `Line1-4` → `line1-4`
   (`Line5` added to `line4`), `City`, `CountrySubDivisionCode` → `region`, `PostalCode`,
   `Country`. An address with nothing but its type is left out.
3. Each person as `{firstName, lastName, email, role: "contact person", source: "xero"}`; a
   person without a name is left out, with a warning.
4. A name (Xero `Name`; QuickBooks `CompanyName`, then `DisplayName`) ending in `PLC` →
   `PublicLimitedCompany`, `LLP` → `LimitedLiabilityPartnership`, `Ltd`/`Limited` →
   `PrivateLimitedCompany`, `Trust` → `Trust`, `Charity`/`CIO` → `Charity`, `Partnership`,
   `& Co` or `& Partners` → `Partnership` (the same rules as the file door's); else a company number → `PrivateLimitedCompany`; else an
   organisation (no first, middle or last name, or a QuickBooks `CompanyName`) → `Other`;
   else a person with a first and a last name → `Individual`; else the tenant's default type.

A contact that is not an object or has no id fails its row alone, the error naming the
platform's field (`ContactID`, `Id`, `Phones[2]`, …); its source is kept for the error report.
"""
