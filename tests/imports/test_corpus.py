"""Every corpus file with an ``import`` block, through the real endpoint into a fresh tenant.

``tests/corpus/expectations.json`` documents the outcome of each file (conventions at its top):
refusals (status and what the error mentions), files without the required columns (400 naming
them), and imports (exact counts, each failure's field, row and reason, each warning's row and
field, stored values and addresses, unknown columns reported, and every CSV we write neutralising
formula cells). A file passes when the main expectation or one of its ``alternatives`` holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from clientdock.clients.types import canonical_type
from clientdock.csvsafe import DANGEROUS_LEADS
from tests.conftest import BACKENDS, TenantInfo
from tests.imports.csv_support import CORPUS, CsvService, export_records, running_service


@pytest.fixture(scope="module", params=BACKENDS)
def csv_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CsvService]:
    yield from running_service(request, tmp_path_factory)


ENTRIES: list[dict[str, Any]] = [
    entry for entry in json.loads((CORPUS / "expectations.json").read_text(encoding="utf-8"))["files"] if "import" in entry
]
KNOWN_KEYS = {
    "outcome", "missing_columns", "created", "updated", "unchanged", "failed", "http", "written", "error_mentions",
    "alternatives", "notes", "request", "auto_mapping", "stored", "unknown_columns", "export_neutralized", "failures",
    "blank_records", "policy_records", "warnings",
}  # fmt: skip


def upload(service: CsvService, tenant: TenantInfo, entry: dict[str, Any], *, with_mapping: bool = True) -> httpx2.Response:
    request = entry["import"].get("request") or {}
    data: dict[str, str] = {}
    if request.get("mapping") and with_mapping:
        data["mapping"] = json.dumps(request["mapping"])
    if request.get("encoding"):
        data["encoding"] = request["encoding"]
    path = CORPUS / entry["path"]
    return service.upload(tenant, path.read_bytes(), path.name, data=data)


def problem_text(response: httpx2.Response) -> str:
    body = response.json()
    return " ".join([str(body.get("detail", "")), *(f"{e.get('field')} {e.get('message')}" for e in body.get("errors", []))]).lower()


def nothing_written(service: CsvService, tenant: TenantInfo) -> list[str]:
    problems = []
    if service.count_clients(tenant):
        problems.append("clients were written")
    if service.count_jobs(tenant):
        problems.append("a job was created")
    return problems


def check_refused(service: CsvService, tenant: TenantInfo, block: dict[str, Any], response: httpx2.Response) -> list[str]:
    if response.status_code not in block["http"]:
        return [f"status {response.status_code}, expected one of {block['http']}: {response.text[:300]}"]
    text = problem_text(response)
    missing = [m for m in block.get("error_mentions", []) if m.lower() not in text]
    return [f"error does not mention {missing}: {text[:300]}"] * bool(missing) + nothing_written(service, tenant)


def check_no_required_columns(service: CsvService, tenant: TenantInfo, block: dict[str, Any], response: httpx2.Response) -> list[str]:
    if response.status_code != 400:
        return [f"status {response.status_code}, expected 400: {response.text[:300]}"]
    named = {e.get("field") for e in response.json()["errors"]}
    text = problem_text(response)
    problems = [f"{name} not named" for name in block.get("missing_columns", []) if name not in named or name.lower() not in text]
    return problems + nothing_written(service, tenant)


def check_imported(service: CsvService, tenant: TenantInfo, block: dict[str, Any], response: httpx2.Response) -> list[str]:
    if response.status_code != 201:
        return [f"status {response.status_code}, expected 201: {response.text[:500]}"]
    job = response.json()
    rows = service.rows(tenant, job["id"])
    by_record = {row["index"]: row for row in rows}
    problems = _counts(job, block, by_record)
    problems += _failures(block, rows)
    problems += _warnings(block, rows)
    stored = service.by_email(tenant)
    problems += _stored(block, stored)
    problems += _unknown(block, job["summary"])
    problems += _neutralised(service, tenant, block, job["id"], stored)
    return problems


def _counts(job: dict[str, Any], block: dict[str, Any], by_record: dict[int, dict[str, Any]]) -> list[str]:
    counts = dict(job["counts"])
    for policy in block.get("policy_records", []):
        row = by_record.get(policy["record"])
        if row is None or row["action"] not in ("created", "failed"):
            return [f"policy record {policy['record']} is neither created nor failed: {row}"]
        if row["action"] == "failed" and not all(e.get("field") for e in row["errors"]):
            return [f"policy record {policy['record']} failed without naming a field: {row}"]
        counts[row["action"]] -= 1
    blank = block.get("blank_records", 0)
    if job["summary"].get("blankRecords") != blank:
        return [f"blank records {job['summary'].get('blankRecords')}, expected {blank}"]
    wanted = {name: block[name] for name in ("created", "updated", "unchanged", "failed") if name in block}
    got = {name: counts[name] for name in wanted}
    return [f"counts {got}, expected {wanted}"] if got != wanted else []


def _failures(block: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    problems = []
    for failure in block.get("failures", []):
        row = next((r for r in rows if r["index"] == failure["record"] or r["line"] == failure["line"]), None)
        fields = failure["field"] if isinstance(failure["field"], list) else [failure["field"]]
        if row is None or row["action"] != "failed":
            problems.append(f"record {failure['record']} did not fail: {row}")
            continue
        named = [e for e in row["errors"] if e["field"] in fields]
        if not named:
            problems.append(f"record {failure['record']} does not name {fields}: {row['errors']}")
        elif failure["reason"] not in {e["code"] for e in named}:
            problems.append(f"record {failure['record']} reason {[e['code'] for e in named]}, expected {failure['reason']}")
        elif not all(e.get("row") == failure["record"] for e in named):
            problems.append(f"record {failure['record']} errors name another row: {named}")
    return problems


def _warnings(block: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """Each expected warning: its row imported (not failed) and the row's warnings name the field."""
    problems = []
    for warning in block.get("warnings", []):
        row = next((r for r in rows if r["index"] == warning["record"] or r["line"] == warning["line"]), None)
        fields = warning["field"] if isinstance(warning["field"], list) else [warning["field"]]
        if row is None or row["action"] == "failed":
            problems.append(f"record {warning['record']} should import with a warning on {fields}: {row}")
        elif not any(w.get("field") in fields for w in row.get("warnings") or []):
            problems.append(f"record {warning['record']} has no warning on {fields}: {row.get('warnings')}")
    return problems


