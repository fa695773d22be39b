"""Settings from environment variables (prefix ``CLIENTDOCK_``), with sane defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


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
    bulk_batch_limit: int = 1000
    chunk_size: int = 2000
    worker_concurrency: int = 4
    tenant_concurrency: int = 1
    heartbeat_seconds: float = 10.0
    executor_dead_after_seconds: float = 60.0
    executor_id: str = "local"
    app_version: str = "clientdock-jobs-1"
    log_json: bool = False
    start_workers: bool = True

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'clientdock.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
