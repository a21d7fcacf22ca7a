"""Letting go of owed changes whose rows stand (app/domain/notifications/owed.py): one write
for an appointment read owing a single change, and never a change pushed since.

Runs the domain in this process against the session's store, in a database of its own; the
documents are written as the app's own writes leave them (a change pushes its mark and
counts `sequence` up in the same write).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest_asyncio
from beanie import PydanticObjectId

from app.core.clock import utcnow
from app.domain.notifications import owed
from app.models import Appointment, NotificationKind
from app.models.owed_notifications import OwedChange
from tests.sent_commands import SentCommands, domain_counting

FIELD = "notifications_owed"


@pytest_asyncio.fixture
async def updates(store_uri: str) -> AsyncIterator[SentCommands]:
    async with domain_counting(store_uri, "update", "appointments", "letting_go") as listener:
        yield listener


def _change(kind: NotificationKind, sequence: int, at: datetime) -> OwedChange:
    return owed.mark(kind, sequence, at)


async def _booked(at: datetime) -> tuple[PydanticObjectId, OwedChange]:
    """An appointment as a booking inserts it: sequence 0, owing its BOOKED change."""
    change = _change(NotificationKind.BOOKED, 0, at)
    document = {"sequence": 0, FIELD: {"at": at, "changes": [change.model_dump()]}}
    inserted = await Appointment.get_pymongo_collection().insert_one(document)
    return PydanticObjectId(inserted.inserted_id), change


async def _cancelled(appointment: PydanticObjectId, at: datetime) -> None:
    """A cancel as the app writes it: `sequence` counted up, its change pushed, one write."""
    change = _change(NotificationKind.CANCELLED, 1, at)
    await Appointment.get_pymongo_collection().update_one(
        {"_id": appointment}, {"$inc": {"sequence": 1}, **(owed.push(change) or {})}
    )


async def _owed(appointment: PydanticObjectId) -> list[tuple[str, int]] | None:
    found: dict[str, Any] | None = await Appointment.get_pymongo_collection().find_one(
        {"_id": appointment}
    )
    assert found is not None
    if FIELD not in found:
        return None
    return [(c["kind"], c["sequence"]) for c in found[FIELD]["changes"]]


async def test_appointments_owing_one_change_each_are_let_go_in_one_write(
    updates: SentCommands,
) -> None:
    at = utcnow()
    booked = [await _booked(at) for _ in range(3)]
    for appointment, change in booked:
        owed.settled(Appointment, appointment, change, alone=True)
    assert await owed.unset_settled() == 3
    assert [await _owed(appointment) for appointment, _ in booked] == [None, None, None]
    # One update command of one statement: the unset, for all three.
    assert [len(c["updates"]) for c in updates.sent] == [1]


async def test_a_change_pushed_after_the_read_stays_owed(updates: SentCommands) -> None:
    """Read owing BOOKED alone; cancelled before the sender lets go: the cancel is kept."""
    at = utcnow()
    appointment, change = await _booked(at)
    await _cancelled(appointment, at)
    updates.sent.clear()
    owed.settled(Appointment, appointment, change, alone=True)
    await owed.unset_settled()
    assert await _owed(appointment) == [("CANCELLED", 1)]
    # The unset matched nothing, so the general path pulled the BOOKED change.
    assert [len(c["updates"]) for c in updates.sent] == [1, 2]


async def test_a_change_pushed_after_another_sender_let_go_stays_owed(
    updates: SentCommands,
) -> None:
    """Read owing BOOKED alone; another sender (a lease hand-over) pulls it first, and a
    cancel is pushed: the document again owes one change, but not this one."""
    at = utcnow()
    appointment, change = await _booked(at)
    await Appointment.get_pymongo_collection().update_one(
        {"_id": appointment}, {"$pull": {f"{FIELD}.changes": {"sequence": 0, "kind": "BOOKED"}}}
    )
    await _cancelled(appointment, at)
    owed.settled(Appointment, appointment, change, alone=True)
    await owed.unset_settled()
    assert await _owed(appointment) == [("CANCELLED", 1)]


async def test_an_appointment_read_owing_two_changes_lets_each_go(updates: SentCommands) -> None:
    at = utcnow()
    appointment, booked = await _booked(at)
    await _cancelled(appointment, at)
    owed.settled(Appointment, appointment, booked)
    owed.settled(Appointment, appointment, _change(NotificationKind.CANCELLED, 1, at))
    await owed.unset_settled()
    assert await _owed(appointment) is None
