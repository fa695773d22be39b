"""Companies House Public Data API: a careful client, and what we store of its answers.

:class:`CompaniesHouseClient` wraps one :class:`~clientdock.outbound.http.CarefulClient`
(timeouts, retries with backoff on 5xx and timeouts) and adds what the register needs
(FACTS.md §3):

* HTTP Basic auth, the API key as the user name and an empty password;
* every call takes a turn of a budget keyed by the API key's hash (never the key itself): by
  default an in-process window parsed from ``companies_house_rate`` ("600/300s"), shared by every
  client in the process; pass shared ``budgets`` to hold it across workers;
* a 429 has no ``Retry-After``: the budget is blocked until ``X-Ratelimit-Reset`` (epoch seconds),
  and the next attempt waits for it;
* a company number is normalised (:mod:`clientdock.enrichment.numbers`) before any call; an
  invalid one raises :class:`BadCompanyNumber` without calling (the register answers a number
  of the wrong length with a 500).

The pure functions (no HTTP) turn the register's answers into what we store:
:func:`register_data`, :func:`key_dates`, :func:`officer_contacts`, :func:`pick_unique_active`.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from clientdock.enrichment.numbers import describe_invalid, normalise_company_number
from clientdock.errors import BadRequest, ClientdockError, FieldError, ValidationFailed
from clientdock.outbound.http import Budgets, CarefulClient, Clock, OrgBudgets, Sleep, describe, json_answer
from clientdock.settings import Settings

DEFAULT_API_URL = "https://api.company-information.service.gov.uk"
DEFAULT_RATE = "600/300s"
#: Officers per page asked for (the register's default is 35; 100 is its maximum).
OFFICERS_PAGE = 100
SEARCH_MAX = 100
#: Calls in flight per key in this process (the register publishes no concurrency limit).
CONCURRENT = 8
#: A 429 without ``X-Ratelimit-Reset`` (nor ``Retry-After``) closes the budget this long.
FALLBACK_THROTTLE_SECONDS = 60.0
SOURCE = "companies-house"

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*s?\s*$")


class CompaniesHouseError(ClientdockError):
    status = 502
    title = "Companies House error"


class CompaniesHouseNotConfigured(BadRequest):
    title = "Companies House not configured"


class BadCompanyNumber(ValidationFailed):
    title = "Invalid company number"


def parse_rate(rate: str) -> tuple[int, float]:
    """``"600/300s"`` → ``(600, 300.0)``: calls per window of seconds."""
    match = _RATE.match(rate)
    if not match or int(match.group(1)) < 1 or float(match.group(2)) <= 0:
        raise ValueError(f"companies_house_rate must look like '600/300s', not {rate!r}")
    return int(match.group(1)), float(match.group(2))


_BUDGETS: dict[str, OrgBudgets] = {}
_BUDGETS_LOCK = threading.Lock()


def process_budgets(rate: str) -> OrgBudgets:
    """The in-process budget for ``rate``, shared by every client in the process."""
    calls, seconds = parse_rate(rate)
    with _BUDGETS_LOCK:
        budgets = _BUDGETS.get(rate)
        if budgets is None:
            budgets = _BUDGETS[rate] = OrgBudgets(concurrent=CONCURRENT, per_minute=calls, window_seconds=seconds)
        return budgets


def key_id(api_key: str) -> str:
    """The budget key of an API key: a short hash, so the key itself is never stored or logged."""
    return "ch:" + hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:16]


def valid_number(raw: str) -> str:
    """The normalised number, or :class:`BadCompanyNumber` naming ``raw``."""
    number = normalise_company_number(raw)
    if number is None:
        reason = describe_invalid(raw)
        raise BadCompanyNumber(f"companyNumber: {reason}", [FieldError("companyNumber", reason)])
    return number


class CompaniesHouseClient:
    label = "Companies House"

    def __init__(
        self,
        settings: Settings,
        *,
        budgets: Budgets | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self.settings = settings
        self.api_key: str | None = getattr(settings, "companies_house_api_key", None)
        self.base_url = str(getattr(settings, "companies_house_api_url", DEFAULT_API_URL)).rstrip("/")
        rate = str(getattr(settings, "companies_house_rate", DEFAULT_RATE))
        parse_rate(rate)  # a bad setting fails here, not at the first call
        self.budgets: Budgets = budgets or process_budgets(rate)
        # No default wait: a 429 is waited out until X-Ratelimit-Reset (see _on_response).
        self.client = CarefulClient(settings, label=self.label, transport=transport, clock=clock, sleep=sleep, default_throttle_wait=0.0)
        self.client.http.event_hooks = {"response": [self._on_response]}
        self.org = key_id(self.api_key) if self.api_key else "ch:none"

    def configured(self) -> bool:
        return bool(self.api_key)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> CompaniesHouseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- calls ---------------------------------------------------------------------------------

    def profile(self, number: str) -> dict[str, Any] | None:
        """``GET /company/{number}``; ``None`` if the register has no such company (404)."""
        n = valid_number(number)
        response = self._get(f"/company/{n}", what=f"company profile {n}")
        if response.status_code == 404:
            return None
        return self._json(response, f"company profile {n}")

    def officers(self, number: str, *, page_size: int = OFFICERS_PAGE) -> list[dict[str, Any]]:
        """Every officer of ``number`` (all pages, resigned ones included); ``[]`` if unknown."""
        n = valid_number(number)
        page_size = max(1, min(OFFICERS_PAGE, page_size))
        items: list[dict[str, Any]] = []
        start = 0
        while True:
            what = f"officers of {n} from {start}"
            response = self._get(f"/company/{n}/officers", what=what, params={"items_per_page": page_size, "start_index": start})
            if response.status_code == 404:
                return items
            body = self._json(response, what)
            page = [item for item in body.get("items") or [] if isinstance(item, dict)]
            items.extend(page)
            total = int(body.get("total_results") or 0)
            start += len(page)
            if not page or start >= total:
                return items

    def search(self, name: str, limit: int = 20) -> list[dict[str, Any]]:
        """``GET /search/companies?q=name``: up to ``limit`` (at most 100) items, best first."""
        query = name.strip()
        if not query:
            raise BadRequest("a company name to search for is required")
        limit = max(1, min(SEARCH_MAX, limit))
        what = f"company search {query!r}"
        response = self._get("/search/companies", what=what, params={"q": query, "items_per_page": limit})
        body = self._json(response, what)
        return [item for item in body.get("items") or [] if isinstance(item, dict)][:limit]

    # --- plumbing ------------------------------------------------------------------------------

    def _get(self, path: str, *, what: str, params: dict[str, Any] | None = None) -> httpx.Response:
        if not self.api_key:
            raise CompaniesHouseNotConfigured("Companies House is not configured: set CLIENTDOCK_COMPANIES_HOUSE_API_KEY")
        url = self.base_url + quote(path)
        response = self.client.send(
            "GET", url, what=what, budgets=self.budgets, org=self.org, params=params or {}, auth=httpx.BasicAuth(self.api_key, "")
        )
        if response.status_code == 401:
            raise CompaniesHouseError(f"{self.label} {what}: the API key was refused (401 Invalid Authorization); check the key")
        return response

    def _json(self, response: httpx.Response, what: str) -> dict[str, Any]:
        if response.status_code != 200:
            raise CompaniesHouseError(f"{self.label} {what} failed: {describe(response)}")
        body: dict[str, Any] = json_answer(response, f"{self.label} {what}", error=CompaniesHouseError)
        return body

    def _on_response(self, response: httpx.Response) -> None:
        """On a 429, block the key's budget until ``X-Ratelimit-Reset`` (the register sends no
        ``Retry-After``); the careful client's next attempt then waits in ``turn()``."""
        if response.status_code != 429:
            return
        self.budgets.block(self.org, throttled_until(response, self.client.now()))


