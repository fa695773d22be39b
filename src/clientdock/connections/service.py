"""Connecting a tenant to an accounting platform, and its connections.

The OAuth 2.0 authorization code flow with PKCE (S256): :func:`start_authorize` records an
unguessable state bound to the tenant (only its SHA-256 is stored) with the PKCE verifier
(encrypted) and a browser nonce (only its SHA-256 is stored), and gives the platform's authorize
URL and the nonce, which the route hands to the browser as a cookie (``connections.browser``);
:func:`complete_authorize` takes the callback, spends the state once, refuses it unless the
browser presents the nonce (so an authorize link handed to somebody else connects nothing),
exchanges the code and creates one connection per granted organisation. Tokens are encrypted at
rest and never leave this module in a listing.

Errors::

    BadRequest
    ├── ProviderNotConfigured   no client id for the provider
    ├── UnknownProvider         not xero or quickbooks
    ├── InvalidState            forged, replayed or expired state
    │   └── NotTheStartingBrowser   the callback reached a browser without the nonce
    └── ConsentDenied           the user said no at the platform
    NotFound                    no such connection in this tenant
    Conflict                    the connection cannot be used (expired, disconnected)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from clientdock.connections import mapping
from clientdock.connections.models import Connection, OAuthState
from clientdock.connections.providers import Provider, ProviderNotConfigured, Tokens
from clientdock.connections.quickbooks import QuickBooksProvider
from clientdock.connections.xero import XeroProvider
from clientdock.db import Database, bind_tenant, utcnow
from clientdock.errors import BadRequest, Conflict, FieldError, NotFound
from clientdock.outbound.budget import SharedBudgets
from clientdock.outbound.http import pkce_challenge
from clientdock.secrets import decrypt, encrypt
from clientdock.settings import Settings
from clientdock.tenants.context import TenantContext
from clientdock.tenants.models import Tenant
from clientdock.tenants.scoping import readable

log = structlog.get_logger(__name__)

PROVIDERS = ("xero", "quickbooks")
#: The platforms' limits per organisation (Xero: 5 in flight, 60 a minute; QuickBooks: 10, 500).
XERO_CONCURRENT, XERO_PER_MINUTE = 5, 60
QUICKBOOKS_CONCURRENT, QUICKBOOKS_PER_MINUTE = 10, 500
STATE_LIFETIME = timedelta(minutes=15)


class UnknownProvider(BadRequest):
    title = "Unknown provider"


class InvalidState(BadRequest):
    title = "Invalid OAuth state"


class NotTheStartingBrowser(InvalidState):
    """The callback came to a browser that does not hold the state's nonce (another person's,
    or one that lost it): the state is spent all the same, so the link is of no use now."""


class ConsentDenied(BadRequest):
    title = "Connection not granted"


def provider_for(settings: Settings, name: str, db: Database | None = None) -> Provider:
    """The platform's client; with ``db`` its per-organisation budgets are shared by every
    worker (calls for contacts), without it they hold in this process (the OAuth round trip)."""
    if name == "xero":
        shared = SharedBudgets(db, name, concurrent=XERO_CONCURRENT, per_minute=XERO_PER_MINUTE) if db else None
        return XeroProvider(settings, budgets=shared)
    if name == "quickbooks":
        shared = SharedBudgets(db, name, concurrent=QUICKBOOKS_CONCURRENT, per_minute=QUICKBOOKS_PER_MINUTE) if db else None
        return QuickBooksProvider(settings, budgets=shared)
    raise UnknownProvider(f"no provider '{name[:40]}'; use {' or '.join(PROVIDERS)}")


def redirect_uri(settings: Settings, provider: str) -> str:
    return f"{settings.public_url.rstrip('/')}/connections/{provider}/callback"


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


@dataclass(frozen=True)
class Started:
    """An authorize round trip under way: where to send the browser, and what the browser must
    keep to finish it (the state names the cookie, the nonce is its value)."""

    url: str
    provider: str
    state: str
    browser_nonce: str
    expires_in: timedelta


def start_authorize(
    session: Session, settings: Settings, ctx: TenantContext, provider_name: str, *, started_by: str, return_to: str | None = None
) -> Started:
    """Record a fresh state, PKCE verifier and browser nonce for this tenant; the platform's
    authorize URL and the nonce the starting browser must present at the callback."""
    provider = provider_for(settings, provider_name)
    if not provider.configured():
        raise ProviderNotConfigured(
            f"{provider_name} is not configured: set CLIENTDOCK_{provider_name.upper()}_CLIENT_ID and _CLIENT_SECRET"
        )
    state, verifier, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(64), secrets.token_urlsafe(32)
    session.add(
        OAuthState(
            state_hash=_hash(state),
            tenant_id=ctx.tenant_id,
            provider=provider_name,
            code_verifier=encrypt(settings.data_dir, verifier),
            browser_hash=_hash(nonce),
            started_by=started_by,
            return_to=return_to,
            expires_at=utcnow() + STATE_LIFETIME,
        )  # fmt: skip
    )
    session.flush()
    url = provider.authorize_url(state=state, code_challenge=pkce_challenge(verifier), redirect_uri=redirect_uri(settings, provider_name))
    return Started(url, provider_name, state, nonce, STATE_LIFETIME)


@dataclass(frozen=True)
class Completed:
    tenant: Tenant
    connections: list[Connection]
    return_to: str | None


@dataclass(frozen=True)
class Callback:
    """What the platform sent back to the redirect URI."""

    state: str | None
    code: str | None = None
    error: str | None = None
    error_description: str | None = None
    realm_id: str | None = None
    #: The nonce the browser's cookie holds for this state; None when it sent none.
    browser_nonce: str | None = None


def complete_authorize(session: Session, settings: Settings, provider_name: str, callback: Callback) -> Completed:
    """Spend the state, check that the browser is the one that started it, exchange the code,
    and create (or renew) one connection per organisation.

    Whatever it raises after the state was found, the state is spent in ``session``: the
    callback route commits that, so a refused callback (another browser's above all) leaves
    nothing to try again."""
    provider = provider_for(settings, provider_name)
    pending = _spend_state(session, provider_name, callback.state)
    # The callback is public: the state, read by its hash, is what names the tenant. The rest of
    # the work (the state spent, the connections made) acts for that tenant only.
    bind_tenant(session, pending.tenant_id)
    tenant = session.get_one(Tenant, pending.tenant_id)
    if not _same_browser(pending, callback.browser_nonce):
        log.warning("connection_callback_from_another_browser", tenant=tenant.code, provider=provider_name)
        raise NotTheStartingBrowser(
            f"this {provider_name} approval must be finished in the browser that started it, and this browser did not "
            "start it (or no longer holds its cookie): nothing was connected, and this approval can no longer be used. "
            "To connect, start again with the Connect button in the browser you approve in.",
            [FieldError("state", "this browser did not start this connection", code="wrong_browser")],
        )
    if callback.error:
        why = callback.error_description or callback.error
        raise ConsentDenied(f"{provider_name} did not grant access ({why[:200]}); nothing was connected")
    if not callback.code:
        raise BadRequest("the callback carries no code")
    verifier = decrypt(settings.data_dir, pending.code_verifier)
    grant = provider.exchange_code(
        code=callback.code, code_verifier=verifier, redirect_uri=redirect_uri(settings, provider_name), realm_id=callback.realm_id
    )
    connections = [
        _connect(session, settings, tenant, provider_name, org.id, org.name, grant.tokens, pending.started_by)
        for org in grant.organisations
    ]
    log.info("connected", tenant=tenant.code, provider=provider_name, connections=[c.code for c in connections])
    return Completed(tenant, connections, pending.return_to)


def _same_browser(pending: OAuthState, nonce: str | None) -> bool:
    """Whether ``nonce`` is the one given to the browser that started (constant time); a state
    recorded before browsers were bound has no nonce, and no browser matches it."""
    if not nonce or pending.browser_hash is None:
        return False
    return hmac.compare_digest(_hash(nonce), pending.browser_hash)


def _spend_state(session: Session, provider_name: str, state: str | None) -> OAuthState:
    if not state:
        raise InvalidState("the callback carries no state")
    query = select(OAuthState).where(OAuthState.state_hash == _hash(state))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    pending = session.scalar(query)
    if pending is None or pending.provider != provider_name:
        raise InvalidState("unknown state: start the connection again")
    if pending.used_at is not None:
        raise InvalidState("this state was already used: start the connection again")
    if pending.expires_at <= utcnow():
        raise InvalidState("this state has expired: start the connection again")
    pending.used_at = utcnow()
    session.flush()
    return pending


def _connect(
    session: Session, settings: Settings, tenant: Tenant, provider_name: str, org_id: str, org_name: str, tokens: Tokens, by: str | None
) -> Connection:
    existing = session.scalar(
        readable(tenant, Connection).where(Connection.provider == provider_name, Connection.organisation_id == org_id)
    )
    connection = existing or Connection(
        tenant_id=tenant.id, code=_new_code(session, tenant, provider_name), provider=provider_name, organisation_id=org_id
    )
    connection.organisation_name = org_name[:255] or org_id
    connection.status = "active"
    connection.connected_by = by
    connection.updated_at = utcnow()
    store_tokens(settings, connection, tokens)
    if existing is None:
        session.add(connection)
    session.flush()
    return connection


def _new_code(session: Session, tenant: Tenant, provider_name: str) -> str:
    while True:
        code = f"{provider_name}-{secrets.token_hex(3)}"
        if session.scalar(readable(tenant, Connection).where(Connection.code == code)) is None:
            return code


def store_tokens(settings: Settings, connection: Connection, tokens: Tokens) -> None:
    payload = {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token, "expires_at": tokens.expires_at.isoformat()}
    connection.tokens = encrypt(settings.data_dir, json.dumps(payload))
    connection.token_expires_at = tokens.expires_at


def tokens_of(settings: Settings, connection: Connection) -> Tokens:
    if not connection.tokens:
        raise Conflict(f"connection {connection.code} is {connection.status}: connect it again")
    payload = json.loads(decrypt(settings.data_dir, connection.tokens))
    return Tokens(payload["access_token"], payload["refresh_token"], datetime.fromisoformat(payload["expires_at"]))


def list_connections(session: Session, ctx: TenantContext) -> list[Connection]:
    return list(session.scalars(readable(ctx, Connection).order_by(Connection.created_at, Connection.code)))


def get_connection(session: Session, ctx: TenantContext, code: str) -> Connection:
    connection = session.scalar(readable(ctx, Connection).where(Connection.code == code))
    if connection is None:
        raise NotFound(f"no connection '{code[:80]}' in this tenant")
    return connection


def usable(connection: Connection) -> Connection:
    if connection.status != "active":
        raise Conflict(f"connection {connection.code} is {connection.status}: connect it again from the Connections page")
    return connection


def disconnect(session: Session, settings: Settings, ctx: TenantContext, code: str) -> Connection:
    """Revoke the grant at the platform (best effort: a platform that is down does not keep
    the connection alive here) and forget the tokens."""
    connection = get_connection(session, ctx, code)
    if connection.tokens:
        tokens = tokens_of(settings, connection)
        shared = bool(grant_siblings(session, settings, connection, tokens.refresh_token))
        try:
            provider_for(settings, connection.provider).revoke(tokens, connection.organisation_id, keep_grant=shared)
        except Exception as exc:  # noqa: BLE001 - the tokens are forgotten whatever the platform says
            log.warning("revoke_failed", connection=connection.code, error=f"{type(exc).__name__}: {exc}"[:300])
    connection.status = "disconnected"
    connection.tokens = None
    connection.token_expires_at = None
    connection.updated_at = utcnow()
    session.flush()
    return connection


@dataclass(frozen=True)
class ContactSummary:
    """A platform contact as a picker shows it, read through the door's own mapping."""

    external_id: str
    name: str | None
    email: str | None
    active: bool


@dataclass(frozen=True)
class ConnectionRef:
    """What a call to the platform needs of a connection, read before the call: no
    transaction is held while the platform answers (on SQLite it would hold the write lock
    that a rotated token needs)."""

    id: str
    code: str
    provider: str
    organisation_id: str
    organisation_name: str
    tenant_id: str


def connection_ref(session: Session, ctx: TenantContext, code: str) -> ConnectionRef:
    connection = usable(get_connection(session, ctx, code))
    return ConnectionRef(
        connection.id, connection.code, connection.provider, connection.organisation_id, connection.organisation_name, connection.tenant_id
    )


def search_contacts(db: Database, settings: Settings, connection: ConnectionRef, term: str, limit: int) -> list[ContactSummary]:
    """Ask the platform (one call) for the contacts matching ``term``: what a picker lists."""
    provider = provider_for(settings, connection.provider, db)
    store = ConnectionTokens(db, settings, connection.tenant_id, connection.id)
    to_record = mapping.xero_record if connection.provider == "xero" else mapping.quickbooks_record
    found = []
    for index, contact in enumerate(provider.search(store, connection.organisation_id, term, limit=limit)):
        fields = to_record(index, contact, connection.code).fields
        name = fields.get("name") or " ".join(str(fields[k]) for k in ("firstName", "lastName") if fields.get(k)) or None
        found.append(ContactSummary(provider.external_id(contact), name, fields.get("email"), fields.get("active") is not False))
    return found


def grant_siblings(session: Session, settings: Settings, connection: Connection, refresh_token: str) -> list[Connection]:
    """The tenant's other active connections made by the same grant (one Xero consent can
    reach several organisations): they hold the same refresh token, which rotates for all."""
    others = session.scalars(
        readable(connection.tenant_id, Connection).where(
            Connection.provider == connection.provider, Connection.status == "active", Connection.id != connection.id
        )
    )
    return [other for other in others if other.tokens and tokens_of(settings, other).refresh_token == refresh_token]


class ConnectionTokens:
    """A :class:`TokenStore` over one of a tenant's connection rows: every rotated token pair is
    committed at once, in a transaction of its own (bound to the tenant), before the platform
    sees it used (a crash in the middle of an import never loses the refresh token the platform
    now expects)."""

    def __init__(self, db: Database, settings: Settings, tenant_id: str, connection_id: str) -> None:
        self.db, self.settings, self.tenant_id, self.connection_id = db, settings, tenant_id, connection_id

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self.db.session() as session:
            bind_tenant(session, self.tenant_id)
            yield session

    def current(self) -> Tokens:
        with self._session() as session:
            return tokens_of(self.settings, session.get_one(Connection, self.connection_id))

    def save(self, tokens: Tokens) -> None:
        """Keep the new pair on this connection and on every connection of the same grant: the
        platform rotated the refresh token they share."""
        with self._session() as session:
            connection = session.get_one(Connection, self.connection_id)
            previous = tokens_of(self.settings, connection).refresh_token if connection.tokens else None
            siblings = grant_siblings(session, self.settings, connection, previous) if previous else []
            for holder in (connection, *siblings):
                store_tokens(self.settings, holder, tokens)
                holder.updated_at = utcnow()

    def revoked(self) -> None:
        """The platform refused the refresh token: the connection needs a new grant."""
        with self._session() as session:
            connection = session.get_one(Connection, self.connection_id)
            connection.status = "expired"
            connection.updated_at = utcnow()
