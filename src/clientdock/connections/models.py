"""A tenant's connections to accounting platforms, and the OAuth round trips under way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clientdock.db import Base, new_id, utcnow


class Connection(Base):
    """One organisation of a platform a tenant granted us: a Xero tenant, a QuickBooks realm.

    ``tokens`` is the access and refresh token pair, Fernet-encrypted (``clientdock.secrets``);
    it is never logged or listed. ``last_imported_at`` is when the last successful import
    started reading: ``since=last`` asks the platform for what changed after it.
    """

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("tenant_id", "code"), UniqueConstraint("tenant_id", "provider", "organisation_id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(32))
    organisation_id: Mapped[str] = mapped_column(String(64))
    organisation_name: Mapped[str] = mapped_column(String(255))
    #: active, expired (the platform no longer honours the grant: reconnect) or disconnected
    status: Mapped[str] = mapped_column(String(16), default="active")
    tokens: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None]
    connected_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_import_id: Mapped[str | None] = mapped_column(String(32))
    last_imported_at: Mapped[datetime | None]


class OAuthState(Base):
    """An authorize redirect waiting for its callback: the state (hashed), bound to a tenant,
    with the PKCE verifier (encrypted) and the SHA-256 of the nonce the starting browser keeps
    in a cookie (the callback completes only in that browser). Used once; refused after
    ``expires_at``."""

    __tablename__ = "connection_oauth_states"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    code_verifier: Mapped[str] = mapped_column(Text)
    #: SHA-256 (hex) of the browser's nonce; None only for a state recorded before browsers
    #: were bound, which no callback completes.
    browser_hash: Mapped[str | None] = mapped_column(String(64))
    started_by: Mapped[str | None] = mapped_column(String(255))
    #: Where a browser goes back to after the callback (the web page); None: answer JSON.
    return_to: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
