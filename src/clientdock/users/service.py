"""Users and sign-in: argon2 password hashes (pwdlib), server-side sessions, CSRF tokens.

A session cookie carries a random token; the database keeps only its SHA-256, so a leaked
database cannot be replayed as cookies, and signing out really ends the session. Each session
has its own CSRF token, which every form posted while signed in must carry.

Errors::

    Conflict                 a user with this email already exists
    NotFound                 unknown tenant (tenants.service)
    ValidationFailed         the email is not an address
    Unauthorized
    └── InvalidCredentials   wrong email or password (never says which)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clientdock.db import utcnow
from clientdock.errors import Conflict, Unauthorized, ValidationFailed
from clientdock.pipeline import values
from clientdock.tenants.models import Tenant
from clientdock.users.models import User, UserSession

SESSION_LIFETIME = timedelta(days=7)
IDLE_TIMEOUT = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=5)
MAX_PASSWORD_LENGTH = 1024

_passwords = PasswordHash((Argon2Hasher(),))


class InvalidCredentials(Unauthorized):
    title = "Invalid credentials"

    def __init__(self) -> None:
        super().__init__("the email or password is not right")


@dataclass(frozen=True)
class CreatedUser:
    user: User
    password: str


@dataclass(frozen=True)
class SignedIn:
    """A browser's signed-in user, the tenant it acts for, and its session's CSRF token."""

    user: User
    tenant: Tenant
    session_id: str
    csrf_token: str


@dataclass(frozen=True)
class StartedSession:
    token: str
    signed_in: SignedIn


def normalise_email(raw: str) -> str:
    """The clients' email rule (syntax only, no DNS), case-folded so uniqueness ignores case."""
    try:
        stored, _warning = values.email(raw)
    except values.InvalidValue as exc:
        raise ValidationFailed.for_field("email", str(exc)) from exc
    if stored is None:
        raise ValidationFailed.for_field("email", "is required")
    return stored.casefold()


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def create_user(session: Session, tenant: Tenant, email: str, password: str | None = None) -> CreatedUser:
    address = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == address)):
        raise Conflict(f"a user with email '{address}' already exists")
    password = password or generate_password()
    user = User(tenant_id=tenant.id, email=address, password_hash=_passwords.hash(password))
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a user with email '{address}' already exists") from exc
    return CreatedUser(user, password)


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().casefold()))


def authenticate(session: Session, email: str, password: str) -> User:
    """The user with this email and password, else :class:`InvalidCredentials`."""
    user = find_user(session, email) if len(password) <= MAX_PASSWORD_LENGTH else None
    if user is None:
        # Spend the same time as a real check, so response times do not reveal which emails exist.
        _passwords.verify(password[:MAX_PASSWORD_LENGTH], _dummy_hash())
        raise InvalidCredentials()
    valid, new_hash = _passwords.verify_and_update(password, user.password_hash)
    if not valid:
        raise InvalidCredentials()
    if new_hash is not None:
        user.password_hash = new_hash
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _passwords.hash(secrets.token_urlsafe(16))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_match(presented: str | None, expected: str | None) -> bool:
    if not presented or not expected:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())


def start_session(session: Session, user: User) -> StartedSession:
    """A new session (a fresh token and CSRF token on every sign-in: no fixation)."""
    now = utcnow()
    session.execute(delete(UserSession).where(UserSession.user_id == user.id, _expired(now)))
    token = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id, token_hash=hash_token(token), csrf_token=secrets.token_urlsafe(32),
        created_at=now, last_seen_at=now, expires_at=now + SESSION_LIFETIME,
    )  # fmt: skip
    session.add(row)
    session.flush()
    tenant = session.get_one(Tenant, user.tenant_id)
    return StartedSession(token, SignedIn(user, tenant, row.id, row.csrf_token))


def sign_in(session: Session, email: str, password: str) -> StartedSession:
    return start_session(session, authenticate(session, email, password))


def _expired(now: datetime) -> ColumnElement[bool]:
    return or_(UserSession.expires_at <= now, UserSession.last_seen_at <= now - IDLE_TIMEOUT)


def resolve_session(session: Session, token: str) -> SignedIn | None:
    """The signed-in user of a session cookie, or None when it is unknown, idle or expired."""
    found = session.execute(
        select(UserSession, User, Tenant)
        .join(User, User.id == UserSession.user_id)
        .join(Tenant, Tenant.id == User.tenant_id)
        .where(UserSession.token_hash == hash_token(token))
    ).one_or_none()
    if found is None:
        return None
    row, user, tenant = found
    now = utcnow()
    if row.expires_at <= now or row.last_seen_at <= now - IDLE_TIMEOUT:
        return None  # the row is purged at the user's next sign-in
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return SignedIn(user, tenant, row.id, row.csrf_token)


def end_session(session: Session, session_id: str) -> None:
    session.execute(delete(UserSession).where(UserSession.id == session_id))
