"""Request-scoped dependencies: the database session (the request owns the transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from clientdock.db import Database


async def get_database(request: Request) -> Database:
    """Async: a plain attribute read, not worth a worker thread per request."""
    db: Database = request.app.state.db
    return db


def get_session(db: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with db.session() as session:
        yield session


def get_read_session(db: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    with db.read_session() as session:
        yield session


# scope="function": the transaction commits when the route returns, before the response is
# sent, so a client never sees a success that was not committed.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
#: For routes that only read: on SQLite their transaction does not wait for a writer's lock (an
#: import's chunk, the job queue), so polling a job's progress stays quick while it runs.
ReadSession = Annotated[Session, Depends(get_read_session, scope="function")]
Db = Annotated[Database, Depends(get_database)]
