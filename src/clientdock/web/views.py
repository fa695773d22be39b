"""What the client pages show, shaped for the templates (no HTTP, no database)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from clientdock.clients.labels import ADDRESS_TYPE_LABELS
from clientdock.clients.models import Client, ClientChange
from clientdock.clients.repository import DUE_FILTERS, ClientFilter
from clientdock.errors import ClientdockError, FieldError
from clientdock.web.import_views import who_label
from clientdock.web.templating import field_label, human_text, humanize, shown, value_text, when

PAGE_SIZE = 25
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:$|T)")
#: What an address may say besides where it is (the Propeller API's keys), after the address.
ADDRESS_CONTACT_ORDER = ("email", "phone", "mobile", "notes")
ADDRESS_ORDER = ("line1", "line2", "line3", "line4", "houseNumber", "street", "city", "region", "postalCode", "country", "countryCode")
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Person", ("title", "firstName", "middleName", "lastName", "dateOfBirth", "gender", "primaryLanguage")),
    ("Contact", ("email", "phone", "mobile", "login")),
    ("Company", ("company", "companyNumber", "taxNumber", "cocNumber", "debtorId", "abbreviation")),
    ("Practice", ("type", "active", "clientGroupId", "tags", "project", "desk", "trackingId", "parentId", "createdAt")),
)
WIDE = ("email", "login", "tags")
ATTRS = {"firstName": "first_name", "middleName": "middle_name", "lastName": "last_name", "dateOfBirth": "date_of_birth",
         "primaryLanguage": "primary_language", "companyNumber": "company_number", "taxNumber": "tax_number",
         "cocNumber": "coc_number", "debtorId": "debtor_id", "clientGroupId": "client_group_id", "trackingId": "tracking_id",
         "parentId": "parent_id", "createdAt": "created_at"}  # fmt: skip


@dataclass(frozen=True)
class Filters:
    """The list page's query: search text, tag, group id, type."""

    search: str = ""
    tag: str = ""
    group: str = ""
    type: str = ""
    due: str = ""

    @classmethod
    def parse(cls, search: str | None, tag: str | None, group: str | None, type_: str | None, due: str | None = None) -> Filters:
        text = [(value or "").strip()[:200] for value in (search, tag, group, type_)]
        return cls(text[0], text[1], text[2], text[3], due if due in DUE_FILTERS else "")

    def as_filter(self) -> ClientFilter:
        return ClientFilter(
            search=self.search or None,
            tag=self.tag or None,
            client_group_id=self.group or None,
            type=self.type or None,
            due=self.due or None,
        )

    @property
    def active(self) -> bool:
        return any(asdict(self).values())

    def query(self, **changes: str | int) -> str:
        """The query string of this view with ``changes`` applied; empty values left out."""
        params: dict[str, str | int] = {**asdict(self), **changes}
        return urlencode({k: v for k, v in params.items() if v != "" and not (k == "page" and v == 1)})

    def page_href(self, page: int) -> str:
        query = self.query(page=page)
        return "/clients" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Pager:
    page: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.size + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.size)


def page_number(raw: str | None) -> int:
    """Pages are forgiving: anything that is not a positive number is page 1."""
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


@dataclass(frozen=True)
class Item:
    label: str
    value: str
    href: str | None = None
    wide: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    items: list[Item]

    @property
    def filled(self) -> list[Item]:
        return [item for item in self.items if item.value]

    @property
    def unset(self) -> list[str]:
        return [item.label for item in self.items if not item.value]


def client_sections(client: Client, group_name: str, parent: Client | None) -> list[Section]:
    return [Section(title, [_item(client, name, group_name, parent) for name in names]) for title, names in SECTIONS]


def _item(client: Client, name: str, group_name: str, parent: Client | None) -> Item:
    value: Any = getattr(client, ATTRS.get(name, name))
    if name == "type":
        return Item(field_label(name), humanize(value))
    if name == "clientGroupId":
        return Item(field_label(name), group_name)
    if name == "parentId" and parent is not None:
        return Item(field_label(name), parent.name, f"/clients/{parent.id}")
    if isinstance(value, datetime) or (name == "dateOfBirth" and value):
        return Item(field_label(name), when(value, with_time=name != "dateOfBirth"))
    extra = {"phone": client.phone_e164, "mobile": client.mobile_e164}.get(name)
    text = shown(value)
    return Item(field_label(name), f"{text} ({extra})" if extra and extra != text else text, wide=name in WIDE)


def address_lines(client: Client) -> list[tuple[str, list[str]]]:
    """Each address as on an envelope: who it is for (a person, a company), the address (the
    street and house number on one line, "Damrak 12A"), then how to reach them there and its
    notes; "(default)" after the heading of a default one."""
    out = []
    for address in client.addresses or []:
        person = " ".join(str(address[key]) for key in ("firstName", "middleName", "lastName") if address.get(key))
        lines = [line for line in (person, str(address.get("company") or "")) if line]
        street = " ".join(str(address[key]) for key in ("street", "houseNumber") if address.get(key))
        parts = {**address, "street": street, "houseNumber": None}
        lines += [str(parts[key]) for key in (*ADDRESS_ORDER, *ADDRESS_CONTACT_ORDER) if parts.get(key)]
        kind = str(address.get("type") or "Address")
        heading = ADDRESS_TYPE_LABELS.get(kind) or humanize(kind)
        out.append((f"{heading} (default)" if address.get("isDefault") is True else heading, lines))
    return out


def attribute_items(client: Client) -> list[Item]:
    return [
        Item(" · ".join(p for p in (str(a.get("class") or ""), str(a.get("name") or "")) if p), shown(a.get("value")))
        for a in client.attributes or []
        if isinstance(a, dict)
    ]


