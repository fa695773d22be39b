"""What the connection door needs of an accounting platform (Xero, QuickBooks Online).

A provider is a small class around one ``httpx.Client`` (explicit timeouts, an injectable
transport). It knows the platform's OAuth 2.0 endpoints and its contacts API, and it is a
careful client: it refreshes the access token before it expires and once on a 401, persists
every rotated token through the :class:`TokenStore` before using it, waits out a 429's
``Retry-After`` (no call to that organisation before it elapses), retries 5xx answers and
timeouts with backoff, and holds the platform's per-organisation budgets.

The errors and the token pair live in ``clientdock.outbound.errors`` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from clientdock.outbound.errors import GrantRevoked, ProviderError, ProviderNotConfigured, ProviderUnavailable, Tokens, TokenStore


@dataclass(frozen=True)
class Organisation:
    """One organisation a grant reaches: Xero's tenantId, QuickBooks' realmId."""

    id: str
    name: str


@dataclass(frozen=True)
class Grant:
    tokens: Tokens
    organisations: list[Organisation]


@dataclass
class ContactPage:
    """Raw contacts as the platform sent them (a Xero Contact, a QuickBooks Customer)."""

    contacts: list[dict[str, Any]]
    #: Ids that were asked for and that the platform does not know.
    missing_ids: list[str] = field(default_factory=list)


class Provider(Protocol):
    name: str
    #: The scopes asked for at authorize time, space-separated.
    scopes: str

    def configured(self) -> bool: ...

    def authorize_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str: ...

    def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str, realm_id: str | None) -> Grant: ...

    def revoke(self, tokens: Tokens, organisation_id: str, *, keep_grant: bool = False) -> None:
        """Disconnect the organisation; revoke the grant too unless other connections share it."""
        ...

    def contacts(
        self, store: TokenStore, organisation_id: str, *, ids: Sequence[str] | None = None, modified_since: datetime | None = None
    ) -> Iterator[ContactPage]: ...

    def search(self, store: TokenStore, organisation_id: str, term: str, *, limit: int = 50) -> list[dict[str, Any]]:
        """Up to ``limit`` contacts whose name or email holds ``term`` (one call), for a picker."""
        ...

    def external_id(self, contact: dict[str, Any]) -> str: ...


__all__ = [
    "ContactPage", "Grant", "GrantRevoked", "Organisation", "Provider", "ProviderError", "ProviderNotConfigured",
    "ProviderUnavailable", "TokenStore", "Tokens",
]  # fmt: skip