def throttled_until(response: httpx.Response, now: datetime) -> datetime:
    """When a 429 ends: ``Retry-After`` if given, else ``X-Ratelimit-Reset`` (epoch seconds), else
    :data:`FALLBACK_THROTTLE_SECONDS` from ``now``."""
    retry_after = response.headers.get("Retry-After", "").strip()
    if retry_after:
        try:
            return now + timedelta(seconds=max(0.0, float(retry_after)))
        except ValueError:
            pass
    reset = response.headers.get("X-Ratelimit-Reset", "").strip()
    if reset:
        try:
            return max(now, datetime.fromtimestamp(float(reset), tz=UTC))
        except (ValueError, OverflowError, OSError):
            pass
    return now + timedelta(seconds=FALLBACK_THROTTLE_SECONDS)


# --- what we store ------------------------------------------------------------------------------

#: Descriptions of the most common SIC codes (constants.yml ``sic_descriptions``), used when the
#: caller's table lacks a code.
COMMON_SIC: dict[str, str] = {
    "01500": "Mixed farming",
    "10710": "Manufacture of bread; manufacture of fresh pastry goods and cakes",
    "41100": "Development of building projects",
    "41202": "Construction of domestic buildings",
    "43210": "Electrical installation",
    "43220": "Plumbing, heat and air-conditioning installation",
    "43320": "Joinery installation",
    "43390": "Other building completion and finishing",
    "43999": "Other specialised construction activities not elsewhere classified",
    "45111": "Sale of new cars and light motor vehicles",
    "47910": "Retail sale via mail order houses or via Internet",
    "49410": "Freight transport by road",
    "56101": "Licensed restaurants",
    "56210": "Event catering activities",
    "56302": "Public houses and bars",
    "59112": "Video production activities",
    "62012": "Business and domestic software development",
    "62020": "Information technology consultancy activities",
    "62090": "Other information technology service activities",
    "64209": "Activities of other holding companies not elsewhere classified",
    "64921": "Credit granting by non-deposit taking finance houses and other specialist consumer credit grantors",
    "64999": "Financial intermediation not elsewhere classified",
    "68100": "Buying and selling of own real estate",
    "68209": "Other letting and operating of own or leased real estate",
    "69201": "Accounting and auditing activities",
    "69202": "Bookkeeping activities",
    "70100": "Activities of head offices",
    "70229": "Management consultancy activities other than financial management",
    "71129": "Other engineering activities",
    "72110": "Research and experimental development on biotechnology",
    "73110": "Advertising agencies",
    "74100": "Specialised design activities",
    "74909": "Other professional, scientific and technical activities not elsewhere classified",
    "74990": "Non-trading company",
    "81210": "General cleaning of buildings",
    "81300": "Landscape service activities",
    "82990": "Other business support service activities not elsewhere classified",
    "85590": "Other education not elsewhere classified",
    "86230": "Dental practice activities",
    "86900": "Other human health activities",
    "93130": "Fitness facilities",
    "96020": "Hairdressing and other beauty treatment",
    "99999": "Dormant Company",
}

