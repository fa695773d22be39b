"""The careful HTTP client shared by the providers: retries, backoff, 429 waits, budgets.

:class:`CarefulClient` wraps ONE ``httpx.Client`` (explicit timeout, injectable transport, clock
and sleep) and sends a request until it gets an answer worth reading:

* a 5xx answer, a timeout or a failed connection is retried ``provider_attempts`` times in all,
  sleeping ``provider_backoff_seconds`` and doubling between attempts, then raises
  :class:`ProviderUnavailable` saying what went wrong;
* a 429 closes the organisation's :class:`OrgBudgets` gate for ``Retry-After`` seconds (or the
  provider's default wait): no call to that organisation, from any thread, is made before it
  elapses; the 429 counts as an attempt;
* every other answer (2xx, 4xx) is returned to the provider, which reads it.

:class:`OrgBudgets` is the in-process budget of an organisation: at most ``concurrent`` calls in
flight and ``per_minute`` calls in any rolling 60 seconds, plus the 429 gate. It is held in a
module-level registry by each provider, so every provider instance in the process shares it.
Across processes (several workers) the budget is not shared: that is the next step (a row or a
Redis key per organisation).
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from clientdock.errors import ClientdockError
from clientdock.outbound.errors import GrantRevoked, ProviderError, ProviderUnavailable, Tokens, TokenStore
from clientdock.settings import Settings

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]

#: A 429 or budget wait longer than this is not slept through: the call fails at once.
MAX_WAIT_SECONDS = 900.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken to be UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def pkce_challenge(verifier: str) -> str:
    """The S256 ``code_challenge`` of a PKCE ``code_verifier`` (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def retry_after_seconds(response: httpx.Response, default: float) -> float:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), else ``default``."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (as_utc(when) - utc_now()).total_seconds())


@dataclass
class _OrgState:
    slots: threading.BoundedSemaphore
    calls: deque[datetime] = field(default_factory=deque)
    blocked_until: datetime | None = None


class Budgets(Protocol):
    """Per-organisation budgets of a platform: :class:`OrgBudgets` in this process, or
    :class:`clientdock.outbound.budget.SharedBudgets` across every worker (the database)."""

    def turn(self, org: str, *, clock: Clock, sleep: Sleep, label: str) -> AbstractContextManager[None]: ...

    def block(self, org: str, until: datetime) -> None: ...


class OrgBudgets:
    """Per-organisation budgets of one platform, shared by every provider instance in the process.

    ``concurrent`` calls in flight and ``per_minute`` calls per rolling minute per organisation;
    :meth:`block` closes an organisation until a moment (a 429's ``Retry-After``). Only this
    process is covered: several processes need a shared store (the next step).
    """

    def __init__(self, *, concurrent: int, per_minute: int, window_seconds: float = 60.0) -> None:
        self.concurrent = concurrent
        self.per_minute = per_minute
        self.window = timedelta(seconds=window_seconds)
        self._lock = threading.Lock()
        self._orgs: dict[str, _OrgState] = {}

    def _state(self, org: str) -> _OrgState:
        with self._lock:
            state = self._orgs.get(org)
            if state is None:
                state = self._orgs[org] = _OrgState(threading.BoundedSemaphore(self.concurrent))
            return state

    def block(self, org: str, until: datetime) -> None:
        state = self._state(org)
        with self._lock:
            if state.blocked_until is None or until > state.blocked_until:
                state.blocked_until = until

    def blocked_until(self, org: str) -> datetime | None:
        state = self._state(org)
        with self._lock:
            return state.blocked_until

    def forget(self, org: str) -> None:
        with self._lock:
            self._orgs.pop(org, None)

    @contextmanager
    def turn(self, org: str, *, clock: Clock, sleep: Sleep, label: str) -> Iterator[None]:
        """Hold a slot of ``org`` and take one call of its minute budget, waiting as needed."""
        state = self._state(org)
        with state.slots:
            while True:
                with self._lock:
                    now = as_utc(clock())
                    while state.calls and state.calls[0] <= now - self.window:
                        state.calls.popleft()
                    wait = 0.0
                    if state.blocked_until is not None and state.blocked_until > now:
                        wait = (state.blocked_until - now).total_seconds()
                    if len(state.calls) >= self.per_minute:
                        wait = max(wait, (state.calls[0] + self.window - now).total_seconds())
                    if wait <= 0:
                        state.calls.append(now)
                        break
                if wait > MAX_WAIT_SECONDS:
                    raise ProviderUnavailable(f"{label}: organisation {org} is rate-limited for another {wait:.0f} s; try again later")
                sleep(wait)
            yield


