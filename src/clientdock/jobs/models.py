from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from clientdock.db import Base, utcnow


class JobExecutor(Base):
    """A worker process's heartbeat; a silent one's pending jobs are resumed elsewhere."""

    __tablename__ = "job_executors"

    executor_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
