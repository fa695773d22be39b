"""The words people read for a client field: ``firstName`` -> ``First name``.

The web page labels its fields with them, and the error report (``errors.csv``) writes each
reason as a sentence with them ("First name is required"), so both live below the pipeline and
the imports. The API keeps the field names (``errors[].field``, ``warnings[].field``).
"""

from __future__ import annotations

import re

from clientdock.clients.fields import ADDRESS_FILE_FIELDS, BY_ATTR, BY_JSON

_WORD = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
LABELS = {
    "dateOfBirth": "Date of birth", "cocNumber": "CoC number", "clientGroupId": "Group", "parentId": "Parent",
    "createdAt": "Created", "companiesHouse": "Companies House", "sicCodes": "SIC codes", "debtorId": "Debtor ID",
    "trackingId": "Tracking ID", "xero": "Xero", "quickbooks": "QuickBooks", "id": "ID",
}  # fmt: skip
#: An address type and part for people: "Billing address – Postcode".
ADDRESS_TYPE_LABELS = {
    "postal": "Postal address", "street": "Street address", "billing": "Billing address", "shipping": "Shipping address",
    "registered": "Registered office", "business": "Business address", "home": "Home address",
}  # fmt: skip
ADDRESS_PART_LABELS = {
    "line1": "Line 1", "line2": "Line 2", "line3": "Line 3", "line4": "Line 4", "street": "Street", "houseNumber": "House number",
    "city": "Town or city", "region": "County or region", "postalCode": "Postcode", "country": "Country", "countryCode": "Country code",
}  # fmt: skip


def humanize(name: str) -> str:
    """``PrivateLimitedCompany`` -> ``Private limited company``; ``firstName`` -> ``First name``."""
    if name in LABELS:
        return LABELS[name]
    words = _WORD.sub(" ", name).replace("_", " ").split()
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[:1].upper() + text[1:]


def field_label(name: str) -> str:
    """A label for a client field given by its JSON name or model attribute, or for one of the
    file door's address fields (``addresses.billing.postalCode``: "Billing address – Postcode")."""
    if name in ADDRESS_FILE_FIELDS:
        kind, part = ADDRESS_FILE_FIELDS[name]
        return f"{ADDRESS_TYPE_LABELS[kind]} – {ADDRESS_PART_LABELS[part]}"
    spec = BY_JSON.get(name) or BY_ATTR.get(name)
    return humanize(spec.json if spec else name)


def field_sentence(field: str | None, message: str, code: str | None = None) -> str:
    """A problem as a person reads it: ``("firstName", "is required")`` -> ``First name is required``.

    A field-less message is capitalised; a duplicate (``duplicate: the same email as row 3``)
    reads ``Email is a duplicate (the same email as row 3)``.
    """
    if not field:
        return message[:1].upper() + message[1:]
    label = field_label(field)
    if code == "duplicate" and message.startswith("duplicate: "):
        return f"{label} is a duplicate ({message.removeprefix('duplicate: ')})"
    return f"{label} {message}"
