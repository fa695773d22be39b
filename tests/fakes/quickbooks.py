"""A faithful loopback fake of QuickBooks Online: OAuth 2.0, the Customer query API, CompanyInfo.

Start it and point the settings at it::

    fake = QuickBooksFake(clock)
    realm = fake.add_company("Craig's Design and Landscaping")
    fake.generate_customers(realm, 2500, seed=1)   # or fake.seed_examples(realm) / add_customers(...)
    fake.start()
    settings = Settings(**fake.settings())

Routes (endpoint names for ``fake.calls`` in brackets): ``GET /connect/oauth2`` [authorize],
``POST /oauth2/v1/tokens/bearer`` [token], ``POST /v2/oauth2/tokens/revoke`` [revoke],
``GET /v3/company/{realmId}/query?query=…`` [query], ``GET /v3/company/{realmId}/customer/{Id}``
[customer], ``GET /v3/company/{realmId}/companyinfo/{realmId}`` [companyinfo].

Behaviour (FACTS.md section 5, items 1-3 and 9-12): ``expires_in`` 3600 and
``x_refresh_token_expires_in`` 8726400; the refresh token changes on refresh (``oauth.rotate``;
the old one dies at once unless ``oauth.refresh_grace`` is set); expired/invalid token → 401
with the lower-case gateway ``fault`` body code 3200; the query grammar ``SELECT * | count(*)
FROM Customer [WHERE p op v AND …] [ORDERBY p [ASC|DESC], …] [STARTPOSITION n] [MAXRESULTS m]``
(keywords case-insensitive, entity case-sensitive, operators ``IN = < > <= >= LIKE``), 1-based
STARTPOSITION, MAXRESULTS default 100 and capped at 1000, ``maxResults`` = count returned, empty →
``"QueryResponse":{}``, ``Active = true`` unless the query filters on Active; syntax error → 400
code 4000; unknown entity → 400 code 4001; unknown or inactive Id → 400 code 610; more than 500
calls a minute or 10 in flight per realm → 429 ThrottleExceeded code 3001 with no Retry-After
(``throttle_xml = True`` answers it in XML, as Intuit sometimes does); ``minorversion`` accepted.
Consent: the realm is ``consent_realm`` (default: the first company); ``oauth.deny = True`` refuses.
"""

from __future__ import annotations

import copy
import re
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.fakes.base import FakeGrant, FakeOAuth, FakePlatform, json_response, read_form
from tests.fakes.clock import FakeClock
from tests.fakes.data import generate_qbo_customers, qbo_example_customers

THROTTLE_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<IntuitResponse time="{time}" xmlns="http://schema.intuit.com/finance/v3">
    <Fault type="SERVICE">
        <Error code="3001">
            <Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>
            <Detail>The request limit was reached.  Try again later</Detail>
        </Error>
    </Fault>
