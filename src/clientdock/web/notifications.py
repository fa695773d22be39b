"""The bell in the top bar: unread count, latest notifications, toasts for new ones.

Every page polls ``/notifications/bell`` (every 5 s, and at once when an import the page
watches ends). The answer updates the bell out of band and appends a toast for each unread
notification newer than the ``cd_seen`` cookie, which it then moves on: a browser sees each
toast once, even across page loads. A toast is news of this sign-in: nothing from before the
session began is toasted (a browser that restores an old cookie does not replay earlier
imports; the bell lists them). Nothing new: 204, and htmx leaves the page alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from clientdock.db import utcnow
from clientdock.deps import DbSession
from clientdock.notify import service as notify
from clientdock.notify.models import Notification
from clientdock.users.models import UserSession
from clientdock.users.service import SignedIn
from clientdock.web import import_views as iv
from clientdock.web.auth import CheckedUser, CurrentUser
from clientdock.web.routing import PageRoute
from clientdock.web.signin import safe_next
from clientdock.web.templating import is_htmx, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SEEN_COOKIE = "cd_seen"
SHOWN = 8
MAX_TOASTS = 3
# Created, updated and failed always; unchanged and skipped when there are any (a re-import of
# unchanged rows reads "0 created · 0 updated · 20 unchanged · 0 failed").
TOAST_COUNTS = ("created", "updated", "unchanged", "skipped", "failed")
ALWAYS = ("created", "updated", "failed")


@dataclass(frozen=True)
class Notice:
    """A notification as the bell and a toast show it."""

    id: str
    heading: str
    detail: str
    meta: str
    href: str | None
    tone: str  # ok | warn | error
    created_at: datetime
    unread: bool


def notice(row: Notification) -> Notice:
    data = row.data or {}
    counts = data.get("counts")
    job_id = data.get("jobId")
    unread = row.read_at is None
    if not (row.kind.startswith("import.") and isinstance(counts, dict)):
        return Notice(row.id, row.title, row.body, "", None, "ok", row.created_at, unread)
    status = str(data.get("status") or "")
    failed = int(counts.get("failed") or 0)
    detail = " · ".join(f"{int(counts.get(key) or 0):,} {key}" for key in TOAST_COUNTS if key in ALWAYS or counts.get(key))
    tone = "error" if status == "failed" else "warn" if failed or status == "cancelled" else "ok"
    href = f"/imports/{job_id}?notification={row.id}" if job_id else None
    heading = notify.VERBS.get(status, "Import finished")
    return Notice(row.id, heading, detail, iv.door_label(str(data.get("door") or "")), href, tone, row.created_at, unread)


def _seen(request: Request) -> datetime | None:
    try:
        return datetime.fromisoformat(request.cookies.get(SEEN_COOKIE, ""))
    except ValueError:
        return None


def _session_start(session: Session, user: SignedIn) -> datetime | None:
    row = session.get(UserSession, user.session_id)
    return row.created_at if row is not None else None


def _bell(request: Request, session: Session, user: SignedIn, *, known: str | None, toasts: bool = True) -> Response:
    rows, _total, unread = notify.list_notifications(session, user.tenant.id, page=1, page_size=SHOWN)
    seen = _seen(request)
    began = _session_start(session, user)
    fresh = [row for row in rows if row.read_at is None and seen is not None and row.created_at > seen] if toasts else []
    fresh = [row for row in fresh if began is not None and row.created_at >= began]
    # A browser seen for the first time starts from now: what came before is in the bell, not toasted.
    newest = max((row.created_at for row in rows), default=None) if seen is not None else utcnow()
    moved = newest is not None and (seen is None or newest > seen)
    if known == str(unread) and not fresh and not moved:
        return Response(status_code=204)
    notices = [notice(row) for row in rows]
    response = render(
        request, "notifications/_bell.html", unread=unread, notices=notices, toasts=[notice(row) for row in fresh[:MAX_TOASTS]]
    )
    if moved and newest is not None:
        secure = request.url.scheme == "https"
        response.set_cookie(SEEN_COOKIE, newest.isoformat(), httponly=True, samesite="lax", secure=secure, path="/")
    return response


@router.get("/notifications/bell")
def bell(request: Request, session: DbSession, user: CurrentUser, unread: str | None = None) -> Response:
    return _bell(request, session, user, known=unread)


@router.post("/notifications/read-all")
def read_all(request: Request, session: DbSession, user: CheckedUser, next: Annotated[str, Form(max_length=2000)] = "") -> Response:
    notify.mark_all_read(session, user.tenant.id)
    if is_htmx(request):
        return _bell(request, session, user, known=None, toasts=False)
    return RedirectResponse(safe_next(next), status_code=303)
