"""A time zone move regenerates a dense doctor's first days at once and the rest in the
background; until then, the generated slots past `slotsRegeneratingFrom` are not bookable,
by any read or claim, while hand-made slots stay bookable."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bson import ObjectId

from tests.graphql_client import Api, Clinic
from tests.schedule_helpers import (
    UPDATE_DOCTOR,
    assert_sound,
    every_day,
    live_slots,
    set_schedule,
    today_in,
    wall,
)
from tests.servers import ApiServer

MARKED = """query($id: ID!) { doctor(id: $id) { timezone slotsRegeneratingFrom } }"""
MOVE = """mutation($id: ID!, $input: DoctorUpdateInput!) {
  updateDoctor(id: $id, input: $input) { timezone slotsRegeneratingFrom }
}"""
SEEN = """query($id: ID!, $day: Date!, $from: Date!, $to: Date!) {
  doctor(id: $id) {
    availableSlots(date: $day) { id }
    availability(from: $from, to: $to) { date bookable }
    nextAvailableSlot { id }
  }
}"""
STATE = """query($id: ID!) { slot(id: $id) { state } }"""
RESCHEDULE = """mutation($id: ID!, $slotId: ID!) {
  rescheduleAppointment(id: $id, slotId: $slotId) { id }
}"""


def _day(offset: int) -> str:
    return (today_in("UTC") + timedelta(days=offset)).isoformat()


async def _marked_from(api: Api, store: Any, clinic: Clinic, offset: int) -> datetime:
    """As a move still rolling leaves the doctor: its generated slots from midnight of the
    day `offset` days ahead wait for regeneration. Written to the store, then made known to
    every process's read model by an edit through the API (which drops the doctor there)."""
    mark = datetime.combine(today_in("UTC") + timedelta(days=offset), time(), UTC)
    doctor_id = ObjectId(clinic.doctor_id)
    await store.doctors.update_one({"_id": doctor_id}, {"$set": {"regenerating_from": mark}})
    edit = {"id": clinic.doctor_id, "input": {"consultationFee": 45.0}}
    _ = (await api.gql(UPDATE_DOCTOR, edit, api.admin.token)).data
    shown = (await api.gql(MARKED, {"id": clinic.doctor_id})).data["doctor"]
    assert datetime.fromisoformat(shown["slotsRegeneratingFrom"]) == mark
    return mark


async def test_slots_waiting_for_regeneration_are_neither_shown_nor_claimed(
    api: Api, store: Any
) -> None:
    clinic = await api.clinic()
    weekly = every_day(("09:00", "10:00"))
    await set_schedule(api, clinic, slotMinutes=30, weekly=weekly, validUntil=_day(6))
    manual = await api.slot(clinic, "20:00", "20:30", day=_day(5))
    by_day: dict[str, list[dict[str, Any]]] = {}
    for slot in await live_slots(store, clinic.doctor_id):
        by_day.setdefault(slot["date"], []).append(slot)
    first = await api.patient()
    booked = (await api.book(str(by_day[_day(1)][0]["_id"]), first)).data["bookAppointment"]
    await _marked_from(api, store, clinic, 3)
    waiting = str(by_day[_day(4)][0]["_id"])
    before = await store.slots.find_one({"_id": ObjectId(waiting)})

    seen = (
        await api.gql(
            SEEN, {"id": clinic.doctor_id, "day": _day(4), "from": _day(1), "to": _day(5)}
        )
    ).data["doctor"]
    assert seen["availableSlots"] == []
    counts = {d["date"]: d["bookable"] for d in seen["availability"]}
    assert counts == {_day(1): 1, _day(2): 2, _day(3): 0, _day(4): 0, _day(5): 1}
    assert seen["nextAvailableSlot"] is not None
    assert (await api.gql(STATE, {"id": waiting})).data["slot"]["state"] == "UNAVAILABLE"
    listed = await api.gql(
        "query($d: ID!, $day: Date!) { availableSlots(doctorId: $d, date: $day) { id } }",
        {"d": clinic.doctor_id, "day": _day(4)},
    )
    assert listed.data["availableSlots"] == []

    patient = await api.patient()
    for refused in (
        await api.lock(waiting, patient),
        await api.book(waiting, patient),
        await api.gql(RESCHEDULE, {"id": booked["id"], "slotId": waiting}, first.token),
        await api.book(waiting, api.admin, patientId=patient.id),
    ):
        assert refused.code == "SLOT_UNAVAILABLE", refused.body
        assert "time zone" in refused.error["message"]
    assert await store.slots.find_one({"_id": ObjectId(waiting)}) == before
    # A hand-made slot keeps its instant through a move: it is not held back.
    assert (await api.lock(manual["id"], patient)).data["lockSlot"]["id"] == manual["id"]


