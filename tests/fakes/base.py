"""What both platform fakes share: the OAuth 2.0 server, call counters, and the failure switches.

Switches (all thread-safe, callable from the test while the server runs):

* ``fail_next(n, status=503, endpoint=None)``: the next ``n`` calls answer ``status``;
* ``throttle_next(n, retry_after=..., endpoint=None)``: the next ``n`` calls answer the platform's 429;
* ``slow_next(n, seconds, endpoint=None)`` / ``delay_seconds``: answers wait (real time) first;

``endpoint=None`` means any endpoint but ``authorize`` (the consent screen is a browser page).
Counters: ``calls[endpoint]`` (every request that reached an endpoint, refused ones included) and
``requests`` (a :class:`RecordedRequest` per call, with its answer's status).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import threading
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.clock import FakeClock
from tests.fakes.server import LoopbackServer

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class RecordedRequest:
    endpoint: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str
    status: int
    at: datetime


@dataclass
class _Switch:
    kind: str  # "status" | "throttle" | "slow"
    remaining: int
    endpoint: str | None
    status: int = 503
    retry_after: int = 60
    seconds: float = 0.0


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


class FakePlatform:
    """Base of a platform fake: routes are added by the subclass through :meth:`route`."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.lock = threading.RLock()
        self.calls: Counter[str] = Counter()
        self.requests: list[RecordedRequest] = []
        self.delay_seconds = 0.0
        self._switches: list[_Switch] = []
        self._routes: list[Route] = []
        self._server: LoopbackServer | None = None

    # --- serving -------------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(routes=list(self._routes))

    def start(self) -> str:
        if self._server is None:
            self._server = LoopbackServer(self.app())
        return self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("start() the fake first")
        return self._server.base_url

    def __enter__(self) -> FakePlatform:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- switches and counters -----------------------------------------------------------------

    def fail_next(self, n: int = 1, *, status: int = 503, endpoint: str | None = None) -> None:
        with self.lock:
            self._switches.append(_Switch("status", n, endpoint, status=status))

    def throttle_next(self, n: int = 1, *, retry_after: int = 60, endpoint: str | None = None) -> None:
        with self.lock:
            self._switches.append(_Switch("throttle", n, endpoint, retry_after=retry_after))

    def slow_next(self, n: int, seconds: float, *, endpoint: str | None = None) -> None:
        with self.lock:
            self._switches.append(_Switch("slow", n, endpoint, seconds=seconds))

    def reset_switches(self) -> None:
        with self.lock:
            self._switches.clear()
            self.delay_seconds = 0.0

    def total_calls(self, *, excluding: tuple[str, ...] = ()) -> int:
        with self.lock:
            return sum(n for name, n in self.calls.items() if name not in excluding)

    def recorded(self, endpoint: str) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    def _take(self, kind: str, endpoint: str) -> _Switch | None:
        for switch in self._switches:
            if switch.kind != kind or switch.remaining <= 0:
                continue
            if switch.endpoint is None and endpoint == "authorize":
                continue
            if switch.endpoint is not None and switch.endpoint != endpoint:
                continue
            switch.remaining -= 1
            return switch
        return None

    # --- plumbing for subclasses ---------------------------------------------------------------

    def throttle_response(self, retry_after: int) -> Response:
        raise NotImplementedError

    def failure_response(self, status: int) -> Response:
        return PlainTextResponse("Service Unavailable" if status == 503 else "Internal Server Error", status_code=status)

    def route(self, path: str, name: str, handler: Handler, *, methods: list[str], delay_inside: bool = False) -> None:
        """Add ``handler`` under ``path``; ``delay_inside`` handlers call :meth:`pause` themselves
        (inside their in-flight window), the others are delayed before they run."""

        async def endpoint(request: Request) -> Response:
            body = (await request.body()).decode("utf-8", "replace")
            with self.lock:
                self.calls[name] += 1
                slow = self._take("slow", name)
                failure = self._take("status", name)
                throttle = None if failure else self._take("throttle", name)
            request.state.delay = (slow.seconds if slow else 0.0) + (self.delay_seconds if name != "authorize" else 0.0)
            if failure is not None:
                await self.pause(request)
                response = self.failure_response(failure.status)
            elif throttle is not None:
                response = self.throttle_response(throttle.retry_after)
            else:
                if not delay_inside:
                    await self.pause(request)
                response = await handler(request)
            record = RecordedRequest(
                endpoint=name,
                method=request.method,
                path=request.url.path,
                query=dict(request.query_params),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
                status=response.status_code,
                at=self.clock(),
            )
            with self.lock:
                self.requests.append(record)
            return response

        self._routes.append(Route(path, endpoint, methods=methods))

    async def pause(self, request: Request) -> None:
        delay = float(getattr(request.state, "delay", 0.0) or 0.0)
        if delay > 0:
            request.state.delay = 0.0
            await asyncio.sleep(delay)


