"""What a call to another service (an accounting platform, a register) can end in, and the
OAuth token pair a connection holds.

Errors::

    ProviderError              the service could not be used (message says why)
    ├── GrantRevoked           the refresh token is dead (invalid_grant): reconnect
    └── ProviderUnavailable    5xx, timeouts or 429s beyond the retries
    ProviderNotConfigured      (a BadRequest) no client id/secret in the settings
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from clientdock.errors import BadRequest, ClientdockError


class ProviderError(ClientdockError):
    status = 502
    title = "Outside service error"


class ProviderNotConfigured(BadRequest):
    title = "Provider not configured"


class GrantRevoked(ProviderError):
    title = "Connection no longer authorised"


class ProviderUnavailable(ProviderError):
    title = "Outside service unavailable"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    #: When the access token expires (UTC).
    expires_at: datetime


class TokenStore(Protocol):
    """Where a connection's tokens live; ``save`` makes a rotated token durable at once."""

    def current(self) -> Tokens: ...

    def save(self, tokens: Tokens) -> None: ...
