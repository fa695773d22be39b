"""Imports every model so that ``Base.metadata`` is complete (Alembic, tests)."""

from clientdock.clients.models import Client, ClientChange, ClientGroup, ExternalRef
from clientdock.db import Base
from clientdock.imports.models import ImportJob, ImportRow
from clientdock.jobs.models import JobExecutor
from clientdock.tenants.models import ApiKey, IdempotencyRecord, Tenant

__all__ = [
    "ApiKey",
    "Base",
    "Client",
    "ClientChange",
    "ClientGroup",
    "ExternalRef",
    "IdempotencyRecord",
    "ImportJob",
    "ImportRow",
    "JobExecutor",
    "Tenant",
]
