"""Fields every stored document carries."""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import Field

from app.core.clock import utcnow


class TimestampedDocument(Document):
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
