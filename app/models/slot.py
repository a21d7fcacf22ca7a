"""A doctor's availability slot and the short-lived lock a patient holds on it."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from beanie import PydanticObjectId
from pydantic import BaseModel, Field, model_validator
from pymongo import ASCENDING, IndexModel

from app.models._base import TimestampedDocument
from app.models.owed_audit import OwedAudit


class BookingLock(BaseModel):
    """A patient's hold. Stored only while held: an unlocked slot keeps `{}` (None fields are
    not stored), so it stays out of the sparse `live_locks` index."""

    patient_id: PydanticObjectId | None = None
    locked_at: datetime | None = None
    expires_at: datetime | None = None
    is_active: bool | None = None


class SlotSource(StrEnum):
    """Who made the slot: an admin by hand (kept by schedule changes) or a doctor's schedule."""

    MANUAL = "MANUAL"
    SCHEDULE = "SCHEDULE"


def slot_key(doctor_id: PydanticObjectId, starts_at: datetime) -> str:
    """One string per doctor and start instant: the single-field unique key of a live slot.

    A compound unique index makes the embedded store re-scan the collection on every slot
    write; one string field keeps writes flat as the collection grows (same guarantee).
    """
    return f"{doctor_id}|{starts_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')}"


class Slot(TimestampedDocument):
    doctor_id: PydanticObjectId
    # None: the doctor's specialty, whatever it is now (app/domain/slots/specialty.py).
    specialty_id: PydanticObjectId | None = None
    starts_at: datetime
    ends_at: datetime
    date: str  # "YYYY-MM-DD" in the doctor's time zone
    start_time: str  # "HH:MM" in the doctor's time zone
    end_time: str
    duration_minutes: int
    is_available: bool = True
    is_booked: bool = False
    is_removed: bool = False
    source: SlotSource = SlotSource.MANUAL
    booking_lock: BookingLock = BookingLock()
    # When the current booking was claimed (or its appointment moved away or was cancelled).
    booked_at: datetime | None = None
    # True from a claim until the reconciler has seen the claim's appointment; otherwise not
    # stored, so the sparse `bookings_to_check` index holds only the claims still unchecked.
    awaiting_check: bool | None = None
    slot_key: str = ""
    # The latest lockSlot on it: "<caller id>|<client key>" (None unkeyed) and what it asked for.
    lock_key: str | None = None
    lock_request: str | None = None
    # The keyed booking that claimed it ("<patient id>|<client key>"), kept with the claim, so
    # a retry of a booking cut short after its claim finishes it rather than meet its own claim.
    claim_key: str | None = None
    # A lock's audit entry, written with the lock and moved into the audit log soon after.
    # Read, never dumped: not in events, answers or Beanie's writes (the store's own record).
    audit_owed: OwedAudit | None = Field(default=None, exclude=True)

    def stored(self) -> dict[str, Any]:
        """The document to insert with bare PyMongo: no nulls (see Settings.keep_nulls), no id."""
        return self.model_dump(by_alias=True, exclude={"id", "revision_id"}, exclude_none=True)

    @model_validator(mode="after")
    def _key(self) -> Slot:
        if not self.slot_key:
            self.slot_key = slot_key(self.doctor_id, self.starts_at)
        return self

    class Settings:
        name = "slots"
        keep_nulls = False  # a null would put the slot in the sparse housekeeping indexes
        indexes = [
            # No doctor has two live slots starting at the same instant; a removed one frees it.
            IndexModel(
                [("slot_key", ASCENDING)],
                unique=True,
                partialFilterExpression={"is_removed": False},
                name="slot_key_unique",
            ),
            # One field, not (doctor, date, start): the embedded memory engine uses an index
            # for a single-field equality only, and a doctor's slots are few enough to filter.
            IndexModel([("doctor_id", ASCENDING)], name="doctor_slots"),
            # Housekeeping's two indexes are sparse and single-field: they hold only the slots
            # held or claimed right now, so a slot a schedule writes costs them nothing, and
            # equality lookups on them stay small at any collection size (the embedded
            # memory engine uses an index for a single-field equality only).
            IndexModel([("booking_lock.is_active", ASCENDING)], sparse=True, name="live_locks"),
            IndexModel([("awaiting_check", ASCENDING)], sparse=True, name="bookings_to_check"),
            # Sparse, not partial: a partial filter is evaluated on every insert (as costly as
            # another index on this store); a slot never locked with a key has no lock_key.
            IndexModel(
                [("lock_key", ASCENDING)], unique=True, sparse=True, name="slot_lock_key_unique"
            ),
            # Sparse: holds only the slots whose audit entries are not in the log yet.
            IndexModel([("audit_owed.owing", ASCENDING)], sparse=True, name="audit_owing"),
        ]