_ADDRESS_KEYS = {
    "care_of": "careOf",
    "po_box": "poBox",
    "premises": "premises",
    "address_line_1": "addressLine1",
    "address_line_2": "addressLine2",
    "locality": "locality",
    "region": "region",
    "postal_code": "postalCode",
    "country": "country",
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _iso_date(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def _section(profile: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = profile.get(name)
    return value if isinstance(value, Mapping) else {}


def register_data(profile: Mapping[str, Any], sic_descriptions: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The business details we store from a ``GET /company/{n}`` answer.

    ``{companyNumber, registeredName, companyStatus, companyStatusDetail, companyType,
    jurisdiction, incorporatedOn, ceasedOn, registeredOfficeAddress {careOf, poBox, premises,
    addressLine1, addressLine2, locality, region, postalCode, country} (present members only),
    sicCodes [{code, description}]}``. Descriptions come from ``sic_descriptions`` (constants.yml's
    ``sic_descriptions``), else :data:`COMMON_SIC`, else ``None``. The legacy ``status`` member is
    read when ``company_status`` is absent.
    """
    table = sic_descriptions or {}
    address_in = _section(profile, "registered_office_address")
    address = {ours: text for theirs, ours in _ADDRESS_KEYS.items() if (text := _text(address_in.get(theirs)))}
    codes = [str(code).strip() for code in profile.get("sic_codes") or [] if _text(code)]
    return {
        "companyNumber": normalise_company_number(_text(profile.get("company_number"))) or _text(profile.get("company_number")),
        "registeredName": _text(profile.get("company_name")),
        "companyStatus": _text(profile.get("company_status")) or _text(profile.get("status")),
        "companyStatusDetail": _text(profile.get("company_status_detail")),
        "companyType": _text(profile.get("type")),
        "jurisdiction": _text(profile.get("jurisdiction")),
        "incorporatedOn": _iso_date(profile.get("date_of_creation")),
        "ceasedOn": _iso_date(profile.get("date_of_cessation")),
        "registeredOfficeAddress": address,
        "sicCodes": [{"code": code, "description": table.get(code) or COMMON_SIC.get(code)} for code in codes],
    }


def key_dates(profile: Mapping[str, Any], *, today: date | None = None) -> dict[str, Any]:
    """The key dates we store (ISO strings or ``None``) and the overdue flags.

    ``{dateOfCreation, accountsNextDue, accountsNextMadeUpTo, accountsLastMadeUpTo,
    accountsOverdue, confirmationStatementNextDue, confirmationStatementNextMadeUpTo,
    confirmationStatementLastMadeUpTo, confirmationStatementOverdue}``. ``accounts.next_due``
    falls back to ``accounts.next_accounts.due_on``. An overdue flag is the register's; with
    ``today`` it is also true when the due date is before ``today`` (the register's flag is as of
    when it answered).
    """
    accounts = _section(profile, "accounts")
    next_accounts = _section(accounts, "next_accounts")
    last_accounts = _section(accounts, "last_accounts")
    statement = _section(profile, "confirmation_statement")
    accounts_due = _iso_date(accounts.get("next_due")) or _iso_date(next_accounts.get("due_on"))
    statement_due = _iso_date(statement.get("next_due"))

    def overdue(flag: Any, due: str | None) -> bool:
        late = bool(flag is True or str(flag).lower() == "true")
        if today is not None and due is not None:
            late = late or date.fromisoformat(due) < today
        return late

    return {
        "dateOfCreation": _iso_date(profile.get("date_of_creation")),
        "accountsNextDue": accounts_due,
        "accountsNextMadeUpTo": _iso_date(accounts.get("next_made_up_to")) or _iso_date(next_accounts.get("period_end_on")),
        "accountsLastMadeUpTo": _iso_date(last_accounts.get("made_up_to")),
        "accountsOverdue": overdue(accounts.get("overdue", next_accounts.get("overdue")), accounts_due),
        "confirmationStatementNextDue": statement_due,
        "confirmationStatementNextMadeUpTo": _iso_date(statement.get("next_made_up_to")),
        "confirmationStatementLastMadeUpTo": _iso_date(statement.get("last_made_up_to")),
        "confirmationStatementOverdue": overdue(statement.get("overdue"), statement_due),
    }


_WORD_START = re.compile(r"(^|[\s\-'’])([a-z])")


def surname_case(surname: str) -> str:
    """An upper-case register surname in name case: ``O'BRIEN`` → ``O'Brien``, ``SMITH-JONES``
    → ``Smith-Jones``, ``MCDONALD`` → ``McDonald``. A surname not all in capitals is kept."""
    if surname != surname.upper():
        return surname
    cased = _WORD_START.sub(lambda m: m.group(1) + m.group(2).upper(), surname.lower())
    return re.sub(r"\bMc([a-z])", lambda m: "Mc" + m.group(1).upper(), cased)


def officer_contacts(officers: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Active officers (no ``resigned_on``) as contacts.

    A person's ``"SURNAME, Forenames"`` splits at the first comma: ``lastName`` in name case
    (:func:`surname_case`), ``firstName`` as the register writes it. A corporate officer (a
    ``corporate-*`` role) or a name without a comma keeps the whole name as ``lastName`` with
    ``firstName`` ``None``. Each contact: ``{firstName, lastName, role, appointedOn, nationality,
    occupation, corporate, source: "companies-house"}``.
    """
    contacts = []
    for officer in officers:
        if _text(officer.get("resigned_on")):
            continue
        name = _text(officer.get("name")) or ""
        role = _text(officer.get("officer_role"))
        corporate = bool(role and role.startswith("corporate-"))
        first: str | None = None
        last = name
        if not corporate and "," in name:
            surname, _, forenames = name.partition(",")
            last, first = surname_case(surname.strip()), forenames.strip() or None
        if not last:
            continue
        contacts.append(
            {
                "firstName": first,
                "lastName": last,
                "role": role,
                "appointedOn": _iso_date(officer.get("appointed_on")),
                "nationality": _text(officer.get("nationality")),
                "occupation": _text(officer.get("occupation")),
                "corporate": corporate,
                "source": SOURCE,
            }
        )
    return contacts


_SUFFIX = re.compile(r"\s+(ltd|limited)$")


def comparable_name(name: str) -> str:
    """Case-folded, spaces collapsed, a final full stop dropped, ``LIMITED`` read as ``LTD``."""
    text = " ".join(name.casefold().split()).rstrip(".").strip()
    return _SUFFIX.sub(" ltd", text)


def choose_unique_active(search_items: Sequence[Mapping[str, Any]], name: str) -> tuple[dict[str, Any] | None, str]:
    """(the one active company titled ``name``, "") or (``None``, why not)."""
    wanted = comparable_name(name)
    same = [dict(item) for item in search_items if comparable_name(str(item.get("title") or "")) == wanted]
    active = [item for item in same if item.get("company_status") == "active"]
    if len(active) == 1:
        return active[0], ""
    if not same:
        return None, f"no company on the register is named {name!r}"
    if not active:
        return None, f"{len(same)} compan{'y' if len(same) == 1 else 'ies'} named {name!r}, none active"
    return None, f"{len(active)} active companies are named {name!r}; give the company number"


def pick_unique_active(search_items: Sequence[Mapping[str, Any]], name: str) -> dict[str, Any] | None:
    """Exactly one active company whose title equals ``name`` (case-insensitive, Ltd = Limited),
    else ``None`` (:func:`choose_unique_active` says why)."""
    return choose_unique_active(search_items, name)[0]
