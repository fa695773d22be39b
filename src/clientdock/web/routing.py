"""The route class of every page: errors become HTML pages, not problem+json.

A page that needs a user and has none redirects to ``/`` (``HX-Redirect`` for htmx requests);
a domain error (404, 403 …) renders ``error.html`` with its status; every page answer gets
the security headers and ``Cache-Control: no-store`` (pages hold a tenant's data).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import RedirectResponse, Response

from clientdock.errors import ClientdockError
from clientdock.web.auth import SignInRequired
from clientdock.web.templating import is_htmx, render

log = structlog.get_logger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

MESSAGES = {
    400: "Something in that request was not right. Check the address or the form and try again.",
    403: "You do not have access to this page.",
    404: "We could not find that page. It may have been removed, or it belongs to another practice.",
    500: "Something went wrong on our side. It has been logged; please try again in a moment.",
}


def sign_in_redirect(request: Request) -> Response:
    target = "/"
    if request.method == "GET" and request.url.path != "/":
        target += "?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="")
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", status=status, title=title, status_code=status, message=message)


def _domain_error(request: Request, exc: ClientdockError) -> Response:
    # 400, 403, 409, 413 and 415 say why (an expired form, a bad filter, an import already
    # undone); 404 never says whose the thing is.
    says_why = exc.status in (400, 403, 409, 413, 415)
    message = exc.detail[:1].upper() + exc.detail[1:].rstrip(".") + "." if says_why else MESSAGES.get(exc.status, MESSAGES[500])
    return error_page(request, exc.status, exc.title, message)


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired:
                response = sign_in_redirect(request)
            except ClientdockError as exc:
                response = _domain_error(request, exc)
            except RequestValidationError:
                response = error_page(request, 400, "Bad request", MESSAGES[400])
            except Exception:
                log.exception("page_error", path=request.url.path)
                response = error_page(request, 500, "Something went wrong", MESSAGES[500])
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return page_handler
