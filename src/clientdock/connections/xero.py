"""Xero: OAuth 2.0 (+ PKCE) and the Accounting API's Contacts, as a careful client.

Endpoints: authorize ``{xero_login_url}/identity/connect/authorize``; token and revocation
``{xero_identity_url}/connect/token`` and ``/connect/revocation``; ``{xero_api_url}/connections``
(the organisations a grant reaches) and ``{xero_api_url}/api.xro/2.0/Contacts``.

Budgets: Xero allows 5 concurrent calls and 60 calls per rolling minute per organisation. They
are held in :data:`BUDGETS`, a module-level registry keyed by tenantId and shared by every
:class:`XeroProvider` in the process. Across processes the budget is not shared yet (the next
step: a shared store per organisation); a 429 that still happens is waited out (``Retry-After``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from clientdock.connections.providers import (
    ContactPage,
    Grant,
    GrantRevoked,
    Organisation,
    ProviderError,
    ProviderNotConfigured,
    Tokens,
    TokenStore,
)
from clientdock.outbound.http import Budgets, CarefulClient, Clock, OAuthTokens, OrgBudgets, Sleep, as_utc, describe, json_answer
from clientdock.settings import Settings

#: Per organisation, in this process: 5 in flight, 60 per rolling minute (developer.xero.com/faq/limits).
BUDGETS = OrgBudgets(concurrent=5, per_minute=60)
PAGE_SIZE = 1000
#: GUIDs per ``IDs=`` filter: about 52 overflow the URL (XeroAPI/Xero-Java#328).
IDS_PER_CALL = 50
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class XeroProvider:
    name = "xero"
    scopes = "offline_access accounting.contacts.read"

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        budgets: Budgets | None = None,
    ) -> None:
        self.settings = settings
        #: This process's budgets unless shared ones (across workers) are given.
        self.budgets: Budgets = budgets or BUDGETS
        self.client = CarefulClient(settings, label="Xero", transport=transport, clock=clock, sleep=sleep)
        self.authorize_endpoint = f"{settings.xero_login_url.rstrip('/')}/identity/connect/authorize"
        identity = settings.xero_identity_url.rstrip("/")
        self.token_endpoint = f"{identity}/connect/token"
        self.revocation_endpoint = f"{identity}/connect/revocation"
        api = settings.xero_api_url.rstrip("/")
        self.connections_endpoint = f"{api}/connections"
        self.contacts_endpoint = f"{api}/api.xro/2.0/Contacts"

    def configured(self) -> bool:
        return bool(self.settings.xero_client_id and self.settings.xero_client_secret)

    def close(self) -> None:
        self.client.close()

    def _oauth(self) -> OAuthTokens:
        client_id, secret = self.settings.xero_client_id, self.settings.xero_client_secret
        if not (client_id and secret):
            raise ProviderNotConfigured("Xero is not configured: set CLIENTDOCK_XERO_CLIENT_ID and CLIENTDOCK_XERO_CLIENT_SECRET")
        return OAuthTokens(self.client, token_url=self.token_endpoint, client_id=client_id, client_secret=secret)

    # --- OAuth ---------------------------------------------------------------------------------

    def authorize_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        if not self.configured():
            raise ProviderNotConfigured("Xero is not configured: set CLIENTDOCK_XERO_CLIENT_ID and CLIENTDOCK_XERO_CLIENT_SECRET")
        params = {
            "response_type": "code",
            "client_id": self.settings.xero_client_id or "",
            "redirect_uri": redirect_uri,
            "scope": self.scopes,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.authorize_endpoint}?{urlencode(params, quote_via=quote)}"

    def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str, realm_id: str | None = None) -> Grant:
        tokens = self._oauth().exchange(code=code, code_verifier=code_verifier, redirect_uri=redirect_uri)
        connections = self._connections(tokens.access_token)
        organisations = [
            Organisation(id=str(c["tenantId"]), name=str(c.get("tenantName") or c["tenantId"]))
            for c in connections
            if c.get("tenantId") and c.get("tenantType", "ORGANISATION") == "ORGANISATION"
        ]
        if not organisations:
            raise ProviderError("Xero granted access to no organisation; connect again and pick an organisation")
        return Grant(tokens=tokens, organisations=organisations)

    def _connections(self, access_token: str) -> list[dict[str, Any]]:
        response = self.client.send("GET", self.connections_endpoint, what="GET /connections", headers=_bearer(access_token))
        if response.status_code == 401:
            raise GrantRevoked(f"Xero refused the access token listing connections: {describe(response)}")
        if response.status_code != 200:
            raise ProviderError(f"Xero GET /connections failed: {describe(response)}")
        body = json_answer(response, "Xero GET /connections", list)
        return [c for c in body if isinstance(c, dict)]

    def revoke(self, tokens: Tokens, organisation_id: str, *, keep_grant: bool = False) -> None:
        """Disconnect the organisation (``DELETE /connections/{id}``) and revoke the refresh token.

        The connection is found with the access token while it is still valid; revoking the
        refresh token ends the grant (and with it every connection the grant made), so with
        ``keep_grant`` (other organisations of the grant stay connected) only the organisation goes.
        """
        oauth = self._oauth()
        if not oauth.expiring(tokens):
            try:
                for connection in self._connections(tokens.access_token):
                    if str(connection.get("tenantId")) == organisation_id and connection.get("id"):
                        url = f"{self.connections_endpoint}/{quote(str(connection['id']), safe='')}"
                        self.client.send("DELETE", url, what="DELETE /connections", headers=_bearer(tokens.access_token))
            except GrantRevoked:
                pass  # the token is already dead: revoking the refresh token below is all that is left
        if not keep_grant:
            oauth.revoke(tokens.refresh_token, self.revocation_endpoint, json_body=False)

    # --- contacts ------------------------------------------------------------------------------

    def contacts(
        self, store: TokenStore, organisation_id: str, *, ids: Sequence[str] | None = None, modified_since: datetime | None = None
    ) -> Iterator[ContactPage]:
        """Every contact (archived too), a page of up to 1000 per call; or the asked ``ids`` in batches of 50.

        ``modified_since`` becomes the ``If-Modified-Since`` header of a full listing. With ``ids``
        it is not applied: the ids are fetched as they are, so ``missing_ids`` means "unknown to Xero".
        An id that is not a GUID cannot be a ContactID: it is reported missing without a call.
        """
        if ids is not None:
            yield from self._by_ids(store, organisation_id, ids, {})
            return
        headers: dict[str, str] = {}
        if modified_since is not None:
            headers["If-Modified-Since"] = as_utc(modified_since).strftime("%Y-%m-%dT%H:%M:%S")
        page = 1
        while True:
            body = self._get_contacts(store, organisation_id, {"page": str(page), "pageSize": str(PAGE_SIZE)}, headers)
            contacts = _contacts_of(body)
            if contacts:
                yield ContactPage(contacts=contacts)
            pagination = body.get("pagination") if isinstance(body.get("pagination"), dict) else None
            page_count = pagination.get("pageCount") if pagination else None
            if len(contacts) < PAGE_SIZE or (isinstance(page_count, int) and page >= page_count):
                return
            page += 1

    def search(self, store: TokenStore, organisation_id: str, term: str, *, limit: int = 50) -> list[dict[str, Any]]:
        """Xero's ``searchTerm`` (name, first and last name, contact number, email), one page."""
        params = {"page": "1", "pageSize": str(max(1, min(limit, PAGE_SIZE)))}
        if term.strip():
            params["searchTerm"] = term.strip()[:100]
        return _contacts_of(self._get_contacts(store, organisation_id, params, {}))[:limit]

    def _by_ids(self, store: TokenStore, org: str, ids: Sequence[str], headers: dict[str, str]) -> Iterator[ContactPage]:
        wanted: list[str] = []
        seen: set[str] = set()
        invalid: list[str] = []
        for raw in ids:
            key = raw.strip().lower()
            if key in seen:
                continue
            seen.add(key)
            (wanted if _GUID.match(key) else invalid).append(raw)
        if invalid:
            # Not a ContactID: Xero cannot know it, so it is missing without a call.
            yield ContactPage(contacts=[], missing_ids=invalid)
        for start in range(0, len(wanted), IDS_PER_CALL):
            batch = wanted[start : start + IDS_PER_CALL]
            params = {"IDs": ",".join(batch), "page": "1", "pageSize": str(PAGE_SIZE)}
            contacts = _contacts_of(self._get_contacts(store, org, params, headers))
            found = {str(c.get("ContactID", "")).lower() for c in contacts}
            yield ContactPage(contacts=contacts, missing_ids=[i for i in batch if i.strip().lower() not in found])

    def _get_contacts(self, store: TokenStore, org: str, params: dict[str, str], headers: dict[str, str]) -> dict[str, Any]:
        query = urlencode({**params, "includeArchived": "true"}, safe=",")
        url = f"{self.contacts_endpoint}?{query}"

        def call(access_token: str) -> httpx.Response:
            sent = {**headers, **_bearer(access_token), "xero-tenant-id": org}
            return self.client.send("GET", url, what="GET Contacts", budgets=self.budgets, org=org, headers=sent)

        response = self._oauth().authorized(store, call, what="GET Contacts")
        if response.status_code == 403:
            raise GrantRevoked(
                f"Xero refused organisation {org} ({_detail(response)}): it was disconnected or the contacts scope is missing; reconnect"
            )
        if response.status_code != 200:
            raise ProviderError(f"Xero GET Contacts failed: {describe(response)}")
        body: dict[str, Any] = json_answer(response, "Xero GET Contacts")
        return body

    def external_id(self, contact: dict[str, Any]) -> str:
        return str(contact["ContactID"])


def _bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def _contacts_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    contacts = body.get("Contacts") or []
    return [c for c in contacts if isinstance(c, dict)] if isinstance(contacts, list) else []


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:100]
    return str(body.get("Detail") or body.get("Title") or "") if isinstance(body, dict) else ""
