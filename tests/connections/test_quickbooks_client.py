"""QuickBooksProvider against the loopback QuickBooks Online fake: real HTTP, fake clock and sleep."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from clientdock.connections.providers import (
    ContactPage,
    Grant,
    GrantRevoked,
    Provider,
    ProviderError,
    ProviderNotConfigured,
    ProviderUnavailable,
    Tokens,
)
from clientdock.connections.quickbooks import QuickBooksProvider
from clientdock.outbound.http import pkce_challenge
from clientdock.settings import Settings
from tests.fakes.clock import FakeClock
from tests.fakes.quickbooks import QuickBooksFake
from tests.fakes.store import MemoryTokenStore

REDIRECT = "http://127.0.0.1:8000/connections/quickbooks/callback"


_OPEN: list[QuickBooksProvider] = []


@pytest.fixture(autouse=True)
def _close_providers() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[QuickBooksFake]:
    server = QuickBooksFake(clock)
    server.start()
    yield server
    server.stop()


def make_provider(fake: QuickBooksFake, clock: FakeClock, **overrides: Any) -> QuickBooksProvider:
    values: dict[str, Any] = {"provider_attempts": 3, "provider_backoff_seconds": 1.0, "provider_timeout_seconds": 5.0}
    values.update(fake.settings())
    values.update(overrides)
    provider = QuickBooksProvider(Settings(**values), clock=clock, sleep=clock.sleep)
    _OPEN.append(provider)
    return provider


def consent(provider: QuickBooksProvider, verifier: str) -> dict[str, str]:
    url = provider.authorize_url(state="st-9", code_challenge=pkce_challenge(verifier), redirect_uri=REDIRECT)
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}


def connect(provider: QuickBooksProvider) -> Grant:
    verifier = secrets.token_urlsafe(48)
    params = consent(provider, verifier)
    return provider.exchange_code(code=params["code"], code_verifier=verifier, redirect_uri=REDIRECT, realm_id=params["realmId"])


def store_for(fake: QuickBooksFake, clock: FakeClock, realm: str) -> MemoryTokenStore:
    issued = fake.issue_tokens(realm)
    return MemoryTokenStore(Tokens(issued["access_token"], issued["refresh_token"], clock() + timedelta(seconds=3600)), fake)


def everything(pages: Iterator[ContactPage]) -> list[dict[str, Any]]:
    return [contact for page in pages for contact in page.contacts]


def queries(fake: QuickBooksFake) -> list[str]:
    return [r.query["query"] for r in fake.recorded("query")]


# --- OAuth -------------------------------------------------------------------------------------


def test_authorize_url_carries_every_parameter(fake: QuickBooksFake, clock: FakeClock) -> None:
    provider: Provider = make_provider(fake, clock)
    url = urlsplit(provider.authorize_url(state="abc", code_challenge="chal", redirect_uri=REDIRECT))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fake.base_url}/connect/oauth2"
    assert {k: v[0] for k, v in parse_qs(url.query).items()} == {
        "client_id": "qbo-test-client",
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "com.intuit.quickbooks.accounting",
        "state": "abc",
        "code_challenge": "chal",
        "code_challenge_method": "S256",
    }
    unconfigured = make_provider(fake, clock, quickbooks_client_id=None)
    assert not unconfigured.configured()
    with pytest.raises(ProviderNotConfigured):
        unconfigured.authorize_url(state="s", code_challenge="c", redirect_uri=REDIRECT)


def test_code_exchange_names_the_realm_from_company_info(fake: QuickBooksFake, clock: FakeClock) -> None:
    realm = fake.add_company("Craig's Design and Landscaping Services")
    provider = make_provider(fake, clock)
    grant = connect(provider)
    assert [(o.id, o.name) for o in grant.organisations] == [(realm, "Craig's Design and Landscaping Services")]
    assert grant.tokens.expires_at == clock() + timedelta(seconds=3600)
    token_call = fake.recorded("token")[0]
    assert token_call.headers["authorization"].startswith("Basic ")
    assert "code_verifier=" in token_call.body
    info = fake.recorded("companyinfo")[0]
    assert info.query["minorversion"] == "75"
    assert info.headers["accept"] == "application/json"


def test_wrong_verifier_is_refused(fake: QuickBooksFake, clock: FakeClock) -> None:
    fake.add_company()
    provider = make_provider(fake, clock)
    params = consent(provider, secrets.token_urlsafe(48))
    with pytest.raises(GrantRevoked, match="invalid_grant"):
        provider.exchange_code(code=params["code"], code_verifier="wrong" * 10, redirect_uri=REDIRECT, realm_id=params["realmId"])
    with pytest.raises(ProviderError, match="realmId"):
        provider.exchange_code(code=params["code"], code_verifier="x", redirect_uri=REDIRECT, realm_id=None)
    assert fake.calls["companyinfo"] == 0


# --- tokens --------------------------------------------------------------------------------------


def test_token_refreshed_before_expiry_and_saved_before_use(fake: QuickBooksFake, clock: FakeClock) -> None:
    realm = fake.add_company()
    fake.generate_customers(realm, 5)
    provider = make_provider(fake, clock)
    store = MemoryTokenStore(connect(provider).tokens, fake)
    clock.advance(3600 - 10)
    assert len(everything(provider.contacts(store, realm))) == 5
    assert len(store.saved) == 1
    assert store.saved[0].refresh_token != store.saved[0].access_token
    assert fake.recorded("query")[0].headers["authorization"] == f"Bearer {store.saved[0].access_token}"
    assert store.saved_before_use()
    assert fake.count_status(401) == 0


def test_token_refreshed_once_on_401_and_the_old_refresh_token_dies(fake: QuickBooksFake, clock: FakeClock) -> None:
    realm = fake.add_company()
    fake.generate_customers(realm, 3)
    provider = make_provider(fake, clock)
    store = store_for(fake, clock, realm)
    old = store.current()
    store.tokens = Tokens(old.access_token, old.refresh_token, clock() + timedelta(days=1))
    clock.advance(3601)

    assert len(everything(provider.contacts(store, realm))) == 3
    assert [r.status for r in fake.recorded("query")] == [401, 200]
    assert len(store.saved) == 1
    assert store.saved_before_use()

    clock.advance(3600)
    with pytest.raises(GrantRevoked):  # someone who kept the old refresh token
        list(provider.contacts(MemoryTokenStore(old, fake), realm))


# --- contacts ------------------------------------------------------------------------------------


def test_pages_through_every_customer_inactive_included(fake: QuickBooksFake, clock: FakeClock) -> None:
    realm = fake.add_company()
    seeded = fake.generate_customers(realm, 2500, seed=5)
    assert any(c["Active"] is False for c in seeded)
    provider = make_provider(fake, clock)

    pages = list(provider.contacts(store_for(fake, clock, realm), realm))

    assert [len(p.contacts) for p in pages] == [1000, 1000, 500]
    assert {provider.external_id(c) for p in pages for c in p.contacts} == {c["Id"] for c in seeded}
    assert queries(fake) == [
        f"select * from Customer where Active in (true, false) STARTPOSITION {start} MAXRESULTS 1000" for start in (1, 1001, 2001)
    ]
    assert all(r.query["minorversion"] == "75" and r.headers["accept"] == "application/json" for r in fake.recorded("query"))


def test_ids_in_one_query_with_missing_ids(fake: QuickBooksFake, clock: FakeClock) -> None:
    realm = fake.add_company()
    seeded = fake.generate_customers(realm, 300, seed=2)
    known = [c["Id"] for c in seeded[:150]]  # some of them inactive: still found
    provider = make_provider(fake, clock)

    pages = list(provider.contacts(store_for(fake, clock, realm), realm, ids=[*known, "99999", "88888", "abc", "1' or '1'='1"]))

    assert sorted(c["Id"] for p in pages for c in p.contacts) == sorted(known)
    assert sorted(i for p in pages for i in p.missing_ids) == sorted(["99999", "88888", "abc", "1' or '1'='1"])
    assert fake.calls["query"] == 1
    assert "Id in ('100', '101'," in queries(fake)[0]


def test_many_ids_are_split_to_keep_the_query_short(fake: QuickBooksFake, clock: FakeClock) -> None:
    realm = fake.add_company()
    fake.generate_customers(realm, 1200)
    provider = make_provider(fake, clock)
    wanted = [str(100 + n) for n in range(1200)]
    pages = list(provider.contacts(store_for(fake, clock, realm), realm, ids=wanted))
    assert sum(len(p.contacts) for p in pages) == 1200
    assert not any(p.missing_ids for p in pages)
    assert all(len(q) <= 3000 for q in queries(fake))
    assert fake.calls["query"] == len(pages) == 4  # about 370 four-character ids a query


def test_modified_since_filters_on_last_updated_time(fake: QuickBooksFake, clock: FakeClock) -> None:
    realm = fake.add_company()
    seeded = fake.generate_customers(realm, 40)
    since = clock()
    clock.advance(600)
    for customer in seeded[:4]:
        fake.touch(realm, customer["Id"], Notes="changed")
    provider = make_provider(fake, clock)

    found = everything(provider.contacts(store_for(fake, clock, realm), realm, modified_since=since))

    assert sorted(c["Id"] for c in found) == sorted(c["Id"] for c in seeded[:4])
    assert f"Metadata.LastUpdatedTime > '{since.strftime('%Y-%m-%dT%H:%M:%S')}+00:00'" in queries(fake)[0]


# --- limits and failures -------------------------------------------------------------------------


def test_429_without_retry_after_waits_the_throttle_time(fake: QuickBooksFake, clock: FakeClock) -> None:
    realm = fake.add_company()
    fake.generate_customers(realm, 3)
    fake.throttle_xml = True  # Intuit sometimes answers its 429 in XML
    fake.throttle_next(1, endpoint="query")
    provider = make_provider(fake, clock, quickbooks_throttle_wait_seconds=60)

    assert len(everything(provider.contacts(store_for(fake, clock, realm), realm))) == 3

    calls = fake.recorded("query")
    assert [r.status for r in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= timedelta(seconds=60)
    assert clock.sleeps == [60.0]


def test_5xx_retried_then_provider_unavailable(fake: QuickBooksFake, clock: FakeClock) -> None:
    realm = fake.add_company()
    fake.generate_customers(realm, 2)
    provider = make_provider(fake, clock)
    store = store_for(fake, clock, realm)
    fake.fail_next(1, status=502, endpoint="query")
    assert len(everything(provider.contacts(store, realm))) == 2
    fake.fail_next(3, status=503, endpoint="query")
    with pytest.raises(ProviderUnavailable, match=r"QuickBooks Online is unavailable: query Customer answered 503 .* after 3 attempts"):
        list(provider.contacts(store, realm))
    assert clock.sleeps == [1.0, 1.0, 2.0]


def test_timeout_is_retried(fake: QuickBooksFake, clock: FakeClock) -> None:
    realm = fake.add_company()
    fake.generate_customers(realm, 2)
    fake.slow_next(1, 1.0, endpoint="query")
    provider = make_provider(fake, clock, provider_timeout_seconds=0.25)
    assert len(everything(provider.contacts(store_for(fake, clock, realm), realm))) == 2
    assert fake.calls["query"] == 2


def test_revoke_kills_the_grant(fake: QuickBooksFake, clock: FakeClock) -> None:
    realm = fake.add_company()
    provider = make_provider(fake, clock)
    grant = connect(provider)
    provider.revoke(grant.tokens, realm)
    revoke = fake.recorded("revoke")[0]
    assert json.loads(revoke.body) == {"token": grant.tokens.refresh_token}
    assert revoke.headers["authorization"].startswith("Basic ")
    with pytest.raises(GrantRevoked):
        list(provider.contacts(MemoryTokenStore(grant.tokens, fake), realm))
