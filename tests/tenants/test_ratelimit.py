"""The per-key rate limit: a token bucket per API key in each API process (clientdock.tenants.ratelimit).

The buckets' clock is a fake one the tests move: nothing sleeps, nothing is timed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request

from clientdock.app import create_app
from clientdock.db import Database
from clientdock.problems import PROBLEM
from clientdock.settings import Settings
from clientdock.tenants import service as tenants
from clientdock.tenants.auth import presented_key as auth_presented_key
from clientdock.tenants.ratelimit import TokenBuckets, key_id, presented_key, retry_after_seconds
from tests.conftest import TenantInfo

RATE, BURST = 2.0, 3


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url, rate_limit_per_second=RATE, rate_limit_burst=BURST)


@pytest.fixture
def app(settings: Settings, database: Database, clock: Clock) -> FastAPI:
    app = create_app(settings, database)
    buckets: TokenBuckets = app.state.rate_limits
    buckets.clock = clock
    return app


# --- the buckets ---------------------------------------------------------------------------------


def test_a_bucket_gives_its_burst_then_says_how_long_to_wait(clock: Clock) -> None:
    buckets = TokenBuckets(RATE, BURST, clock=clock)
    assert [buckets.take(b"k") for _ in range(BURST)] == [0.0] * BURST
    assert buckets.take(b"k") == pytest.approx(1 / RATE)
    clock.advance(0.25)  # half a token back
    assert buckets.take(b"k") == pytest.approx(0.25)


def test_a_bucket_refills_at_the_rate_and_never_past_the_burst(clock: Clock) -> None:
    buckets = TokenBuckets(RATE, BURST, clock=clock)
    for _ in range(BURST):
        buckets.take(b"k")
    clock.advance(1 / RATE)
    assert buckets.take(b"k") == 0.0
    assert buckets.take(b"k") > 0
    clock.advance(3600)
    assert [buckets.take(b"k") for _ in range(BURST)] == [0.0] * BURST
    assert buckets.take(b"k") > 0


def test_keys_have_buckets_of_their_own(clock: Clock) -> None:
    buckets = TokenBuckets(RATE, BURST, clock=clock)
    for _ in range(BURST):
        buckets.take(b"a")
    assert buckets.take(b"a") > 0
    assert buckets.take(b"b") == 0.0


def test_idle_buckets_are_forgotten_so_memory_follows_the_keys_in_use(clock: Clock) -> None:
    buckets = TokenBuckets(RATE, BURST, clock=clock)
    for n in range(10_000):
        buckets.take(str(n).encode())
        clock.advance(0.01)  # 100 new keys a second; a bucket is full again after BURST / RATE = 1.5 s
    assert len(buckets) <= 200
    assert buckets.take(b"9999") == 0.0  # a recent key keeps its (partly used) bucket


def test_no_more_buckets_than_max_keys_however_many_keys_come_at_once(clock: Clock) -> None:
    buckets = TokenBuckets(RATE, BURST, clock=clock, max_keys=1000)
    for n in range(50_000):
        buckets.take(n.to_bytes(4, "big"))
    assert len(buckets) == 1000
    for _ in range(BURST - 1):
        buckets.take((49_999).to_bytes(4, "big"))
    assert buckets.take((49_999).to_bytes(4, "big")) > 0  # the newest keys are still counted


def test_a_forgotten_bucket_was_full_anyway(clock: Clock) -> None:
    buckets = TokenBuckets(RATE, BURST, clock=clock)
    for _ in range(BURST):
        buckets.take(b"old")
    clock.advance(BURST / RATE)
    buckets.take(b"new")  # sweeps the idle bucket of b"old"
    assert len(buckets) == 1
    assert [buckets.take(b"old") for _ in range(BURST)] == [0.0] * BURST


@pytest.mark.parametrize(("rate", "burst"), [(0, 10), (-1, 10), (5, 0)])
def test_a_bucket_needs_a_positive_rate_and_burst(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate must be positive"):
        TokenBuckets(rate, burst)


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    assert [retry_after_seconds(w) for w in (0.0001, 0.5, 1.0, 1.01, 7.9)] == [1, 1, 1, 2, 8]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": " cdk_a_b "},
        {"Authorization": "Bearer cdk_a_b"},
        {"Authorization": "bearer   cdk_a_b"},
        {"X-API-Key": "cdk_a_b", "Authorization": "Bearer other"},
        {"X-API-Key": "  ", "Authorization": "Bearer cdk_a_b"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
        {},
    ],
)
def test_the_key_counted_is_the_key_authenticated(headers: dict[str, str]) -> None:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    request = Request({"type": "http", "headers": raw})
    assert presented_key(raw) == (auth_presented_key(request) or None)  # "" (a blank X-API-Key) is no key either way


# --- through the API -----------------------------------------------------------------------------


def _refused(response: httpx2.Response) -> dict[str, object]:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) >= 1
    body: dict[str, object] = response.json()
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    assert body["type"] == "about:blank"
    assert body["title"] == "Too many requests"
    assert body["status"] == 429
    return body


def test_requests_under_the_limit_pass_and_the_next_is_429_with_retry_after(client: TestClient, tenant: TenantInfo) -> None:
    for _ in range(BURST):
        assert client.get(tenant.path("/clients"), headers=tenant.headers).status_code == 200
    refused = client.get(tenant.path("/clients"), headers=tenant.headers)
    body = _refused(refused)
    assert "connection" not in refused.headers  # nothing left unread: the connection stays open for the retry
    assert "2 requests a second" in str(body["detail"])
    assert "bursts of up to 3" in str(body["detail"])
    assert "retry after 1 s" in str(body["detail"])


def test_a_refused_request_does_no_work(client: TestClient, tenant: TenantInfo, clock: Clock) -> None:
    for n in range(BURST):
        assert client.post(tenant.path("/clients"), json={"name": f"C{n}"}, headers=tenant.headers).status_code == 201
    refused = client.post(tenant.path("/clients"), json={"name": "Refused"}, headers=tenant.headers)
    _refused(refused)
    assert refused.headers["connection"] == "close"  # its body is not read: the connection is not kept for another request
    clock.advance(1 / RATE)
    listed = client.get(tenant.path("/clients"), headers=tenant.headers).json()
    assert listed["total"] == BURST
    assert "Refused" not in {c["name"] for c in listed["items"]}


def test_the_bucket_refills_with_time(client: TestClient, tenant: TenantInfo, clock: Clock) -> None:
    for _ in range(BURST):
        client.get(tenant.path("/clients"), headers=tenant.headers)
    _refused(client.get(tenant.path("/clients"), headers=tenant.headers))
    clock.advance(1 / RATE)
    assert client.get(tenant.path("/clients"), headers=tenant.headers).status_code == 200
    _refused(client.get(tenant.path("/clients"), headers=tenant.headers))
    clock.advance(60)
    assert [client.get(tenant.path("/clients"), headers=tenant.headers).status_code for _ in range(BURST)] == [200] * BURST


def test_each_key_has_its_own_limit(client: TestClient, database: Database, tenant: TenantInfo, other_tenant: TenantInfo) -> None:
    with database.session() as session:
        second = tenants.issue_key(session, kind="tenant", tenant_id=tenant.id).key
    for _ in range(BURST):
        client.get(tenant.path("/clients"), headers=tenant.headers)
    _refused(client.get(tenant.path("/clients"), headers=tenant.headers))
    assert client.get(tenant.path("/clients"), headers={"X-API-Key": second}).status_code == 200
    assert client.get(other_tenant.path("/clients"), headers=other_tenant.headers).status_code == 200


def test_a_key_is_one_bucket_whichever_header_carries_it(client: TestClient, tenant: TenantInfo) -> None:
    bearer = {"Authorization": f"Bearer {tenant.key}"}
    assert client.get(tenant.path("/clients"), headers=tenant.headers).status_code == 200
    assert client.get(tenant.path("/clients"), headers=bearer).status_code == 200
    assert client.get(tenant.path("/clients"), headers=tenant.headers).status_code == 200
    _refused(client.get(tenant.path("/clients"), headers=bearer))


def test_platform_keys_are_limited_too(client: TestClient, database: Database) -> None:
    with database.session() as session:
        platform = {"X-API-Key": tenants.issue_key(session, kind="platform").key}
    for _ in range(BURST):
        assert client.get("/platform/v1/apps", headers=platform).status_code == 200
    _refused(client.get("/platform/v1/apps", headers=platform))


def test_idempotent_replays_count(client: TestClient, tenant: TenantInfo) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "once"}
    first = client.post(tenant.path("/clients"), json={"name": "Once"}, headers=headers)
    assert first.status_code == 201
    for _ in range(BURST - 1):
        replay = client.post(tenant.path("/clients"), json={"name": "Once"}, headers=headers)
        assert replay.headers["Idempotent-Replayed"] == "true"
    refused = client.post(tenant.path("/clients"), json={"name": "Once"}, headers=headers)
    _refused(refused)
    assert "Idempotent-Replayed" not in refused.headers


def test_an_invalid_key_is_counted_as_presented(client: TestClient, tenant: TenantInfo) -> None:
    wrong = {"X-API-Key": "cdk_000000000000_not-a-key"}
    assert [client.get(tenant.path("/clients"), headers=wrong).status_code for _ in range(BURST)] == [401] * BURST
    _refused(client.get(tenant.path("/clients"), headers=wrong))
    assert client.get(tenant.path("/clients"), headers=tenant.headers).status_code == 200


def test_requests_without_a_key_are_not_counted(client: TestClient) -> None:
    assert {client.get("/healthz").status_code for _ in range(BURST * 3)} == {200}


def test_the_429_is_documented_with_retry_after_on_every_keyed_operation(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    upsert = spec["paths"]["/tenants/{tenant}/clients/upsert"]["post"]["responses"]["429"]
    assert upsert["content"] == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert upsert["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}
    assert "429" in spec["paths"]["/platform/v1/apps"]["get"]["responses"]
    assert "429" not in spec["paths"]["/healthz"]["get"]["responses"]


@pytest.fixture
def unlimited(tmp_path: Path, database: Database, db_url: str) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, rate_limit_per_second=0, rate_limit_burst=1)
    app = create_app(settings, database)
    assert app.state.rate_limits is None
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_zero_turns_the_limit_off(unlimited: TestClient, tenant: TenantInfo) -> None:
    statuses = {unlimited.get(tenant.path("/clients"), headers=tenant.headers).status_code for _ in range(20)}
    assert statuses == {200}


def test_key_ids_are_digests_not_keys() -> None:
    assert key_id("cdk_a_b") == key_id("cdk_a_b") != key_id("cdk_a_c")
    assert b"cdk_a_b" not in key_id("cdk_a_b")
    assert len(key_id("cdk_a_b")) == 32
