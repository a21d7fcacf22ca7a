"""A sender's claim on the notification rows of one pass."""

from __future__ import annotations

from datetime import datetime

from beanie import Document, PydanticObjectId


class SendingBatch(Document):
    """One document per pass, naming its rows until `until`: a claim is one write, not one
    per row (on the embedded store each row written costs about 2.5 ms)."""

    id: str  # type: ignore[assignment]  # the pass's token
    notification_ids: list[PydanticObjectId]
    made_at: datetime
    until: datetime

    class Settings:
        name = "notification_batches"
