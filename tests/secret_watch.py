"""No secret in any log line of the whole test run: a pytest plugin (``tests/conftest.py`` loads it).

In every process that runs tests (each pytest-xdist worker, or the one process without ``-n``):

* **Registry.** For the session, the functions that mint or receive secrets are wrapped and
  every value they see is recorded: API keys (tenant, platform, partner app:
  ``clientdock.tenants.keys.generate``), web passwords (``users.service.create_user``),
  session and CSRF tokens (``users.service.start_session``, the web sign-in form's CSRF
  cookie), webhook secrets (``notify.service.create_webhook``, made or given), OAuth state and
  PKCE verifiers (``connections.service``), OAuth codes and tokens (the platform fakes of
  ``tests/fakes`` and every :class:`~clientdock.outbound.errors.Tokens` made), the
  ``CLIENTDOCK_SECRET_KEY`` values (and a generated key file) and the secrets of ``Settings``
  (platform client secrets, the Companies House key, a database password).
* **Watch.** Every log line is checked when it is written: structlog's output (through the
  logger factory, so ``clientdock.logs.configure`` keeps it), and stdlib ``logging`` records
  (a handler that sees every record a logger hands to its handlers: the root logger's, and
  those that stop at a logger that does not propagate, such as uvicorn's and DBOS's), formatted
  as a handler would. The output files of the service processes tests
  start (:func:`watch_output`: ``tests/processes.py``, ``tests/scaleout/cluster.py``, the
  browser tests' servers) are read at the end, against the whole registry. A line carrying a
  registered secret, or any ``X-API-Key``/``Authorization`` header value, is a hit.
* **Verdict.** At the end of the session each worker hands its hits to the controller
  (``workeroutput``), which prints them — the test that was running, the logger or file, an
  excerpt with the secret redacted — and makes the run exit 1 even if every test passed.

``-p no:tests.secret_watch`` turns it off (to measure what it costs).
"""

from __future__ import annotations

import functools
import logging
import re
import secrets as stdlib_secrets
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog

#: Shorter values are not recorded: a test's "s3cret" would match ordinary words.
MIN_LENGTH = 12
#: Secrets are looked up by their first characters at each position of a line.
_HEAD = 10
#: An API key or an ``Authorization`` value written out, e.g. ``X-API-Key: cdk_…``,
#: ``'authorization': 'Bearer …'`` or ``(b'x-api-key', b'…')``: a hit whatever its value.
HEADER_VALUE = re.compile(r"(?i)(x-api-key|authorization)[\"']?\s*[:=,]\s*b?[\"']?((?:bearer|basic)\s+)?([A-Za-z0-9._~+/=-]{12,})")
EXCERPT = 200
KEY = "secret_watch_hits"
STATS = "secret_watch_stats"


@dataclass(frozen=True)
class Hit:
    """A log line that carried a secret."""

    test: str
    source: str
    kinds: str
    excerpt: str

    def describe(self) -> str:
        return f"{self.test}\n    {self.source}: {self.kinds}\n    {self.excerpt}"


