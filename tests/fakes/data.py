"""Seed data for the fakes: the reference examples, and generators of N realistic contacts.

The generators are deterministic for a ``seed``: a mix of people and companies (names ending
Ltd/Limited/PLC/LLP, UK company numbers, some blank or dirty), emails, phones split into
country/area code/number, STREET and POBOX addresses, contact persons, some ARCHIVED (Xero) or
inactive (QuickBooks) records, and update times spread over the two years before ``now``.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).parent / "examples"

FIRST = ["Olivia", "Amelia", "Isla", "Ava", "Mia", "Oliver", "George", "Arthur", "Noah", "Leo", "Harry", "Freya", "Grace", "Jack",
         "Aisha", "Mohammed", "Priya", "Siobhan", "Dylan", "Rhys", "Eilidh", "Callum", "Zofia", "Tomasz", "Chloe", "Ewan"]  # fmt: skip
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson", "Wright", "Thompson",
        "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Khan", "O'Brien", "MacLeod", "Nowak", "Hughes", "Edwards"]  # fmt: skip
TRADES = ["Joinery", "Consulting", "Holdings", "Logistics", "Bakery", "Dental Care", "Engineering", "Property", "Design", "Motors",
          "Catering", "Software", "Landscapes", "Plumbing & Heating", "Accountancy", "Farms", "Media", "Electrical"]  # fmt: skip
SUFFIXES = ["Ltd", "Limited", "PLC", "LLP", "Ltd", "Limited"]
CITIES = [("London", "Greater London", "EC1A 1BB", "020"), ("Manchester", "Greater Manchester", "M1 1AE", "0161"),
          ("Leeds", "West Yorkshire", "LS1 4DY", "0113"), ("Bristol", "", "BS1 5TR", "0117"), ("Edinburgh", "", "EH1 1YZ", "0131"),
          ("Cardiff", "", "CF10 1EP", "029"), ("Glasgow", "", "G1 1XQ", "0141"),
          ("Birmingham", "West Midlands", "B1 1BB", "0121")]  # fmt: skip
STREETS = ["High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane", "King Street", "Queensway", "Park Avenue"]


def load_example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def xero_example_contacts() -> list[dict[str, Any]]:
    """The contacts of the Xero reference examples (page 1 and the full by-id one)."""
    page = load_example("contacts_get_page1.json")["Contacts"]
    one = load_example("contact_get_by_id.json")["Contacts"]
    return copy.deepcopy([*page, *one])


def qbo_example_customers() -> list[dict[str, Any]]:
    """The customers of the QuickBooks reference examples (query, read and create answers)."""
    customers = list(load_example("customer_query_response.json")["QueryResponse"]["Customer"])
    customers.append(load_example("customer_read_response.json")["Customer"])
    customers.append(load_example("customer_create_response.json")["Customer"])
    return copy.deepcopy(customers)


def xero_date(moment: datetime) -> str:
    """``/Date(1551459777193+0000)/``."""
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def _company_number(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.15:
        return ""
    number = f"{rng.randrange(100000, 16000000):08d}"
    if roll < 0.25:
        return "SC" + number[2:]
    if roll < 0.35:
        return f" {number.lstrip('0')} "  # dirty: leading zeros lost, spaces
    return number


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST), rng.choice(LAST)


def _email(first: str, last: str, domain: str) -> str:
    return f"{first}.{last}".lower().replace("'", "") + f"@{domain}"


def _domain(name: str) -> str:
    stem = "".join(ch for ch in name.lower().split(" ltd")[0].split(" limited")[0] if ch.isalnum())[:20]
    return f"{stem or 'example'}.co.uk"


def generate_xero_contacts(n: int, *, seed: int = 0, now: datetime | None = None, archived_every: int = 12) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    now = now or datetime(2026, 3, 1, tzinfo=UTC)
    contacts: list[dict[str, Any]] = []
    for i in range(n):
        first, last = _person(rng)
        city, region, postcode, area = rng.choice(CITIES)
        is_company = rng.random() < 0.6
        if is_company:
            name = f"{last} {rng.choice(TRADES)} {rng.choice(SUFFIXES)}"
        else:
            name = f"{first} {last}"
        name = f"{name} ({i})" if i and rng.random() < 0.05 else name
        domain = _domain(name) if is_company else rng.choice(["gmail.com", "outlook.com", "btinternet.com"])
        updated = now - timedelta(seconds=rng.randrange(0, 2 * 365 * 86400))
        contact: dict[str, Any] = {
            "ContactID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "ContactNumber": f"C{i + 1:05d}" if rng.random() < 0.5 else "",
            "AccountNumber": "",
            "ContactStatus": "ARCHIVED" if archived_every and i % archived_every == archived_every - 1 else "ACTIVE",
            "Name": name,
            "FirstName": first,
            "LastName": last,
            "CompanyNumber": _company_number(rng) if is_company else "",
            "EmailAddress": _email(first, last, domain) if rng.random() < 0.9 else "",
            "TaxNumber": f"GB{rng.randrange(100000000, 999999999)}" if is_company and rng.random() < 0.4 else "",
            "Addresses": [
                {
                    "AddressType": "POBOX",
                    "AddressLine1": f"PO Box {rng.randrange(1, 9999)}" if rng.random() < 0.3 else "",
                    "City": city,
                    "Region": region,
                    "PostalCode": postcode,
                    "Country": rng.choice(["United Kingdom", "UK", "GB", ""]),
                    "AttentionTo": f"{first} {last}" if is_company else "",
                },
                {
                    "AddressType": "STREET",
                    "AddressLine1": f"{rng.randrange(1, 250)} {rng.choice(STREETS)}",
                    "AddressLine2": "Unit 4" if rng.random() < 0.2 else "",
                    "City": city,
                    "Region": region,
                    "PostalCode": postcode,
                    "Country": "United Kingdom",
                },
            ],
            "Phones": [
                {
                    "PhoneType": "DEFAULT",
                    "PhoneNumber": f"{rng.randrange(2000000, 8999999)}",
                    "PhoneAreaCode": area,
                    "PhoneCountryCode": "44",
                },
                {"PhoneType": "DDI", "PhoneNumber": "", "PhoneAreaCode": "", "PhoneCountryCode": ""},
                {"PhoneType": "FAX", "PhoneNumber": "", "PhoneAreaCode": "", "PhoneCountryCode": ""},
                {
                    "PhoneType": "MOBILE",
                    "PhoneNumber": f"7{rng.randrange(100000000, 999999999)}" if rng.random() < 0.5 else "",
                    "PhoneAreaCode": "",
                    "PhoneCountryCode": "44" if rng.random() < 0.5 else "",
                },
            ],
            "UpdatedDateUTC": xero_date(updated),
            "ContactGroups": [],
            "IsSupplier": rng.random() < 0.2,
            "IsCustomer": rng.random() < 0.8,
            "ContactPersons": [
                {
                    "FirstName": p[0],
                    "LastName": p[1],
                    "EmailAddress": _email(p[0], p[1], domain),
                    "IncludeInEmails": rng.random() < 0.5,
                }
                for p in ([_person(rng) for _ in range(rng.randrange(0, 3))] if is_company else [])
            ],
            "HasAttachments": False,
            "HasValidationErrors": False,
        }
        contacts.append(contact)
    return contacts


def generate_qbo_customers(
    n: int, *, seed: int = 0, first_id: int = 100, now: datetime | None = None, inactive_every: int = 12, offset_hours: int = -7
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    tz = timezone(timedelta(hours=offset_hours))
    now = (now or datetime(2026, 3, 1, tzinfo=UTC)).astimezone(tz)
    customers: list[dict[str, Any]] = []
    for i in range(n):
        first, last = _person(rng)
        city, region, postcode, area = rng.choice(CITIES)
        is_company = rng.random() < 0.6
        company = f"{last} {rng.choice(TRADES)} {rng.choice(SUFFIXES)}" if is_company else ""
        display = f"{company or f'{first} {last}'} [{i + 1}]"  # DisplayName is unique
        domain = _domain(company) if is_company else rng.choice(["gmail.com", "outlook.com"])
        created = now - timedelta(seconds=rng.randrange(86400, 3 * 365 * 86400))
        updated = min(now, created + timedelta(seconds=rng.randrange(0, 365 * 86400)))
        address = {
            "Id": str(1000 + i),
            "Line1": f"{rng.randrange(1, 250)} {rng.choice(STREETS)}",
            "City": city,
            "CountrySubDivisionCode": region or city,
            "PostalCode": postcode,
            "Country": "GB",
        }
        customer: dict[str, Any] = {
            "domain": "QBO",
            "sparse": False,
            "Id": str(first_id + i),
            "SyncToken": str(rng.randrange(0, 6)),
            "DisplayName": display,
            "FullyQualifiedName": display,
            "PrintOnCheckName": company or f"{first} {last}",
            "GivenName": first,
            "FamilyName": last,
            "Active": not (inactive_every and i % inactive_every == inactive_every - 1),
            "Job": False,
            "BillWithParent": False,
            "Taxable": False,
            "Balance": round(rng.random() * 5000, 2),
            "BalanceWithJobs": 0,
            "CurrencyRef": {"value": "GBP", "name": "British Pound Sterling"},
            "PreferredDeliveryMethod": "Email",
            "BillAddr": address,
            "MetaData": {"CreateTime": created.isoformat(timespec="seconds"), "LastUpdatedTime": updated.isoformat(timespec="seconds")},
        }
        if company:
            customer["CompanyName"] = company
            if rng.random() < 0.3:
                customer["Notes"] = f"Company number {_company_number(rng).strip() or 'unknown'}"
        if rng.random() < 0.9:
            customer["PrimaryEmailAddr"] = {"Address": _email(first, last, domain)}
        if rng.random() < 0.85:
            customer["PrimaryPhone"] = {"FreeFormNumber": f"+44 {area[1:]} {rng.randrange(200, 899)} {rng.randrange(1000, 9999)}"}
        if rng.random() < 0.3:
            customer["Mobile"] = {"FreeFormNumber": f"07{rng.randrange(100, 999)} {rng.randrange(100000, 999999)}"}
        if rng.random() < 0.5:
            customer["ShipAddr"] = {**address, "Id": str(5000 + i)}
        customers.append(customer)
    return customers