class CarefulClient:
    """One ``httpx.Client`` with the retry/backoff/429 policy described in the module docstring."""

    def __init__(
        self,
        settings: Settings,
        *,
        label: str,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        default_throttle_wait: float = 60.0,
    ) -> None:
        self.label = label
        self.timeout_seconds = settings.provider_timeout_seconds
        self.attempts = max(1, settings.provider_attempts)
        self.backoff = settings.provider_backoff_seconds
        self.default_throttle_wait = default_throttle_wait
        self.clock: Clock = clock or utc_now
        self.sleep: Sleep = sleep or _real_sleep
        self.http = httpx.Client(
            timeout=httpx.Timeout(settings.provider_timeout_seconds),
            transport=transport,
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )

    def now(self) -> datetime:
        return as_utc(self.clock())

    def close(self) -> None:
        self.http.close()

    def send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        budgets: Budgets | None = None,
        org: str | None = None,
        retry: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send until an answer that is neither 5xx nor 429 (see the module docstring).

        ``what`` names the call in error messages. With ``budgets`` and ``org`` the call takes a
        turn of that organisation's budget; a 429 then closes the organisation for the wait.
        ``retry=False`` makes a single attempt (a code exchange must not be replayed).
        """
        attempts = self.attempts if retry else 1
        problem = "no attempt made"
        for attempt in range(1, attempts + 1):
            try:
                if budgets is not None and org is not None:
                    with budgets.turn(org, clock=self.clock, sleep=self.sleep, label=f"{self.label} {what}"):
                        response = self.http.request(method, url, **kwargs)
                else:
                    response = self.http.request(method, url, **kwargs)
            except httpx.TimeoutException:
                problem = f"no answer within {self.timeout_seconds:g} s"
            except httpx.TransportError as exc:
                problem = f"could not connect ({type(exc).__name__}: {exc})"
            else:
                if response.status_code == 429:
                    wait = retry_after_seconds(response, self.default_throttle_wait)
                    problem = f"rate-limited (429, retry after {wait:g} s)"
                    if budgets is not None and org is not None:
                        budgets.block(org, self.now() + timedelta(seconds=wait))
                        # the next turn() waits for the gate
                    elif attempt < attempts:
                        if wait > MAX_WAIT_SECONDS:
                            break
                        self.sleep(wait)
                    continue
                if response.status_code >= 500:
                    problem = f"answered {response.status_code} {response.reason_phrase}"
                else:
                    return response
            if attempt < attempts:
                self.sleep(self.backoff * (2 ** (attempt - 1)))
        tries = f"{attempts} attempt" + ("s" if attempts != 1 else "")
        raise ProviderUnavailable(f"{self.label} is unavailable: {what} {problem} after {tries}; try again later")


def _real_sleep(seconds: float) -> None:
    time.sleep(seconds)


#: Refresh the access token when it has less than this left.
REFRESH_MARGIN = timedelta(seconds=60)
#: One refresh at a time in the process, so two threads never spend the same refresh token.
_REFRESH_LOCK = threading.Lock()


class OAuthTokens:
    """The token endpoint of a platform: code exchange, refresh, and "a fresh token for this store".

    Every new token set goes to ``store.save`` before it is returned (so before it is used).
    """

    def __init__(self, client: CarefulClient, *, token_url: str, client_id: str, client_secret: str) -> None:
        self.client = client
        self.token_url = token_url
        self.auth = httpx.BasicAuth(client_id, client_secret)

    def exchange(self, *, code: str, code_verifier: str, redirect_uri: str) -> Tokens:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": code_verifier}
        # A code works once: never replay the exchange.
        response = self.client.send("POST", self.token_url, what="code exchange", data=form, auth=self.auth, retry=False)
        return self._tokens(response, "code exchange")

    def refresh(self, store: TokenStore, stale: Tokens) -> Tokens:
        """A new token set from ``stale.refresh_token``, saved to ``store`` before it is returned."""
        with _REFRESH_LOCK:
            current = store.current()
            if current.refresh_token != stale.refresh_token and not self.expiring(current):
                return current  # another caller refreshed meanwhile
            form = {"grant_type": "refresh_token", "refresh_token": current.refresh_token}
            response = self.client.send("POST", self.token_url, what="token refresh", data=form, auth=self.auth)
            tokens = self._tokens(response, "token refresh", previous_refresh=current.refresh_token)
            store.save(tokens)
            return tokens

    def fresh(self, store: TokenStore) -> Tokens:
        """The store's tokens, refreshed first when the access token expires within a minute."""
        tokens = store.current()
        return self.refresh(store, tokens) if self.expiring(tokens) else tokens

    def authorized(self, store: TokenStore, call: Callable[[str], httpx.Response], *, what: str) -> httpx.Response:
        """``call(access_token)`` with a fresh token; on a 401, refresh once and call again."""
        tokens = self.fresh(store)
        response = call(tokens.access_token)
        if response.status_code != 401:
            return response
        tokens = self.refresh(store, tokens)
        response = call(tokens.access_token)
        if response.status_code == 401:
            raise GrantRevoked(f"{self.client.label} {what}: a freshly refreshed access token was refused (401); reconnect")
        return response

    def expiring(self, tokens: Tokens) -> bool:
        return as_utc(tokens.expires_at) - self.client.now() <= REFRESH_MARGIN

    def revoke(self, token: str, url: str, *, json_body: bool) -> None:
        kwargs: dict[str, Any] = {"json": {"token": token}} if json_body else {"data": {"token": token}}
        response = self.client.send("POST", url, what="token revocation", auth=self.auth, **kwargs)
        if response.status_code >= 400 and _oauth_error(response) != "invalid_grant":
            raise ProviderError(f"{self.client.label} refused to revoke the token: {describe(response)}")

    def _tokens(self, response: httpx.Response, what: str, previous_refresh: str | None = None) -> Tokens:
        label = self.client.label
        if response.status_code == 200:
            try:
                body = response.json()
                access = str(body["access_token"])
                refresh = str(body.get("refresh_token") or previous_refresh or "")
                expires_in = float(body.get("expires_in", 0))
            except (ValueError, KeyError, TypeError) as exc:
                raise ProviderError(f"{label} {what}: unreadable token response ({exc})") from exc
            if not refresh:
                raise ProviderError(f"{label} {what}: no refresh token returned (is offline access granted?)")
            return Tokens(access, refresh, self.client.now() + timedelta(seconds=expires_in))
        error = _oauth_error(response)
        if error == "invalid_grant":
            raise GrantRevoked(f"{label} {what}: the grant is no longer valid (invalid_grant); reconnect to {label}")
        if error == "invalid_client" or response.status_code == 401:
            raise ProviderError(f"{label} {what}: the client id/secret were refused (invalid_client); check the settings")
        raise ProviderError(f"{label} {what} failed: {describe(response)}")


def _oauth_error(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return str(body.get("error")) if isinstance(body, dict) and body.get("error") else None


def json_answer(
    response: httpx.Response, what: str, shape: type[dict[str, Any]] | type[list[Any]] = dict, error: type[ClientdockError] = ProviderError
) -> Any:
    """The JSON body of an answer, of the expected ``shape`` (an object unless told), else
    ``error`` saying what answered what."""
    try:
        body = response.json()
    except ValueError as exc:
        raise error(f"{what}: not JSON ({exc})") from exc
    if not isinstance(body, shape):
        raise error(f"{what}: not a JSON {'object' if shape is dict else 'list'}")
    return body


def describe(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return f"{response.status_code} {text[:200]}" if text else str(response.status_code)
