"""A faithful loopback fake of the Companies House Public Data API (FACTS.md §3 and §5, items 1-3, 13-16).

Start it and point the settings at it::

    fake = CompaniesHouseFake(clock)            # clock: a FakeClock shared with the client
    fake.seed_examples()                        # IWOCA LTD 07798925 (+ 14 officers), 00006402
    fake.generate_companies(50, seed=1)         # or fake.add_company(profile, officers)
    fake.start()
    settings = Settings(**fake.settings())      # companies_house_api_url and the API key

Routes (endpoint names for ``fake.calls`` in brackets): ``GET /company/{n}`` [profile],
``GET /company/{n}/officers`` [officers], ``GET /search/companies`` [search].

Behaviour:

* Auth: HTTP Basic with an API key as the user name and an empty password (``keys``; add more
  with :meth:`add_key`). Anything else: 401 ``{"error":"Invalid Authorization","type":"ch:service"}``.
* ``/company/{n}``: the stored profile (``etag``, ``links``, string ``accounting_reference_date``
  day/month kept as given); an unknown 8-character number: 404 ``company-profile-not-found``; a
  number of another length: 500 ``{"exception_id": …, "error": "Internal server error"}``.
* ``/company/{n}/officers``: ``start_index`` (0-based) / ``items_per_page`` (default 35, at most
  100) paging; ``total_results``, ``active_count``, ``resigned_count``, ``inactive_count``
  consistent with the items; active officers first; ``resigned_on`` only on resigned ones.
  An unknown company: 404 ``{"errors":[{"type":"ch:service","error":"not-found"}]}`` [the real
  body is not documented in our sources].
* ``/search/companies?q=&items_per_page=&start_index=``: the search-all-companies shape
  (developer.company-information.service.gov.uk, "searchCompanies"), as far as we know it::

      {"kind": "search#companies", "total_results": 2, "items_per_page": 20, "start_index": 0,
       "page_number": 1, "items": [{"kind": "searchresults#company", "title": "IWOCA LTD",
       "company_number": "07798925", "company_status": "active", "company_type": "ltd",
       "address_snippet": "10 Queen Street Place, London, EC4R 1AG", "address": {…},
       "date_of_creation": "2011-10-05", "description": "07798925 - Incorporated on 5 October 2011",
       "description_identifier": ["incorporated-on"], "snippet": "", "matches": {"title": [1, 5]},
       "links": {"self": "/company/07798925"}}]}

  A company matches when every word of ``q`` is in its name (case-insensitive); exact names first.
  ``items_per_page`` defaults to 20, at most 100. No ``q``: 400 (guess).
* Rate limit per key: ``limit`` calls (600) per fixed ``window_seconds`` window (300) that opens
  at a key's first call. Every answer to a known key carries ``X-Ratelimit-Limit``,
  ``X-Ratelimit-Remain``, ``X-Ratelimit-Reset`` (epoch seconds of the window's end) and
  ``X-Ratelimit-Window`` (``5m``); over the limit every call is 429 until the reset, with no
  ``Retry-After``. Time is the shared :class:`FakeClock`.
* Switches of :class:`FakePlatform`: ``fail_next`` (5xx), ``throttle_next(n, retry_after=s)`` (a
  429 whose ``X-Ratelimit-Reset`` is ``s`` seconds away), ``slow_next``.
"""

from __future__ import annotations

import base64
import copy
import math
import random
import secrets
import string
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.fakes.base import FakePlatform
from tests.fakes.clock import FakeClock
from tests.fakes.data import CITIES, FIRST, LAST, STREETS, TRADES

INVALID_AUTHORIZATION = {"error": "Invalid Authorization", "type": "ch:service"}
PROFILE_NOT_FOUND = {"errors": [{"type": "ch:service", "error": "company-profile-not-found"}]}
OFFICERS_NOT_FOUND = {"errors": [{"type": "ch:service", "error": "not-found"}]}
DEFAULT_KEY = "ch-test-key-0b1c2d3e"


@dataclass
class _Window:
    started: float  # epoch seconds
    count: int = 0


def _etag() -> str:
    return secrets.token_hex(20)


def _words(text: str) -> list[str]:
    """The words of a name, "limited" and "ltd" alike (the register's search is as lenient)."""
    words = "".join(ch if ch.isalnum() else " " for ch in text.casefold()).split()
    return ["ltd" if word == "limited" else word for word in words]


def _address_snippet(address: dict[str, Any]) -> str:
    first = " ".join(str(address[k]) for k in ("premises", "address_line_1") if address.get(k))
    rest = [str(address[k]) for k in ("address_line_2", "locality", "region", "postal_code") if address.get(k)]
    return ", ".join(part for part in [first, *rest] if part)


