"""An admin's edit of a doctor, with what follows for its future slots, all or nothing.

Here, above both the catalogue and scheduling, so neither imports the other: a time zone
move regenerates the doctor's future slots. A specialty move writes only the booked ones
(they keep their appointments' specialty) and those stored with the old specialty spelled
out: the others follow the doctor's (app/domain/slots/specialty.py). An activation switch
writes no slot: whether a doctor takes bookings is its own flag, checked beside every
claim (app/domain/booking/policy.py). Slot writes are update_many's of 200 ids, never one
write per slot, and subscribers hear one SLOTS_CHANGED_IN_BULK notice, not an event per
slot (see docs/scheduling.md).
"""

from __future__ import annotations

from datetime import datetime
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
from app.domain.scheduling.horizon import roll_soon
from app.domain.scheduling.regeneration import doctor_lease
from app.domain.scheduling.regeneration_steps import Regeneration
from app.domain.scheduling.schedules import regenerated, stored_doctor
from app.domain.scheduling.time_zone_move import plan_time_zone_move
from app.domain.slots.announce import BULK_EVENTS, announce_bulk
from app.events.messages import SlotChanged, SlotEventKind
from app.events.publisher import publish
from app.models import Doctor, Role, Slot
from app.store.chunks import count_in
from app.store.queries.slots import update_of


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
    if change.regeneration is not None and change.regeneration.plan.regenerating_from:
        roll_soon(found.id)
    return after


class DoctorChange:
    """The doctor's own save first (a taken email or licence refuses it before any slot is
    written), then the slot writes the edit implies."""

    def __init__(self, stored: dict[str, Any], before: Doctor, after: Doctor, now: datetime):
        self.stored, self.before, self.after, self.now = stored, before, after, now
        self.regeneration: Regeneration | None = None
        self.rewritten = 0
        self.availability_changed = before.is_active != after.is_active
        self.specialty_moved = before.specialty_id != after.specialty_id

    async def plan(self) -> None:
        if self.after.timezone != self.before.timezone and self.after.schedule is not None:
            plan = await plan_time_zone_move(self.after)
            self.regeneration = Regeneration(plan)
            for name, value in plan.horizon_fields().items():  # the answer shows it as saved
                setattr(self.after, name, value)

    def steps(self) -> list[Step]:
        # The regeneration before the rewrites: it restores the slots it removed with their
        # own `updated_at`, which the rewrites' undo would no longer recognise as theirs.
        steps = [self._save(), *(self.regeneration.steps() if self.regeneration else [])]
        if self.specialty_moved:
            old = self.before.specialty_id
            # Unbooked slots follow the doctor's specialty unwritten; booked ones keep the
            # specialty their appointments were booked in.
            booked, unbooked = {"is_booked": True}, {"is_booked": False}
            steps.append(
                self._rewrite(
                    "specialty_kept_by_bookings",
                    {"specialty_id": None, **booked},
                    {"specialty_id": old},
                    {"specialty_id": None},
                    booked,
                )
            )
            # Slots stored with the doctor's specialty spelled out (as all were before slots
            # followed their doctor's) follow it from now on.
            steps.append(
                self._rewrite(
                    "specialty_moved",
                    {"specialty_id": old, **unbooked},
                    {"specialty_id": None},
                    {"specialty_id": old},
                    unbooked,
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
            changes.update(self.regeneration.plan.horizon_fields())
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
        self,
        name: str,
        only: dict[str, Any],
        changes: dict[str, Any],
        previous: dict[str, Any],
        undo_only: dict[str, Any],
    ) -> Step:
        """`changes` on the doctor's future slots matching `only`: their ids found in one
        read, then written CHUNK_SIZE at a time (most moves find none to write); the undo
        finds them by this change's `updated_at` stamp, `changes` and `undo_only` (what
        tells its slots from another step's), and sets `previous` again."""
        collection = Slot.get_pymongo_collection()
        doctor_id, now = self.after.id, self.now

        async def do() -> None:
            found = collection.find(
                {"doctor_id": doctor_id, "starts_at": {"$gt": now}, **only}, {"_id": 1}
            )
            ids = [slot["_id"] async for slot in found]

            async def write(some: Any) -> int:
                done = await collection.update_many(
                    {"_id": some, **only}, update_of({**changes, "updated_at": now})
                )
                return done.modified_count

            self.rewritten += await count_in(ids, write)

        async def undo() -> None:
            await collection.update_many(
                {
                    "doctor_id": doctor_id,
                    "starts_at": {"$gt": now},
                    "updated_at": now,
                    **changes,
                    **undo_only,
                },
                update_of(previous),
            )

        return Step(name, do, undo)

    async def announce(self) -> None:
        assert self.after.id is not None
        if self.rewritten > BULK_EVENTS or self.specialty_moved:
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
