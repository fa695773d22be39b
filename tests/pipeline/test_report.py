"""Report: counts of every action and the one row shape every door projects from."""

from __future__ import annotations

from clientdock.errors import FieldError
from clientdock.pipeline.records import FieldWarning, RowOutcome
from clientdock.pipeline.report import ACTIONS, counts, outcome_json


def test_counts_name_every_action_even_when_zero() -> None:
    outcomes = [RowOutcome(0, None, "created"), RowOutcome(1, None, "created"), RowOutcome(2, None, "failed")]
    assert counts(outcomes) == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 1}
    assert counts([]) == dict.fromkeys(ACTIONS, 0)


def test_a_failed_row_lists_its_errors_and_warnings_as_messages() -> None:
    outcome = RowOutcome(
        3, "erp/1/", "failed", errors=[FieldError("email", "'x' is not a valid email address", 3), FieldError(None, "no match", 3)],
        warnings=[FieldWarning(None, "extra cells ignored"), FieldWarning("dateOfBirth", "'03/14' has no year", "03/14")],
    )  # fmt: skip
    body = outcome_json(outcome)
    assert body["index"] == 3
    assert (body["lookupKey"], body["action"], body["id"]) == ("erp/1/", "failed", None)
    assert body["messages"] == [
        "email: 'x' is not a valid email address",
        "no match",
        "extra cells ignored",
        "dateOfBirth: '03/14' has no year",
    ]
    assert body["warnings"] == [
        {"field": None, "value": None, "message": "extra cells ignored"},
        {"field": "dateOfBirth", "value": "03/14", "message": "'03/14' has no year"},
    ]
    assert [e["field"] for e in body["errors"]] == ["email", None]
    assert body["errors"][0]["row"] == 3
    assert "changes" not in body


def test_an_updated_row_shows_before_and_after() -> None:
    body = outcome_json(RowOutcome(0, None, "updated", client_id="c1", changes={"note": ("old", "new")}))
    assert body["id"] == "c1"
    assert body["changes"] == {"note": {"before": "old", "after": "new"}}
    assert body["messages"] == body["errors"] == []
