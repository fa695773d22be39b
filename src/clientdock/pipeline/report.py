"""Report: counts and the one result shape every door projects from."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from clientdock.pipeline.records import RowOutcome

ACTIONS = ("created", "updated", "unchanged", "skipped", "failed")


def counts(outcomes: Iterable[RowOutcome]) -> dict[str, int]:
    tally: Counter[str] = Counter(o.action for o in outcomes)
    return {action: tally.get(action, 0) for action in ACTIONS}


def warned(outcomes: Iterable[RowOutcome]) -> int:
    """How many rows carry a warning, whatever their action."""
    return sum(1 for o in outcomes if o.warnings)


def outcome_json(outcome: RowOutcome) -> dict[str, Any]:
    """The shared result shape: index, lookupKey, action, id, messages (+ errors, warnings, changes).

    ``messages`` are readable strings (``field: message``, errors first); ``errors`` and
    ``warnings`` are the same problems structured, naming the field by its API name.

    Every door reports this: the job stores it per row (``jobs.workflow``) and answers it
    (``imports.schemas.row_json``); the S4 and partner-app doors only rename its keys."""
    out: dict[str, Any] = {
        "index": outcome.index,
        "lookupKey": outcome.lookup_key,
        "action": outcome.action,
        "id": outcome.client_id,
        "messages": outcome.messages,
        "errors": [e.as_dict() for e in outcome.errors],
        "warnings": [w.as_dict() for w in outcome.warnings],
    }
    if outcome.changes:
        out["changes"] = {f: {"before": b, "after": a} for f, (b, a) in outcome.changes.items()}
    return out