</IntuitResponse>"""


# --- the query language ---------------------------------------------------------------------------


class QueryError(Exception):
    def __init__(self, detail: str, code: str = "4000", message: str = "Error parsing query") -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Condition:
    prop: str
    op: str  # = < > <= >= LIKE IN
    values: tuple[str | float | bool, ...]


@dataclass(frozen=True)
class Query:
    count: bool
    entity: str
    where: tuple[Condition, ...] = ()
    order: tuple[tuple[str, bool], ...] = ()  # (property, descending)
    start: int = 1
    max_results: int = 100


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
      | (?P<op><=|>=|=|<|>)
      | (?P<punct>[(),*])
    )""",
    re.VERBOSE,
)
KEYWORDS = {"select", "from", "where", "and", "orderby", "asc", "desc", "startposition", "maxresults", "in", "like", "count",
            "true", "false"}  # fmt: skip


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    column: int


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            column = pos + 1 + (len(text[pos:]) - len(text[pos:].lstrip()))
            bad = text[pos:].strip()[:1]
            raise QueryError(f'QueryParserError: Encountered " "{bad}" "{bad} "" at line 1, column {column}.')
        kind = match.lastgroup or ""
        value = match.group(kind)
        tokens.append(_Tok(kind, value, match.start(kind) + 1))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def fail(self, expecting: str) -> QueryError:
        tok = self.peek()
        if tok is None:
            return QueryError(f'QueryParserError: Encountered "<EOF>" at line 1.\nWas expecting:\n    {expecting} ...\n    ')
        return QueryError(
            f'QueryParserError: Encountered " "{tok.text}" "{tok.text.upper()} "" at line 1, column {tok.column}.\n'
            f"Was expecting:\n    {expecting} ...\n    "
        )

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "ident" and tok.text.lower() == word:
            self.i += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise self.fail(word.upper())

    def punct(self, char: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "punct" and tok.text == char:
            self.i += 1
            return True
        return False

    def expect_punct(self, char: str) -> None:
        if not self.punct(char):
            raise self.fail(f'"{char}"')

    def identifier(self) -> str:
        tok = self.peek()
        if tok is None or tok.kind != "ident" or tok.text.lower() in KEYWORDS:
            raise self.fail("<IDENTIFIER>")
        self.i += 1
        return tok.text

    def integer(self) -> int:
        tok = self.peek()
        if tok is None or tok.kind != "number" or not tok.text.lstrip("-").isdigit():
            raise self.fail("<INTEGER>")
        self.i += 1
        return int(tok.text)

    def value(self) -> str | float | bool:
        tok = self.peek()
        if tok is None:
            raise self.fail("<STRING>")
        if tok.kind == "string":
            self.i += 1
            return re.sub(r"\\(.)", r"\1", tok.text[1:-1])
        if tok.kind == "number":
            self.i += 1
            return float(tok.text)
        if tok.kind == "ident" and tok.text.lower() in ("true", "false"):
            self.i += 1
            return tok.text.lower() == "true"
        raise self.fail("<STRING>")

    def condition(self) -> Condition:
        prop = self.identifier()
        if self.keyword("in"):
            self.expect_punct("(")
            values = [self.value()]
            while self.punct(","):
                values.append(self.value())
            self.expect_punct(")")
            return Condition(prop, "IN", tuple(values))
        if self.keyword("like"):
            return Condition(prop, "LIKE", (self.value(),))
        tok = self.peek()
        if tok is None or tok.kind != "op":
            raise self.fail('"=" | "<" | ">" | "<=" | ">=" | "IN" | "LIKE"')
        self.i += 1
        return Condition(prop, tok.text, (self.value(),))

    def query(self) -> Query:
        self.expect_keyword("select")
        if self.punct("*"):
            count = False
        elif self.keyword("count"):
            self.expect_punct("(")
            self.expect_punct("*")
            self.expect_punct(")")
            count = True
        else:
            raise self.fail('"*"')
        self.expect_keyword("from")
        entity = self.identifier()
        where: list[Condition] = []
        order: list[tuple[str, bool]] = []
        start, max_results = 1, 100
        if self.keyword("where"):
            where.append(self.condition())
            while self.keyword("and"):
                where.append(self.condition())
        if self.keyword("orderby"):
            while True:
                prop = self.identifier()
                descending = self.keyword("desc")
                if not descending:
                    self.keyword("asc")
                order.append((prop, descending))
                if not self.punct(","):
                    break
        if self.keyword("startposition"):
            start = self.integer()
        if self.keyword("maxresults"):
            max_results = self.integer()
        if self.peek() is not None:
            raise self.fail("<EOF>")
        return Query(count, entity, tuple(where), tuple(order), max(1, start), min(1000, max(1, max_results)))


def parse_query(text: str) -> Query:
    return _Parser(text).query()


def _lookup(record: dict[str, Any], prop: str) -> Any:
    value: Any = record
    for part in prop.split("."):
        if not isinstance(value, dict):
            return None
        key = next((k for k in value if k.lower() == part.lower()), None)
        if key is None:
            return None
        value = value[key]
    return value


def _as_time(value: Any, tz: timezone) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def _compare(actual: Any, op: str, wanted: str | float | bool, tz: timezone) -> bool:
    if actual is None:
        return False
    left: Any
    right: Any
    if isinstance(actual, bool) or isinstance(wanted, bool):
        left, right = actual, wanted if isinstance(wanted, bool) else str(wanted).lower() == "true"
    elif op != "LIKE" and (t1 := _as_time(actual, tz)) is not None and isinstance(wanted, str) and (t2 := _as_time(wanted, tz)):
        left, right = t1, t2
    elif isinstance(actual, int | float) or (isinstance(wanted, float) and str(actual).lstrip("-").replace(".", "", 1).isdigit()):
        left, right = float(actual), float(wanted)
    elif str(actual).isdigit() and str(wanted).isdigit():
        left, right = int(str(actual)), int(str(wanted))
    else:
        left, right = str(actual).lower(), str(wanted).lower()
    if op == "LIKE":
        pattern = "".join(".*" if ch == "%" else re.escape(ch) for ch in str(wanted))
        return re.fullmatch(pattern, str(actual), flags=re.IGNORECASE | re.DOTALL) is not None
    if op in ("=", "IN"):
        return bool(left == right)
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        ">=": lambda a, b: a >= b,
    }
    return ops[op](left, right)