def _holds(address: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether a stored address holds every wanted part ("a|b": either key; a list: any value; type without case)."""
    for keys, expected in wanted.items():
        options = expected if isinstance(expected, list) else [expected]
        if keys == "type":
            options = [option.casefold() for option in options]
        values = [address.get(key) for key in keys.split("|")]
        values = [value.casefold() if keys == "type" and isinstance(value, str) else value for value in values]
        if not any(value in options for value in values):
            return False
    return True


def _stored(block: dict[str, Any], stored: dict[str, dict[str, Any]]) -> list[str]:
    problems = []
    for item in block.get("stored", []):
        client = stored.get(item["email"].casefold())
        if client is None:
            problems.append(f"no client {item['email']}")
            continue
        if "address" in item:
            if not any(_holds(address, item["address"]) for address in client.get("addresses") or []):
                problems.append(f"{item['email']} has no address holding {item['address']}: {client.get('addresses')}")
            continue
        value = client.get(item["field"])
        if "value_any_of" in item:
            if (value or "") not in item["value_any_of"]:
                problems.append(f"{item['email']} {item['field']} = {value!r}, expected one of {item['value_any_of']!r}")
            continue
        expected = item["value"]
        if item["field"] == "type":
            # "Personal" (the seed's word) is stored as its canonical type, Individual.
            expected = canonical_type(expected) or expected
        if value != expected:
            problems.append(f"{item['email']} {item['field']} = {value!r}, expected {expected!r}")
    return problems


def _unknown(block: dict[str, Any], summary: dict[str, Any]) -> list[str]:
    reported = set(summary["unknownColumns"])
    mapped = set(summary["mapping"])
    missing = [name for name in block.get("unknown_columns", []) if name not in reported and name not in mapped]
    return [f"unknown columns not reported: {missing}"] if missing else []


def _neutralised(
    service: CsvService, tenant: TenantInfo, block: dict[str, Any], job_id: str, stored: dict[str, dict[str, Any]]
) -> list[str]:
    problems = []
    exported = {row["email"].removeprefix("'").casefold(): row for row in export_records(service.export(tenant))}
    for item in block.get("export_neutralized", []):
        row = exported.get(item["email"].casefold())
        client = stored.get(item["email"].casefold())
        if client is None:
            problems.append(f"no client {item['email']} to export")
            continue
        text = str(client[item["field"]])
        cell = row.get(item["field"], "") if row else ""
        if cell.startswith(DANGEROUS_LEADS) or text not in cell:
            problems.append(f"export of {item['email']} {item['field']}: {cell!r}")
    errors_csv = service.client.get(tenant.path(f"/imports/{job_id}/errors.csv"), headers=tenant.headers)
    for record in export_records(errors_csv):
        dangerous = [cell for cell in record.values() if cell.startswith(DANGEROUS_LEADS)]
        if dangerous:
            problems.append(f"errors.csv cells not neutralised: {dangerous}")
    return problems


CHECKS = {"refused": check_refused, "no_required_columns": check_no_required_columns, "imported": check_imported}


def check(service: CsvService, tenant: TenantInfo, block: dict[str, Any], response: httpx2.Response) -> list[str]:
    """Problems with the main expectation; none if it or an alternative holds."""
    problems = CHECKS[block["outcome"]](service, tenant, block, response)
    for alternative in block.get("alternatives", []):
        if not problems:
            break
        if not CHECKS[alternative["outcome"]](service, tenant, {**alternative}, response):
            return []
    return problems


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry["path"] for entry in ENTRIES])
def test_corpus_file(csv_service: CsvService, entry: dict[str, Any]) -> None:
    block = entry["import"]
    assert set(block) <= KNOWN_KEYS, f"new expectation keys to check: {set(block) - KNOWN_KEYS}"
    tenant = csv_service.tenant()
    response = upload(csv_service, tenant, entry)
    assert response.status_code < 500
    assert check(csv_service, tenant, block, response) == []
    if block.get("auto_mapping") and (block.get("request") or {}).get("mapping"):
        again = csv_service.tenant()
        without = upload(csv_service, again, entry, with_mapping=False)
        assert without.status_code == 201, without.text
        counts = without.json()["counts"]
        assert (counts["created"], counts["failed"]) == (block["created"], block["failed"])


def test_every_import_block_is_run() -> None:
    assert len(ENTRIES) >= 40
    assert {entry["import"]["outcome"] for entry in ENTRIES} == set(CHECKS)
