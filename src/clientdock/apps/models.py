"""Partner apps and their assignments to businesses (tenants)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clientdock.db import Base, new_id, utcnow


class App(Base):
    """A registered partner app. Its credential is an API key of kind ``app`` (``api_keys.app_id``)."""

    __tablename__ = "apps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    app_code_name: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    app_type: Mapped[str] = mapped_column(String(32))
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppAssignment(Base):
    """An app may act for a business while this row exists; deleting it withdraws the right."""

    __tablename__ = "app_assignments"
    __table_args__ = (UniqueConstraint("app_id", "tenant_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    assignee_type: Mapped[str] = mapped_column(String(32), default="business")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
