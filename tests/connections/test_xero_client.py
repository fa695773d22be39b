"""XeroProvider against the loopback Xero fake: real HTTP, fake clock and sleep."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from clientdock.connections.providers import ContactPage, Grant, GrantRevoked, Provider, ProviderNotConfigured, ProviderUnavailable, Tokens
from clientdock.connections.xero import XeroProvider
from clientdock.outbound.http import pkce_challenge
from clientdock.settings import Settings
from tests.fakes.clock import FakeClock
from tests.fakes.store import MemoryTokenStore
from tests.fakes.xero import XeroFake

REDIRECT = "http://127.0.0.1:8000/connections/xero/callback"


_OPEN: list[XeroProvider] = []


@pytest.fixture(autouse=True)
def _close_providers() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[XeroFake]:
    server = XeroFake(clock)
    server.start()
    yield server
    server.stop()


def make_provider(fake: XeroFake, clock: FakeClock, **overrides: Any) -> XeroProvider:
    values: dict[str, Any] = {"provider_attempts": 3, "provider_backoff_seconds": 1.0, "provider_timeout_seconds": 5.0}
    values.update(fake.settings())
    values.update(overrides)
    provider = XeroProvider(Settings(**values), clock=clock, sleep=clock.sleep)
    _OPEN.append(provider)
    return provider


def consent(provider: XeroProvider, verifier: str, state: str = "st-1") -> dict[str, list[str]]:
    url = provider.authorize_url(state=state, code_challenge=pkce_challenge(verifier), redirect_uri=REDIRECT)
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


def connect(provider: XeroProvider) -> Grant:
    verifier = secrets.token_urlsafe(48)
    params = consent(provider, verifier)
    return provider.exchange_code(code=params["code"][0], code_verifier=verifier, redirect_uri=REDIRECT, realm_id=None)


def store_for(fake: XeroFake, clock: FakeClock, tenant_ids: list[str] | None = None) -> MemoryTokenStore:
    issued = fake.issue_tokens(tenant_ids)
    tokens = Tokens(issued["access_token"], issued["refresh_token"], clock() + timedelta(seconds=int(issued["expires_in"])))
    return MemoryTokenStore(tokens, fake)


def everything(pages: Iterator[ContactPage]) -> list[dict[str, Any]]:
    return [contact for page in pages for contact in page.contacts]


# --- OAuth -------------------------------------------------------------------------------------


def test_authorize_url_carries_every_parameter(fake: XeroFake, clock: FakeClock) -> None:
    provider: Provider = make_provider(fake, clock)
    assert provider.configured()
    url = urlsplit(provider.authorize_url(state="abc", code_challenge="chal", redirect_uri=REDIRECT))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fake.base_url}/identity/connect/authorize"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query == {
        "client_id": "xero-test-client",
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "offline_access accounting.contacts.read",
        "state": "abc",
        "code_challenge": "chal",
        "code_challenge_method": "S256",
    }


def test_not_configured_without_client_id_or_secret(fake: XeroFake, clock: FakeClock) -> None:
    provider = make_provider(fake, clock, xero_client_secret=None)
    assert not provider.configured()
    with pytest.raises(ProviderNotConfigured):
        provider.authorize_url(state="s", code_challenge="c", redirect_uri=REDIRECT)
    assert fake.total_calls() == 0


def test_code_exchange_with_pkce_reaches_several_organisations(fake: XeroFake, clock: FakeClock) -> None:
    first = fake.add_tenant("Hill & Dale Accountants")
    second = fake.add_tenant("Hill & Dale Payroll Ltd")
    provider = make_provider(fake, clock)

    grant = connect(provider)

    assert {(o.id, o.name) for o in grant.organisations} == {(first, "Hill & Dale Accountants"), (second, "Hill & Dale Payroll Ltd")}
    assert grant.tokens.expires_at == clock() + timedelta(seconds=1800)
    token_call = fake.recorded("token")[0]
    assert token_call.headers["authorization"].startswith("Basic ")
    assert "code_verifier=" in token_call.body
    assert "grant_type=authorization_code" in token_call.body
    assert fake.recorded("connections")[0].headers["authorization"] == f"Bearer {grant.tokens.access_token}"
    assert all(r.headers["accept"] == "application/json" for r in fake.requests if r.endpoint != "authorize")


def test_wrong_verifier_is_refused_and_a_code_works_once(fake: XeroFake, clock: FakeClock) -> None:
    fake.add_tenant()
    provider = make_provider(fake, clock)
    verifier = secrets.token_urlsafe(48)
    code = consent(provider, verifier)["code"][0]
    with pytest.raises(GrantRevoked, match="invalid_grant"):
        provider.exchange_code(code=code, code_verifier=secrets.token_urlsafe(48), redirect_uri=REDIRECT, realm_id=None)
    with pytest.raises(GrantRevoked):  # the code is spent
        provider.exchange_code(code=code, code_verifier=verifier, redirect_uri=REDIRECT, realm_id=None)
    assert fake.calls["connections"] == 0
    assert fake.calls["token"] == 2  # never retried


# --- tokens --------------------------------------------------------------------------------------


def test_token_refreshed_before_expiry_and_saved_before_use(fake: XeroFake, clock: FakeClock) -> None:
    tenant = fake.add_tenant()
    fake.generate_contacts(tenant, 5)
    provider = make_provider(fake, clock)
    store = MemoryTokenStore(connect(provider).tokens, fake)
    original = store.current()

    clock.advance(1800 - 30)  # 30 s left: refresh first
    assert len(everything(provider.contacts(store, tenant))) == 5

    assert fake.calls["token"] == 2  # the exchange and one refresh
    assert len(store.saved) == 1
    new = store.saved[0]
    assert new.refresh_token != original.refresh_token  # rotated
    assert new.expires_at == clock() + timedelta(seconds=1800)
    assert fake.recorded("contacts")[0].headers["authorization"] == f"Bearer {new.access_token}"
    assert store.saved_before_use()
    assert fake.count_status(401) == 0


def test_token_refreshed_once_on_401(fake: XeroFake, clock: FakeClock) -> None:
    tenant = fake.add_tenant()
    fake.generate_contacts(tenant, 3)
    provider = make_provider(fake, clock)
    store = store_for(fake, clock, [tenant])
    store.tokens = Tokens(store.tokens.access_token, store.tokens.refresh_token, clock() + timedelta(days=1))  # we think it is fine
    clock.advance(1801)  # Xero does not

    assert len(everything(provider.contacts(store, tenant))) == 3

    statuses = [r.status for r in fake.recorded("contacts")]
    assert statuses == [401, 200]
    assert fake.calls["token"] == 1
    assert len(store.saved) == 1
    assert store.saved_before_use()


def test_old_refresh_token_has_a_grace_period_then_grant_revoked(fake: XeroFake, clock: FakeClock) -> None:
    tenant = fake.add_tenant()
    fake.generate_contacts(tenant, 2)
    provider = make_provider(fake, clock)
    store = store_for(fake, clock, [tenant])
    old = store.current()
    clock.advance(1800)
    everything(provider.contacts(store, tenant))  # rotates
    assert store.current().refresh_token != old.refresh_token

    clock.advance(20 * 60)  # within 30 min: the old refresh token still works
    stale = MemoryTokenStore(old, fake)
    assert len(everything(provider.contacts(stale, tenant))) == 2

    clock.advance(11 * 60)  # 31 min after the rotation
    expired = MemoryTokenStore(old, fake)
    contacts_before = fake.calls["contacts"]
    with pytest.raises(GrantRevoked, match="reconnect"):
        list(provider.contacts(expired, tenant))
    assert fake.calls["contacts"] == contacts_before  # no call with a dead grant
    assert expired.saved == []


# --- contacts ------------------------------------------------------------------------------------


def test_pages_through_every_contact_archived_included(fake: XeroFake, clock: FakeClock) -> None:
    tenant = fake.add_tenant()
    seeded = fake.generate_contacts(tenant, 2500, seed=7)
    assert any(c["ContactStatus"] == "ARCHIVED" for c in seeded)
    provider = make_provider(fake, clock)
    store = store_for(fake, clock, [tenant])

    pages = list(provider.contacts(store, tenant))

    assert [len(p.contacts) for p in pages] == [1000, 1000, 500]
    assert {provider.external_id(c) for p in pages for c in p.contacts} == {c["ContactID"] for c in seeded}
    calls = fake.recorded("contacts")
    assert [r.query["page"] for r in calls] == ["1", "2", "3"]
    assert all(r.query["pageSize"] == "1000" and r.query["includeArchived"] == "true" for r in calls)
    assert all(r.headers["xero-tenant-id"] == tenant for r in calls)


def test_a_full_last_page_needs_no_extra_call(fake: XeroFake, clock: FakeClock) -> None:
    tenant = fake.add_tenant()
    fake.generate_contacts(tenant, 2000)
    provider = make_provider(fake, clock)
    pages = list(provider.contacts(store_for(fake, clock, [tenant]), tenant))
    assert [len(p.contacts) for p in pages] == [1000, 1000]
    assert fake.calls["contacts"] == 2  # pagination.pageCount says there is no page 3


def test_ids_in_batches_of_50_with_missing_ids(fake: XeroFake, clock: FakeClock) -> None:
    tenant = fake.add_tenant()
    seeded = fake.generate_contacts(tenant, 300, seed=3)
    known = [c["ContactID"] for c in seeded[:120]]
    unknown = [f"00000000-0000-4000-8000-{n:012d}" for n in range(15)]
    provider = make_provider(fake, clock)

    asked = [*known, *unknown, "not-a-guid", "C00001"]
    pages = list(provider.contacts(store_for(fake, clock, [tenant]), tenant, ids=asked, modified_since=clock()))  # since: not applied

    assert sorted(provider.external_id(c) for p in pages for c in p.contacts) == sorted(known)
    assert sorted(i for p in pages for i in p.missing_ids) == sorted([*unknown, "not-a-guid", "C00001"])
    calls = fake.recorded("contacts")
    assert len(calls) == 3  # 135 GUIDs: 50 + 50 + 35
    assert [len(r.query["IDs"].split(",")) for r in calls] == [50, 50, 35]
    assert all("not-a-guid" not in r.query["IDs"] for r in calls)
    assert all("if-modified-since" not in r.headers for r in calls)
    assert fake.count_status(414) == 0


def test_only_bad_ids_never_call_xero(fake: XeroFake, clock: FakeClock) -> None:
    tenant = fake.add_tenant()
    provider = make_provider(fake, clock)
    pages = list(provider.contacts(store_for(fake, clock, [tenant]), tenant, ids=["nope", "x"]))
    assert [p.missing_ids for p in pages] == [["nope", "x"]]
    assert fake.total_calls() == 0


def test_modified_since_sends_if_modified_since(fake: XeroFake, clock: FakeClock) -> None:
    tenant = fake.add_tenant()
    seeded = fake.generate_contacts(tenant, 50)
    since = clock()
    clock.advance(3600)
    for contact in seeded[:3]:
        fake.touch(tenant, contact["ContactID"], Name=contact["Name"] + " (renamed)")
    provider = make_provider(fake, clock)

    found = everything(provider.contacts(store_for(fake, clock, [tenant]), tenant, modified_since=since))

    assert sorted(c["ContactID"] for c in found) == sorted(c["ContactID"] for c in seeded[:3])
    assert fake.recorded("contacts")[0].headers["if-modified-since"] == since.strftime("%Y-%m-%dT%H:%M:%S")


# --- limits and failures -------------------------------------------------------------------------


def test_429_waits_retry_after_before_calling_again(fake: XeroFake, clock: FakeClock) -> None:
    tenant = fake.add_tenant()
    fake.generate_contacts(tenant, 4)
    fake.throttle_next(1, retry_after=17, endpoint="contacts")
    provider = make_provider(fake, clock)

    assert len(everything(provider.contacts(store_for(fake, clock, [tenant]), tenant))) == 4

    calls = fake.recorded("contacts")
    assert [r.status for r in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= timedelta(seconds=17)
    assert clock.sleeps == [17.0]


def test_minute_budget_is_held_in_process(fake: XeroFake, clock: FakeClock) -> None:
    tenant = fake.add_tenant()
    fake.generate_contacts(tenant, 1)
    store = store_for(fake, clock, [tenant])
    providers = [make_provider(fake, clock), make_provider(fake, clock)]  # the budget is per process, not per instance
    for n in range(61):
        assert len(everything(providers[n % 2].contacts(store, tenant))) == 1, n
    assert fake.count_status(429) == 0
    assert fake.calls["contacts"] == 61
    assert len(clock.sleeps) == 1
    assert 59 <= clock.sleeps[0] <= 60


def test_at_most_five_calls_in_flight_per_organisation(fake: XeroFake, clock: FakeClock) -> None:
    tenant = fake.add_tenant()
    fake.generate_contacts(tenant, 1)
    fake.delay_seconds = 0.15
    store = store_for(fake, clock, [tenant])

    def fetch(_: int) -> int:
        return len(everything(make_provider(fake, clock).contacts(store, tenant)))

    with ThreadPoolExecutor(max_workers=9) as pool:
        assert list(pool.map(fetch, range(9))) == [1] * 9
    assert fake.max_in_flight(tenant) == 5
    assert fake.count_status(429) == 0


def test_5xx_is_retried_with_backoff(fake: XeroFake, clock: FakeClock) -> None:
    tenant = fake.add_tenant()
    fake.generate_contacts(tenant, 2)
    fake.fail_next(2, status=503, endpoint="contacts")
    provider = make_provider(fake, clock)
    assert len(everything(provider.contacts(store_for(fake, clock, [tenant]), tenant))) == 2
    assert [r.status for r in fake.recorded("contacts")] == [503, 503, 200]
    assert clock.sleeps == [1.0, 2.0]


def test_5xx_beyond_the_attempts_is_provider_unavailable(fake: XeroFake, clock: FakeClock) -> None:
    tenant = fake.add_tenant()
    fake.fail_next(10, status=500, endpoint="contacts")
    provider = make_provider(fake, clock)
    with pytest.raises(ProviderUnavailable, match=r"Xero is unavailable: GET Contacts answered 500 .* after 3 attempts"):
        list(provider.contacts(store_for(fake, clock, [tenant]), tenant))
    assert fake.calls["contacts"] == 3


def test_timeout_is_retried(fake: XeroFake, clock: FakeClock) -> None:
    tenant = fake.add_tenant()
    fake.generate_contacts(tenant, 2)
    fake.slow_next(1, 1.0, endpoint="contacts")
    provider = make_provider(fake, clock, provider_timeout_seconds=0.25)
    assert len(everything(provider.contacts(store_for(fake, clock, [tenant]), tenant))) == 2
    assert fake.calls["contacts"] == 2
    assert clock.sleeps == [1.0]


def test_timeouts_beyond_the_attempts_say_so(fake: XeroFake, clock: FakeClock) -> None:
    tenant = fake.add_tenant()
    fake.slow_next(2, 0.6, endpoint="contacts")
    provider = make_provider(fake, clock, provider_timeout_seconds=0.2, provider_attempts=2)
    with pytest.raises(ProviderUnavailable, match=r"no answer within 0.2 s after 2 attempts"):
        list(provider.contacts(store_for(fake, clock, [tenant]), tenant))


def test_an_organisation_not_granted_is_refused(fake: XeroFake, clock: FakeClock) -> None:
    granted = fake.add_tenant("Granted")
    other = fake.add_tenant("Other")
    provider = make_provider(fake, clock)
    with pytest.raises(GrantRevoked, match="AuthenticationUnsuccessful"):
        list(provider.contacts(store_for(fake, clock, [granted]), other))
    assert fake.calls["contacts"] == 1


# --- revoke --------------------------------------------------------------------------------------


def test_revoke_disconnects_the_tenant_and_kills_the_refresh_token(fake: XeroFake, clock: FakeClock) -> None:
    first = fake.add_tenant("First")
    fake.add_tenant("Second")
    provider = make_provider(fake, clock)
    grant = connect(provider)
    listed = httpx.get(f"{fake.base_url}/connections", headers={"Authorization": f"Bearer {grant.tokens.access_token}"}).json()
    first_connection = next(c["id"] for c in listed if c["tenantId"] == first)

    provider.revoke(grant.tokens, first)

    assert [r.path for r in fake.recorded("connections.delete")] == [f"/connections/{first_connection}"]
    assert fake.calls["revocation"] == 1
    store = MemoryTokenStore(grant.tokens, fake)
    clock.advance(1800)
    with pytest.raises(GrantRevoked):
        list(provider.contacts(store, first))
