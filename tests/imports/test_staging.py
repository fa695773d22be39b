"""Staging a job's records: written in order with their errors, read back by chunk, and the
in-file duplicate check (first occurrence wins) within a batch, across batches and across
chunks, with the keys kept in a file that goes with the job's folder."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from clientdock.errors import FieldError
from clientdock.jobs import staging
from clientdock.pipeline.records import RawRecord, Ref


def record(index: int, errors: list[FieldError] | None = None, refs: list[Ref] | None = None, **fields: Any) -> RawRecord:
    return RawRecord(index=index, fields=fields, refs=refs or [], errors=errors or [], lookup_key=fields.get("email"))


def staged(data_dir: Path, records: list[RawRecord], *, chunk_size: int = 1000, batch_size: int = 2000) -> list[RawRecord]:
    count, offsets = staging.write(data_dir, "job-1", records, chunk_size, batch_size=batch_size)
    assert count == len(records)
    out = [item for offset in offsets for item in staging.read_chunk_ending(data_dir, "job-1", offset, chunk_size)[0]]
    assert [item.index for item in out] == [item.index for item in records]
    return out


def errors_of(records: list[RawRecord]) -> dict[int, list[FieldError]]:
    return {item.index: item.errors for item in records if item.errors}


def duplicate(field: str, first: int, row: int) -> FieldError:
    return FieldError(field, f"duplicate: the same {field} as row {first}", row, "duplicate")


def reference_check(records: list[RawRecord]) -> dict[int, list[FieldError]]:
    """One record after another with a dict of every key: the check as it was first written."""
    seen: dict[tuple[str, str], int] = {}
    out: dict[int, list[FieldError]] = {}
    for item in records:
        if item.errors:
            out[item.index] = list(item.errors)
            continue
        given = [(name, str(item.fields.get(name) or "").strip()) for name in ("email", "trackingId", "id")]
        keys = [(name, key.casefold() if name == "email" else key) for name, key in given if key]
        keys += [("sourceId", ref.lookup_key) for ref in item.refs]
        first = next(((name, seen[(name, key)]) for name, key in keys if (name, key) in seen), None)
        if first is not None:
            out[item.index] = [duplicate(first[0], first[1], item.index)]
        else:
            seen.update(dict.fromkeys(keys, item.index))
    return out


@pytest.mark.parametrize("batch_size", [1, 2, 3, 2000])
def test_duplicates_within_a_batch_and_across_batches_fail_naming_the_first_row(tmp_path: Path, batch_size: int) -> None:
    records = [
        record(1, email="Ada@Firm.co"),
        record(2, email=" ada@firm.co "),  # the same email, case and spaces aside
        record(3, email="ben@firm.co", trackingId="t-1"),
        record(4, email="cy@firm.co", trackingId="t-1"),
        record(5, email="dee@firm.co", refs=[Ref("crm", "7")]),
        record(6, email="eve@firm.co", refs=[Ref("crm", "7")]),
        record(7, id="client-9", email="fay@firm.co"),
        record(8, id="client-9"),
        record(9, email="ben@firm.co", trackingId="t-1"),  # email is checked first
        record(10, email="gus@firm.co", trackingId="t-1"),  # fails: registers neither key
        record(11, email="gus@firm.co"),  # so gus is new here
        record(12, email="ada@firm.co", errors=[FieldError("firstName", "is required", 12, "missing")]),  # failed: not checked
        record(13, email="hal@firm.co", errors=[FieldError("firstName", "is required", 13, "missing")]),
        record(14, email="hal@firm.co"),  # a failed record registers nothing
    ]
    out = staged(tmp_path, records, chunk_size=4, batch_size=batch_size)
    assert errors_of(out) == {
        2: [duplicate("email", 1, 2)],
        4: [duplicate("trackingId", 3, 4)],
        6: [duplicate("sourceId", 5, 6)],
        8: [duplicate("id", 7, 8)],
        9: [duplicate("email", 3, 9)],
        10: [duplicate("trackingId", 3, 10)],
        12: [FieldError("firstName", "is required", 12, "missing")],
        13: [FieldError("firstName", "is required", 13, "missing")],
    }


# The in-memory filter in front of the keys' file: full size; so small that nearly every key
# "may have been seen" and is looked up in the file; and one bit, where every key is.
@pytest.mark.parametrize("filter_bits", [staging.FILTER_BITS, 64, 8])
def test_generated_files_get_the_verdicts_of_checking_one_record_after_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filter_bits: int
) -> None:
    monkeypatch.setattr(staging, "FILTER_BITS", filter_bits)
    rng = random.Random(15)
    records = []
    for index in range(1, 5001):
        fields: dict[str, Any] = {"email": f"c{rng.randrange(3000)}@firm.co"} if rng.random() < 0.9 else {}
        if rng.random() < 0.2:
            fields["trackingId"] = f"t{rng.randrange(800)}"
        refs = [Ref("crm", str(rng.randrange(500)))] if rng.random() < 0.2 else []
        errors = [FieldError("email", "is not valid", index)] if rng.random() < 0.05 else []
        records.append(record(index, errors, refs, **fields))
    expected = reference_check(records)
    out = staged(tmp_path, records, chunk_size=700, batch_size=333)
    assert errors_of(out) == expected
    assert sum(1 for errors in expected.values() if errors[0].code == "duplicate") > 1000


def test_the_keys_file_is_gone_when_staging_ends_and_the_folder_with_the_job(tmp_path: Path) -> None:
    staged(tmp_path, [record(1, email="a@firm.co"), record(2, email="a@firm.co")])
    folder = staging.job_dir(tmp_path, "job-1")
    assert sorted(path.name for path in folder.iterdir()) == [staging.RECORDS]
    staging.remove(tmp_path, "job-1")
    assert not folder.exists()


def test_staging_again_starts_afresh(tmp_path: Path) -> None:
    first = [record(1, email="a@firm.co"), record(2, email="b@firm.co")]
    staged(tmp_path, first)
    again = staged(tmp_path, [record(1, email="a@firm.co"), record(2, email="b@firm.co")])
    assert errors_of(again) == {}


def test_a_failing_source_leaves_no_keys_file_behind(tmp_path: Path) -> None:
    def records() -> Any:
        yield record(1, email="a@firm.co")
        raise OSError("the upload could not be read")

    with pytest.raises(OSError, match="could not be read"):
        staging.write(tmp_path, "job-1", records(), 1000)
    assert not (staging.job_dir(tmp_path, "job-1") / staging.IDENTITIES).exists()


def test_the_seen_filter_never_forgets_a_key_it_was_given() -> None:
    seen = staging._SeenFilter(1 << 16)
    keys = [("email", f"c{i}@firm.co") for i in range(20_000)]
    for key in keys[::2]:
        seen.add(key)
    assert all(seen.may_hold(key) for key in keys[::2])
    # and, far from full, it tells most unseen keys apart
    assert sum(seen.may_hold(key) for key in keys[1::2]) < 0.5 * len(keys[1::2])