# --- OAuth 2.0 ----------------------------------------------------------------------------------


@dataclass
class FakeGrant:
    """What one consent granted: the organisations (Xero tenants / the QBO realm) and scopes."""

    id: str
    client_id: str
    scopes: list[str]
    orgs: list[str]
    auth_event_id: str
    created_at: datetime
    revoked: bool = False
    #: Xero: connection id -> tenant id (``GET /connections``, ``DELETE /connections/{id}``).
    connections: dict[str, str] = field(default_factory=dict)


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: list[str]
    orgs: list[str]
    issued_at: datetime
    used: bool = False


@dataclass
class _Refresh:
    grant_id: str
    last_used: datetime
    superseded_at: datetime | None = None


@dataclass
class _Access:
    grant_id: str
    expires_at: datetime


@dataclass(frozen=True)
class AccessCheck:
    """Outcome of a bearer token check: a grant, or why not (``missing``/``invalid``/``expired``)."""

    grant: FakeGrant | None
    problem: str | None = None
    expired_at: datetime | None = None


class FakeOAuth:
    """An authorization server: authorize (consent), token (code + PKCE, refresh), revocation.

    ``access_lifetime`` is the ``expires_in`` of access tokens; ``rotate`` issues a new refresh
    token on every refresh, the old one staying usable for ``refresh_grace`` seconds (Xero: 30
    minutes; 0: dead at once); a refresh token unused for ``refresh_idle`` seconds dies.
    ``deny = True`` makes the consent screen answer ``error=access_denied``.
    """

    def __init__(
        self,
        clock: FakeClock,
        *,
        client_id: str,
        client_secret: str,
        required_scopes: set[str],
        access_lifetime: int,
        refresh_grace: float,
        refresh_idle: float,
        rotate: bool = True,
        extra_token_fields: dict[str, Any] | None = None,
        token_type: str = "Bearer",
    ) -> None:
        self.clock = clock
        self.client_id = client_id
        self.client_secret = client_secret
        self.required_scopes = required_scopes
        self.access_lifetime = access_lifetime
        self.refresh_grace = refresh_grace
        self.refresh_idle = refresh_idle
        self.rotate = rotate
        self.extra_token_fields = dict(extra_token_fields or {})
        self.token_type = token_type
        self.code_lifetime = 300.0
        self.deny = False
        self.registered_redirect_uris: set[str] | None = None
        self.authorize_requests: list[dict[str, str]] = []
        self.grants: dict[str, FakeGrant] = {}
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._access: dict[str, _Access] = {}

    # consent screen
    def authorize(self, params: dict[str, str], orgs: list[str], extra: dict[str, str] | None = None) -> Response:
        self.authorize_requests.append(dict(params))
        problems = []
        if params.get("client_id") != self.client_id:
            problems.append("unknown client_id")
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri.startswith(("http://", "https://")):
            problems.append("redirect_uri missing or not absolute")
        elif self.registered_redirect_uris is not None and redirect_uri not in self.registered_redirect_uris:
            problems.append("redirect_uri not registered")
        if params.get("response_type") != "code":
            problems.append("response_type must be code")
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            problems.append("code_challenge with code_challenge_method=S256 is required")
        scopes = params.get("scope", "").split()
        missing = sorted(self.required_scopes - set(scopes))
        if missing:
            problems.append(f"scope lacks {' '.join(missing)}")
        if problems:
            # Like the real consent screens: a bad client/redirect is an error page, not a redirect.
            return PlainTextResponse("invalid_request: " + "; ".join(problems), status_code=400)
        state = params.get("state", "")
        separator = "&" if "?" in redirect_uri else "?"
        if self.deny:
            return RedirectResponse(f"{redirect_uri}{separator}{urlencode({'error': 'access_denied', 'state': state})}", status_code=302)
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(
            client_id=self.client_id,
            redirect_uri=redirect_uri,
            challenge=params["code_challenge"],
            scopes=scopes,
            orgs=list(orgs),
            issued_at=self.clock(),
        )
        query = {"code": code, "state": state, **(extra or {})}
        return RedirectResponse(f"{redirect_uri}{separator}{urlencode(query)}", status_code=302)

    def client_ok(self, authorization: str | None) -> bool:
        if not authorization or not authorization.lower().startswith("basic "):
            return False
        try:
            decoded = base64.b64decode(authorization.split(" ", 1)[1]).decode("utf-8")
        except ValueError:
            return False
        client_id, _, secret = decoded.partition(":")
        return client_id == self.client_id and secret == self.client_secret

    def token(self, authorization: str | None, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if not self.client_ok(authorization):
            return 401, {"error": "invalid_client"}
        grant_type = form.get("grant_type")
        now = self.clock()
        if grant_type == "authorization_code":
            code = self._codes.get(form.get("code", ""))
            if code is None or code.used or now - code.issued_at > timedelta(seconds=self.code_lifetime):
                return 400, {"error": "invalid_grant"}
            code.used = True  # a code works once, whatever the outcome
            if form.get("redirect_uri") != code.redirect_uri:
                return 400, {"error": "invalid_grant"}
            verifier = form.get("code_verifier", "")
            if not verifier or s256(verifier) != code.challenge:
                return 400, {"error": "invalid_grant"}
            grant = self.new_grant(code.orgs, scopes=code.scopes)
            return 200, self._issue(grant)
        if grant_type == "refresh_token":
            token = form.get("refresh_token", "")
            state = self._refresh.get(token)
            if state is None:
                return 400, {"error": "invalid_grant"}
            grant = self.grants[state.grant_id]
            if grant.revoked or now - state.last_used > timedelta(seconds=self.refresh_idle):
                return 400, {"error": "invalid_grant"}
            if state.superseded_at is not None and now - state.superseded_at >= timedelta(seconds=self.refresh_grace):
                return 400, {"error": "invalid_grant"}
            state.last_used = now
            if self.rotate:
                if state.superseded_at is None:
                    state.superseded_at = now
                return 200, self._issue(grant)
            return 200, self._issue(grant, refresh_token=token)
        return 400, {"error": "unsupported_grant_type"}

    def revoke(self, authorization: str | None, token: str) -> tuple[int, dict[str, Any]]:
        if not self.client_ok(authorization):
            return 401, {"error": "invalid_client"}
        state = self._refresh.get(token)
        access = self._access.get(token)
        grant_id = state.grant_id if state else access.grant_id if access else None
        if grant_id is not None:
            self.grants[grant_id].revoked = True
            self.grants[grant_id].connections.clear()
        return 200, {}

    def new_grant(self, orgs: list[str], *, scopes: list[str] | None = None) -> FakeGrant:
        grant = FakeGrant(
            id=str(uuid.uuid4()),
            client_id=self.client_id,
            scopes=list(scopes or sorted(self.required_scopes)),
            orgs=list(orgs),
            auth_event_id=str(uuid.uuid4()),
            created_at=self.clock(),
        )
        grant.connections = {str(uuid.uuid4()): org for org in orgs}
        self.grants[grant.id] = grant
        return grant

    def issue_tokens(self, orgs: list[str]) -> dict[str, Any]:
        """A token response for a new grant of ``orgs``, without the consent round trip."""
        return self._issue(self.new_grant(orgs))

    def _issue(self, grant: FakeGrant, refresh_token: str | None = None) -> dict[str, Any]:
        now = self.clock()
        access = secrets.token_urlsafe(32)
        self._access[access] = _Access(grant.id, now + timedelta(seconds=self.access_lifetime))
        if refresh_token is None:
            refresh_token = secrets.token_urlsafe(32)
            self._refresh[refresh_token] = _Refresh(grant.id, last_used=now)
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": self.access_lifetime,
            "token_type": self.token_type,
            "refresh_token": refresh_token,
            **self.extra_token_fields,
        }
        return body

    def check(self, authorization: str | None) -> AccessCheck:
        if not authorization or not authorization.startswith("Bearer "):
            return AccessCheck(None, "missing")
        access = self._access.get(authorization.removeprefix("Bearer ").strip())
        if access is None:
            return AccessCheck(None, "invalid")
        grant = self.grants[access.grant_id]
        if grant.revoked:
            return AccessCheck(None, "invalid")
        if self.clock() >= access.expires_at:
            return AccessCheck(None, "expired", access.expires_at)
        return AccessCheck(grant)

    def grant_of_refresh(self, refresh_token: str) -> FakeGrant | None:
        state = self._refresh.get(refresh_token)
        return self.grants[state.grant_id] if state else None


async def read_form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)
