"""What the register answered, kept for a while so that re-enriching spends no calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from clientdock.db import Base


class RegisterAnswer(Base):
    """One answer of the register (a company profile, its officers, a search), by request."""

    __tablename__ = "register_answers"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    #: The answer's HTTP status: 200, or 404 (not in the register: remembered too).
    status: Mapped[int]
    body: Mapped[Any | None] = mapped_column(JSON)
    fetched_at: Mapped[datetime]
