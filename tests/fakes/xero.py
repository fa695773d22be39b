"""A faithful loopback fake of Xero: OAuth 2.0 (identity), ``/connections`` and Accounting Contacts.

Start it and point the settings at it::

    fake = XeroFake(clock)                      # clock: a FakeClock shared with the client
    tenant = fake.add_tenant("Demo Company (UK)")
    fake.generate_contacts(tenant, 2500, seed=1)  # or fake.seed_examples(tenant) / fake.add_contacts(...)
    fake.start()
    settings = Settings(**fake.settings())      # xero_* urls and the client id/secret

Routes (all on ``fake.base_url``; endpoint names for ``fake.calls`` in brackets):
``GET /identity/connect/authorize`` [authorize], ``POST /connect/token`` [token],
``POST /connect/revocation`` [revocation], ``GET /connections`` [connections],
``DELETE /connections/{id}`` [connections.delete], ``GET /api.xro/2.0/Contacts`` [contacts],
``GET /api.xro/2.0/Contacts/{ContactID|ContactNumber}`` [contact].

Behaviour (FACTS.md section 5, items 1-8): Basic client auth on the token endpoint; one-time
codes checked against the PKCE S256 challenge; ``expires_in`` 1800; rotating refresh tokens, the
old one good for a 30-minute grace, then ``400 invalid_grant``; expired token → 401 TokenExpired
problem; missing/unknown/ungranted ``xero-tenant-id`` → 403 AuthenticationUnsuccessful; paging with
``pagination`` and an empty page past the end; ``includeArchived``, ``IDs``, ``If-Modified-Since``,
``searchTerm``, ``summaryOnly``, a small ``where`` and ``order``; unknown contact → 404 plain text;
per-tenant limits (60/min, 5000/day, 5 concurrent; 10,000/min per app) with the limit headers on
every reply and 429 + ``Retry-After`` + ``X-Rate-Limit-Problem``; URLs over 2048 characters → 414.
Consent: ``consent_tenants`` (default: every tenant) are granted; ``oauth.deny = True`` refuses.
"""

from __future__ import annotations

import copy
import math
import re
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from tests.fakes.base import FakeGrant, FakeOAuth, FakePlatform, json_response, read_form
from tests.fakes.clock import FakeClock
from tests.fakes.data import generate_xero_contacts, xero_date, xero_example_contacts

NOT_FOUND_TEXT = "The resource you're looking for cannot be found"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")
_WHERE_STATUS = re.compile(r'^ContactStatus\s*==\s*"(\w+)"$')
_WHERE_NAME = re.compile(r'^Name\.Contains\("([^"]*)"\)$')
LIGHT_FIELDS = ("ContactID", "ContactNumber", "AccountNumber", "ContactStatus", "Name", "FirstName", "LastName", "CompanyNumber",
                "EmailAddress", "TaxNumber", "UpdatedDateUTC", "IsSupplier", "IsCustomer", "HasValidationErrors")  # fmt: skip


def parse_xero_date(value: str) -> datetime:
    match = _DATE.fullmatch(value)
    if not match:
        raise ValueError(value)
    return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)


def _problem(status: int, title: str, detail: str) -> dict[str, Any]:
    return {"Type": None, "Title": title, "Status": status, "Detail": detail, "Instance": str(uuid.uuid4()), "Extensions": {}}


@dataclass
class XeroTenant:
    tenant_id: str
    name: str
    tenant_type: str = "ORGANISATION"
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)  # ContactID (lower) -> contact
    minute: deque[datetime] = field(default_factory=deque)
    day: deque[datetime] = field(default_factory=deque)
    in_flight: int = 0
    max_in_flight: int = 0


