"""Sign in at ``/`` and sign out: thin HTTP over ``users.service``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from clientdock.deps import DbSession
from clientdock.users import service as users
from clientdock.web import auth
from clientdock.web.auth import CheckedUser, MaybeUser
from clientdock.web.routing import PageRoute
from clientdock.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
HOME = "/clients"
WRONG = "That email and password don't match an account. Check them and try again."


def safe_next(raw: str | None) -> str:
    """Only a path on this site: never ``//host`` or a scheme, so sign-in cannot redirect away."""
    if raw and raw.startswith("/") and not raw.startswith("//") and raw != "/" and "\\" not in raw and raw.isprintable():
        return raw
    return HOME


def _form(request: Request, *, status: int = 200, email: str = "", error: str = "", next_: str = "") -> Response:
    token = auth.anonymous_token(request)
    response = render(request, "signin.html", status=status, title="Sign in", email=email, error=error, next=safe_next(next_))
    auth.set_anonymous_token(request, response, token)
    return response


@router.get("/")
def sign_in_page(request: Request, user: MaybeUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, next_=next or "")


@router.post("/", dependencies=[Depends(auth.check_anonymous_token)])
def sign_in(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=4096)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        started = users.sign_in(session, email, password)
    except users.InvalidCredentials:
        return _form(request, status=400, email=email, error=WRONG, next_=next)
    response = RedirectResponse(safe_next(next), status_code=303)
    auth.set_session(request, response, started.token)
    return response


@router.post("/sign-out")
def sign_out(request: Request, session: DbSession, user: CheckedUser) -> Response:
    users.end_session(session, user.session_id)
    response = RedirectResponse("/", status_code=303)
    auth.clear_session(request, response)
    return response