class Registry:
    """Every secret of the session, found in a line in one pass whatever their number."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_head: dict[str, dict[str, str]] = {}

    def add(self, value: object, kind: str) -> None:
        if not isinstance(value, str) or len(value) < MIN_LENGTH:
            return
        value = value.strip()
        if len(value) < MIN_LENGTH or value in self._by_head.get(value[:_HEAD], {}):
            return
        with self._lock:
            bucket = dict(self._by_head.get(value[:_HEAD], {}))
            bucket.setdefault(value, kind)
            self._by_head[value[:_HEAD]] = bucket  # replaced whole: readers never see it change

    def __len__(self) -> int:
        return sum(len(bucket) for bucket in list(self._by_head.values()))

    def find(self, text: str) -> list[tuple[str, str]]:
        """(secret, kind) of each registered secret in ``text``."""
        heads = self._by_head
        found: dict[str, str] = {}
        for start in range(len(text) - MIN_LENGTH + 1):
            bucket = heads.get(text[start : start + _HEAD])
            if bucket:
                for secret, kind in bucket.items():
                    if text.startswith(secret, start):
                        found[secret] = kind
        return list(found.items())


class Watch:
    """The registry, the hits so far and the test that is running."""

    def __init__(self) -> None:
        self.registry = Registry()
        self.hits: list[Hit] = []
        self.outputs: list[tuple[Path, str]] = []
        self.test = "(before the first test)"
        self.lines = 0

    def check(self, text: str, source: str, test: str | None = None) -> None:
        self.lines += 1
        found = self.registry.find(text)
        headers = [m for m in HEADER_VALUE.finditer(text) if not m.group(3).startswith("*")]
        if not found and not headers:
            return
        redacted = text
        for secret, kind in sorted(found, key=lambda item: -len(item[0])):
            redacted = redacted.replace(secret, f"[{kind} {len(secret)} chars]")
        for match in headers:
            redacted = redacted.replace(match.group(3), f"[{match.group(1)} value]")
        first = min([text.find(s) for s, _ in found] + [m.start() for m in headers])
        start = max(0, first - EXCERPT // 2)
        excerpt = redacted[start : start + EXCERPT].replace("\n", "\\n")
        kinds = ", ".join(sorted({kind for _, kind in found} | {f"{m.group(1)} header value" for m in headers}))
        self.hits.append(Hit(test or self.test, source, kinds, ("…" if start else "") + excerpt))

    def check_outputs(self) -> None:
        for path, test in self.outputs:
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            for number, line in enumerate(text.splitlines(), start=1):
                self.check(line, f"output of a service process, {path.name} line {number}", test)


_WATCH: Watch | None = None


def register(value: object, kind: str) -> None:
    """Record a secret a test made some other way (no-op when the plugin is off)."""
    if _WATCH is not None:
        _WATCH.registry.add(value, kind)


def watch_output(path: Path) -> None:
    """Read ``path`` (a child process's stdout/stderr) at the end of the session (no-op when off)."""
    if _WATCH is not None:
        _WATCH.outputs.append((path, _WATCH.test))


# --- the watch: structlog and stdlib logging ------------------------------------------------------


class _WatchedLogger:
    """structlog's final logger (``PrintLogger``, …), each rendered line checked first."""

    def __init__(self, inner: Any, name: str) -> None:
        self._inner = inner
        self._source = f"structlog logger {name}"

    def __getattr__(self, method: str) -> Any:
        target = getattr(self._inner, method)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            if _WATCH is not None:
                for value in (*args, *kwargs.values()):
                    _WATCH.check(value if isinstance(value, str) else repr(value), self._source)
            return target(*args, **kwargs)

        return call


class _WatchedFactory:
    def __init__(self, inner: Callable[..., Any]) -> None:
        self.inner = inner

    def __call__(self, *args: Any) -> Any:
        name = str(args[0]) if args and args[0] is not None else "(unnamed)"
        return _WatchedLogger(self.inner(*args), name)


class _Handler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if _WATCH is None:
            return
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is checked as it came
            text = f"{record.msg!r} {record.args!r}"
        _WATCH.check(text, f"logging logger {record.name}")


HANDLER = _Handler()


def _install_log_watch(undo: _Undo) -> None:
    """Every record any stdlib logger hands to its handlers, whether it reaches the root logger
    or stops at one that does not propagate (uvicorn's, DBOS's, one a test makes)."""
    original = logging.Logger.callHandlers

    def call_handlers(self: logging.Logger, record: logging.LogRecord) -> None:
        HANDLER.emit(record)
        original(self, record)

    undo.set(logging.Logger, "callHandlers", call_handlers)


# --- the registry: wrapping what mints or receives secrets -----------------------------------------


class _Undo:
    def __init__(self) -> None:
        self.steps: list[Callable[[], None]] = []

    def set(self, owner: Any, name: str, value: Any) -> None:
        old = getattr(owner, name)
        setattr(owner, name, value)
        self.steps.append(lambda: setattr(owner, name, old))

    def wrap(self, owner: Any, name: str, after: Callable[[tuple[Any, ...], dict[str, Any], Any], None]) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            after(args, kwargs, result)
            return result

        for attribute in ("cache_clear", "cache_info"):  # an lru_cache stays one
            if hasattr(original, attribute):
                setattr(wrapper, attribute, getattr(original, attribute))
        self.set(owner, name, wrapper)

    def undo(self) -> None:
        for step in reversed(self.steps):
            step()
        self.steps.clear()


class _MintingSecrets:
    """Stands for the ``secrets`` module inside one module: what ``token_urlsafe``/``token_hex`` make is recorded."""

    def __init__(self, module: Any, kind: str) -> None:
        self._module = module
        self._kind = kind

    def token_urlsafe(self, nbytes: int | None = None) -> str:
        value: str = self._module.token_urlsafe(nbytes)
        register(value, self._kind)
        return value

    def token_hex(self, nbytes: int | None = None) -> str:
        value: str = self._module.token_hex(nbytes)
        register(value, self._kind)
        return value

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def _install_registry(undo: _Undo) -> None:
    import clientdock.connections.service as connections
    import clientdock.notify.service as notify
    import clientdock.outbound.errors as outbound
    import clientdock.secrets as keeping
    import clientdock.tenants.keys as keys
    import clientdock.users.service as users
    import clientdock.web.auth as web_auth
    from clientdock.settings import Settings
    from tests.fakes import base as fakes

    undo.wrap(keys, "generate", lambda a, k, result: register(result[1], "API key"))

    def user(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        register(result.password, "password")

    undo.wrap(users, "generate_password", lambda a, k, result: register(result, "password"))
    undo.wrap(users, "create_user", user)

    def session(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        register(result.token, "session token")
        register(result.signed_in.csrf_token, "CSRF token")

    undo.wrap(users, "start_session", session)
    undo.wrap(notify, "create_webhook", lambda a, k, result: register(result[1], "webhook secret"))
    undo.set(connections, "secrets", _MintingSecrets(stdlib_secrets, "OAuth state or PKCE verifier"))
    undo.set(web_auth, "secrets", _MintingSecrets(stdlib_secrets, "CSRF token"))
    undo.set(fakes, "secrets", _MintingSecrets(stdlib_secrets, "OAuth code or token (fake platform)"))

    def tokens(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        for value in (*args[1:3], kwargs.get("access_token"), kwargs.get("refresh_token")):
            register(value, "OAuth token")

    undo.wrap(outbound.Tokens, "__init__", tokens)

    def box(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        env_value = args[1] if len(args) > 1 else kwargs.get("env_value")
        for part in (env_value or "").split(","):
            register(part, keeping.ENV_VAR)

    undo.wrap(keeping, "_box", box)
    undo.wrap(keeping, "_key_file", lambda a, k, result: register(result.decode(errors="replace"), "secret key file"))

    def settings(args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        made: Settings = args[0]
        for name in ("xero_client_secret", "quickbooks_client_secret", "companies_house_api_key"):
            register(getattr(made, name), f"CLIENTDOCK_{name.upper()}")
        password = re.search(r"://[^:/@]*:([^@]+)@", made.database_url or "")
        if password:
            register(password.group(1), "database password")

    undo.wrap(Settings, "__init__", settings)


# --- the plugin ------------------------------------------------------------------------------------


class SecretWatchPlugin:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.undo = _Undo()
        self.worker_hits: list[Hit] = []
        #: Lines checked, secrets recorded, output files read (summed over the workers).
        self.stats = [0, 0, 0]
        self.structlog_factory: Any = None

    # session

    def start(self) -> None:
        global _WATCH
        _WATCH = Watch()
        _install_registry(self.undo)
        self.structlog_factory = structlog.get_config()["logger_factory"]
        structlog.configure(logger_factory=_WatchedFactory(self.structlog_factory))
        _install_log_watch(self.undo)

    def stop(self) -> None:
        global _WATCH
        self.undo.undo()
        if self.structlog_factory is not None:
            structlog.configure(logger_factory=self.structlog_factory)
        _WATCH = None

    # tests

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logstart(self, nodeid: str) -> None:
        if _WATCH is not None:
            _WATCH.test = nodeid

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        if _WATCH is not None:
            _WATCH.test = f"(between tests, after {nodeid})"

    # the verdict

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """Controller (xdist): a worker's hits."""
        output = getattr(node, "workeroutput", None) or {}
        worker = (getattr(node, "workerinput", None) or {}).get("workerid", "?")
        self.worker_hits += [Hit(**{**hit, "test": f"[{worker}] {hit['test']}"}) for hit in output.get(KEY, [])]
        self.stats = [a + b for a, b in zip(self.stats, output.get(STATS, [0, 0, 0]), strict=True)]

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        hits = self.hits()
        if hasattr(self.config, "workerinput"):
            self.config.workeroutput[KEY] = [asdict(hit) for hit in hits]  # type: ignore[attr-defined]
            self.config.workeroutput[STATS] = self.stats  # type: ignore[attr-defined]
        if hits and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def hits(self) -> list[Hit]:
        if _WATCH is not None:
            read = len(_WATCH.outputs)
            _WATCH.check_outputs()
            _WATCH.outputs.clear()
            self.stats = [a + b for a, b in zip(self.stats, [_WATCH.lines, len(_WATCH.registry), read], strict=True)]
            _WATCH.lines = 0
            self.worker_hits += _WATCH.hits
            _WATCH.hits = []
        return self.worker_hits

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput"):
            return
        hits = self.worker_hits
        lines, secrets, outputs = self.stats
        if not hits:
            terminalreporter.write_line(
                f"secret watch: {lines:,} log lines and {outputs} service process outputs checked against {secrets:,} secrets, none found"
            )
            return
        terminalreporter.section("secret watch", sep="=", red=True, bold=True)
        terminalreporter.line(f"{len(hits)} log line(s) of this run carried a secret (the run fails):", red=True)
        for hit in hits[:50]:
            terminalreporter.line(hit.describe())
        if len(hits) > 50:
            terminalreporter.line(f"... and {len(hits) - 50} more")


def pytest_configure(config: pytest.Config) -> None:
    plugin = SecretWatchPlugin(config)
    config.pluginmanager.register(plugin, "secret_watch_session")
    plugin.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    plugin = config.pluginmanager.get_plugin("secret_watch_session")
    if isinstance(plugin, SecretWatchPlugin):
        plugin.stop()
        config.pluginmanager.unregister(plugin)
