"""Kept files in an S3-compatible bucket (``clientdock.blobs_s3``), against moto's S3 server over
loopback HTTP: the behaviours of ``tests/test_blobs.py`` — a file kept by one process is read
whole by another with its own cache folder, a take in a rolled-back transaction leaves no object,
prefixes are deleted and swept — plus the start-up checks, and one import through the API whose
upload goes through the bucket and leaves nothing there once its job is over."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer
from sqlalchemy import func, select
from structlog.testing import capture_logs

from clientdock import blobs_s3
from clientdock.app import create_app
from clientdock.blobs import BlobMissing, store_for
from clientdock.blobs_s3 import S3Store
from clientdock.db import Database
from clientdock.imports.file_records import upload_key
from clientdock.imports.upload import Received
from clientdock.jobs import staging
from clientdock.jobs.models import ImportJob
from clientdock.settings import Settings
from clientdock.tenants.models import Tenant
from clientdock.web import uploads
from tests.conftest import make_tenant
from tests.imports.csv_support import csv_bytes

#: S3's smallest part: the multipart test sends three parts of a file just over two of these.
MIN_PART = 5 * 1024 * 1024


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 server on a free loopback port, one per test process; every test has its own bucket."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials and region as a deployment gives them, through the standard variables; no
    instance metadata look-up ever leaves the machine."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "clientdock-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "clientdock-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def s3(s3_server: str) -> Any:
    """A client of the test server, to look at the bucket from outside the store."""
    return boto3.session.Session().client("s3", endpoint_url=s3_server)


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    name = f"clientdock-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def stores(tmp_path: Path, bucket: str, endpoint: str, **options: Any) -> tuple[S3Store, S3Store]:
    """Two processes' views of one bucket: each with its own cache folder."""
    url = f"s3://{bucket}/clientdock"
    return S3Store(tmp_path / "one", url, endpoint, **options), S3Store(tmp_path / "two", url, endpoint, **options)


