"""Imports every model so that ``Base.metadata`` is complete (Alembic, tests)."""

from clientdock.apps.models import App, AppAssignment  # noqa: F401 - registers the partner app tables
from clientdock.blobs import BlobPart  # noqa: F401 - registers the kept files table
from clientdock.clients.models import Client, ClientChange, ExternalRef
from clientdock.db import Base
from clientdock.enrichment.models import RegisterAnswer  # noqa: F401 - registers the register cache table
from clientdock.jobs.models import FileMapping, ImportJob, ImportRow, JobExecutor
from clientdock.notify.models import Notification, Webhook, WebhookDelivery  # noqa: F401 - registers the notify tables
from clientdock.tenants.models import ApiKey, ClientGroup, IdempotencyRecord, Tenant
from clientdock.users.models import User, UserSession  # noqa: F401 - registers the users tables

__all__ = [
    "ApiKey",
    "Base",
    "Client",
    "ClientChange",
    "ClientGroup",
    "ExternalRef",
    "FileMapping",
    "IdempotencyRecord",
    "ImportJob",
    "ImportRow",
    "JobExecutor",
    "Tenant",
]