class XeroFake(FakePlatform):
    def __init__(
        self,
        clock: FakeClock | None = None,
        *,
        client_id: str = "xero-test-client",
        client_secret: str = "xero-test-secret",
        access_lifetime: int = 1800,
        refresh_grace: float = 1800,
        per_minute: int = 60,
        per_day: int = 5000,
        concurrent: int = 5,
        app_per_minute: int = 10_000,
        max_url_length: int = 2048,
    ) -> None:
        super().__init__(clock)
        self.oauth = FakeOAuth(
            self.clock,
            client_id=client_id,
            client_secret=client_secret,
            required_scopes={"offline_access", "accounting.contacts.read"},
            access_lifetime=access_lifetime,
            refresh_grace=refresh_grace,
            refresh_idle=60 * 86400,
        )
        self.per_minute = per_minute
        self.per_day = per_day
        self.concurrent = concurrent
        self.app_per_minute = app_per_minute
        self.max_url_length = max_url_length
        self.provider_name = "Clientdock Test"
        self.tenants: dict[str, XeroTenant] = {}
        #: Tenants a consent grants (None: every tenant).
        self.consent_tenants: list[str] | None = None
        self._app_minute: deque[datetime] = deque()
        self.route("/identity/connect/authorize", "authorize", self._authorize, methods=["GET"])
        self.route("/connect/token", "token", self._token, methods=["POST"])
        self.route("/connect/revocation", "revocation", self._revocation, methods=["POST"])
        for name in ("connections", "Connections"):
            self.route(f"/{name}", "connections", self._connections, methods=["GET"])
            self.route(f"/{name}/{{id}}", "connections.delete", self._delete_connection, methods=["DELETE"])
        self.route("/api.xro/2.0/Contacts", "contacts", self._contacts, methods=["GET"], delay_inside=True)
        self.route("/api.xro/2.0/Contacts/{ref}", "contact", self._contact, methods=["GET"], delay_inside=True)

    # --- seeding -------------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """Keyword arguments for ``Settings`` pointing Xero at this fake."""
        base = self.base_url
        return {
            "xero_login_url": base,
            "xero_identity_url": base,
            "xero_api_url": base,
            "xero_client_id": self.oauth.client_id,
            "xero_client_secret": self.oauth.client_secret,
        }

    def add_tenant(self, name: str = "Demo Company (UK)", tenant_id: str | None = None) -> str:
        tenant_id = tenant_id or str(uuid.uuid4())
        with self.lock:
            self.tenants[tenant_id] = XeroTenant(tenant_id, name)
        return tenant_id

    def add_contacts(self, tenant_id: str, contacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        added = []
        with self.lock:
            tenant = self.tenants[tenant_id]
            for contact in contacts:
                one = copy.deepcopy(contact)
                one.setdefault("ContactID", str(uuid.uuid4()))
                one.setdefault("ContactStatus", "ACTIVE")
                one.setdefault("UpdatedDateUTC", xero_date(self.clock()))
                tenant.contacts[str(one["ContactID"]).lower()] = one
                added.append(one)
        return added

    def seed_examples(self, tenant_id: str) -> list[dict[str, Any]]:
        return self.add_contacts(tenant_id, xero_example_contacts())

    def generate_contacts(self, tenant_id: str, n: int, *, seed: int = 0) -> list[dict[str, Any]]:
        return self.add_contacts(tenant_id, generate_xero_contacts(n, seed=seed, now=self.clock()))

    def touch(self, tenant_id: str, contact_id: str, **changes: Any) -> None:
        """Change a contact (``Name=...``) and set its ``UpdatedDateUTC`` to now."""
        with self.lock:
            contact = self.tenants[tenant_id].contacts[contact_id.lower()]
            contact.update(changes)
            contact["UpdatedDateUTC"] = xero_date(self.clock())

    def issue_tokens(self, tenant_ids: list[str] | None = None) -> dict[str, Any]:
        """A token response for a new grant (skipping the consent round trip)."""
        with self.lock:
            return self.oauth.issue_tokens(tenant_ids if tenant_ids is not None else list(self.tenants))

    def max_in_flight(self, tenant_id: str) -> int:
        with self.lock:
            return self.tenants[tenant_id].max_in_flight

    def count_status(self, status: int, endpoint: str | None = None) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.status == status and (endpoint is None or r.endpoint == endpoint))

    # --- identity ------------------------------------------------------------------------------

    async def _authorize(self, request: Request) -> Response:
        with self.lock:
            granted = self.consent_tenants if self.consent_tenants is not None else list(self.tenants)
            return self.oauth.authorize(dict(request.query_params), granted)

    async def _token(self, request: Request) -> Response:
        form = await read_form(request)
        with self.lock:
            status, body = self.oauth.token(request.headers.get("authorization"), form)
        return json_response(status, body)

    async def _revocation(self, request: Request) -> Response:
        form = await read_form(request)
        with self.lock:
            status, body = self.oauth.revoke(request.headers.get("authorization"), form.get("token", ""))
        return json_response(status, body) if status != 200 else Response(status_code=200)

    def _bearer(self, request: Request) -> FakeGrant | Response:
        check = self.oauth.check(request.headers.get("authorization"))
        if check.grant is not None:
            return check.grant
        if check.problem == "expired" and check.expired_at is not None:
            detail = f"TokenExpired: token expired at {check.expired_at.strftime('%m/%d/%Y %H:%M:%S')}"
            return JSONResponse(_problem(401, "Unauthorized", detail), status_code=401)
        return JSONResponse(_problem(401, "Unauthorized", "AuthenticationUnsuccessful"), status_code=401)

    async def _connections(self, request: Request) -> Response:
        with self.lock:
            grant = self._bearer(request)
            if isinstance(grant, Response):
                return grant
            event = request.query_params.get("authEventId")
            if event is not None and event != grant.auth_event_id:
                return JSONResponse([])
            body = [
                {
                    "id": connection_id,
                    "authEventId": grant.auth_event_id,
                    "tenantId": tenant_id,
                    "tenantType": self.tenants[tenant_id].tenant_type if tenant_id in self.tenants else "ORGANISATION",
                    "tenantName": self.tenants[tenant_id].name if tenant_id in self.tenants else None,
                    "createdDateUtc": grant.created_at.strftime("%Y-%m-%dT%H:%M:%S.%f0"),
                    "updatedDateUtc": grant.created_at.strftime("%Y-%m-%dT%H:%M:%S.%f0"),
                }
                for connection_id, tenant_id in grant.connections.items()
            ]
        return JSONResponse(body)

    async def _delete_connection(self, request: Request) -> Response:
        with self.lock:
            grant = self._bearer(request)
            if isinstance(grant, Response):
                return grant
            if grant.connections.pop(request.path_params["id"], None) is None:
                return PlainTextResponse(NOT_FOUND_TEXT, status_code=404)
        return Response(status_code=204)

    # --- accounting API ------------------------------------------------------------------------

    def _limit_headers(self, tenant: XeroTenant) -> dict[str, str]:
        return {
            "X-MinLimit-Remaining": str(max(0, self.per_minute - len(tenant.minute))),
            "X-DayLimit-Remaining": str(max(0, self.per_day - len(tenant.day))),
            "X-AppMinLimit-Remaining": str(max(0, self.app_per_minute - len(self._app_minute))),
        }

    def throttle_response(self, retry_after: int, problem: str = "minute", headers: dict[str, str] | None = None) -> Response:
        return PlainTextResponse(
            "", status_code=429, headers={**(headers or {}), "Retry-After": str(retry_after), "X-Rate-Limit-Problem": problem}
        )

    def _admit(self, request: Request) -> tuple[XeroTenant, dict[str, str]] | Response:
        """Token, tenant and limits of an Accounting API call; counts it in flight when admitted."""
        url = request.url.path + ("?" + request.url.query if request.url.query else "")
        if len(url) > self.max_url_length:
            return PlainTextResponse("Request-URI Too Long", status_code=414)
        grant = self._bearer(request)
        if isinstance(grant, Response):
            return grant
        tenant_id = request.headers.get("xero-tenant-id", "")
        tenant = self.tenants.get(tenant_id)
        if tenant is None or tenant_id not in grant.connections.values():
            return JSONResponse(_problem(403, "Forbidden", "AuthenticationUnsuccessful"), status_code=403)
        now = self.clock()
        for window, seconds in ((tenant.minute, 60), (tenant.day, 86400), (self._app_minute, 60)):
            while window and window[0] <= now - timedelta(seconds=seconds):
                window.popleft()
        problem, wait = None, 0.0
        if tenant.in_flight >= self.concurrent:
            problem, wait = "concurrent", 1.0
        elif len(tenant.day) >= self.per_day:
            problem, wait = "day", (tenant.day[0] + timedelta(days=1) - now).total_seconds()
        elif len(tenant.minute) >= self.per_minute:
            problem, wait = "minute", (tenant.minute[0] + timedelta(seconds=60) - now).total_seconds()
        elif len(self._app_minute) >= self.app_per_minute:
            problem, wait = "appminute", (self._app_minute[0] + timedelta(seconds=60) - now).total_seconds()
        if problem is not None:
            return self.throttle_response(max(1, math.ceil(wait)), problem, self._limit_headers(tenant))
        tenant.minute.append(now)
        tenant.day.append(now)
        self._app_minute.append(now)
        tenant.in_flight += 1
        tenant.max_in_flight = max(tenant.max_in_flight, tenant.in_flight)
        return tenant, self._limit_headers(tenant)

    def _envelope(self, contacts: list[dict[str, Any]], pagination: dict[str, int] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Id": str(uuid.uuid4()),
            "Status": "OK",
            "ProviderName": self.provider_name,
            "DateTimeUTC": f"/Date({int(self.clock().timestamp() * 1000)})/",
        }
        if pagination is not None:
            body["pagination"] = pagination
        body["Contacts"] = contacts
        return body

    async def _contacts(self, request: Request) -> Response:
        with self.lock:
            admitted = self._admit(request)
        if isinstance(admitted, Response):
            return admitted
        tenant, headers = admitted
        try:
            await self.pause(request)
            with self.lock:
                status, body = self._list(tenant, request)
        finally:
            with self.lock:
                tenant.in_flight -= 1
        return JSONResponse(body, status_code=status, headers=headers)

    def _list(self, tenant: XeroTenant, request: Request) -> tuple[int, dict[str, Any]]:
        q = request.query_params
        contacts = list(tenant.contacts.values())
        if q.get("includeArchived", "false").lower() != "true":
            contacts = [c for c in contacts if c.get("ContactStatus") != "ARCHIVED"]
        if q.get("IDs"):
            ids = [i.strip() for i in q["IDs"].split(",") if i.strip()]
            bad = [i for i in ids if not _GUID.match(i)]
            if bad:
                return 400, _validation(f"'{bad[0]}' is not a valid GUID")
            wanted = {i.lower() for i in ids}
            contacts = [c for c in contacts if str(c["ContactID"]).lower() in wanted]
        since = _parse_since(request.headers.get("if-modified-since"))
        if since is not None:
            contacts = [c for c in contacts if parse_xero_date(str(c["UpdatedDateUTC"])) > since]
        if q.get("where"):
            for clause in re.split(r"\s*(?:&&|\bAND\b)\s*", q["where"].strip()):
                if m := _WHERE_STATUS.match(clause):
                    contacts = [c for c in contacts if c.get("ContactStatus") == m.group(1)]
                elif m := _WHERE_NAME.match(clause):
                    contacts = [c for c in contacts if m.group(1).lower() in str(c.get("Name", "")).lower()]
                else:
                    return 400, _validation(f"unsupported where clause: {clause}")
        if q.get("searchTerm"):
            term = q["searchTerm"].lower()
            keys = ("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress")
            contacts = [c for c in contacts if any(term in str(c.get(k) or "").lower() for k in keys)]
        if q.get("order"):
            key, _, direction = q["order"].strip().partition(" ")
            if key == "UpdatedDateUTC":
                contacts.sort(key=lambda c: parse_xero_date(str(c["UpdatedDateUTC"])), reverse=direction.upper() == "DESC")
            else:
                contacts.sort(key=lambda c: str(c.get(key) or "").lower(), reverse=direction.upper() == "DESC")
        if q.get("summaryOnly", "false").lower() == "true":
            contacts = [{k: c[k] for k in LIGHT_FIELDS if k in c} for c in contacts]
        pagination = None
        if "page" in q:
            try:
                page = max(1, int(q["page"]))
                size = min(1000, max(1, int(q.get("pageSize", "100"))))
            except ValueError:
                return 400, _validation("page and pageSize must be integers")
            count = len(contacts)
            pagination = {"page": page, "pageSize": size, "pageCount": math.ceil(count / size), "itemCount": count}
            contacts = contacts[(page - 1) * size : page * size]
        return 200, self._envelope(copy.deepcopy(contacts), pagination)

    async def _contact(self, request: Request) -> Response:
        with self.lock:
            admitted = self._admit(request)
        if isinstance(admitted, Response):
            return admitted
        tenant, headers = admitted
        try:
            await self.pause(request)
            with self.lock:
                ref = request.path_params["ref"]
                found = tenant.contacts.get(ref.lower()) or next(
                    (c for c in tenant.contacts.values() if c.get("ContactNumber") and c.get("ContactNumber") == ref), None
                )
                body = self._envelope([copy.deepcopy(found)]) if found else None
        finally:
            with self.lock:
                tenant.in_flight -= 1
        if body is None:
            return PlainTextResponse(NOT_FOUND_TEXT, status_code=404, headers=headers)
        return JSONResponse(body, headers=headers)


def _validation(message: str) -> dict[str, Any]:
    return {"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation exception occurred", "Elements": [],
            "Detail": message}  # fmt: skip


def _parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
