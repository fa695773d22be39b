"""Who is using the web page, and did this form come from us?

Sessions: the ``cd_session`` cookie holds a random token (HttpOnly, SameSite=Lax, Secure over
https, no Max-Age: it ends with the browser); the server keeps its hash, the user and the
session's CSRF token (``users.service``).

CSRF: every form carries a hidden ``csrf_token`` (htmx requests may send ``X-CSRF-Token``).
While signed in it must equal the session's token; the sign-in form, posted before there is a
session, is checked against the ``cd_csrf`` cookie instead (double submit). A missing or wrong
token is refused with a 403 page.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Form, Request
from starlette.responses import Response

from clientdock.deps import Db, DbSession, bind_request
from clientdock.errors import Forbidden, Unauthorized
from clientdock.users import service as users
from clientdock.users.service import SignedIn

SESSION_COOKIE = "cd_session"
CSRF_COOKIE = "cd_csrf"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Unauthorized):
    """Raised by pages that need a user; the page router answers with a redirect to ``/``."""

    title = "Sign in required"

    def __init__(self) -> None:
        super().__init__("sign in to see this page")


class CsrfRefused(Forbidden):
    title = "Form expired"

    def __init__(self) -> None:
        super().__init__("this form has expired or did not come from this site; go back, reload the page and try again")


def optional_user(request: Request, session: DbSession) -> SignedIn | None:
    token = request.cookies.get(SESSION_COOKIE)
    signed_in = users.resolve_session(session, token) if token else None
    request.state.signed_in = signed_in
    if signed_in is not None:
        bind_request(request, signed_in.tenant.id)
    return signed_in


MaybeUser = Annotated[SignedIn | None, Depends(optional_user)]


def require_user(signed_in: MaybeUser) -> SignedIn:
    if signed_in is None:
        raise SignInRequired()
    return signed_in


CurrentUser = Annotated[SignedIn, Depends(require_user)]


def short_user(request: Request, db: Db) -> SignedIn:
    """The signed-in user, looked up in a transaction of its own that ends at once.

    For routes that receive a file or wait for a job: they must not hold a database
    transaction (on SQLite, the write lock) while they do, as ``CurrentUser``'s would.
    """
    token = request.cookies.get(SESSION_COOKIE)
    signed_in = None
    if token:
        with db.session() as session:
            signed_in = users.resolve_session(session, token)
    request.state.signed_in = signed_in
    if signed_in is not None:
        bind_request(request, signed_in.tenant.id)
    return require_user(signed_in)


ShortUser = Annotated[SignedIn, Depends(short_user)]


def require_token(signed_in: SignedIn, presented: str | None) -> None:
    """Refuse a form that does not carry the session's CSRF token."""
    if not users.tokens_match(presented, signed_in.csrf_token):
        raise CsrfRefused()


def presented_token(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> str:
    return csrf_token or request.headers.get(CSRF_HEADER, "")


PresentedToken = Annotated[str, Depends(presented_token)]


def checked_user(signed_in: CurrentUser, presented: PresentedToken) -> SignedIn:
    """The signed-in user of a POST whose form carries the session's CSRF token."""
    require_token(signed_in, presented)
    return signed_in


CheckedUser = Annotated[SignedIn, Depends(checked_user)]


def checked_short_user(signed_in: ShortUser, presented: PresentedToken) -> SignedIn:
    """``CheckedUser`` without a transaction held for the rest of the request."""
    require_token(signed_in, presented)
    return signed_in


CheckedShortUser = Annotated[SignedIn, Depends(checked_short_user)]


def anonymous_token(request: Request) -> str:
    """The sign-in form's token: the ``cd_csrf`` cookie's value, or a new one to set."""
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    request.state.anon_csrf = token
    return token


def check_anonymous_token(request: Request, presented: PresentedToken) -> None:
    if not users.tokens_match(presented, request.cookies.get(CSRF_COOKIE)):
        raise CsrfRefused()


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_anonymous_token(request: Request, response: Response, token: str) -> None:
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), path="/")


def set_session(request: Request, response: Response, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


def clear_session(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))
