"""Settings from environment variables (prefix ``CLIENTDOCK_``), with sane defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(ValueError):
    """A setting's value cannot be used; the message names its environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLIENTDOCK_", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    sync_wait_seconds: float = 10.0
    max_sync_waiters: int = 16
    allow_private_webhooks: bool = False
    max_upload_bytes: int = 50 * 1024 * 1024
    #: Every other request body (JSON, forms) is refused with 413 past this many bytes.
    max_json_bytes: int = Field(default=16 * 1024 * 1024, ge=1)
    #: Requests a second per API key in each API process (a token bucket; 0: no limit), and the burst it allows.
    rate_limit_per_second: float = Field(default=50.0, ge=0)
    rate_limit_burst: int = Field(default=100, ge=1)
    #: Where uploads and staged records are kept for the workers (``clientdock.blobs``): local,
    #: database or s3://bucket/prefix; unset means local on SQLite and database on PostgreSQL.
    upload_storage: str | None = None
    #: The endpoint of an S3-compatible store that is not AWS (MinIO, Ceph, ...).
    s3_endpoint_url: str | None = None
    bulk_batch_limit: int = 1000
    chunk_size: int = 2000
    #: Helper processes preparing an import's next chunk while this one is written (0: a thread).
    prepare_processes: int = 1
    worker_concurrency: int = 4
    tenant_concurrency: int = 1
    heartbeat_seconds: float = 10.0
    #: A worker whose heartbeat is older than this many seconds is dead: its pending jobs are resumed elsewhere.
    worker_dead_after: float = 60.0
    #: This process's name among the workers (``clientdock worker`` defaults to the host name).
    executor_id: str = "local"
    app_version: str = "clientdock-jobs-1"
    log_json: bool = False
    #: PostgreSQL: the role a session acting for one tenant switches to (``SET LOCAL ROLE``), on
    #: whose tables row-level security lets it see that tenant's rows only (docs/deploy.md).
    tenant_role: str = Field(default="clientdock_tenant", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    start_workers: bool = True
    # --- connections to accounting platforms (the OAuth redirect comes back to public_url) ---
    public_url: str = "http://127.0.0.1:8000"
    xero_client_id: str | None = None
    xero_client_secret: str | None = None
    xero_login_url: str = "https://login.xero.com"
    xero_identity_url: str = "https://identity.xero.com"
    xero_api_url: str = "https://api.xero.com"
    quickbooks_client_id: str | None = None
    quickbooks_client_secret: str | None = None
    quickbooks_auth_url: str = "https://appcenter.intuit.com/connect/oauth2"
    quickbooks_token_url: str = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
    quickbooks_revoke_url: str = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
    quickbooks_api_url: str = "https://quickbooks.api.intuit.com"
    #: Every call to a platform gives up after this long.
    provider_timeout_seconds: float = 30.0
    #: Attempts of a call answered 5xx, 429 or timing out, and the first backoff (doubling).
    provider_attempts: int = 4
    provider_backoff_seconds: float = 1.0
    #: QuickBooks sends no Retry-After with its 429; Intuit says wait 60 s.
    quickbooks_throttle_wait_seconds: float = 60.0
    # --- Companies House (enrichment) ---
    companies_house_api_key: str | None = None
    companies_house_api_url: str = "https://api.company-information.service.gov.uk"
    #: The register's budget per key, "<calls>/<seconds>s", shared by every worker.
    companies_house_rate: str = "600/300s"
    #: How long an answer of the register is reused before it is asked again.
    companies_house_cache_seconds: float = 86_400.0

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'clientdock.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
