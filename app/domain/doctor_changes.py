"""An admin's edit of a doctor, with what follows for its future slots, all or nothing.

Here, above both the catalogue and scheduling, so neither imports the other: a specialty
move rewrites the doctor's future slots in bulk, and a time zone move regenerates them.
Every slot write is an update_many over a window of dates, never one write per slot, and
subscribers hear one SLOTS_CHANGED_IN_BULK notice, not an event per slot (see
docs/scheduling.md). An activation switch writes no slot: whether a doctor takes bookings
is its own flag, checked beside every claim (app/domain/booking/policy.py), so it answers
at once whatever the number of slots.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.core.clock import utcnow
from app.core.errors import Conflict
from app.domain.all_or_nothing import Step, run_all_or_nothing
from app.domain.audit.recorder import Change, changed_fields, record
from app.domain.auth.actor import Actor, require_role
from app.domain.catalog.doctors import (
    AUDITED,
    DoctorFields,
    apply_fields,
    check_policy,
    duplicate_field,
    get_doctor,
)
from app.domain.read_model import announce_stale
from app.domain.scheduling.regeneration import doctor_lease, plan_regeneration
from app.domain.scheduling.regeneration_steps import Regeneration
from app.domain.scheduling.schedules import regenerated, stored_doctor
from app.domain.slots.announce import BULK_EVENTS, announce_bulk
from app.events.messages import SlotChanged, SlotEventKind
from app.events.publisher import publish
from app.models import Doctor, Role, Slot

# One update_many per week of slots: no single command holds the one store process long.
WINDOW = timedelta(days=7)


async def update_doctor(actor: Actor | None, doctor_id: str, fields: DoctorFields) -> Doctor:
    caller = require_role(actor, Role.ADMIN)
    check_policy(fields)
    found = await get_doctor(doctor_id)
    assert found.id is not None
    async with doctor_lease(found.id):
        stored = await stored_doctor(found.id)
        before = Doctor.model_validate(stored)
        after = before.model_copy(deep=True)
        await apply_fields(after, fields)
        after.updated_at = now = utcnow()
        change = DoctorChange(stored, before, after, now)
        await change.plan()
        await run_all_or_nothing("doctor change", change.steps())
    was, now_is = changed_fields(
        before.model_dump(include=AUDITED), after.model_dump(include=AUDITED)
    )
    audit: list[Change] = []
    if now_is:
        audit.append(Change("doctor.updated", "doctor", found.id, was, now_is))
    if change.regeneration is not None:
        audit += regenerated(found.id, await change.regeneration.result(after))
    if audit:
        await record(caller, now, *audit)
    await announce_stale(catalog=True, doctor_id=found.id)
    await change.announce()
    return after


class DoctorChange:
    """The doctor's own save first (a taken email or licence refuses it before any slot is
    written), then the slot writes the edit implies."""

    def __init__(self, stored: dict[str, Any], before: Doctor, after: Doctor, now: datetime):
        self.stored, self.before, self.after, self.now = stored, before, after, now
        self.regeneration: Regeneration | None = None
        self.rewritten = 0
        self.availability_changed = before.is_active != after.is_active

    async def plan(self) -> None:
        if self.after.timezone != self.before.timezone and self.after.schedule is not None:
            self.regeneration = Regeneration(await plan_regeneration(self.after))

    def steps(self) -> list[Step]:
        # The regeneration before the rewrites: it restores the slots it removed with their
        # own `updated_at`, which the rewrites' undo would no longer recognise as theirs.
        steps = [self._save(), *(self.regeneration.steps() if self.regeneration else [])]
        if self.after.specialty_id != self.before.specialty_id:
            steps.append(
                self._rewrite(
                    "specialty_moved",
                    {"specialty_id": self.before.specialty_id, "is_booked": False},
                    {"specialty_id": self.after.specialty_id},
                    {"specialty_id": self.before.specialty_id},
                )
            )
        return steps

    def _save(self) -> Step:
        keys = set(AUDITED) | {"updated_at"}
        changes = {
            k: v
            for k, v in self.after.model_dump(include=keys).items()
            if v != self.before.model_dump(include={k}).get(k) or k == "updated_at"
        }
        if self.regeneration is not None:
            changes["horizon_end"] = self.regeneration.plan.last_day.isoformat()
        restore = {k: self.stored.get(k) for k in changes}
        collection = Doctor.get_pymongo_collection()
        doctor_id = self.stored["_id"]

        async def do() -> None:
            try:
                await collection.update_one({"_id": doctor_id}, {"$set": changes})
            except DuplicateKeyError as exc:
                field = duplicate_field(exc)
                raise Conflict(f"A doctor with this {field} already exists", field=field) from exc

        async def undo() -> None:
            await collection.update_one({"_id": doctor_id}, {"$set": restore})

        return Step("doctor_saved", do, undo)

    def _rewrite(
        self, name: str, only: dict[str, Any], changes: dict[str, Any], previous: dict[str, Any]
    ) -> Step:
        """`changes` on the doctor's future slots matching `only`, a week of dates per
        update_many; the undo finds them by this change's `updated_at` stamp and sets
        `previous` again."""
        collection = Slot.get_pymongo_collection()
        doctor_id, now = self.after.id, self.now

        async def do() -> None:
            for window in _windows(now, self.before.horizon_end):
                done = await collection.update_many(
                    {"doctor_id": doctor_id, "starts_at": window, **only},
                    {"$set": {**changes, "updated_at": now}},
                )
                self.rewritten += done.modified_count

        async def undo() -> None:
            await collection.update_many(
                {"doctor_id": doctor_id, "starts_at": {"$gt": now}, "updated_at": now, **changes},
                {"$set": previous},
            )

        return Step(name, do, undo)

    async def announce(self) -> None:
        assert self.after.id is not None
        if self.rewritten > BULK_EVENTS:
            await announce_bulk(self.after.id)
        elif self.availability_changed:
            await self._announce_availability(self.after.id)
        if self.regeneration is not None:
            await self.regeneration.announce()

    async def _announce_availability(self, doctor_id: PydanticObjectId) -> None:
        """The switch changed the state of each future slot, though none was written: an
        event per slot, or one bulk notice past BULK_EVENTS (read no further than that)."""
        future = (
            await Slot.find(
                {"doctor_id": doctor_id, "starts_at": {"$gt": self.now}, "is_removed": False}
            )
            .sort("+starts_at", "+_id")
            .limit(BULK_EVENTS + 1)
            .to_list()
        )
        if len(future) > BULK_EVENTS:
            await announce_bulk(doctor_id)
            return
        await publish(
            *(
                SlotChanged(kind=SlotEventKind.AVAILABILITY_CHANGED, slot=s, at=self.now)
                for s in future
            )
        )


def _windows(now: datetime, horizon_end: str | None) -> list[dict[str, Any]]:
    """`starts_at` conditions covering everything after `now`: a week each through the
    schedule's horizon, then one open window for hand-made slots further ahead."""
    windows: list[dict[str, Any]] = []
    start = now
    if horizon_end is not None:
        last = datetime.combine(
            date.fromisoformat(horizon_end) + timedelta(days=2), datetime.min.time(), now.tzinfo
        )
        while start < last:
            windows.append({"$gt": start, "$lte": start + WINDOW})
            start += WINDOW
    windows.append({"$gt": start})
    return windows
