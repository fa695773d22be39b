"""A staged line reads back as the record that was written, whatever its values hold."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from clientdock.errors import FieldError
from clientdock.jobs import staging
from clientdock.pipeline.records import FieldWarning, RawRecord, Ref


def test_a_record_reads_back_as_written() -> None:
    record = RawRecord(
        index=7,
        fields={"name": "Zoë Brontë ‏", "tags": ["vip", "ĳ"], "active": True, "count": 3, "ratio": 1.5, "note": None},
        refs=[Ref("crm", "42", "nl")],
        parent=Ref("crm", "1", ""),
        lookup_key="crm/42/nl",
        errors=[FieldError("email", "is not valid", 7, "invalid")],
        warnings=[FieldWarning("phone", "kept as given", "call office")],
        line=9,
        source={"Name": "Zoë", "Extra\tcolumn": "a\nb"},
        inferred_type="Trust",
    )
    assert staging.decode(staging.encode(record)) == record


def test_values_json_cannot_hold_natively_are_written_as_the_standard_encoder_would() -> None:
    when = datetime(2026, 12, 6, 5, 30, tzinfo=UTC)
    record = RawRecord(index=1, fields={"since": when, "day": date(2026, 1, 2), "huge": 2**70}, source={1: "numeric key"})
    line = staging.encode(record)
    assert json.loads(line)["f"] == {"since": str(when), "day": "2026-01-02", "huge": 2**70}
    assert json.loads(line)["s"] == {"1": "numeric key"}
    assert staging.decode(line).fields == {"since": str(when), "day": "2026-01-02", "huge": 2**70}