async def _until_regenerated(api: Api, clinic: Clinic) -> None:
    """Until the background roll has reached the horizon (bounded)."""
    for _ in range(1200):
        shown = (await api.gql(MARKED, {"id": clinic.doctor_id})).data["doctor"]
        if shown["slotsRegeneratingFrom"] is None:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the move's remaining days were never regenerated")


async def test_a_dense_doctors_move_regenerates_the_rest_in_the_background(
    api: Api, store: Any
) -> None:
    """24 slots a day over 61 days (more than a move writes at once): the answer comes after
    the first days, marked; the roll then moves every other day to the new zone's wall clock,
    keeping the booked and the hand-made slots."""
    clinic = await api.clinic()
    await set_schedule(api, clinic, slotMinutes=30, weekly=every_day(("08:00", "20:00")))
    later = {s["date"]: s for s in await live_slots(store, clinic.doctor_id)}
    kept = await api.book(str(later[_day(20)]["_id"]), await api.patient())
    assert "errors" not in kept.body, kept.body
    manual = await api.slot(clinic, "21:00", "21:30", day=_day(30))
    zone = "Asia/Kolkata"

    moved = await api.gql(
        MOVE, {"id": clinic.doctor_id, "input": {"timezone": zone}}, api.admin.token
    )
    answer = moved.data["updateDoctor"]
    mark = datetime.fromisoformat(answer["slotsRegeneratingFrom"])
    local = mark.astimezone(ZoneInfo(zone))
    assert local.time() == time() and local.date() > today_in(zone)
    # The roll takes the doctor's lease a batch at a time: an edit meanwhile waits for one.
    edit = {"id": clinic.doctor_id, "input": {"consultationFee": 60.0}}
    edited = await api.gql(UPDATE_DOCTOR, edit, api.admin.token)
    assert "errors" not in edited.body, edited.body
    await _until_regenerated(api, clinic)

    slots = await live_slots(store, clinic.doctor_id)
    assert_sound(slots)
    ids = {str(s["_id"]) for s in slots}
    assert str(later[_day(20)]["_id"]) in ids and manual["id"] in ids
    generated = [s for s in slots if s["source"] == "SCHEDULE" and s["is_booked"] is False]
    for slot in generated:
        assert wall(slot, zone) == (slot["date"], slot["start_time"]), slot
        assert "08:00" <= slot["start_time"] < "20:00", slot
    last = (today_in(zone) + timedelta(days=60)).isoformat()
    assert max(s["date"] for s in generated) == last
    doctor = await store.doctors.find_one({"_id": ObjectId(clinic.doctor_id)})
    assert doctor["horizon_end"] == last and doctor.get("regenerating_from") is None
    # Every day the roll made is a whole day of the new zone's hours.
    per_day: dict[str, int] = {}
    for slot in generated:
        per_day[slot["date"]] = per_day.get(slot["date"], 0) + 1
    rolled = [d for d in per_day if d >= local.date().isoformat()]
    assert rolled and all(per_day[d] == 24 for d in rolled), sorted(per_day.items())
    assert len(rolled) == (today_in(zone) + timedelta(days=60) - local.date()).days + 1


async def test_a_move_cut_short_is_finished_by_the_next_process_to_start(
    api: Api, store: Any, store_uri: str, db_name: str, log_dir: Path
) -> None:
    """As a process killed during a move's roll leaves a doctor: in its new zone, regenerated
    through a few days, marked from there on. A process starting up rolls every doctor that
    needs it, this one included, and clears the mark."""
    clinic = await api.clinic()
    await set_schedule(api, clinic, slotMinutes=30, weekly=every_day(("09:00", "10:00")))
    zone = "Asia/Kolkata"
    through = today_in(zone) + timedelta(days=3)
    mark = datetime.combine(through + timedelta(days=1), time(), ZoneInfo(zone))
    doctor_id = ObjectId(clinic.doctor_id)
    await store.doctors.update_one(
        {"_id": doctor_id},
        {"$set": {"timezone": zone, "horizon_end": through.isoformat(), "regenerating_from": mark}},
    )
    process = ApiServer(store_uri, db_name).start(log_dir)
    try:
        await _until_regenerated(api, clinic)
    finally:
        process.stop()

    slots = await live_slots(store, clinic.doctor_id)
    assert_sound(slots)
    rolled = [s for s in slots if s["starts_at"] >= mark]
    assert {wall(s, zone)[1] for s in rolled} == {"09:00", "09:30"}
    assert all(wall(s, zone) == (s["date"], s["start_time"]) for s in rolled)
    last = (today_in(zone) + timedelta(days=60)).isoformat()
    assert len(rolled) == 2 * (date.fromisoformat(last) - through).days
    doctor = await store.doctors.find_one({"_id": doctor_id})
    assert doctor["horizon_end"] == last and doctor.get("regenerating_from") is None
