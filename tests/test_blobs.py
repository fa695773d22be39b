"""Kept files (``clientdock.blobs``): each store keeps and returns the exact bytes, a write in a
rolled-back transaction leaves nothing, and a process with another data folder (another
machine) reads what one process kept — uploads, staged records and the dialog's kept files."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clientdock.blobs import PART_BYTES, BlobMissing, BlobPart, BlobStore, DatabaseStore, LocalStore, storage_kind, store_for
from clientdock.db import Database
from clientdock.imports.upload import Received
from clientdock.jobs import prefetch, staging
from clientdock.jobs.models import ImportJob
from clientdock.pipeline.records import Policy, RawRecord
from clientdock.settings import Settings
from clientdock.tenants.context import load_context
from clientdock.tenants.models import Tenant
from clientdock.web import uploads
from tests.conftest import make_tenant


def stores(kind: str, tmp_path: Path, database: Database) -> tuple[BlobStore, BlobStore]:
    """Two processes' views of one store: each with its own data folder."""
    if kind == "local":
        store = LocalStore(tmp_path / "one")
        return store, store
    return DatabaseStore(tmp_path / "one", database), DatabaseStore(tmp_path / "two", database)


def parts(database: Database, key: str) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(BlobPart).where(BlobPart.key == key)) or 0


@pytest.mark.parametrize("kind", ["local", "database"])
def test_a_file_kept_by_one_process_is_read_whole_by_another(kind: str, tmp_path: Path, database: Database) -> None:
    here, there = stores(kind, tmp_path, database)
    content = os.urandom(2 * PART_BYTES + 12345)
    source = tmp_path / "upload.bin"
    source.write_bytes(content)
    with database.session() as session:
        here.take(session, "imports/job-1/upload", source)
    assert not source.exists()  # taken, not copied
    copy = there.local_copy("imports/job-1/upload")
    assert copy.read_bytes() == content
    assert copy.is_relative_to(there.root)
    if kind == "database":
        assert parts(database, "imports/job-1/upload") == 3
        assert there.local_copy("imports/job-1/upload") == copy  # fetched once, then read from the cache


@pytest.mark.parametrize("kind", ["local", "database"])
def test_a_take_in_a_transaction_that_rolls_back_keeps_nothing(kind: str, tmp_path: Path, database: Database) -> None:
    here, there = stores(kind, tmp_path, database)
    source = tmp_path / "upload.bin"
    source.write_bytes(b"firstName,email\nAda,ada@firm.co.uk\n")

    def take_then_fail() -> None:
        with database.session() as session:
            session.execute(select(func.count()).select_from(Tenant))  # the transaction has begun (a job row is written)
            here.take(session, "imports/job-2/upload", source)
            raise RuntimeError("the job row could not be written")

    with pytest.raises(RuntimeError):
        take_then_fail()
    with pytest.raises(BlobMissing, match="no longer stored"):
        there.local_copy("imports/job-2/upload")
    assert here.get_bytes("imports/job-2/upload") is None


@pytest.mark.parametrize("kind", ["local", "database"])
def test_delete_removes_a_prefix_everywhere_and_sweeping_sees_only_old_keys(kind: str, tmp_path: Path, database: Database) -> None:
    here, there = stores(kind, tmp_path, database)
    for key in ("imports/job-3/upload", "imports/job-3/records.jsonl", "imports/job-4/upload"):
        here.put_bytes(None, key, key.encode())
    there.local_copy("imports/job-3/upload")
    assert sorted(here.keys_older_than("imports/", timedelta(seconds=-60))) == [
        "imports/job-3/records.jsonl",
        "imports/job-3/upload",
        "imports/job-4/upload",
    ]
    assert here.keys_older_than("imports/", timedelta(hours=1)) == []
    there.delete("imports/job-3/")
    assert here.get_bytes("imports/job-3/upload") is None
    assert here.get_bytes("imports/job-3/records.jsonl") is None
    assert not (there.root / "imports" / "job-3").exists()
    assert here.get_bytes("imports/job-4/upload") == b"imports/job-4/upload"


def test_an_empty_file_is_kept_as_empty_not_as_missing(tmp_path: Path, database: Database) -> None:
    here, there = stores("database", tmp_path, database)
    here.put_bytes(None, "uploads/empty", b"")
    assert there.get_bytes("uploads/empty") == b""
    assert there.local_copy("uploads/empty").read_bytes() == b""


def test_a_key_cannot_leave_its_folder(tmp_path: Path, database: Database) -> None:
    for store in stores("database", tmp_path, database):
        with pytest.raises(ValueError, match="leaves its folder"):
            store.path("../../etc/passwd")