class CompaniesHouseFake(FakePlatform):
    def __init__(
        self,
        clock: FakeClock | None = None,
        *,
        api_key: str = DEFAULT_KEY,
        limit: int = 600,
        window_seconds: int = 300,
    ) -> None:
        super().__init__(clock)
        self.keys: set[str] = {api_key}
        self.api_key = api_key
        self.limit = limit
        self.window_seconds = window_seconds
        self.companies: dict[str, dict[str, Any]] = {}
        self.officer_lists: dict[str, list[dict[str, Any]]] = {}
        self._windows: dict[str, _Window] = {}
        self.route("/company/{number}", "profile", self._profile, methods=["GET"])
        self.route("/company/{number}/officers", "officers", self._officers, methods=["GET"])
        self.route("/search/companies", "search", self._search, methods=["GET"])

    # --- seeding -------------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """Keyword arguments for ``Settings`` pointing Companies House at this fake."""
        return {"companies_house_api_url": self.base_url, "companies_house_api_key": self.api_key}

    def add_key(self, key: str) -> None:
        with self.lock:
            self.keys.add(key)

    def add_company(self, profile: dict[str, Any], officers: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        one = copy.deepcopy(profile)
        number = str(one["company_number"]).upper()
        one.setdefault("etag", _etag())
        one.setdefault("links", {"self": f"/company/{number}", "officers": f"/company/{number}/officers"})
        with self.lock:
            self.companies[number] = one
            self.officer_lists[number] = copy.deepcopy(officers or [])
        return one

    def set_officers(self, number: str, officers: list[dict[str, Any]]) -> None:
        with self.lock:
            self.officer_lists[number] = copy.deepcopy(officers)

    def seed_examples(self) -> None:
        """The reference examples: IWOCA LTD (07798925) with its 14 anonymised officers, and the
        register's own fixture 00006402 (in liquidation, accounts overdue), no officers."""
        self.add_company(EXAMPLE_PROFILE_07798925, EXAMPLE_OFFICERS_07798925["items"])
        self.add_company(EXAMPLE_PROFILE_00006402, [])

    def generate_companies(self, n: int, *, seed: int = 0) -> list[dict[str, Any]]:
        """``n`` realistic companies with officers; deterministic for ``seed``."""
        rng = random.Random(seed)
        today = self.clock().date()
        made = []
        for i in range(n):
            profile, officers = _generate_company(rng, i, today)
            while profile["company_number"] in self.companies:
                profile, officers = _generate_company(rng, i, today)
            made.append(self.add_company(profile, officers))
        return made

    # --- auth and the rate limit ---------------------------------------------------------------

    def _key(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            decoded = base64.b64decode(header.split(" ", 1)[1], validate=True).decode("utf-8")
        except ValueError:
            return None
        key, colon, password = decoded.partition(":")
        if not colon or password or key not in self.keys:
            return None
        return key

    def _window_name(self) -> str:
        return f"{self.window_seconds // 60}m" if self.window_seconds % 60 == 0 else f"{self.window_seconds}s"

    def _rate_headers(self, remain: int, reset: float) -> dict[str, str]:
        return {
            "X-Ratelimit-Limit": str(self.limit),
            "X-Ratelimit-Remain": str(max(0, remain)),
            "X-Ratelimit-Reset": str(math.ceil(reset)),
            "X-Ratelimit-Window": self._window_name(),
        }

    def _admit(self, key: str) -> tuple[bool, dict[str, str]]:
        """Count a call of ``key`` in its window: (allowed, the rate headers)."""
        now = self.clock().timestamp()
        with self.lock:
            window = self._windows.get(key)
            if window is None or now >= window.started + self.window_seconds:
                window = self._windows[key] = _Window(started=now)
            reset = window.started + self.window_seconds
            if window.count >= self.limit:
                return False, self._rate_headers(0, reset)
            window.count += 1
            return True, self._rate_headers(self.limit - window.count, reset)

    def remaining(self, key: str | None = None) -> int:
        key = key or self.api_key
        now = self.clock().timestamp()
        with self.lock:
            window = self._windows.get(key)
            if window is None or now >= window.started + self.window_seconds:
                return self.limit
            return max(0, self.limit - window.count)

    def throttle_response(self, retry_after: int) -> Response:
        reset = self.clock().timestamp() + retry_after
        return self._too_many(self._rate_headers(0, reset))

    def _too_many(self, headers: dict[str, str]) -> Response:
        # The register's 429 carries the rate headers and no Retry-After.
        return JSONResponse({"error": "Too Many Requests", "type": "ch:service"}, status_code=429, headers=headers)

    def _gate(self, request: Request) -> tuple[Response | None, dict[str, str]]:
        key = self._key(request)
        if key is None:
            return JSONResponse(INVALID_AUTHORIZATION, status_code=401), {}
        allowed, headers = self._admit(key)
        if not allowed:
            return self._too_many(headers), headers
        return None, headers

    # --- endpoints -----------------------------------------------------------------------------

    def _number(self, request: Request) -> str | Response:
        number = str(request.path_params["number"]).upper()
        if len(number) != 8:
            return JSONResponse({"exception_id": secrets.token_hex(6)[:12], "error": "Internal server error"}, status_code=500)
        return number

    async def _profile(self, request: Request) -> Response:
        refused, headers = self._gate(request)
        if refused is not None:
            return refused
        number = self._number(request)
        if isinstance(number, Response):
            number.headers.update(headers)
            return number
        with self.lock:
            profile = copy.deepcopy(self.companies.get(number))
        if profile is None:
            return JSONResponse(PROFILE_NOT_FOUND, status_code=404, headers=headers)
        return JSONResponse(profile, headers=headers)

    async def _officers(self, request: Request) -> Response:
        refused, headers = self._gate(request)
        if refused is not None:
            return refused
        number = self._number(request)
        if isinstance(number, Response):
            number.headers.update(headers)
            return number
        with self.lock:
            known = number in self.companies
            officers = copy.deepcopy(self.officer_lists.get(number, []))
        if not known:
            return JSONResponse(OFFICERS_NOT_FOUND, status_code=404, headers=headers)
        try:
            per_page = min(100, max(1, int(request.query_params.get("items_per_page", "35"))))
            start = max(0, int(request.query_params.get("start_index", "0")))
        except ValueError:
            return JSONResponse({"errors": [{"type": "ch:service", "error": "invalid-parameter"}]}, status_code=400, headers=headers)
        ordered = [o for o in officers if not o.get("resigned_on")] + [o for o in officers if o.get("resigned_on")]
        active = sum(1 for o in officers if not o.get("resigned_on"))
        body = {
            "etag": _etag(),
            "kind": "officer-list",
            "links": {"self": f"/company/{number}/officers"},
            "items_per_page": per_page,
            "start_index": start,
            "total_results": len(ordered),
            "active_count": active,
            "resigned_count": len(ordered) - active,
            "inactive_count": 0,
            "items": ordered[start : start + per_page],
        }
        return JSONResponse(body, headers=headers)

    async def _search(self, request: Request) -> Response:
        refused, headers = self._gate(request)
        if refused is not None:
            return refused
        query = request.query_params.get("q", "").strip()
        if not query:
            return JSONResponse({"errors": [{"type": "ch:service", "error": "q-required"}]}, status_code=400, headers=headers)
        try:
            per_page = min(100, max(1, int(request.query_params.get("items_per_page", "20"))))
            start = max(0, int(request.query_params.get("start_index", "0")))
        except ValueError:
            return JSONResponse({"errors": [{"type": "ch:service", "error": "invalid-parameter"}]}, status_code=400, headers=headers)
        wanted = _words(query)
        with self.lock:
            found = [p for p in self.companies.values() if all(w in _words(str(p.get("company_name", ""))) for w in wanted)]
            found = copy.deepcopy(found)
        found.sort(key=lambda p: (_words(str(p.get("company_name", ""))) != wanted, str(p.get("company_name", ""))))
        items = [_search_item(p, query) for p in found[start : start + per_page]]
        body = {
            "kind": "search#companies",
            "total_results": len(found),
            "items_per_page": per_page,
            "start_index": start,
            "page_number": start // per_page + 1,
            "items": items,
        }
        return JSONResponse(body, headers=headers)


def _search_item(profile: dict[str, Any], query: str) -> dict[str, Any]:
    number = str(profile["company_number"])
    title = str(profile.get("company_name", ""))
    address = dict(profile.get("registered_office_address") or {})
    created = str(profile.get("date_of_creation", ""))
    description = number
    if created:
        day = date.fromisoformat(created)
        description = f"{number} - Incorporated on {day.day} {day.strftime('%B %Y')}"
    at = title.casefold().find(query.casefold())
    item: dict[str, Any] = {
        "kind": "searchresults#company",
        "title": title,
        "company_number": number,
        "company_status": profile.get("company_status") or profile.get("status"),
        "company_type": profile.get("type"),
        "address_snippet": _address_snippet(address),
        "address": address,
        "date_of_creation": created,
        "description": description,
        "description_identifier": ["incorporated-on"],
        "snippet": "",
        "matches": {"title": [at + 1, at + len(query)] if at >= 0 else [], "snippet": []},
        "links": {"self": f"/company/{number}"},
    }
    if profile.get("date_of_cessation"):
        item["date_of_cessation"] = profile["date_of_cessation"]
    return item


# --- the generator --------------------------------------------------------------------------------

_WORDS = ["ACORN", "BRIDGEWATER", "CASTLEGATE", "DOVETAIL", "ELMWOOD", "FERNLEA", "GREYSTONE", "HARBOUR", "IVYBRIDGE",
          "JUNIPER", "KESTREL", "LANTERN", "MERIDIAN", "NORTHGATE", "OAKRIDGE", "PENNINE", "QUAYSIDE", "RIVERSIDE",
          "SILVERBIRCH", "THISTLE", "UPLAND", "VALLEY", "WESTBROOK", "YARROW"]  # fmt: skip
_SIC = {"JOINERY": "43320", "CONSULTING": "70229", "HOLDINGS": "64209", "LOGISTICS": "49410", "BAKERY": "10710",
        "DENTAL CARE": "86230", "ENGINEERING": "71129", "PROPERTY": "68209", "DESIGN": "74100", "MOTORS": "45111",
        "CATERING": "56210", "SOFTWARE": "62012", "LANDSCAPES": "81300", "PLUMBING & HEATING": "43220",
        "ACCOUNTANCY": "69201", "FARMS": "01500", "MEDIA": "59112", "ELECTRICAL": "43210"}  # fmt: skip
_OCCUPATIONS = ["Director", "Company Director", "Accountant", "Engineer", "Consultant", "Chef", "Managing Director", "Retired"]
_NATIONALITIES = ["British", "British", "British", "Irish", "Polish", "Indian", "German", "Scottish", "Welsh"]


def _generate_company(rng: random.Random, i: int, today: date) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    trade = rng.choice(TRADES).upper()
    kind = rng.choices(["ew", "sc", "ni", "llp"], weights=[80, 10, 4, 6])[0]
    if kind == "ew":
        number, jurisdiction, company_type = f"{rng.randint(1, 15_999_999):08d}", "england-wales", "ltd"
    elif kind == "sc":
        number, jurisdiction, company_type = f"SC{rng.randint(1, 799_999):06d}", "scotland", "ltd"
    elif kind == "ni":
        number, jurisdiction, company_type = f"NI{rng.randint(1, 699_999):06d}", "northern-ireland", "ltd"
    else:
        number, jurisdiction, company_type = f"OC{rng.randint(300_000, 449_999):06d}", "england-wales", "llp"
    suffix = "LLP" if company_type == "llp" else rng.choice(["LTD", "LIMITED", "LTD", "LIMITED"])
    name = f"{rng.choice(_WORDS)} {trade} {suffix}"
    status = rng.choices(["active", "dissolved", "liquidation", "administration"], weights=[85, 8, 5, 2])[0]
    created = today - timedelta(days=rng.randint(400, 9000))
    city, region, postcode, _ = rng.choice(CITIES)
    address: dict[str, Any] = {
        "address_line_1": f"{rng.randint(1, 220)} {rng.choice(STREETS)}",
        "locality": city,
        "postal_code": postcode,
        "country": "Scotland" if kind == "sc" else "Northern Ireland" if kind == "ni" else rng.choice(["England", "United Kingdom"]),
    }
    if region:
        address["region"] = region
    if rng.random() < 0.3:
        address["premises"] = f"Unit {rng.randint(1, 30)}"
    overdue = status == "active" and rng.random() < 0.15
    cs_overdue = status == "active" and rng.random() < 0.1
    year_end = date(today.year - 1, rng.choice([3, 6, 12]), 28)
    next_made_up_to = year_end if overdue else year_end.replace(year=today.year)
    due = next_made_up_to + timedelta(days=274)
    if overdue and due >= today:
        due = today - timedelta(days=rng.randint(1, 60))
    cs_made_up_to = today - timedelta(days=rng.randint(400, 500)) if cs_overdue else today + timedelta(days=rng.randint(10, 300))
    cs_due = cs_made_up_to + timedelta(days=14)
    if cs_overdue and cs_due >= today:
        cs_due = today - timedelta(days=1)
    profile: dict[str, Any] = {
        "company_name": name,
        "company_number": number,
        "company_status": status,
        "type": company_type,
        "jurisdiction": jurisdiction,
        "date_of_creation": created.isoformat(),
        "registered_office_address": address,
        "sic_codes": sorted({_SIC.get(trade, "82990"), *(["99999"] if rng.random() < 0.05 else [])}),
        "accounts": {
            "accounting_reference_date": {"day": str(year_end.day), "month": str(year_end.month)},
            "next_due": due.isoformat(),
            "next_made_up_to": next_made_up_to.isoformat(),
            "overdue": overdue,
            "next_accounts": {"due_on": due.isoformat(), "period_end_on": next_made_up_to.isoformat(), "overdue": overdue},
            "last_accounts": {"made_up_to": (next_made_up_to - timedelta(days=365)).isoformat(), "type": "micro-entity"},
        },
        "confirmation_statement": {
            "next_due": cs_due.isoformat(),
            "next_made_up_to": cs_made_up_to.isoformat(),
            "last_made_up_to": (cs_made_up_to - timedelta(days=365)).isoformat(),
            "overdue": cs_overdue,
        },
        "has_charges": rng.random() < 0.3,
        "has_insolvency_history": status in ("liquidation", "administration"),
        "can_file": status == "active",
        "links": {"self": f"/company/{number}", "officers": f"/company/{number}/officers",
                  "filing_history": f"/company/{number}/filing-history"},
    }  # fmt: skip
    if status == "dissolved":
        profile["date_of_cessation"] = (today - timedelta(days=rng.randint(30, 300))).isoformat()
    officers = [_generate_officer(rng, number, created, today, company_type) for _ in range(rng.randint(1, 6))]
    if rng.random() < 0.1:
        officers.append(_corporate_officer(rng, number, created, company_type))
    return profile, officers


def _generate_officer(rng: random.Random, number: str, created: date, today: date, company_type: str) -> dict[str, Any]:
    surname = rng.choice(LAST).upper()
    forenames = " ".join(rng.sample(FIRST, rng.choice([1, 1, 2])))
    appointed = created + timedelta(days=rng.randint(0, max(0, (today - created).days - 30)))
    role = "llp-designated-member" if company_type == "llp" else rng.choices(["director", "secretary"], weights=[85, 15])[0]
    city, _, postcode, _ = rng.choice(CITIES)
    officer: dict[str, Any] = {
        "name": f"{surname}, {forenames}",
        "officer_role": role,
        "appointed_on": appointed.isoformat(),
        "address": {"address_line_1": rng.choice(STREETS), "premises": str(rng.randint(1, 99)), "locality": city, "postal_code": postcode,
                    "country": "United Kingdom"},
        "links": {"self": f"/company/{number}/appointments/{secrets.token_urlsafe(20)}",
                  "officer": {"appointments": f"/officers/{secrets.token_urlsafe(20)}/appointments"}},
    }  # fmt: skip
    if role != "secretary":
        officer["date_of_birth"] = {"month": rng.randint(1, 12), "year": rng.randint(1945, 2000)}
        officer["occupation"] = rng.choice(_OCCUPATIONS)
        officer["nationality"] = rng.choice(_NATIONALITIES)
        officer["country_of_residence"] = rng.choice(["England", "United Kingdom", "Scotland", "Wales"])
    if rng.random() < 0.25 and (today - appointed).days > 60:
        officer["resigned_on"] = (appointed + timedelta(days=rng.randint(30, (today - appointed).days))).isoformat()
    return officer


def _corporate_officer(rng: random.Random, number: str, created: date, company_type: str) -> dict[str, Any]:
    role = "corporate-llp-member" if company_type == "llp" else rng.choice(["corporate-director", "corporate-secretary"])
    city, _, postcode, _ = rng.choice(CITIES)
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(3))
    return {
        "name": f"{letters} {rng.choice(['NOMINEES', 'SECRETARIES', 'CORPORATE SERVICES'])} LIMITED",
        "officer_role": role,
        "appointed_on": created.isoformat(),
        "address": {"address_line_1": rng.choice(STREETS), "premises": str(rng.randint(1, 99)), "locality": city, "postal_code": postcode},
        "identification": {"identification_type": "uk-limited-company", "registration_number": f"{rng.randint(1, 15_999_999):08d}"},
        "links": {"self": f"/company/{number}/appointments/{secrets.token_urlsafe(20)}",
                  "officer": {"appointments": f"/officers/{secrets.token_urlsafe(20)}/appointments"}},
    }  # fmt: skip


# --- the reference examples (reference/companies-house/examples, verbatim; officers anonymised) ----

#: ``company_profile_07798925_iwoca.json``
EXAMPLE_PROFILE_07798925: dict[str, Any] = {
    "can_file": True,
    "date_of_creation": "2011-10-05",
    "confirmation_statement": {
        "overdue": False,
        "next_due": "2021-11-06",
        "last_made_up_to": "2020-10-23",
        "next_made_up_to": "2021-10-23",
    },
    "last_full_members_list_date": "2015-10-23",
    "sic_codes": ["64921"],
    "has_insolvency_history": False,
    "status": "active",
    "company_number": "07798925",
    "accounts": {
        "next_due": "2021-09-30",
        "next_accounts": {"period_start_on": "2020-01-01", "period_end_on": "2020-12-31", "overdue": False, "due_on": "2021-09-30"},
        "overdue": False,
        "last_accounts": {"period_end_on": "2019-12-31", "period_start_on": "2019-01-01", "made_up_to": "2019-12-31", "type": "group"},
        "next_made_up_to": "2020-12-31",
        "accounting_reference_date": {"day": "31", "month": "12"},
    },
    "company_status": "active",
    "has_super_secure_pscs": False,
    "type": "ltd",
    "jurisdiction": "england-wales",
    "company_name": "IWOCA LTD",
    "registered_office_is_in_dispute": False,
    "etag": "545e04af49c3ffc9dabd2695f5dd0a9817ec7202",
    "has_been_liquidated": False,
    "has_charges": True,
    "registered_office_address": {
        "country": "United Kingdom",
        "postal_code": "EC4R 1AG",
        "locality": "London",
        "address_line_1": "10 Queen Street Place",
    },
    "undeliverable_registered_office_address": False,
    "links": {
        "persons_with_significant_control_statements": "/company/07798925/persons-with-significant-control-statements",
        "officers": "/company/07798925/officers",
        "filing_history": "/company/07798925/filing-history",
        "charges": "/company/07798925/charges",
        "self": "/company/07798925",
    },
}

#: ``company_profile_00006402_fixture.json``
EXAMPLE_PROFILE_00006402: dict[str, Any] = {
    "accounts": {
        "accounting_reference_date": {"day": "31", "month": "12"},
        "last_accounts": {
            "made_up_to": "2020-12-31",
            "period_end_on": "2020-12-31",
            "period_start_on": "2020-01-01",
            "type": "total-exemption-full",
        },
        "next_accounts": {"due_on": "2022-09-30", "period_end_on": "2021-12-31", "period_start_on": "2021-01-01", "overdue": True},
        "next_due": "2022-09-30",
        "next_made_up_to": "2021-12-31",
        "overdue": True,
    },
    "can_file": True,
    "company_name": "RENABLE PHARMA LTD",
    "company_number": "00006402",
    "company_status": "liquidation",
    "confirmation_statement": {"last_made_up_to": "2021-03-04", "next_due": "2022-03-18", "next_made_up_to": "2022-03-04", "overdue": True},
    "date_of_creation": "2015-03-04",
    "etag": "5a3c51b439584d98d420143d6a22996571646302",
    "has_insolvency_history": True,
    "jurisdiction": "england-wales",
    "last_full_members_list_date": "2016-03-04",
    "links": {
        "filing_history": "/company/00006402/filing-history",
        "officers": "/company/00006402/officers",
        "persons_with_significant_control": "/company/00006402/persons-with-significant-control",
        "self": "/company/00006402",
        "insolvency": "insolvency",
        "uk_establishments": "/company/00006402/uk-establishments",
    },
    "registered_office_address": {
        "address_line_1": "Ground Floor Marlow International",
        "address_line_2": "Parkway",
        "country": "England",
        "locality": "Marlow",
        "postal_code": "SL7 1YL",
    },
    "sic_codes": ["72110"],
    "type": "ltd",
}

#: ``officers_07798925_iwoca.json``
EXAMPLE_OFFICERS_07798925: dict[str, Any] = {
    "etag": "e443d9807a0725f45a166c6a9a19699fe47e4362",
    "start_index": 0,
    "inactive_count": 0,
    "items": [
        {
            "nationality": "British",
            "address": {
                "address_line_1": "Long Acre",
                "postal_code": "WC2E 9RA",
                "locality": "London",
                "country": "United Kingdom",
                "premises": "90",
            },
            "date_of_birth": {"year": 1960, "month": 1},
            "occupation": "Investor",
            "country_of_residence": "England",
            "name": "ASHFORD, Alexander James",
            "officer_role": "director",
            "links": {
                "officer": {"appointments": "/officers/fake-officer-00/appointments"},
                "self": "/company/07798925/appointments/y5aLDTt7WtenbadPPeKe1-BpA60",
            },
            "appointed_on": "2013-12-23",
        },
        {
            "name": "BELLAMY, Beatrice Anne",
            "officer_role": "director",
            "links": {
                "self": "/company/07798925/appointments/0PWRARam016rqXcOjwURDvXFKOY",
                "officer": {"appointments": "/officers/fake-officer-01/appointments"},
            },
            "appointed_on": "2011-11-14",
            "nationality": "British",
            "address": {
                "address_line_1": "Long Acre",
                "country": "United Kingdom",
                "locality": "London",
                "postal_code": "WC2E 9RA",
                "premises": "90",
            },
            "date_of_birth": {"year": 1961, "month": 2},
            "country_of_residence": "United Kingdom",
            "occupation": "Managing Director",
        },
        {
            "officer_role": "director",
            "name": "CARRINGTON, Charles Edward",
            "appointed_on": "2019-01-28",
            "links": {
                "officer": {"appointments": "/officers/fake-officer-02/appointments"},
                "self": "/company/07798925/appointments/6OIQ7o0XJY_r7ARq5yAKxnvDnKM",
            },
            "address": {
                "address_line_1": "Long Acre",
                "country": "United Kingdom",
                "postal_code": "WC2E 9RA",
                "locality": "London",
                "premises": "90",
            },
            "nationality": "British",
            "country_of_residence": "United Kingdom",
            "occupation": "Investment Manager",
            "date_of_birth": {"year": 1962, "month": 3},
        },
        {
            "address": {
                "country": "United Kingdom",
                "locality": "London",
                "postal_code": "WC2E 9RA",
                "address_line_1": "Long Acre",
                "premises": "90",
            },
            "nationality": "Irish",
            "date_of_birth": {"year": 1963, "month": 4},
            "country_of_residence": "United Kingdom",
            "occupation": "Director",
            "officer_role": "director",
            "name": "DALTON, Diana Ruth",
            "appointed_on": "2020-03-04",
            "links": {
                "officer": {"appointments": "/officers/fake-officer-03/appointments"},
                "self": "/company/07798925/appointments/_S63c1Zro4RO_QK2i0Gv0O9J7rM",
            },
        },
        {
            "name": "EVERSLEY, Edmund Paul",
            "officer_role": "director",
            "links": {
                "self": "/company/07798925/appointments/0ZTxA-JzSF0VZ_TVMEh0PqF_SLk",
                "officer": {"appointments": "/officers/fake-officer-04/appointments"},
            },
            "appointed_on": "2011-10-05",
            "nationality": "German",
            "address": {
                "address_line_1": "Long Acre",
                "locality": "London",
                "postal_code": "WC2E 9RA",
                "country": "United Kingdom",
                "premises": "90",
            },
            "date_of_birth": {"year": 1964, "month": 5},
            "occupation": "Ceo And Director",
            "country_of_residence": "United Kingdom",
        },
        {
            "address": {
                "premises": "90",
                "address_line_1": "Long Acre",
                "country": "United Kingdom",
                "postal_code": "WC2E 9RA",
                "locality": "London",
            },
            "nationality": "South African",
            "occupation": "Investor",
            "country_of_residence": "United Kingdom",
            "date_of_birth": {"year": 1965, "month": 6},
            "officer_role": "director",
            "name": "FAIRCLOUGH, Frances Mary",
            "appointed_on": "2012-08-10",
            "links": {
                "self": "/company/07798925/appointments/0RFws0DPbyYOYJ4pCMJAyvV7kHA",
                "officer": {"appointments": "/officers/fake-officer-05/appointments"},
            },
        },
        {
            "appointed_on": "2015-07-01",
            "links": {
                "officer": {"appointments": "/officers/fake-officer-06/appointments"},
                "self": "/company/07798925/appointments/mPg9CPPtbc6yKTmtc91nEHYtyR0",
            },
            "officer_role": "director",
            "name": "GARROWAY, George William",
            "date_of_birth": {"year": 1966, "month": 7},
            "occupation": "Director",
            "country_of_residence": "Germany",
            "address": {
                "premises": "90",
                "address_line_1": "Long Acre",
                "country": "United Kingdom",
                "locality": "London",
                "postal_code": "WC2E 9RA",
            },
            "nationality": "German",
        },
        {
            "links": {
                "officer": {"appointments": "/officers/fake-officer-07/appointments"},
                "self": "/company/07798925/appointments/9ITdMFdLjhU65yeOeOStGDRXxLI",
            },
            "appointed_on": "2017-05-22",
            "name": "HARTLEY, Helen Louise",
            "officer_role": "director",
            "occupation": "Principal",
            "country_of_residence": "United Kingdom",
            "date_of_birth": {"year": 1967, "month": 8},
            "nationality": "Dutch",
            "address": {
                "region": "London",
                "address_line_1": "Tottenham Court Road",
                "country": "United Kindom",
                "locality": "Fitzrovia",
                "postal_code": "W1T 7QX",
                "premises": "247",
            },
        },
        {
            "address": {
                "premises": "20-22",
                "address_line_1": "Great Titchfield Street",
                "locality": "London",
                "postal_code": "W1W 8BE",
                "country": "England",
            },
            "nationality": "Dutch",
            "country_of_residence": "Netherlands",
            "occupation": "Managing Partner Prime Ventures",
            "date_of_birth": {"year": 1968, "month": 9},
            "resigned_on": "2017-05-22",
            "officer_role": "director",
            "name": "IVES, Ian Robert",
            "appointed_on": "2016-10-21",
            "links": {
                "self": "/company/07798925/appointments/bNObAhvCbOWq0bUaNBeGT7xTroE",
                "officer": {"appointments": "/officers/fake-officer-08/appointments"},
            },
        },
        {
            "nationality": "British",
            "address": {
                "premises": "26",
                "address_line_1": "Red Lion Square",
                "locality": "London",
                "postal_code": "WC1R 4AG",
                "country": "United Kingdom",
            },
            "occupation": "Investor",
            "country_of_residence": "England",
            "date_of_birth": {"year": 1969, "month": 10},
            "resigned_on": "2015-07-01",
            "name": "JARDINE, Julia Kate",
            "officer_role": "director",
            "links": {
                "self": "/company/07798925/appointments/l5rHqmapw58CRkA04bVAjVJdiP0",
                "officer": {"appointments": "/officers/fake-officer-09/appointments"},
            },
            "appointed_on": "2012-12-20",
        },
        {
            "appointed_on": "2012-08-10",
            "links": {
                "self": "/company/07798925/appointments/btIC1LCPLsyfdrjDFt_-7pz8HNw",
                "officer": {"appointments": "/officers/fake-officer-10/appointments"},
            },
            "resigned_on": "2015-07-01",
            "officer_role": "director",
            "name": "KESTREL, Kenneth John",
            "occupation": "Business Consultant",
            "country_of_residence": "England",
            "date_of_birth": {"year": 1970, "month": 11},
            "address": {
                "country": "United Kingdom",
                "locality": "London",
                "postal_code": "WC1R 4AG",
                "address_line_1": "Red Lion Square",
                "premises": "26",
            },
            "nationality": "South African",
        },
        {
            "appointed_on": "2015-07-01",
            "links": {
                "self": "/company/07798925/appointments/Wbddrijyd30f38yaMASXFO_pOKI",
                "officer": {"appointments": "/officers/fake-officer-11/appointments"},
            },
            "officer_role": "director",
            "name": "LANGDON, Laura Jane",
            "resigned_on": "2016-10-21",
            "date_of_birth": {"year": 1971, "month": 12},
            "country_of_residence": "Germany",
            "occupation": "Director",
            "address": {"premises": "26", "locality": "London", "postal_code": "WC1R 4AG", "address_line_1": "Red Lion Square"},
            "nationality": "German",
        },
        {
            "date_of_birth": {"year": 1972, "month": 1},
            "occupation": "It",
            "country_of_residence": "United Kingdom",
            "nationality": "English",
            "address": {
                "address_line_2": "Unit 13",
                "premises": "49",
                "address_line_1": "Atalanta Street",
                "locality": "London",
                "postal_code": "SW6 6TU",
                "country": "United Kingdom",
            },
            "links": {
                "officer": {"appointments": "/officers/fake-officer-12/appointments"},
                "self": "/company/07798925/appointments/qXNdykttQDmxl2R0QSvRtmN3G28",
            },
            "appointed_on": "2011-11-24",
            "name": "MARLOW, Michael Peter",
            "officer_role": "director",
            "resigned_on": "2011-12-19",
        },
        {
            "nationality": "German",
            "address": {
                "country": "United Kingdom",
                "locality": "London",
                "postal_code": "WC1R 4AG",
                "address_line_1": "Red Lion Square",
                "premises": "26",
            },
            "date_of_birth": {"year": 1973, "month": 2},
            "occupation": "Executive Vp",
            "country_of_residence": "United Kingdom",
            "name": "NETHERCOTT, Nora Grace",
            "officer_role": "director",
            "resigned_on": "2015-07-01",
            "links": {
                "officer": {"appointments": "/officers/fake-officer-13/appointments"},
                "self": "/company/07798925/appointments/HfETD3pVX2cRBa3n2RbN5XI1Ey4",
            },
            "appointed_on": "2012-10-02",
        },
    ],
    "total_results": 14,
    "resigned_count": 6,
    "items_per_page": 35,
    "kind": "officer-list",
    "active_count": 8,
    "links": {"self": "/company/07798925/officers"},
}