def run_query(query: Query, customers: list[dict[str, Any]], tz: timezone) -> list[dict[str, Any]]:
    """The customers matching ``query`` (before STARTPOSITION/MAXRESULTS), in order."""
    rows = customers
    for cond in query.where:
        if cond.op == "IN":
            wanted = {_norm(v) for v in cond.values}
            rows = [c for c in rows if _norm(_lookup(c, cond.prop)) in wanted]
        else:
            rows = [c for c in rows if _compare(_lookup(c, cond.prop), cond.op, cond.values[0], tz)]
    if not any(cond.prop.lower() == "active" for cond in query.where):
        rows = [c for c in rows if c.get("Active", True) is not False]
    rows = sorted(rows, key=lambda c: int(c["Id"]) if str(c.get("Id", "")).isdigit() else 0)
    for prop, descending in reversed(query.order):
        rows = sorted(rows, key=lambda c: _sort_key(_lookup(c, prop)), reverse=descending)
    return rows


def _norm(value: Any) -> tuple[str, Any]:
    """A value as IN compares it: booleans, numbers (digit strings too), case-insensitive text."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float) and float(value).is_integer():
        return ("n", int(value))
    if isinstance(value, str) and value.isdigit():
        return ("n", int(value))
    return ("s", str(value).lower())


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, int | float) or str(value).isdigit():
        return (1, float(value))
    return (2, str(value).lower())


# --- the fake -------------------------------------------------------------------------------------


@dataclass
class QboCompany:
    realm_id: str
    name: str
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)  # Id -> customer
    minute: deque[datetime] = field(default_factory=deque)
    in_flight: int = 0
    max_in_flight: int = 0


class QuickBooksFake(FakePlatform):
    def __init__(
        self,
        clock: FakeClock | None = None,
        *,
        client_id: str = "qbo-test-client",
        client_secret: str = "qbo-test-secret",
        access_lifetime: int = 3600,
        refresh_grace: float = 0.0,
        per_minute: int = 500,
        concurrent: int = 10,
        offset_hours: int = -7,
    ) -> None:
        super().__init__(clock)
        self.oauth = FakeOAuth(
            self.clock,
            client_id=client_id,
            client_secret=client_secret,
            required_scopes={"com.intuit.quickbooks.accounting"},
            access_lifetime=access_lifetime,
            refresh_grace=refresh_grace,
            refresh_idle=8726400,
            extra_token_fields={"x_refresh_token_expires_in": 8726400},
            token_type="bearer",
        )
        self.per_minute = per_minute
        self.concurrent = concurrent
        self.tz = timezone(timedelta(hours=offset_hours))
        self.companies: dict[str, QboCompany] = {}
        #: The realm a consent grants (None: the first company).
        self.consent_realm: str | None = None
        self.throttle_xml = False
        self.route("/connect/oauth2", "authorize", self._authorize, methods=["GET"])
        self.route("/oauth2/v1/tokens/bearer", "token", self._token, methods=["POST"])
        self.route("/v2/oauth2/tokens/revoke", "revoke", self._revoke, methods=["POST"])
        self.route("/v3/company/{realm}/query", "query", self._query, methods=["GET"], delay_inside=True)
        self.route("/v3/company/{realm}/customer/{id}", "customer", self._customer, methods=["GET"], delay_inside=True)
        self.route("/v3/company/{realm}/companyinfo/{id}", "companyinfo", self._companyinfo, methods=["GET"], delay_inside=True)

    # --- seeding -------------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        base = self.base_url
        return {
            "quickbooks_auth_url": f"{base}/connect/oauth2",
            "quickbooks_token_url": f"{base}/oauth2/v1/tokens/bearer",
            "quickbooks_revoke_url": f"{base}/v2/oauth2/tokens/revoke",
            "quickbooks_api_url": base,
            "quickbooks_client_id": self.oauth.client_id,
            "quickbooks_client_secret": self.oauth.client_secret,
        }

    def add_company(self, name: str = "Craig's Design and Landscaping Services", realm_id: str | None = None) -> str:
        with self.lock:
            if realm_id is None:  # random, like Intuit's (and so unique across tests)
                realm_id = str(9130350000000000 + secrets.randbelow(10**10))
            self.companies[realm_id] = QboCompany(realm_id, name)
        return realm_id

    def add_customers(self, realm_id: str, customers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        added = []
        with self.lock:
            company = self.companies[realm_id]
            for customer in customers:
                one = copy.deepcopy(customer)
                if "Id" not in one:
                    one["Id"] = str(max((int(i) for i in company.customers), default=0) + 1)
                stamp = self._time()
                one.setdefault("MetaData", {"CreateTime": stamp, "LastUpdatedTime": stamp})
                one.setdefault("Active", True)
                company.customers[str(one["Id"])] = one
                added.append(one)
        return added

    def seed_examples(self, realm_id: str) -> list[dict[str, Any]]:
        return self.add_customers(realm_id, qbo_example_customers())

    def generate_customers(self, realm_id: str, n: int, *, seed: int = 0, first_id: int = 100) -> list[dict[str, Any]]:
        customers = generate_qbo_customers(n, seed=seed, first_id=first_id, now=self.clock())
        return self.add_customers(realm_id, customers)

    def touch(self, realm_id: str, customer_id: str, **changes: Any) -> None:
        """Change a customer and set its ``MetaData.LastUpdatedTime`` to now."""
        with self.lock:
            customer = self.companies[realm_id].customers[customer_id]
            customer.update(changes)
            customer["MetaData"]["LastUpdatedTime"] = self._time(millis=False)
            customer["SyncToken"] = str(int(customer.get("SyncToken", "0")) + 1)

    def issue_tokens(self, realm_id: str | None = None) -> dict[str, Any]:
        with self.lock:
            return self.oauth.issue_tokens([realm_id or next(iter(self.companies))])

    def max_in_flight(self, realm_id: str) -> int:
        with self.lock:
            return self.companies[realm_id].max_in_flight

    def count_status(self, status: int, endpoint: str | None = None) -> int:
        with self.lock:
            return sum(1 for r in self.requests if r.status == status and (endpoint is None or r.endpoint == endpoint))

    def _time(self, *, millis: bool = True) -> str:
        return self.clock().astimezone(self.tz).isoformat(timespec="milliseconds" if millis else "seconds")

    # --- OAuth ---------------------------------------------------------------------------------

    async def _authorize(self, request: Request) -> Response:
        with self.lock:
            realm = self.consent_realm or next(iter(self.companies), "")
            return self.oauth.authorize(dict(request.query_params), [realm], extra={"realmId": realm})

    async def _token(self, request: Request) -> Response:
        form = await read_form(request)
        with self.lock:
            status, body = self.oauth.token(request.headers.get("authorization"), form)
        return json_response(status, body)

    async def _revoke(self, request: Request) -> Response:
        try:
            payload = await request.json()
        except ValueError:
            payload = {}
        token = str(payload.get("token", "")) if isinstance(payload, dict) else ""
        with self.lock:
            status, body = self.oauth.revoke(request.headers.get("authorization"), token)
        return json_response(status, body) if status != 200 else Response(status_code=200)

    # --- data services -------------------------------------------------------------------------

    def _fault(self, status: int, code: str, message: str, detail: str, kind: str = "ValidationFault") -> JSONResponse:
        body = {
            "Fault": {"Error": [{"Message": message, "Detail": detail, "code": code, "element": ""}], "type": kind},
            "time": self._time(),
        }
        return JSONResponse(body, status_code=status)

    def _auth_failed(self) -> JSONResponse:
        body: dict[str, Any] = {
            "warnings": None,
            "intuitObject": None,
            "fault": {
                "error": [
                    {
                        "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                        "detail": None,
                        "code": "3200",
                        "element": None,
                    }
                ],
                "type": "AUTHENTICATION",
            },
            "report": None,
            "queryResponse": None,
            "batchItemResponse": [],
            "attachableResponse": [],
            "syncErrorResponse": None,
            "requestId": None,
            "time": int(self.clock().timestamp() * 1000),
            "status": None,
            "cdcresponse": [],
        }
        return JSONResponse(body, status_code=401)

    def throttle_response(self, retry_after: int = 0) -> Response:
        # Intuit sends no Retry-After with its 429.
        if self.throttle_xml:
            return Response(THROTTLE_XML.format(time=self._time()), status_code=429, media_type="application/xml")
        return self._fault(
            429,
            "3001",
            "message=ThrottleExceeded; errorCode=003001; statusCode=429",
            "The request limit was reached.  Try again later",
            "SERVICE",
        )

    def _admit(self, request: Request) -> QboCompany | Response:
        check = self.oauth.check(request.headers.get("authorization"))
        grant: FakeGrant | None = check.grant
        if grant is None:
            return self._auth_failed()
        realm = request.path_params["realm"]
        company = self.companies.get(realm)
        if company is None or realm not in grant.orgs:
            return self._fault(
                403, "3100", "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403", "", "AUTHENTICATION"
            )
        now = self.clock()
        while company.minute and company.minute[0] <= now - timedelta(seconds=60):
            company.minute.popleft()
        if company.in_flight >= self.concurrent or len(company.minute) >= self.per_minute:
            return self.throttle_response()
        company.minute.append(now)
        company.in_flight += 1
        company.max_in_flight = max(company.max_in_flight, company.in_flight)
        return company

    async def _serve(self, request: Request, answer: Callable[[QboCompany], Response]) -> Response:
        with self.lock:
            admitted = self._admit(request)
        if isinstance(admitted, Response):
            return admitted
        try:
            await self.pause(request)
            with self.lock:
                return answer(admitted)
        finally:
            with self.lock:
                admitted.in_flight -= 1

    async def _query(self, request: Request) -> Response:
        text = request.query_params.get("query", "")

        def answer(company: QboCompany) -> Response:
            try:
                query = parse_query(text)
            except QueryError as exc:
                return self._fault(400, exc.code, exc.message, exc.detail)
            if query.entity != "Customer":
                return self._fault(400, "4001", "Invalid query", f"QueryValidationError: Invalid context declaration : {query.entity}")
            rows = run_query(query, list(company.customers.values()), self.tz)
            if query.count:
                return JSONResponse({"QueryResponse": {"totalCount": len(rows)}, "time": self._time()})
            page = rows[query.start - 1 : query.start - 1 + query.max_results]
            result: dict[str, Any] = {}
            if page:
                result = {"Customer": copy.deepcopy(page), "startPosition": query.start, "maxResults": len(page)}
            return JSONResponse({"QueryResponse": result, "time": self._time()})

        return await self._serve(request, answer)

    async def _customer(self, request: Request) -> Response:
        def answer(company: QboCompany) -> Response:
            customer = company.customers.get(request.path_params["id"])
            if customer is None or customer.get("Active") is False:
                return self._fault(
                    400,
                    "610",
                    "Object Not Found",
                    "Object Not Found : Something you're trying to use has been made inactive. "
                    "Check the fields with accounts, customers, items, vendors or employees.",
                )
            return JSONResponse({"Customer": copy.deepcopy(customer), "time": self._time()})

        return await self._serve(request, answer)

    async def _companyinfo(self, request: Request) -> Response:
        def answer(company: QboCompany) -> Response:
            if request.path_params["id"] != company.realm_id:
                return self._fault(400, "610", "Object Not Found", "Object Not Found : CompanyInfo")
            info = {
                "CompanyName": company.name,
                "LegalName": company.name,
                "Country": "GB",
                "Id": "1",
                "SyncToken": "0",
                "domain": "QBO",
                "sparse": False,
            }
            return JSONResponse({"CompanyInfo": info, "time": self._time()})

        return await self._serve(request, answer)
