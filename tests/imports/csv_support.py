"""Shared by the file-door tests: one running service per module and backend, helpers to
upload files and read results back.

Starting the app launches the job engine (about a second), so each test module keeps one
service per backend and gives every test a fresh tenant instead. A test that needs other
settings changes them for its duration with :func:`overridden`.
"""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from clientdock.app import create_app
from clientdock.clients.models import Client
from clientdock.db import Database
from clientdock.jobs.models import ImportJob
from clientdock.settings import Settings
from clientdock.tenants.models import Tenant
from tests.conftest import TenantInfo, make_tenant, new_database_url, pg_drop

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@dataclass
class CsvService:
    client: TestClient
    app: FastAPI
    database: Database
    settings: Settings

    def tenant(self, **tenant_settings: Any) -> TenantInfo:
        """A new, empty tenant (with these settings, if any)."""
        info = make_tenant(self.database, code=f"t{uuid.uuid4().hex[:10]}")
        if tenant_settings:
            with self.database.session() as session:
                row = session.get_one(Tenant, info.id)
                row.settings = {**(row.settings or {}), **tenant_settings}
        return info

    def upload(
        self,
        tenant: TenantInfo,
        content: bytes,
        filename: str = "clients.csv",
        *,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx2.Response:
        return self.client.post(
            tenant.path("/clients/import/csv"),
            files={"file": (filename, content, "application/octet-stream")},
            data=data or {},
            params=params or {},
            headers={**tenant.headers, **(headers or {})},
        )

    def clients(self, tenant: TenantInfo) -> list[dict[str, Any]]:
        """Every client of the tenant, through the API."""
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.client.get(tenant.path("/clients"), params={"pageSize": 500, "page": page}, headers=tenant.headers).json()
            out.extend(body["items"])
            if len(out) >= body["total"]:
                return out
            page += 1

    def by_email(self, tenant: TenantInfo) -> dict[str, dict[str, Any]]:
        return {c["email"].casefold(): c for c in self.clients(tenant) if c["email"]}

    def count_clients(self, tenant: TenantInfo) -> int:
        with self.database.session() as session:
            return int(session.scalar(select(func.count()).select_from(Client).where(Client.tenant_id == tenant.id)) or 0)

    def count_jobs(self, tenant: TenantInfo) -> int:
        with self.database.session() as session:
            return int(session.scalar(select(func.count()).select_from(ImportJob).where(ImportJob.tenant_id == tenant.id)) or 0)

    def rows(self, tenant: TenantInfo, job_id: str, outcome: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"pageSize": 1000}
        if outcome:
            params["outcome"] = outcome
        body = self.client.get(tenant.path(f"/imports/{job_id}/rows"), params=params, headers=tenant.headers).json()
        items: list[dict[str, Any]] = body["items"]
        return items

    def export(self, tenant: TenantInfo, **params: str) -> httpx2.Response:
        return self.client.get(tenant.path("/clients/export.csv"), params=params, headers=tenant.headers)


@contextmanager
def overridden(settings: Settings, **changes: Any) -> Iterator[None]:
    """Change the running service's settings for the duration of a test."""
    before = {name: getattr(settings, name) for name in changes}
    for name, value in changes.items():
        setattr(settings, name, value)
    try:
        yield
    finally:
        for name, value in before.items():
            setattr(settings, name, value)


def running_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CsvService]:
    """The body of each module's ``csv_service`` fixture (scope="module", params=BACKENDS)."""
    tmp = tmp_path_factory.mktemp("csvdoor")
    url, pg_name = new_database_url(str(request.param), tmp, request)
    database = Database(url)
    settings = Settings(data_dir=tmp / "data", database_url=url, sync_wait_seconds=30, allow_private_webhooks=True)
    app = create_app(settings, database)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield CsvService(client, app, database, settings)
    database.dispose()
    if pg_name:
        pg_drop(pg_name)


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8", newline: str = "\r\n") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def export_records(response: httpx2.Response) -> list[dict[str, str]]:
    """An export (or errors.csv) as header -> cell dicts."""
    header, *rows = parse_csv(response.text)
    return [dict(zip(header, row, strict=True)) for row in rows]


def xlsx_bytes(sheets: dict[str, list[list[str | int | float]]]) -> bytes:
    """A minimal .xlsx workbook (inline strings and numbers), enough for calamine."""
    names = list(sheets)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(names) + 1)
        )
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        sheet_xml = "".join(f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(names, start=1))
        archive.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheets>{sheet_xml}</sheets></workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            f'Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(names) + 1)
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}</Relationships>",
        )
        for i, name in enumerate(names, start=1):
            archive.writestr(f"xl/worksheets/sheet{i}.xml", _sheet_xml(sheets[name]))
    return buffer.getvalue()


def _sheet_xml(rows: list[list[str | int | float]]) -> str:
    body = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{chr(ord('A') + c)}{r}"
            if isinstance(value, int | float):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            elif value != "":
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>')
        body.append(f'<row r="{r}">{"".join(cells)}</row>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(body)}</sheetData></worksheet>"
    )