def objects(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    return sorted(
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    )


def test_a_multipart_file_kept_by_one_process_is_read_whole_by_another(
    tmp_path: Path, database: Database, s3_server: str, s3: Any, bucket: str
) -> None:
    here, there = stores(tmp_path, bucket, s3_server, part_bytes=MIN_PART)
    content = os.urandom(2 * MIN_PART + 12345)
    source = tmp_path / "upload.bin"
    source.write_bytes(content)
    with database.session() as session:
        here.take(session, "imports/job-1/upload", source)
    assert not source.exists()  # taken, not copied
    assert objects(s3, bucket) == ["clientdock/imports/job-1/upload"]  # <prefix>/<key>
    assert s3.head_object(Bucket=bucket, Key="clientdock/imports/job-1/upload")["ETag"].endswith('-3"')  # sent in three parts
    copy = there.local_copy("imports/job-1/upload")
    assert copy.read_bytes() == content
    assert copy.is_relative_to(there.root)
    assert [path.name for path in copy.parent.iterdir()] == ["upload"]  # no partial download left beside it
    s3.delete_object(Bucket=bucket, Key="clientdock/imports/job-1/upload")
    assert there.local_copy("imports/job-1/upload") == copy  # fetched once, then read from the cache


def test_a_take_in_a_transaction_that_rolls_back_keeps_nothing(
    tmp_path: Path, database: Database, s3_server: str, s3: Any, bucket: str
) -> None:
    here, there = stores(tmp_path, bucket, s3_server)
    source = tmp_path / "upload.bin"
    source.write_bytes(b"firstName,email\nAda,ada@firm.co.uk\n")

    def take_then_fail() -> None:
        with database.session() as session:
            session.execute(select(func.count()).select_from(Tenant))  # the transaction has begun (a job row is written)
            here.take(session, "imports/job-2/upload", source)
            assert objects(s3, bucket) == ["clientdock/imports/job-2/upload"]  # S3 cannot wait for the commit
            raise RuntimeError("the job row could not be written")

    with pytest.raises(RuntimeError):
        take_then_fail()
    assert objects(s3, bucket) == []
    with pytest.raises(BlobMissing, match="no longer stored"):
        there.local_copy("imports/job-2/upload")
    assert here.get_bytes("imports/job-2/upload") is None


def test_bytes_put_in_a_transaction_that_rolls_back_are_deleted_and_kept_when_it_commits(
    tmp_path: Path, database: Database, s3_server: str, bucket: str
) -> None:
    here, there = stores(tmp_path, bucket, s3_server)

    def put_then_fail() -> None:
        with database.session() as session:
            here.put_bytes(session, "uploads/a.json", b"{}")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        put_then_fail()
    assert there.get_bytes("uploads/a.json") is None
    with database.session() as session:
        here.put_bytes(session, "uploads/b.json", b"{}")
    assert there.get_bytes("uploads/b.json") == b"{}"


def test_delete_removes_a_prefix_everywhere_and_sweeping_sees_only_old_keys(
    tmp_path: Path, s3_server: str, s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blobs_s3, "DELETE_BATCH", 2)  # listed and deleted two at a time: several pages and batches
    here, there = stores(tmp_path, bucket, s3_server)
    kept = [f"imports/job-3/part-{i}" for i in range(5)]
    for key in (*kept, "imports/job-4/upload", "uploads/web/t/x.json"):
        here.put_bytes(None, key, key.encode())
    there.local_copy("imports/job-3/part-0")
    assert here.keys_older_than("imports/", timedelta(seconds=-60)) == [*kept, "imports/job-4/upload"]
    assert here.keys_older_than("", timedelta(seconds=-60)) == [*kept, "imports/job-4/upload", "uploads/web/t/x.json"]
    assert here.keys_older_than("imports/", timedelta(hours=1)) == []
    there.delete("imports/job-3/")
    assert [here.get_bytes(key) for key in kept] == [None] * 5
    assert not (there.root / "imports" / "job-3").exists()
    assert objects(s3, bucket) == ["clientdock/imports/job-4/upload", "clientdock/uploads/web/t/x.json"]
    assert here.get_bytes("imports/job-4/upload") == b"imports/job-4/upload"
    there.delete("imports/nothing-here/")  # nothing to delete is not an error


def test_an_empty_file_is_kept_as_empty_not_as_missing(tmp_path: Path, s3_server: str, bucket: str) -> None:
    here, there = stores(tmp_path, bucket, s3_server)
    here.put_bytes(None, "uploads/empty", b"")
    assert there.get_bytes("uploads/empty") == b""
    assert there.local_copy("uploads/empty").read_bytes() == b""


def test_a_key_never_kept_is_none_as_bytes_and_missing_as_a_file(tmp_path: Path, s3_server: str, bucket: str) -> None:
    here, _ = stores(tmp_path, bucket, s3_server)
    assert here.get_bytes("imports/never/upload") is None
    with pytest.raises(BlobMissing, match="imports/never/upload"):
        here.local_copy("imports/never/upload")
    assert not (here.root / "imports" / "never").exists() or list((here.root / "imports" / "never").iterdir()) == []


def test_a_key_cannot_leave_its_folder(tmp_path: Path, s3_server: str, bucket: str) -> None:
    here, _ = stores(tmp_path, bucket, s3_server)
    with pytest.raises(ValueError, match="leaves its folder"):
        here.put_bytes(None, "../../etc/passwd", b"x")
    with pytest.raises(ValueError, match="leaves its folder"):
        here.path("../../etc/passwd")


def test_the_dialogs_kept_upload_is_found_by_another_api_process(tmp_path: Path, s3_server: str, bucket: str) -> None:
    here, there = stores(tmp_path, bucket, s3_server)
    folder = here.root / "uploads" / "web" / "tenant-a"
    folder.mkdir(parents=True)
    path = folder / f"{'c' * 32}.upload"
    path.write_bytes(b"firstName,email\nAda,ada@firm.co.uk\n")
    kept = uploads.keep(here, "tenant-a", Received(path, "clients.csv", path.stat().st_size, {}))
    found = uploads.find(there, "tenant-a", kept.token)
    assert (found.filename, found.path.read_bytes()) == ("clients.csv", path.read_bytes())
    fixed = uploads.with_fixes(there, found, 1, {0: "Ada Byron"})
    assert uploads.find(here, "tenant-a", kept.token).fixes == fixed.fixes == {"1": {"0": "Ada Byron"}}
    uploads.forget(here, kept)
    with pytest.raises(uploads.UploadGone):
        uploads.find(there, "tenant-a", kept.token)


def test_the_deployment_store_is_the_bucket_named_by_the_setting(tmp_path: Path, database: Database, s3_server: str, bucket: str) -> None:
    settings = Settings(data_dir=tmp_path / "a", upload_storage=f"s3://{bucket}/one/two/", s3_endpoint_url=s3_server)
    store = store_for(settings, database)
    assert isinstance(store, S3Store)
    assert (store.kind, store.shared, store.root, store.bucket) == (f"s3://{bucket}/one/two/", True, (tmp_path / "a").resolve(), bucket)
    assert store.object_key("imports/j/upload") == "one/two/imports/j/upload"
    assert store_for(settings, database) is store
    no_prefix = S3Store(tmp_path / "b", f"s3://{bucket}", s3_server)
    assert no_prefix.object_key("imports/j/upload") == "imports/j/upload"


@pytest.mark.parametrize("url", ["s3://", "s3:///clientdock", "s3://bad bucket/x", "s3://bucket/x?region=eu"])
def test_a_url_without_a_bucket_is_refused_naming_the_setting(tmp_path: Path, s3_server: str, url: str) -> None:
    with pytest.raises(ValueError, match="CLIENTDOCK_UPLOAD_STORAGE"):
        S3Store(tmp_path, url, s3_server)


def test_a_missing_bucket_stops_the_start_naming_it(tmp_path: Path, s3_server: str) -> None:
    with pytest.raises(ValueError, match="bucket 'clientdock-nowhere' at http://127.0.0.1:[0-9]+: the bucket does not exist"):
        S3Store(tmp_path, "s3://clientdock-nowhere/uploads", s3_server)


def test_missing_credentials_stop_the_start_naming_the_variables(
    tmp_path: Path, s3_server: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    with pytest.raises(ValueError, match=f"bucket '{bucket}'.*no credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
        S3Store(tmp_path, f"s3://{bucket}/uploads", s3_server)


def test_an_uploaded_csv_is_imported_through_the_bucket_and_its_job_leaves_nothing_there(
    tmp_path: Path, db_url: str, database: Database, s3_server: str, s3: Any, bucket: str
) -> None:
    """The API process takes the upload into the bucket (its received file is gone), the worker
    fetches it from there to stage it, and the job's end deletes every object it kept."""
    settings = Settings(
        data_dir=tmp_path / "a",
        database_url=db_url,
        upload_storage=f"s3://{bucket}/clientdock",
        s3_endpoint_url=s3_server,
        sync_wait_seconds=30,
    )
    tenant = make_tenant(database)
    rows = [["First Name", "Last Name", "E-mail"], ["Maya", "White", "maya@firm.example.org"], ["Ben", "Mwangi", "ben@firm.example.org"]]
    app = create_app(settings, database)
    with TestClient(app, raise_server_exceptions=False) as client, capture_logs() as logs:
        response = client.post(
            tenant.path("/clients/import/csv"),
            files={"file": ("clients.csv", csv_bytes(rows), "application/octet-stream")},
            headers=tenant.headers,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["status"], body["counts"]["created"], body["counts"]["failed"]) == ("succeeded", 2, 0)
        with database.session() as session:
            job = session.get_one(ImportJob, body["id"])
        assert job.workflow_id
        app.state.engine.client.retrieve_workflow(job.workflow_id).get_result()  # the job's workflow has ended
        listed = client.get(tenant.path("/clients"), headers=tenant.headers).json()
    assert sorted(item["email"] for item in listed["items"]) == ["ben@firm.example.org", "maya@firm.example.org"]
    fetched = [(entry["key"], entry["storage"]) for entry in logs if entry["event"] == "blob_fetched"]
    assert (upload_key(job.id), f"s3://{bucket}/clientdock") in fetched  # the worker read the upload from the bucket
    assert objects(s3, bucket, f"clientdock/{staging.job_prefix(job.id)}") == []
    assert not staging.job_dir(settings.data_dir, job.id).exists()  # nor this process's copies
