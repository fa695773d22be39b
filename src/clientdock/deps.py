"""Request-scoped dependencies: the database session (the request owns the transaction).

Once a request's credential is resolved to the one tenant it acts for, :func:`bind_request`
binds the request's sessions to that tenant (``db.bind_tenant``: on PostgreSQL, row-level
security then hides every other tenant's rows from them), those opened before and after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from clientdock.db import Database, bind_tenant

_SESSIONS = "clientdock_sessions"
_TENANT = "clientdock_tenant_id"


async def get_database(request: Request) -> Database:
    """Async: a plain attribute read, not worth a worker thread per request."""
    db: Database = request.app.state.db
    return db


def get_session(request: Request, db: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with db.session() as session:
        _enrol(request, session)
        yield session


def get_read_session(request: Request, db: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with db.read_session() as session:
        _enrol(request, session)
        yield session


def _enrol(request: Request, session: Session) -> None:
    sessions: list[Session] = getattr(request.state, _SESSIONS, [])
    setattr(request.state, _SESSIONS, [*sessions, session])
    tenant_id: str | None = getattr(request.state, _TENANT, None)
    if tenant_id is not None:
        bind_tenant(session, tenant_id)


def bind_request(request: Request, tenant_id: str) -> None:
    """The request acts for ``tenant_id`` only: bind its sessions (:data:`DbSession`,
    :data:`ReadSession`) to that tenant, those already open and those opened later. Called by
    the dependencies that resolve the caller's tenant (``tenants.auth``, the app door, the web
    pages' signed-in user); a session a route opens itself (``db.session()``) is its own to bind."""
    setattr(request.state, _TENANT, tenant_id)
    for session in getattr(request.state, _SESSIONS, []):
        bind_tenant(session, tenant_id)


# scope="function": the transaction commits when the route returns, before the response is
# sent, so a client never sees a success that was not committed.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
#: For routes that only read: on SQLite their transaction does not wait for a writer's lock (an
#: import's chunk, the job queue), so polling a job's progress stays quick while it runs.
ReadSession = Annotated[Session, Depends(get_read_session, scope="function")]
Db = Annotated[Database, Depends(get_database)]
