"""Notifications owed by a change whose outbox rows may not have been written.

The store runs no transactions, so each change that notifies marks its own document (the
write it makes anyway) with `notifications_owed`; once its rows stand, the mark is unset,
in batches by the sender loop. A process killed between the change and its rows leaves the
mark: the sender holding the lease finds marks older than NOTIFICATION_OWED_GRACE_SECONDS
through their sparse index and writes the rows (their unique keys make that idempotent).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo import UpdateOne

from app.models import Appointment, NotificationKind

log = logging.getLogger(__name__)
UNSET_CHUNK = 200

# (appointment id, the mark's `at`): rows written by this process, marks still to unset.
_written: list[tuple[PydanticObjectId, datetime]] = []


def mark(
    kind: NotificationKind,
    sequence: int,
    at: datetime,
    previous_doctor_id: PydanticObjectId | None = None,
    previous_starts_at: datetime | None = None,
) -> dict[str, Any]:
    """The mark a change sets with its own write."""
    return {
        "sequence": sequence,
        "kind": kind.value,
        "at": at,
        "previous_doctor_id": previous_doctor_id,
        "previous_starts_at": previous_starts_at,
    }


def settled(appointment: Appointment) -> None:
    """Its rows are written: its mark is unset with the next batch."""
    owed = appointment.notifications_owed
    if owed is not None and appointment.id is not None:
        _written.append((appointment.id, owed.at))


async def unset_settled() -> int:
    """One bulk write per 200 marks; a mark set again since (a newer change) is kept."""
    done = 0
    while _written:
        chunk, _written[:UNSET_CHUNK] = _written[:UNSET_CHUNK], []
        try:
            await Appointment.get_pymongo_collection().bulk_write(
                [
                    UpdateOne(
                        {"_id": i, "notifications_owed.at": at},
                        {"$unset": {"notifications_owed": ""}},
                    )
                    for i, at in chunk
                ],
                ordered=False,
            )
        except Exception:
            _written.extend(chunk)  # tried again next pass; the reconciler would also do
            raise
        done += len(chunk)
    return done
