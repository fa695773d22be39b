"""Companies House enrichment: what the register says of a client, as a record for the pipeline.

The register is asked outside any transaction (a worker's stager, or a route that has ended its
read), through :class:`CachedRegister`: answers are kept for ``companies_house_cache_seconds``
(a 404 too), so re-enriching spends no calls, and every call takes a turn of the key's budget
shared by every worker (``outbound.budget.SharedBudgets``, 600 per 300 s by default).

A client is enriched from its company number (normalised to 8 characters); without one, from
the one active company whose name is exactly the client's (else it is not enriched, and its row
says why). What is written: ``enrichment`` (the register data, key dates and officers, with the
fetch time), the officers as ``contacts`` (the client's other contacts are kept), and the company
number found by name. A firm's own ``companyNumber`` and ``company`` are replaced only with
``overwrite``. The pipeline writes it all, so the history shows each change.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from clientdock.clients.models import Client
from clientdock.db import Database, bind_tenant, utcnow
from clientdock.enrichment.companies_house import (
    CompaniesHouseClient,
    CompaniesHouseNotConfigured,
    choose_unique_active,
    key_dates,
    officer_contacts,
    parse_rate,
    register_data,
)
from clientdock.enrichment.models import RegisterAnswer
from clientdock.enrichment.numbers import describe_invalid, normalise_company_number
from clientdock.errors import FieldError
from clientdock.outbound.budget import SharedBudgets
from clientdock.outbound.http import as_utc
from clientdock.pipeline.records import FieldWarning, Policy, RawRecord
from clientdock.settings import Settings
from clientdock.tenants.scoping import readable

SOURCE = "companiesHouse"
CONTACT_SOURCE = "companies-house"
POLICY = Policy(match_on=("id",), allow_create=False)
_CONTACT_KEYS = ("firstName", "lastName", "role", "appointedOn", "nationality", "occupation", "source")


#: Our own count of a window runs a little behind the register's (a call is counted when it
#: starts, the register counts it when it arrives): stay this far under its budget.
MARGIN = 0.98


def register_client(db: Database, settings: Settings) -> CompaniesHouseClient:
    """The register's client, its budget shared by every worker through ``db``."""
    calls, seconds = parse_rate(settings.companies_house_rate)
    budgets = SharedBudgets(db, "companies-house", concurrent=10, per_minute=int(calls * MARGIN), window_seconds=seconds + 1)
    return CompaniesHouseClient(settings, budgets=budgets)


def require_configured(settings: Settings) -> None:
    if not settings.companies_house_api_key:
        raise CompaniesHouseNotConfigured(
            "Companies House enrichment is not configured: set CLIENTDOCK_COMPANIES_HOUSE_API_KEY", [FieldError("enrich", "not configured")]
        )


class CachedRegister:
    """The register's answers, reused for a while (a 404 is an answer too)."""

    def __init__(self, db: Database, settings: Settings, client: CompaniesHouseClient) -> None:
        self.db, self.client = db, client
        self.ttl = timedelta(seconds=settings.companies_house_cache_seconds)
        self.hits = self.misses = 0
        #: When the register gave each answer used (what ``fetchedAt`` says: a cached answer is
        #: as old as the register's saying it, so re-enriching from the cache changes nothing).
        self.answered_at: dict[str, str] = {}

    def _cached(self, key: str) -> RegisterAnswer | None:
        with self.db.session() as session:
            answer = session.get(RegisterAnswer, key)
        if answer is not None and as_utc(answer.fetched_at) > utcnow() - self.ttl:
            self.hits += 1
            self.answered_at[key] = as_utc(answer.fetched_at).isoformat()
            return answer
        self.misses += 1
        return None

    def _keep(self, key: str, status: int, body: Any) -> None:
        now = utcnow()
        self.answered_at[key] = now.isoformat()
        with self.db.session() as session:
            answer = session.get(RegisterAnswer, key) or RegisterAnswer(key=key)
            answer.status, answer.body, answer.fetched_at = status, body, now
            session.merge(answer)

    def profile(self, number: str) -> dict[str, Any] | None:
        key = f"profile:{number}"
        cached = self._cached(key)
        if cached is not None:
            return cached.body if cached.status == 200 else None
        found = self.client.profile(number)
        self._keep(key, 200 if found is not None else 404, found)
        return found

    def officers(self, number: str) -> list[dict[str, Any]]:
        key = f"officers:{number}"
        cached = self._cached(key)
        if cached is not None:
            return list(cached.body or [])
        found = self.client.officers(number)
        self._keep(key, 200, found)
        return found

    def search(self, name: str) -> list[dict[str, Any]]:
        key = f"search:{name.strip().casefold()}"[:255]
        cached = self._cached(key)
        if cached is not None:
            return list(cached.body or [])
        found = self.client.search(name)
        self._keep(key, 200, found)
        return found