def test_staged_records_are_read_by_a_worker_that_did_not_stage_them(tmp_path: Path, database: Database) -> None:
    """Failover: the worker that staged a job died; another one, with its own disk, runs its chunks."""
    tenant = make_tenant(database)
    here, there = stores("database", tmp_path, database)
    items = [RawRecord(index=i, fields={"name": f"N {i}", "email": f"n{i}@firm.co.uk"}) for i in range(25)]
    total, offsets = staging.write(here.root, "job-5", items, 10)
    here.share(None, staging.records_key("job-5"))
    there.local_copy(staging.records_key("job-5"))
    with database.session() as session:
        ctx = load_context(session, session.get_one(Tenant, tenant.id))
    chunk = prefetch.read(there.root, "job-5", 2, offsets[2], 10, ctx, Policy(match_on=("email",)))
    assert (total, [record.fields["email"] for record in chunk.records]) == (25, [f"n{i}@firm.co.uk" for i in range(20, 25)])


def test_the_dialogs_kept_upload_is_found_by_another_api_process(tmp_path: Path, database: Database) -> None:
    here, there = stores("database", tmp_path, database)
    folder = here.root / "uploads" / "web" / "tenant-a"
    folder.mkdir(parents=True)
    path = folder / f"{'c' * 32}.upload"
    path.write_bytes(b"firstName,email\nAda,ada@firm.co.uk\n")
    kept = uploads.keep(here, "tenant-a", Received(path, "clients.csv", path.stat().st_size, {}))
    found = uploads.find(there, "tenant-a", kept.token)
    assert (found.filename, found.path.read_bytes()) == ("clients.csv", path.read_bytes())
    fixed = uploads.with_fixes(there, found, 1, {0: "Ada Byron"})
    assert uploads.find(here, "tenant-a", kept.token).fixes == fixed.fixes == {"1": {"0": "Ada Byron"}}
    with pytest.raises(uploads.UploadGone):
        uploads.find(there, "tenant-b", kept.token)
    uploads.forget(here, kept)
    with pytest.raises(uploads.UploadGone):
        uploads.find(there, "tenant-a", kept.token)


def test_the_storage_defaults_to_the_database_on_postgresql_and_refuses_unknown_values(tmp_path: Path) -> None:
    assert storage_kind(Settings(), "sqlite") == "local"
    assert storage_kind(Settings(), "postgresql") == "database"
    assert storage_kind(Settings(upload_storage="database"), "sqlite") == "database"
    assert storage_kind(Settings(upload_storage="s3://bucket/clientdock"), "postgresql") == "s3://bucket/clientdock"
    with pytest.raises(ValueError, match="CLIENTDOCK_UPLOAD_STORAGE must be local, database or s3://"):
        storage_kind(Settings(upload_storage="ftp://files"), "postgresql")


def test_a_process_has_one_store_per_database_and_folder(tmp_path: Path, database: Database) -> None:
    settings = Settings(data_dir=tmp_path, upload_storage="database")
    assert store_for(settings, database) is store_for(settings, database)
    assert store_for(Settings(data_dir=tmp_path / "x", upload_storage="database"), database) is not store_for(settings, database)


def test_sweeping_removes_the_input_of_jobs_that_are_over_or_gone_and_keeps_the_rest(tmp_path: Path, database: Database) -> None:
    tenant = make_tenant(database)
    here, there = stores("database", tmp_path, database)
    with database.session() as session:
        running = ImportJob(tenant_id=tenant.id, door="csv", status="running")
        ended = ImportJob(tenant_id=tenant.id, door="csv", status="succeeded")
        session.add_all([running, ended])
        session.flush()
        ids = {"running": running.id, "ended": ended.id, "deleted": "f" * 32}
    for job_id in ids.values():
        here.put_bytes(None, staging.records_key(job_id), b"{}")
        there.local_copy(staging.records_key(job_id))
    assert staging.sweep_kept(here, database) == 0  # all younger than an hour: perhaps not committed yet
    assert staging.sweep_kept(here, database, older_than=timedelta(seconds=-60)) == 2
    assert here.get_bytes(staging.records_key(ids["running"])) == b"{}"
    assert here.get_bytes(staging.records_key(ids["ended"])) is None
    assert here.get_bytes(staging.records_key(ids["deleted"])) is None
    assert staging.sweep_scratch(there.root, database) == 2
    assert sorted(path.name for path in (there.root / "imports").iterdir()) == [ids["running"]]
    assert staging.sweep_scratch(tmp_path / "never-used", database) == 0
