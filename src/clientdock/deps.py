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


# scope="function": the transaction commits when the route returns, before the response is
# sent, so a client never sees a success that was not committed.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
Db = Annotated[Database, Depends(get_database)]
