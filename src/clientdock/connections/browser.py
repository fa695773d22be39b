"""The cookie that binds an OAuth round trip to the browser that started it (HTTP only; the
service keeps just the SHA-256 of its value, :mod:`clientdock.connections.service`).

The answer that sends a browser to the platform's consent page sets it; the callback completes
only when the browser sends it back, and clears it. Its attributes:

* ``HttpOnly``; ``SameSite=Lax``, so it comes back on the platform's top-level redirect to the
  callback (a cross-site GET navigation) and on nothing cross-site else;
* ``Secure`` when the request came over https or the public URL is https;
* ``Path`` the callback's own path (as the browser sees it, under ``CLIENTDOCK_PUBLIC_URL``),
  so no other request carries it;
* ``Max-Age`` the state's lifetime;
* one cookie per round trip, named after the state, so two connections started in two tabs of
  one browser both finish.
"""

from __future__ import annotations

import hashlib
from typing import TypeVar
from urllib.parse import urlsplit

from fastapi import Request
from starlette.responses import Response

from clientdock.connections.service import PROVIDERS, Started, redirect_uri
from clientdock.settings import Settings

COOKIE_PREFIX = "clientdock_oauth_"
R = TypeVar("R", bound=Response)


def cookie_name(state: str) -> str:
    """The cookie of the round trip of ``state``: named after (a hash of) the state, which is
    no secret of the browser's (it travels in the URLs)."""
    return COOKIE_PREFIX + hashlib.sha256(b"browser-cookie:" + state.encode()).hexdigest()[:24]


def bind(response: R, request: Request, settings: Settings, started: Started) -> R:
    """Give the browser about to leave for the consent page the round trip's nonce."""
    response.set_cookie(
        cookie_name(started.state),
        started.browser_nonce,
        max_age=int(started.expires_in.total_seconds()),
        path=_callback_path(settings, started.provider),
        secure=_secure(request, settings),
        httponly=True,
        samesite="lax",
    )
    return response


def presented(request: Request, state: str | None) -> str | None:
    """The nonce this browser holds for ``state``, if any."""
    return request.cookies.get(cookie_name(state)) if state else None


def forget(response: R, request: Request, settings: Settings, provider: str, state: str | None) -> R:
    """Clear the round trip's cookie: a callback uses it once, whatever it answers."""
    if state and provider in PROVIDERS:  # the path names the provider: only ours make a cookie path
        response.delete_cookie(
            cookie_name(state),
            path=_callback_path(settings, provider),
            secure=_secure(request, settings),
            httponly=True,
            samesite="lax",
        )
    return response


def _callback_path(settings: Settings, provider: str) -> str:
    return urlsplit(redirect_uri(settings, provider)).path or "/"


def _secure(request: Request, settings: Settings) -> bool:
    return request.url.scheme == "https" or settings.public_url.lower().startswith("https://")
