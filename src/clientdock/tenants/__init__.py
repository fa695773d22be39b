"""Tenants (firms), their API keys, who is calling, the tenant context, and tenant scoping.

The layer every tenant-owned read and write starts from:

- ``auth``: :data:`ClientsRead`, :data:`ClientsWrite`, :data:`ImportsWrite`, :data:`TenantAdmin`,
  :data:`KeyImportsWrite` — FastAPI dependencies giving a :class:`TenantScope` (the tenant, the
  caller, and the :class:`TenantContext` loaded once per request);
- ``context``: :class:`TenantContext` and :func:`load_context` (settings with defaults, the
  Unassigned group);
- ``scoping``: :func:`readable`, :func:`readable_columns`, :func:`owned` — the only place that
  filters by tenant;
- ``service``: tenants and keys; ``idempotency``: the Idempotency-Key middleware; ``ratelimit``: the
  per-key token buckets and their middleware (429 with Retry-After).
"""

from clientdock.tenants.auth import ClientsRead, ClientsWrite, ImportsWrite, KeyImportsWrite, Principal, TenantAdmin, TenantScope
from clientdock.tenants.context import TenantContext, load_context
from clientdock.tenants.scoping import owned, readable, readable_columns

__all__ = [
    "ClientsRead", "ClientsWrite", "ImportsWrite", "KeyImportsWrite", "Principal", "TenantAdmin", "TenantContext",
    "TenantScope", "load_context", "owned", "readable", "readable_columns",
]  # fmt: skip
