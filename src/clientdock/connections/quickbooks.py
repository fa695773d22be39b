"""QuickBooks Online: OAuth 2.0 (+ PKCE) and the Customer query API, as a careful client.

Endpoints come from the settings: ``quickbooks_auth_url`` (authorize), ``quickbooks_token_url``,
``quickbooks_revoke_url`` and ``{quickbooks_api_url}/v3/company/{realmId}/…`` (``query``,
``companyinfo``), always with ``Accept: application/json`` and ``minorversion=75``.

Budgets: Intuit allows 500 calls per minute and 10 in flight per realm. They are held in
:data:`BUDGETS`, a module-level registry keyed by realmId and shared by every
:class:`QuickBooksProvider` in the process (across processes: the next step). A 429 carries no
``Retry-After``: the realm is closed for ``quickbooks_throttle_wait_seconds`` (Intuit says 60 s).
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

#: Per realm, in this process: 10 in flight, 500 per rolling minute (Intuit limits and throttles).
BUDGETS = OrgBudgets(concurrent=10, per_minute=500)
MINOR_VERSION = "75"
PAGE_SIZE = 1000
#: An ``Id IN (...)`` query stays under this many characters: it travels URL-encoded in the URL
#: (about 1.6 times longer), which should stay well under the usual 8 KB limit.
MAX_QUERY_CHARS = 3000
_DIGITS = re.compile(r"^[0-9]{1,20}$")
_ALL = "select * from Customer where Active in (true, false)"


class QuickBooksProvider:
    name = "quickbooks"
    scopes = "com.intuit.quickbooks.accounting"

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
        self.client = CarefulClient(
            settings,
            label="QuickBooks Online",
            transport=transport,
            clock=clock,
            sleep=sleep,
            default_throttle_wait=settings.quickbooks_throttle_wait_seconds,
        )
        self.api = settings.quickbooks_api_url.rstrip("/")

    def configured(self) -> bool:
        return bool(self.settings.quickbooks_client_id and self.settings.quickbooks_client_secret)

    def close(self) -> None:
        self.client.close()

    def _oauth(self) -> OAuthTokens:
        client_id, secret = self.settings.quickbooks_client_id, self.settings.quickbooks_client_secret
        if not (client_id and secret):
            raise ProviderNotConfigured(
                "QuickBooks Online is not configured: set CLIENTDOCK_QUICKBOOKS_CLIENT_ID and CLIENTDOCK_QUICKBOOKS_CLIENT_SECRET"
            )
        return OAuthTokens(self.client, token_url=self.settings.quickbooks_token_url, client_id=client_id, client_secret=secret)

    # --- OAuth ---------------------------------------------------------------------------------

    def authorize_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        self._oauth()  # raises when not configured
        params = {
            "client_id": self.settings.quickbooks_client_id or "",
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": self.scopes,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.settings.quickbooks_auth_url}?{urlencode(params, quote_via=quote)}"

    def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str, realm_id: str | None) -> Grant:
        """Tokens for the code; the organisation is the ``realmId`` of the callback (named by CompanyInfo)."""
        if not realm_id:
            raise ProviderError("QuickBooks Online sent no realmId with the authorization code; connect again")
        tokens = self._oauth().exchange(code=code, code_verifier=code_verifier, redirect_uri=redirect_uri)
        return Grant(tokens=tokens, organisations=[Organisation(id=realm_id, name=self._company_name(tokens, realm_id))])

    def _company_name(self, tokens: Tokens, realm_id: str) -> str:
        realm = quote(realm_id, safe="")
        url = f"{self.api}/v3/company/{realm}/companyinfo/{realm}?minorversion={MINOR_VERSION}"
        try:
            response = self.client.send(
                "GET", url, what="GET companyinfo", budgets=self.budgets, org=realm_id, headers=_bearer(tokens.access_token)
            )
        except ProviderError:
            return realm_id
        if response.status_code != 200:
            return realm_id
        try:
            info = response.json().get("CompanyInfo") or {}
        except (ValueError, AttributeError):
            return realm_id
        name = info.get("CompanyName") if isinstance(info, dict) else None
        return str(name) if name else realm_id

    def revoke(self, tokens: Tokens, organisation_id: str, *, keep_grant: bool = False) -> None:
        """Revoke the refresh token (which revokes the access token too) at Intuit; a grant
        reaches one realm, so ``keep_grant`` never applies."""
        self._oauth().revoke(tokens.refresh_token, self.settings.quickbooks_revoke_url, json_body=True)

    # --- contacts ------------------------------------------------------------------------------

    def contacts(
        self, store: TokenStore, organisation_id: str, *, ids: Sequence[str] | None = None, modified_since: datetime | None = None
    ) -> Iterator[ContactPage]:
        """Every Customer (inactive too), 1000 per query; or the asked ``ids`` with ``Id IN (...)`` batches.

        ``modified_since`` adds ``Metadata.LastUpdatedTime > '…'`` to a full listing. With ``ids``
        it is not applied: the ids are fetched as they are, so ``missing_ids`` means "unknown to
        QuickBooks". An id that is not digits cannot be a Customer Id: it is missing without a call.
        """
        if ids is not None:
            yield from self._by_ids(store, organisation_id, ids, "")
            return
        since = ""
        if modified_since is not None:
            since = f" and Metadata.LastUpdatedTime > '{as_utc(modified_since).strftime('%Y-%m-%dT%H:%M:%S+00:00')}'"
        start = 1
        while True:
            customers = self._query(store, organisation_id, f"{_ALL}{since} STARTPOSITION {start} MAXRESULTS {PAGE_SIZE}")
            if customers:
                yield ContactPage(contacts=customers)
            if len(customers) < PAGE_SIZE:
                return
            start += PAGE_SIZE

    def search(self, store: TokenStore, organisation_id: str, term: str, *, limit: int = 50) -> list[dict[str, Any]]:
        """Customers whose display name holds ``term`` (QuickBooks' LIKE, ``%`` its only wildcard)."""
        cleaned = "".join(ch for ch in term.strip()[:100] if ch not in "'%\\")
        where = f" and DisplayName LIKE '%{cleaned}%'" if cleaned else ""
        return self._query(
            store, organisation_id, f"{_ALL}{where} ORDERBY DisplayName STARTPOSITION 1 MAXRESULTS {max(1, min(limit, PAGE_SIZE))}"
        )

    def _by_ids(self, store: TokenStore, realm: str, ids: Sequence[str], since: str) -> Iterator[ContactPage]:
        wanted: list[str] = []
        invalid: list[str] = []
        seen: set[str] = set()
        for raw in ids:
            key = raw.strip()
            if key in seen:
                continue
            seen.add(key)
            (wanted if _DIGITS.match(key) else invalid).append(key if _DIGITS.match(key) else raw)
        if invalid:
            # Not a QuickBooks Id (digits): it cannot exist, so it is missing without a call.
            yield ContactPage(contacts=[], missing_ids=invalid)
        for batch in _batches(wanted, since):
            listed = ", ".join(f"'{i}'" for i in batch)
            customers = self._query(store, realm, f"{_ALL} and Id in ({listed}){since} STARTPOSITION 1 MAXRESULTS {PAGE_SIZE}")
            found = {str(c.get("Id")) for c in customers}
            yield ContactPage(contacts=customers, missing_ids=[i for i in batch if i not in found])

    def _query(self, store: TokenStore, realm: str, query: str) -> list[dict[str, Any]]:
        url = f"{self.api}/v3/company/{quote(realm, safe='')}/query?{urlencode({'query': query, 'minorversion': MINOR_VERSION})}"

        def call(access_token: str) -> httpx.Response:
            return self.client.send("GET", url, what="query Customer", budgets=self.budgets, org=realm, headers=_bearer(access_token))

        response = self._oauth().authorized(store, call, what="query Customer")
        if response.status_code == 403:
            raise GrantRevoked(f"QuickBooks Online refused realm {realm} ({_fault(response)}); reconnect")
        if response.status_code != 200:
            raise ProviderError(f"QuickBooks Online query failed: {_fault(response) or describe(response)}")
        answer = json_answer(response, "QuickBooks Online query").get("QueryResponse")
        if not isinstance(answer, dict):
            raise ProviderError("QuickBooks Online query: no QueryResponse in the answer")
        customers = answer.get("Customer") or []  # an empty result is "QueryResponse":{}
        return [c for c in customers if isinstance(c, dict)] if isinstance(customers, list) else []

    def external_id(self, contact: dict[str, Any]) -> str:
        return str(contact["Id"])


def _batches(ids: list[str], since: str) -> Iterator[list[str]]:
    fixed = len(_ALL) + len(" and Id in ()") + len(since) + len(f" STARTPOSITION 1 MAXRESULTS {PAGE_SIZE}")
    batch: list[str] = []
    size = fixed
    for one in ids:
        cost = len(one) + 4  # 'id', + space
        if batch and (len(batch) >= PAGE_SIZE or size + cost > MAX_QUERY_CHARS):
            yield batch
            batch, size = [], fixed
        batch.append(one)
        size += cost
    if batch:
        yield batch


def _bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def _fault(response: httpx.Response) -> str:
    """The first error of a ``Fault`` (data service) or ``fault`` (gateway) body, as text."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    fault = body.get("Fault") or body.get("fault") or {}
    errors = (fault.get("Error") or fault.get("error") or []) if isinstance(fault, dict) else []
    if not errors or not isinstance(errors[0], dict):
        return ""
    first = errors[0]
    message = first.get("Message") or first.get("message") or ""
    detail = first.get("Detail") or first.get("detail") or ""
    return f"{response.status_code} code {first.get('code')}: {message}" + (f" ({detail})" if detail else "")
