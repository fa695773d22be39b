"""CompaniesHouseClient against the loopback fake (real HTTP, fake clock and sleep), and the pure
functions on the reference examples."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from clientdock.enrichment.companies_house import (
    BadCompanyNumber,
    CompaniesHouseClient,
    CompaniesHouseError,
    CompaniesHouseNotConfigured,
    choose_unique_active,
    key_dates,
    key_id,
    officer_contacts,
    parse_rate,
    pick_unique_active,
    register_data,
    surname_case,
)
from clientdock.outbound.http import OrgBudgets
from clientdock.settings import Settings
from tests.fakes.clock import FakeClock
from tests.fakes.companies_house import (
    EXAMPLE_OFFICERS_07798925,
    EXAMPLE_PROFILE_00006402,
    EXAMPLE_PROFILE_07798925,
    CompaniesHouseFake,
)

#: The register's enumerations, copied unchanged beside the fakes' other reference examples.
CONSTANTS = Path(__file__).resolve().parents[1] / "fakes" / "examples" / "companies_house_constants.yml"
_OPEN: list[CompaniesHouseClient] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[CompaniesHouseFake]:
    server = CompaniesHouseFake(clock)
    server.seed_examples()
    server.start()
    yield server
    server.stop()


def make_client(fake: CompaniesHouseFake, clock: FakeClock, **overrides: Any) -> CompaniesHouseClient:
    values: dict[str, Any] = {"provider_attempts": 3, "provider_backoff_seconds": 1.0, "provider_timeout_seconds": 5.0}
    values.update(fake.settings())
    values.update(overrides)
    settings = Settings(**values)
    rate = str(values.get("companies_house_rate", "600/300s"))
    calls, seconds = parse_rate(rate)
    # A fresh budget per test: the process-wide one would carry calls across tests.
    budgets = OrgBudgets(concurrent=8, per_minute=calls, window_seconds=seconds)
    client = CompaniesHouseClient(settings, budgets=budgets, clock=clock, sleep=clock.sleep)
    _OPEN.append(client)
    return client


@pytest.fixture
def sic_descriptions() -> dict[str, str]:
    table = yaml.safe_load(CONSTANTS.read_text(encoding="utf-8"))["sic_descriptions"]
    return {str(k): str(v) for k, v in table.items()}


# --- the client over HTTP ------------------------------------------------------------------------


def test_profile_with_basic_auth_key_as_user_name(fake: CompaniesHouseFake, clock: FakeClock) -> None:
    client = make_client(fake, clock)
    assert client.configured()
    profile = client.profile("7798925")
    assert profile is not None
    assert profile["company_name"] == "IWOCA LTD"
    assert profile["accounts"]["accounting_reference_date"] == {"day": "31", "month": "12"}
    call = fake.recorded("profile")[0]
    assert call.path == "/company/07798925"
    assert call.headers["authorization"] == "Basic " + base64.b64encode(f"{fake.api_key}:".encode()).decode()


def test_unknown_company_is_none(fake: CompaniesHouseFake, clock: FakeClock) -> None:
    client = make_client(fake, clock)
    assert client.profile("99999999") is None
    assert client.officers("99999999") == []
    assert fake.recorded("profile")[0].status == 404


def test_refused_key_is_a_clear_error(fake: CompaniesHouseFake, clock: FakeClock) -> None:
    client = make_client(fake, clock, companies_house_api_key="not-a-key")
    with pytest.raises(CompaniesHouseError, match="401 Invalid Authorization"):
        client.profile("07798925")
    assert fake.calls["profile"] == 1  # a 401 is not retried


def test_not_configured_without_a_key(fake: CompaniesHouseFake, clock: FakeClock) -> None:
    client = make_client(fake, clock, companies_house_api_key=None)
    assert not client.configured()
    with pytest.raises(CompaniesHouseNotConfigured):
        client.profile("07798925")
    assert fake.total_calls() == 0


@pytest.mark.parametrize("number", ["999999999", "ACME LTD", "", "SC1234567", "XX123456"])
def test_invalid_number_never_calls(fake: CompaniesHouseFake, clock: FakeClock, number: str) -> None:
    client = make_client(fake, clock)
    with pytest.raises(BadCompanyNumber) as caught:
        client.profile(number)
    with pytest.raises(BadCompanyNumber):
        client.officers(number)
    assert caught.value.errors[0].field == "companyNumber"
    if number:
        assert repr(number) in caught.value.detail
    assert fake.total_calls() == 0


def test_officers_across_three_pages_then_active_contacts(fake: CompaniesHouseFake, clock: FakeClock) -> None:
    client = make_client(fake, clock)
    officers = client.officers("07798925", page_size=5)
    assert len(officers) == 14
    assert [r.query["start_index"] for r in fake.recorded("officers")] == ["0", "5", "10"]
    assert all(r.query["items_per_page"] == "5" for r in fake.recorded("officers"))
    contacts = officer_contacts(officers)
    assert len(contacts) == 8
    assert {c["lastName"] for c in contacts}.isdisjoint({"Ives", "Jardine", "Kestrel", "Langdon", "Marlow", "Nethercott"})


def test_search_and_pick(fake: CompaniesHouseFake, clock: FakeClock) -> None:
    fake.generate_companies(30, seed=3)
    client = make_client(fake, clock)
    items = client.search("iwoca", limit=5)
    assert items[0]["company_number"] == "07798925"
    assert {"title", "company_status", "company_type", "address_snippet"} <= set(items[0])
    assert fake.recorded("search")[0].query == {"q": "iwoca", "items_per_page": "5"}
    assert pick_unique_active(items, "Iwoca Limited") == items[0]


def test_rate_limit_waits_until_reset(fake: CompaniesHouseFake, clock: FakeClock) -> None:
    fake.limit = 3
    client = make_client(fake, clock, companies_house_rate="1000/300s")  # our budget does not know the real limit
    start = clock().timestamp()
    for _ in range(3):
        assert client.profile("07798925") is not None
    assert client.profile("07798925") is not None  # 429, waits for X-Ratelimit-Reset, then succeeds
    statuses = [r.status for r in fake.recorded("profile")]
    assert statuses == [200, 200, 200, 429, 200]
    assert clock.sleeps == [pytest.approx(300.0)]
    assert clock().timestamp() == pytest.approx(start + 300.0)


def test_forced_throttle_waits_for_its_reset_not_a_default(fake: CompaniesHouseFake, clock: FakeClock) -> None:
    client = make_client(fake, clock)
    fake.throttle_next(1, retry_after=7)
    assert client.profile("07798925") is not None
    assert clock.sleeps == [pytest.approx(7.0)]
    assert fake.recorded("profile")[0].status == 429


def test_our_budget_keeps_under_the_window(fake: CompaniesHouseFake, clock: FakeClock) -> None:
    client = make_client(fake, clock, companies_house_rate="2/60s")
    for _ in range(3):
        client.profile("07798925")
    assert clock.sleeps == [pytest.approx(60.0)]  # the third call waited for the window; no 429
    assert {r.status for r in fake.recorded("profile")} == {200}


def test_5xx_is_retried_with_backoff(fake: CompaniesHouseFake, clock: FakeClock) -> None:
    client = make_client(fake, clock)
    fake.fail_next(2, status=503)
    assert client.profile("SC 000001") is None  # unknown: 404 after two 503s
    assert [r.status for r in fake.recorded("profile")] == [503, 503, 404]
    assert fake.recorded("profile")[-1].path == "/company/SC000001"
    assert clock.sleeps == [1.0, 2.0]


def test_budget_key_is_a_hash_not_the_key(fake: CompaniesHouseFake, clock: FakeClock) -> None:
    client = make_client(fake, clock)
    assert client.org == key_id(fake.api_key)
    assert fake.api_key not in client.org


# --- pure functions on the reference examples ---------------------------------------------------


def test_register_data_iwoca(sic_descriptions: dict[str, str]) -> None:
    data = register_data(EXAMPLE_PROFILE_07798925, sic_descriptions)
    assert data["registeredName"] == "IWOCA LTD"
    assert data["companyNumber"] == "07798925"
    assert data["companyStatus"] == "active"
    assert data["incorporatedOn"] == "2011-10-05"
    assert data["registeredOfficeAddress"] == {
        "addressLine1": "10 Queen Street Place",
        "locality": "London",
        "postalCode": "EC4R 1AG",
        "country": "United Kingdom",
    }
    assert data["sicCodes"] == [{"code": "64921", "description": sic_descriptions["64921"]}]


def test_register_data_fixture_and_fallbacks() -> None:
    data = register_data(EXAMPLE_PROFILE_00006402)
    assert data["companyStatus"] == "liquidation"
    assert data["registeredOfficeAddress"]["addressLine2"] == "Parkway"
    assert data["sicCodes"] == [{"code": "72110", "description": "Research and experimental development on biotechnology"}]
    legacy = register_data({"company_name": "OLD LTD", "status": "dissolved", "sic_codes": ["00000"]})
    assert legacy["companyStatus"] == "dissolved"
    assert legacy["sicCodes"] == [{"code": "00000", "description": None}]
    assert legacy["registeredOfficeAddress"] == {}


def test_key_dates() -> None:
    assert key_dates(EXAMPLE_PROFILE_00006402) == {
        "dateOfCreation": "2015-03-04",
        "accountsNextDue": "2022-09-30",
        "accountsNextMadeUpTo": "2021-12-31",
        "accountsLastMadeUpTo": "2020-12-31",
        "accountsOverdue": True,
        "confirmationStatementNextDue": "2022-03-18",
        "confirmationStatementNextMadeUpTo": "2022-03-04",
        "confirmationStatementLastMadeUpTo": "2021-03-04",
        "confirmationStatementOverdue": True,
    }
    iwoca = key_dates(EXAMPLE_PROFILE_07798925)
    assert (iwoca["accountsNextDue"], iwoca["accountsOverdue"], iwoca["confirmationStatementOverdue"]) == ("2021-09-30", False, False)
    later = key_dates(EXAMPLE_PROFILE_07798925, today=date(2026, 1, 1))
    assert later["accountsOverdue"]
    assert later["confirmationStatementOverdue"]
    assert key_dates({})["accountsNextDue"] is None


def test_officer_contacts_from_the_example() -> None:
    contacts = officer_contacts(EXAMPLE_OFFICERS_07798925["items"])
    assert len(contacts) == 8
    assert contacts[0] == {
        "firstName": "Alexander James",
        "lastName": "Ashford",
        "role": "director",
        "appointedOn": "2013-12-23",
        "nationality": "British",
        "occupation": "Investor",
        "corporate": False,
        "source": "companies-house",
    }


def test_corporate_officers_and_odd_names() -> None:
    officers = [
        {"name": "ACME NOMINEES LIMITED", "officer_role": "corporate-director", "appointed_on": "2020-01-01"},
        {"name": "HOPPER, Grace Brewster", "officer_role": "secretary"},
        {"name": "O'BRIEN-MCDONALD, Siobhan", "officer_role": "director"},
        {"name": "GONE, Person", "officer_role": "director", "resigned_on": "2020-01-01"},
    ]
    contacts = officer_contacts(officers)
    assert [(c["firstName"], c["lastName"], c["corporate"]) for c in contacts] == [
        (None, "ACME NOMINEES LIMITED", True),
        ("Grace Brewster", "Hopper", False),
        ("Siobhan", "O'Brien-McDonald", False),
    ]
    assert surname_case("van der Berg") == "van der Berg"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("IWOCA LTD", "1"), ("iwoca limited", "1"), ("Iwoca Ltd.", "1"), ("SAME NAME LTD", None), ("GONE LTD", None), ("NOBODY LTD", None)],
)
def test_pick_unique_active(name: str, expected: str | None) -> None:
    items = [
        {"title": "IWOCA LTD", "company_number": "1", "company_status": "active"},
        {"title": "IWOCA HOLDINGS LTD", "company_number": "2", "company_status": "active"},
        {"title": "SAME NAME LIMITED", "company_number": "3", "company_status": "active"},
        {"title": "SAME NAME LTD", "company_number": "4", "company_status": "active"},
        {"title": "GONE LIMITED", "company_number": "5", "company_status": "dissolved"},
    ]
    picked = pick_unique_active(items, name)
    assert (picked["company_number"] if picked else None) == expected
    if expected is None:
        assert choose_unique_active(items, name)[1]
