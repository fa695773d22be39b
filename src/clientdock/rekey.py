"""``clientdock secrets rotate``: every secret kept encrypted, encrypted again with the first key.

Rotating the key is three steps (docs/reliability.md, "Secrets"): put the new key first in
``CLIENTDOCK_SECRET_KEY`` beside the old one ("new,old") on every process; run this command once;
then drop the old key. Until the command has run, the old key must stay: it is the only one that
opens what was written before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute

from clientdock.connections.models import Connection, OAuthState
from clientdock.db import Database
from clientdock.notify.models import Webhook
from clientdock.secrets import InvalidToken, rotate

log = structlog.get_logger(__name__)

#: Every encrypted column: (name in the report, its table's id column, the column).
ENCRYPTED: tuple[tuple[str, InstrumentedAttribute[Any], InstrumentedAttribute[Any]], ...] = (
    ("webhookSecrets", Webhook.id, Webhook.secret_encrypted),
    ("connectionTokens", Connection.id, Connection.tokens),
    ("oauthVerifiers", OAuthState.id, OAuthState.code_verifier),
)
BATCH = 500


@dataclass
class Rotated:
    """How many values were encrypted again, per column, and which rows no configured key opens."""

    counts: dict[str, int] = field(default_factory=dict)
    unreadable: dict[str, list[str]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"rotated": self.counts, "unreadable": self.unreadable}


def rotate_all(db: Database, data_dir: Path) -> Rotated:
    """Encrypt every kept secret again with the first key, a batch per transaction."""
    report = Rotated()
    for name, id_column, column in ENCRYPTED:
        report.counts[name] = 0
        after = ""
        while True:
            with db.session() as session:
                rows = session.execute(
                    select(id_column, column).where(id_column > after, column.is_not(None)).order_by(id_column).limit(BATCH)
                ).all()
                for row_id, token in rows:
                    try:
                        fresh = rotate(data_dir, token)
                    except InvalidToken:
                        report.unreadable.setdefault(name, []).append(row_id)
                        continue
                    session.execute(update(id_column.class_).where(id_column == row_id, column == token).values({column.key: fresh}))
                    report.counts[name] += 1
            if len(rows) < BATCH:
                break
            after = rows[-1][0]
    log.info("secrets_rotated", **report.counts, unreadable=sum(len(ids) for ids in report.unreadable.values()))
    return report
