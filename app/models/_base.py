"""Fields every stored document carries."""

from __future__ import annotations

from datetime import UTC, datetime

from beanie import Document
from pydantic import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimestampedDocument(Document):
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
