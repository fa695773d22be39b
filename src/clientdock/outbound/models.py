"""Calls to other services under a budget shared by every worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clientdock.db import Base, new_id


class ProviderCall(Base):
    """One call to a platform under an organisation's budget, seen by every worker: those of
    the last minute count against the per-minute budget, unfinished ones (within their lease)
    against the concurrency budget."""

    __tablename__ = "provider_calls"
    __table_args__ = (Index("ix_provider_calls_budget_started", "budget", "started_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    budget: Mapped[str] = mapped_column(String(160))
    started_at: Mapped[datetime]
    #: A call whose worker died stops counting as in flight after this.
    lease_until: Mapped[datetime]
    done_at: Mapped[datetime | None]


class ProviderBlock(Base):
    """An organisation the platform closed (a 429's Retry-After): no worker calls it before ``until``."""

    __tablename__ = "provider_blocks"

    budget: Mapped[str] = mapped_column(String(160), primary_key=True)
    until: Mapped[datetime]
