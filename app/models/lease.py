"""Which process does a job that only one process should do at a time, and until when."""

from __future__ import annotations

from datetime import datetime

from beanie import Document


class Lease(Document):
    """One document per job; the holder renews `until`, and anyone may take it once past."""

    id: str  # type: ignore[assignment]  # the job's name, not an ObjectId
    holder: str
    until: datetime

    class Settings:
        name = "leases"