@dataclass(frozen=True)
class Enrichment:
    """Enrichment as stored by its source: details, key dates and contacts (Companies House officers)."""

    source: str
    fetched_at: str
    details: list[Item]
    key_dates: list[Item]
    contacts: list[list[Item]]


def enrichment_view(raw: dict[str, Any] | None) -> Enrichment | None:
    """Tolerant of shape: ``{source, fetchedAt, keyDates: {..}, contacts|officers: [..], <other details>}``,
    possibly nested one level under the source's name (``{"companiesHouse": {...}}``)."""
    if not raw:
        return None
    data = raw
    if len(raw) == 1 and isinstance(next(iter(raw.values())), dict):
        source, data = next(iter(raw.items()))
        data = {"source": source, **data}
    dates = data["keyDates"] if isinstance(data.get("keyDates"), dict) else {}
    people = data.get("contacts", data.get("officers"))
    contacts = [_pairs(person) for person in people if isinstance(person, dict)] if isinstance(people, list) else []
    skip = {"source", "fetchedAt", "keyDates", "contacts", "officers"}
    details = _pairs({k: _readable(v) for k, v in data.items() if k not in skip})
    return Enrichment(humanize(str(data.get("source") or "")), when(data.get("fetchedAt")), details, _key_dates(dates), contacts)


def _readable(value: Any) -> Any:
    """An address as one line, SIC codes as "code description"; other values as they are."""
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return ", ".join(v for v in value.values() if v)
    if isinstance(value, list) and value and all(isinstance(v, dict) and "code" in v for v in value):
        return "; ".join(" ".join(str(part) for part in (v.get("code"), v.get("description")) if part) for v in value)
    return value


def _key_dates(dates: dict[str, Any]) -> list[Item]:
    """The key dates, a due date the register calls overdue marked so (its flag is not listed)."""
    overdue = {key.removesuffix("Overdue") for key, value in dates.items() if key.endswith("Overdue") and value is True}
    items = []
    for key, value in dates.items():
        if key.endswith("Overdue"):
            continue
        text = when(value, with_time=False) if isinstance(value, str) and _ISO_DATE.match(value) else shown(value)
        if text:
            late = key.endswith("NextDue") and key.removesuffix("NextDue") in overdue
            items.append(Item(humanize(key), f"{text} — overdue" if late else text))
    return items


def _pairs(values: dict[str, Any]) -> list[Item]:
    out = []
    for key, value in values.items():
        text = when(value, with_time=False) if isinstance(value, str) and _ISO_DATE.match(value) else shown(value)
        if text:
            out.append(Item(humanize(key), text))
    return out


@dataclass
class HistoryEntry:
    at: datetime
    action: str
    job_id: str | None
    who: str | None = None
    changes: list[tuple[str, str, str]] = field(default_factory=list)


def _in_history(value: Any) -> str:
    """A changed value as the history lists it: a register's data or a list of people or
    addresses in a few words, not as raw JSON."""
    if isinstance(value, dict) and value.get("source"):
        fetched = when(value.get("fetchedAt"), with_time=False) if isinstance(value.get("fetchedAt"), str) else ""
        return f"{humanize(str(value['source']))} data" + (f" of {fetched}" if fetched else "")
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return f"{len(value)} item{'' if len(value) == 1 else 's'}"
    return value_text(value)


def history_entries(changes: list[ClientChange]) -> list[HistoryEntry]:
    """One entry per operation (same time, action and job), listing each field it changed."""
    entries: list[HistoryEntry] = []
    for change in changes:
        last = entries[-1] if entries else None
        who = who_label(change.actor) if change.actor else None
        if last is None or (last.at, last.action, last.job_id, last.who) != (change.at, change.action, change.job_id, who):
            last = HistoryEntry(change.at, change.action, change.job_id, who)
            entries.append(last)
        if change.field != "*":
            last.changes.append((field_label(change.field), _in_history(change.before), _in_history(change.after)))
    return entries


#: The fields a client's page can edit, in the order the form lists them (JSON names, as PATCH takes them).
EDITABLE = (
    "title", "firstName", "middleName", "lastName", "company", "email", "phone", "mobile", "dateOfBirth",
    "companyNumber", "taxNumber", "note",
)  # fmt: skip
_INPUT_TYPES = {"email": "email", "phone": "tel", "mobile": "tel", "dateOfBirth": "date"}


def form_value(value: Any) -> str:
    return "" if value is None else str(value)


def form_errors(error: ClientdockError) -> dict[str, str]:
    """The API's errors by field (its JSON name), one message each; unplaced ones under ""."""
    out: dict[str, str] = {}
    for item in error.errors or [FieldError(None, error.detail)]:
        name = item.field if item.field in EDITABLE else ""
        out.setdefault(name, human_text(item.message if name else f"{item.field}: {item.message}" if item.field else item.message))
    return out


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    value: str
    input_type: str
    error: str


@dataclass(frozen=True)
class ClientForm:
    """A client's edit form: the values shown (as stored, or as posted) and errors by field."""

    client: Client
    values: dict[str, str]
    errors: dict[str, str]

    @property
    def fields(self) -> list[FormField]:
        return [
            FormField(name, field_label(name), self.values.get(name, ""), _INPUT_TYPES.get(name, "text"), self.errors.get(name, ""))
            for name in EDITABLE
        ]

    def changes(self, posted: dict[str, str]) -> dict[str, Any]:
        """What PATCH gets: the fields whose text changed; an emptied field becomes null."""
        return {name: (text.strip() or None) for name, text in posted.items() if text.strip() != self.values.get(name, "").strip()}
