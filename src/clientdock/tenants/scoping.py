"""Tenant scoping in one place: every read or write of a tenant-owned table starts here.

A tenant-owned table has a ``tenant_id`` column. Code elsewhere never compares that column
by hand (``tests/test_structure.py`` fails on ``Model.tenant_id == …`` outside this module);
it asks for a statement already bound to the tenant it acts for::

    session.scalars(readable(ctx, Client).where(Client.id == client_id))
    session.scalars(readable_columns(ctx, Client.id, Client.parent_id).where(...))
    session.execute(update(Notification).where(owned(Notification, ctx), ...))

``tenant`` may be the request's :class:`TenantContext`, a :class:`Tenant` row, or a tenant id
(a job row's ``tenant_id``, read from a row that was itself scoped).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, Union

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute

from clientdock.tenants.models import Tenant

if TYPE_CHECKING:
    from clientdock.tenants.context import TenantContext

Model = TypeVar("Model")
TenantRef = Union["TenantContext", Tenant, str]


def tenant_id_of(tenant: TenantRef) -> str:
    if isinstance(tenant, str):
        return tenant
    if isinstance(tenant, Tenant):
        return tenant.id
    return tenant.tenant_id


def owned(model: Any, tenant: TenantRef) -> ColumnElement[bool]:
    """The criterion "this row belongs to ``tenant``" for a model or a Core table."""
    column = model.c.tenant_id if hasattr(model, "c") else model.tenant_id
    criterion: ColumnElement[bool] = column == tenant_id_of(tenant)
    return criterion


def owned_for_key_lookup(model: Any, tenant: TenantRef) -> ColumnElement[bool]:
    """:func:`owned` for look-ups by primary key, written so that no index on tenant_id serves
    it: SQLite, which keeps no statistics, otherwise prefers the tenant's index over 500 key
    probes and reads every client of the tenant (600 rows/s at 1M clients)."""
    criterion: ColumnElement[bool] = func.coalesce(model.tenant_id, "") == tenant_id_of(tenant)
    return criterion


def readable(tenant: TenantRef, model: type[Model]) -> Select[Model]:
    """``SELECT model`` limited to the tenant's rows."""
    return select(model).where(owned(model, tenant))


def readable_columns(tenant: TenantRef, first: InstrumentedAttribute[Any], *more: Any) -> Select[Any]:
    """``SELECT first, *more`` of ``first``'s model, limited to the tenant's rows of that model."""
    return select(first, *more).where(owned(first.class_, tenant))