@dataclass(frozen=True)
class Target:
    """What enrichment needs of a client, read before the register is asked."""

    client_id: str
    name: str
    company: str | None
    company_number: str | None
    contacts: list[dict[str, Any]]


def targets(db: Database, tenant_id: str, client_ids: Sequence[str]) -> list[Target]:
    found: dict[str, Target] = {}
    with db.session() as session:
        bind_tenant(session, tenant_id)
        for start in range(0, len(client_ids), 500):
            query = readable(tenant_id, Client).where(Client.id.in_(client_ids[start : start + 500]))
            for client in session.scalars(query):
                found[client.id] = Target(client.id, client.name, client.company, client.company_number, list(client.contacts or []))
    return [found[cid] for cid in client_ids if cid in found]


def records(register: CachedRegister, found: Sequence[Target], *, overwrite: bool) -> Iterator[RawRecord]:
    for index, target in enumerate(found):
        yield record(index, register, target, overwrite=overwrite)


def record(index: int, register: CachedRegister, target: Target, *, overwrite: bool) -> RawRecord:
    """One client's enrichment as a raw record (an update by id); a client the register cannot
    identify fails its row, saying why."""
    number, by_name, why = _identify(register, target)
    if number is None:
        return RawRecord(index=index, fields={}, lookup_key=target.name, errors=[FieldError("companyNumber", why, index, "not_enriched")],
                         source={"clientId": target.client_id, "name": target.name})  # fmt: skip
    fields: dict[str, Any] = {"id": target.client_id}
    profile = register.profile(number)
    fetched_at = register.answered_at.get(f"profile:{number}", utcnow().isoformat())
    if profile is None:
        fields["enrichment"] = {"source": SOURCE, "fetchedAt": fetched_at, "companyNumber": number, "notFound": True,
                                "reason": f"{number} is not in the Companies House register"}  # fmt: skip
        missing = FieldWarning("companyNumber", "not found in register", number)
        return RawRecord(index=index, fields=fields, lookup_key=number, warnings=[missing])
    data = register_data(profile)
    people = officer_contacts(register.officers(number))
    fields["enrichment"] = {
        "source": SOURCE, "fetchedAt": fetched_at, **data, "keyDates": key_dates(profile),
        "contacts": [{"name": " ".join(p for p in (p.get("firstName"), p.get("lastName")) if p), "role": p.get("role"),
                      "appointedOn": p.get("appointedOn")} for p in people],
    }  # fmt: skip
    kept = [c for c in target.contacts if c.get("source") != CONTACT_SOURCE]
    fields["contacts"] = kept + [{k: p[k] for k in _CONTACT_KEYS if p.get(k)} for p in people]
    if overwrite or not target.company_number or by_name:
        fields["companyNumber"] = number
    if data.get("registeredName") and (overwrite or not target.company):
        fields["company"] = data["registeredName"]
    return RawRecord(index=index, fields=fields, lookup_key=number, source={"clientId": target.client_id})


def _identify(register: CachedRegister, target: Target) -> tuple[str | None, bool, str]:
    """The company number to ask for, whether it was found by name, and why not."""
    if target.company_number:
        number = normalise_company_number(target.company_number)
        if number is None:
            return None, False, f"'{target.company_number}' is not a company number: {describe_invalid(target.company_number)}"
        return number, False, ""
    name = target.company or target.name
    chosen, reason = choose_unique_active(register.search(name), name)
    if chosen is None:
        return None, False, f"not enriched: no company number, and {reason}"
    number = normalise_company_number(str(chosen.get("company_number") or ""))
    return (number, True, "") if number else (None, False, "not enriched: the register's match has no usable company number")
