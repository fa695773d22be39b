"""The Companies House fake itself, spoken to with plain httpx (FACTS.md §5, items 1-3, 13-16)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from clientdock.enrichment.numbers import normalise_company_number
from tests.fakes.clock import FakeClock
from tests.fakes.companies_house import CompaniesHouseFake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[CompaniesHouseFake]:
    server = CompaniesHouseFake(clock, limit=5, window_seconds=300)
    server.seed_examples()
    server.generate_companies(40, seed=7)
    server.start()
    yield server
    server.stop()


def get(fake: CompaniesHouseFake, path: str, *, key: str | None = None, password: str = "", **params: Any) -> httpx.Response:
    auth = httpx.BasicAuth(key if key is not None else fake.api_key, password)
    return httpx.get(fake.base_url + path, params=params, auth=auth, timeout=5)


def test_auth_key_as_user_name_and_empty_password(fake: CompaniesHouseFake) -> None:
    assert get(fake, "/company/07798925").status_code == 200
    for answer in (
        get(fake, "/company/07798925", key="wrong"),
        get(fake, "/company/07798925", password="secret"),
        httpx.get(fake.base_url + "/company/07798925", timeout=5),
        httpx.get(fake.base_url + "/company/07798925", headers={"Authorization": f"Bearer {fake.api_key}"}, timeout=5),
    ):
        assert answer.status_code == 401
        assert answer.json() == {"error": "Invalid Authorization", "type": "ch:service"}


def test_profile_not_found_and_wrong_length(fake: CompaniesHouseFake) -> None:
    body = get(fake, "/company/07798925").json()
    assert body["etag"]
    assert body["links"]["self"] == "/company/07798925"
    assert body["accounts"]["accounting_reference_date"] == {"day": "31", "month": "12"}
    missing = get(fake, "/company/99999999")
    assert missing.status_code == 404
    assert missing.json() == {"errors": [{"type": "ch:service", "error": "company-profile-not-found"}]}
    wrong = get(fake, "/company/999999999")
    assert wrong.status_code == 500
    assert wrong.json()["error"] == "Internal server error"
    assert wrong.json()["exception_id"]


def test_officers_paging_and_counts(fake: CompaniesHouseFake) -> None:
    first = get(fake, "/company/07798925/officers").json()
    assert first["items_per_page"] == 35
    assert first["start_index"] == 0
    assert first["kind"] == "officer-list"
    assert (first["total_results"], first["active_count"], first["resigned_count"]) == (14, 8, 6)
    items = first["items"]
    assert [bool(o.get("resigned_on")) for o in items] == [False] * 8 + [True] * 6
    assert all(isinstance(o["date_of_birth"]["month"], int) and isinstance(o["date_of_birth"]["year"], int) for o in items)
    page = get(fake, "/company/07798925/officers", items_per_page=4, start_index=12).json()
    assert [o["name"] for o in page["items"]] == [o["name"] for o in items[12:]]
    assert page["total_results"] == 14
    assert get(fake, "/company/99999999/officers").status_code == 404


def test_generated_companies_are_realistic(fake: CompaniesHouseFake) -> None:
    generated = [p for n, p in fake.companies.items() if n not in ("07798925", "00006402")]
    assert len(generated) == 40
    statuses = {p["company_status"] for p in generated}
    assert "active" in statuses
    for profile in generated:
        assert normalise_company_number(profile["company_number"]) == profile["company_number"]
        assert profile["company_name"].endswith((" LTD", " LIMITED", " LLP"))
        assert all(len(code) == 5 and code.isdigit() for code in profile["sic_codes"])
        assert profile["registered_office_address"]["postal_code"]
        officers = fake.officer_lists[profile["company_number"]]
        assert officers
        for officer in officers:
            if officer["officer_role"].startswith("corporate-"):
                assert "," not in officer["name"]
            else:
                surname, _, forenames = officer["name"].partition(", ")
                assert surname == surname.upper()
                assert forenames
    assert any(p["accounts"]["overdue"] or p["confirmation_statement"]["overdue"] for p in generated)


def test_search_shape(fake: CompaniesHouseFake) -> None:
    answer = get(fake, "/search/companies", q="iwoca", items_per_page=3)
    body = answer.json()
    assert body["kind"] == "search#companies"
    assert body["total_results"] == 1
    assert body["items_per_page"] == 3
    item = body["items"][0]
    assert item["title"] == "IWOCA LTD"
    assert item["company_number"] == "07798925"
    assert item["company_status"] == "active"
    assert item["company_type"] == "ltd"
    assert item["address_snippet"] == "10 Queen Street Place, London, EC4R 1AG"
    assert item["description"] == "07798925 - Incorporated on 5 October 2011"
    assert get(fake, "/search/companies").status_code == 400


def test_rate_limit_window_headers_and_reset(fake: CompaniesHouseFake, clock: FakeClock) -> None:
    reset = int(clock().timestamp()) + 300
    remains = []
    for _ in range(5):
        answer = get(fake, "/company/07798925")
        assert answer.status_code == 200
        assert answer.headers["X-Ratelimit-Limit"] == "5"
        assert answer.headers["X-Ratelimit-Reset"] == str(reset)
        assert answer.headers["X-Ratelimit-Window"] == "5m"
        remains.append(answer.headers["X-Ratelimit-Remain"])
    assert remains == ["4", "3", "2", "1", "0"]
    for path in ("/company/07798925", "/company/99999999", "/search/companies?q=x"):
        refused = httpx.get(fake.base_url + path, auth=httpx.BasicAuth(fake.api_key, ""), timeout=5)
        assert refused.status_code == 429
        assert "Retry-After" not in refused.headers
        assert refused.headers["X-Ratelimit-Remain"] == "0"
    clock.advance(299)
    assert get(fake, "/company/07798925").status_code == 429
    clock.advance(1)
    fresh = get(fake, "/company/07798925")
    assert fresh.status_code == 200
    assert fresh.headers["X-Ratelimit-Remain"] == "4"


def test_window_is_per_key(fake: CompaniesHouseFake) -> None:
    fake.add_key("second-key")
    for _ in range(5):
        get(fake, "/company/07798925")
    assert get(fake, "/company/07798925").status_code == 429
    assert get(fake, "/company/07798925", key="second-key").status_code == 200


def test_switches(fake: CompaniesHouseFake) -> None:
    fake.fail_next(1, status=502, endpoint="officers")
    assert get(fake, "/company/07798925").status_code == 200
    assert get(fake, "/company/07798925/officers").status_code == 502
    fake.throttle_next(1, retry_after=42)
    throttled = get(fake, "/company/07798925")
    assert throttled.status_code == 429
    assert "Retry-After" not in throttled.headers
    assert int(throttled.headers["X-Ratelimit-Reset"]) == int(fake.clock().timestamp()) + 42
    assert fake.calls["profile"] == 2
    assert fake.total_calls() == 3
    assert [r.status for r in fake.recorded("profile")] == [200, 429]
