"""Schedules and date overrides over HTTP, checked in the store and over WebSocket."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest
from bson import ObjectId

from tests.graphql_client import Api, Clinic, Person
from tests.schedule_helpers import (
    CLEAR_OVERRIDE,
    DOCTOR_SCHEDULE,
    SET_OVERRIDE,
    UPDATE_DOCTOR,
    assert_sound,
    every_day,
    hours,
    live_slots,
    set_schedule,
    today_in,
    wall,
)
from tests.servers import ApiServer
from tests.subscriptions_client import Payload, connect, until_ready

SLOT_UPDATES = """subscription($doctorId: ID) {
  slotUpdates(doctorId: $doctorId) { kind slot { id date startTime endTime state } }
}"""
SET_AVAILABILITY = """mutation($id: ID!, $isAvailable: Boolean!) {
  setSlotAvailability(id: $id, isAvailable: $isAvailable) { id }
}"""


class Probe:
    """Toggles a createSlot slot far from the schedules under test; its events are skipped."""

    def __init__(self, api: Api, slot_id: str) -> None:
        self.api, self.slot_id, self.available = api, slot_id, True

    @classmethod
    async def create(cls, api: Api, clinic: Clinic, day: str) -> Probe:
        return cls(api, (await api.slot(clinic, "23:00", "23:30", day=day))["id"])

    def skip(self, data: Payload) -> bool:
        return bool(data["slotUpdates"]["slot"]["id"] == self.slot_id)

    async def __call__(self) -> None:
        self.available = not self.available
        variables = {"id": self.slot_id, "isAvailable": self.available}
        _ = (await self.api.gql(SET_AVAILABILITY, variables, self.api.admin.token)).data


def day(offset: int, zone: str = "UTC") -> str:
    return (today_in(zone) + timedelta(days=offset)).isoformat()


async def starts_of(store: Any, clinic: Clinic, zone: str = "UTC") -> list[tuple[str, str]]:
    return [wall(s, zone) for s in await live_slots(store, clinic.doctor_id)]


# --- generation -----------------------------------------------------------------------


async def test_a_schedule_makes_slots_on_its_weekdays_through_the_horizon(
    api: Api, store: Any
) -> None:
    zone = "America/New_York"
    clinic = await api.clinic(zone)
    weekly = [
        {"weekday": "MONDAY", "ranges": hours(("13:00", "17:00"), ("09:00", "12:00"))},
        {"weekday": "WEDNESDAY", "ranges": hours(("10:00", "11:00"))},
    ]
    reply = await set_schedule(api, clinic, slotMinutes=30, bufferMinutes=10, weekly=weekly)
    change = reply.data["setSchedule"]
    today = today_in(zone)
    horizon_end = today + timedelta(days=60)
    assert change["horizonEnd"] == horizon_end.isoformat()
    assert change["slotsRemoved"] == 0 and change["conflicts"] == []

    # 30 minutes, then a 10-minute buffer; the lunch break 12:00-13:00 has none.
    monday = ["09:00", "09:40", "10:20", "11:00", "13:00", "13:40", "14:20", "15:00", "15:40"]
    monday += ["16:20"]
    expected = {0: monday, 2: ["10:00"]}
    slots = await live_slots(store, clinic.doctor_id)
    assert change["slotsAdded"] == len(slots)
    assert_sound(slots)
    by_day: dict[str, list[str]] = {}
    for slot in slots:
        assert slot["source"] == "SCHEDULE"
        assert (slot["date"], slot["start_time"]) == wall(slot, zone)
        assert slot["ends_at"] - slot["starts_at"] == timedelta(minutes=30)
        by_day.setdefault(slot["date"], []).append(slot["start_time"])
    wanted = {
        d.isoformat(): expected[d.weekday()]
        for d in (today + timedelta(days=n) for n in range(1, 61))
        if d.weekday() in expected
    }
    assert {d: t for d, t in by_day.items() if d > today.isoformat()} == wanted
    assert max(by_day) <= horizon_end.isoformat()

    shown = await api.gql(
        DOCTOR_SCHEDULE,
        {"id": clinic.doctor_id, "from": today.isoformat(), "to": today.isoformat()},
    )
    schedule = shown.data["doctor"]["schedule"]
    assert schedule["slotMinutes"] == 30 and schedule["bufferMinutes"] == 10
    assert schedule["validFrom"] == today.isoformat() and schedule["validUntil"] is None
    assert [h["weekday"] for h in schedule["weekly"]] == ["MONDAY", "WEDNESDAY"]
    assert schedule["weekly"][0]["ranges"] == hours(("09:00", "12:00"), ("13:00", "17:00"))

    # The same schedule again changes nothing: no slot removed, none added, same documents.
    again = await set_schedule(api, clinic, slotMinutes=30, bufferMinutes=10, weekly=weekly)
    assert again.data["setSchedule"]["slotsAdded"] == 0
    assert again.data["setSchedule"]["slotsRemoved"] == 0
    assert [s["_id"] for s in await live_slots(store, clinic.doctor_id)] == [
        s["_id"] for s in slots
    ]


async def test_valid_from_and_until_bound_the_dates(api: Api, store: Any) -> None:
    clinic = await api.clinic()
    reply = await set_schedule(
        api,
        clinic,
        slotMinutes=60,
        weekly=every_day(("09:00", "11:00")),
        validFrom=day(10),
        validUntil=day(12),
    )
    assert reply.data["setSchedule"]["slotsAdded"] == 6
    assert await starts_of(store, clinic) == [
        (d, t) for d in (day(10), day(11), day(12)) for t in ("09:00", "10:00")
    ]


# --- changes keep what patients hold and what admins made ------------------------------


async def _book(api: Api, slot_id: str, patient: Person) -> str:
    return str((await api.book(slot_id, patient)).data["bookAppointment"]["id"])


async def test_a_change_keeps_booked_locked_and_manual_slots_and_announces_the_rest(
    api: Api, store: Any, server_a: ApiServer
) -> None:
    clinic = await api.clinic()
    when = day(3)
    manual = await api.slot(clinic, "12:00", "12:45", day=when)
    first = await set_schedule(
        api,
        clinic,
        slotMinutes=30,
        weekly=every_day(("09:00", "11:00")),
        validFrom=when,
        validUntil=when,
    )
    assert first.data["setSchedule"]["slotsAdded"] == 4
    slots = {s["start_time"]: s for s in await live_slots(store, clinic.doctor_id)}
    holder, booker = await api.patient("Holder"), await api.patient("Booker")
    assert (await api.lock(str(slots["09:30"]["_id"]), holder)).data
    appointment_id = await _book(api, str(slots["10:00"]["_id"]), booker)

    probe = await Probe.create(api, clinic, day(5))
    async with connect(server_a.ws_url, api.admin.token) as connection:
        events = connection.subscribe(SLOT_UPDATES, {"doctorId": clinic.doctor_id}, skip=probe.skip)
        await until_ready([events], probe)
        change = (
            await set_schedule(
                api,
                clinic,
                slotMinutes=30,
                weekly=every_day(("09:15", "13:00")),
                validFrom=when,
                validUntil=when,
            )
        ).data["setSchedule"]
        # 09:00 and 10:30 go; 09:15, 09:45, 10:15 would overlap the locked and booked slots,
        # 11:45 and 12:15 the manual one; 10:45 and 11:15 are new.
        assert (change["slotsRemoved"], change["slotsAdded"]) == (2, 2)
        assert change["conflicts"] == []
        seen = [(await events.next())["slotUpdates"] for _ in range(4)]
    assert sorted((e["kind"], e["slot"]["startTime"]) for e in seen) == [
        ("ADDED", "10:45"),
        ("ADDED", "11:15"),
        ("REMOVED", "09:00"),
        ("REMOVED", "10:30"),
    ]
    assert {e["slot"]["state"] for e in seen if e["kind"] == "ADDED"} == {"AVAILABLE"}
    # A removed slot is announced as the removal left it, so no listener keeps it bookable.
    assert {e["slot"]["state"] for e in seen if e["kind"] == "REMOVED"} == {"UNAVAILABLE"}

    after = await live_slots(store, clinic.doctor_id)
    assert_sound(after)
    by_time = {s["start_time"]: s for s in after if s["date"] == when}
    assert sorted(by_time) == ["09:30", "10:00", "10:45", "11:15", "12:00"]
    assert by_time["09:30"]["_id"] == slots["09:30"]["_id"]
    assert by_time["09:30"]["booking_lock"]["is_active"] is True
    assert by_time["10:00"]["is_booked"] is True
    assert by_time["12:00"]["_id"] == ObjectId(manual["id"])
    assert by_time["12:00"]["source"] == "MANUAL"

    # Hours that leave the booked appointment outside: it is reported, never cancelled.
    narrowed = await set_schedule(
        api,
        clinic,
        slotMinutes=30,
        weekly=every_day(("11:00", "13:00")),
        validFrom=when,
        validUntil=when,
    )
    assert narrowed.data["setSchedule"]["conflicts"] == [
        {"id": appointment_id, "status": "SCHEDULED"}
    ]
    stored = await store.appointments.find_one({"_id": ObjectId(appointment_id)})
    assert stored["status"] == "SCHEDULED"
    kept = {s["start_time"] for s in await live_slots(store, clinic.doctor_id) if s["date"] == when}
    assert {"09:30", "10:00", "12:00"} <= kept
    assert_sound(await live_slots(store, clinic.doctor_id))


# --- date overrides ---------------------------------------------------------------------


async def test_overrides_replace_a_days_hours_give_days_off_and_can_be_cleared(
    api: Api, store: Any
) -> None:
    clinic = await api.clinic()
    first, second = day(4), day(5)
    await set_schedule(
        api,
        clinic,
        slotMinutes=60,
        weekly=every_day(("09:00", "11:00")),
        validFrom=first,
        validUntil=second,
    )

    async def override(when: str, ranges: list[dict[str, str]], reason: str | None = None) -> Any:
        variables = {"doctorId": clinic.doctor_id, "date": when, "ranges": ranges}
        return (await api.gql(SET_OVERRIDE, {**variables, "reason": reason}, api.admin.token)).data[
            "setDateOverride"
        ]

    camp = await override(first, hours(("14:00", "16:00")), "  Health camp  ")
    assert (camp["slotsRemoved"], camp["slotsAdded"]) == (2, 2)
    off = await override(second, [])
    assert (off["slotsRemoved"], off["slotsAdded"]) == (2, 0)
    assert await starts_of(store, clinic) == [(first, "14:00"), (first, "15:00")]

    shown = await api.gql(DOCTOR_SCHEDULE, {"id": clinic.doctor_id, "from": first, "to": second})
    assert shown.data["doctor"]["dateOverrides"] == [
        {"date": first, "reason": "Health camp", "ranges": hours(("14:00", "16:00"))},
        {"date": second, "reason": None, "ranges": []},
    ]
    assert (
        await store.date_overrides.count_documents({"doctor_id": ObjectId(clinic.doctor_id)}) == 2
    )

    cleared = (
        await api.gql(
            CLEAR_OVERRIDE, {"doctorId": clinic.doctor_id, "date": first}, api.admin.token
        )
    ).data["clearDateOverride"]
    assert (cleared["slotsRemoved"], cleared["slotsAdded"]) == (2, 2)
    assert await starts_of(store, clinic) == [(first, "09:00"), (first, "10:00")]
    assert_sound(await live_slots(store, clinic.doctor_id))


# --- who may ----------------------------------------------------------------------------


async def test_a_doctor_sets_its_own_schedule_only_and_patients_none(api: Api, store: Any) -> None:
    own, other = await api.clinic(), await api.clinic()
    patient = await api.patient()
    schedule = {
        "slotMinutes": 30,
        "weekly": every_day(("09:00", "10:00")),
        "validFrom": day(2),
        "validUntil": day(2),
    }
    assert (await set_schedule(api, own, own.doctor_token, **schedule)).data["setSchedule"][
        "slotsAdded"
    ] == 2
    for token in (own.doctor_token, patient.token):
        refused = await set_schedule(api, other, token, **schedule)
        assert refused.code == "FORBIDDEN"
        override = await api.gql(
            SET_OVERRIDE, {"doctorId": other.doctor_id, "date": day(2), "ranges": []}, token
        )
        assert override.code == "FORBIDDEN"
    assert (await set_schedule(api, other, "", **schedule)).code == "UNAUTHENTICATED"
    missing = Clinic(other.specialty_id, str(ObjectId()), "", "")
    assert (await set_schedule(api, missing, **schedule)).code == "NOT_FOUND"
    assert await live_slots(store, other.doctor_id) == []
    doctor = await store.doctors.find_one({"_id": ObjectId(other.doctor_id)})
    assert doctor.get("schedule") is None


# --- bad input --------------------------------------------------------------------------

GOOD: dict[str, Any] = {"slotMinutes": 30, "weekly": every_day(("09:00", "10:00"))}


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def _monday(*ranges: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"weekday": "MONDAY", "ranges": hours(*ranges)}]


BAD_SCHEDULES = [
    (_with(slotMinutes=4), "slotMinutes"),
    (_with(slotMinutes=481), "slotMinutes"),
    (_with(bufferMinutes=-1), "bufferMinutes"),
    (_with(bufferMinutes=241), "bufferMinutes"),
    (_with(weekly=_monday(("1\u0666:00", "17:00"))), "start"),
    (_with(weekly=_monday(("09:00", "15:00\n"))), "end"),
    (_with(weekly=_monday(("09:00", "24:30"))), "end"),
    (_with(weekly=_monday(("24:00", "24:00"))), "start"),
    (_with(weekly=_monday(("10:00", "10:00"))), "end"),
    (_with(weekly=_monday(("11:00", "10:00"))), "end"),
    (_with(weekly=_monday(("09:00", "11:00"), ("10:30", "12:00"))), "ranges"),
    (
        _with(
            weekly=_monday(*[(f"{h:02}:00", f"{h:02}:30") for h in range(24)], ("23:30", "24:00"))
        ),
        "ranges",
    ),
    (_with(weekly=_monday(("09:00", "10:00")) + _monday(("11:00", "12:00"))), "weekday"),
    (_with(validFrom=day(10), validUntil=day(9)), "validUntil"),
    (_with(validFrom="9999-12-31"), "validFrom"),
    (_with(validUntil="9999-12-31"), "validUntil"),
    (_with(validFrom="0001-01-01"), "validFrom"),
]


@pytest.mark.parametrize(("schedule", "field"), BAD_SCHEDULES)
async def test_bad_schedules_are_refused_and_nothing_is_written(
    api: Api, store: Any, schedule: dict[str, Any], field: str
) -> None:
    clinic = await api.clinic()
    refused = await set_schedule(api, clinic, **schedule)
    assert refused.code == "BAD_USER_INPUT", refused.body
    assert refused.error["extensions"]["field"] == field
    doctor = await store.doctors.find_one({"_id": ObjectId(clinic.doctor_id)})
    assert doctor.get("schedule") is None and doctor.get("horizon_end") is None
    assert await live_slots(store, clinic.doctor_id) == []


BAD_OVERRIDES = [
    ({"date": day(-1), "ranges": []}, "date"),
    ({"date": "9999-12-31", "ranges": []}, "date"),
    ({"date": day(1), "ranges": hours(("09:00", "08:00"))}, "end"),
    ({"date": day(1), "ranges": hours(("09:00", "11:00"), ("10:00", "12:00"))}, "ranges"),
    ({"date": day(1), "ranges": hours(("9:00", "11:00"))}, "start"),
    ({"date": day(1), "ranges": [], "reason": "x" * 501}, "reason"),
]


@pytest.mark.parametrize(("override", "field"), BAD_OVERRIDES)
async def test_bad_overrides_are_refused_and_nothing_is_written(
    api: Api, store: Any, override: dict[str, Any], field: str
) -> None:
    clinic = await api.clinic()
    refused = await api.gql(
        SET_OVERRIDE, {"doctorId": clinic.doctor_id, **override}, api.admin.token
    )
    assert refused.code == "BAD_USER_INPUT", refused.body
    assert refused.error["extensions"]["field"] == field
    assert (
        await store.date_overrides.count_documents({"doctor_id": ObjectId(clinic.doctor_id)}) == 0
    )


async def test_unreadable_dates_are_refused_without_a_server_error(api: Api) -> None:
    clinic = await api.clinic()
    for value in ("10000-01-01", "2027-02-30", "tomorrow"):
        refused = await set_schedule(api, clinic, **_with(validFrom=value))
        assert refused.code != "INTERNAL_SERVER_ERROR", refused.body
        assert "errors" in refused.body


# --- a doctor's zone changes --------------------------------------------------------------


async def test_a_new_timezone_moves_generated_slots_to_its_wall_clock(api: Api, store: Any) -> None:
    clinic = await api.clinic()
    when = day(5)
    await set_schedule(
        api,
        clinic,
        slotMinutes=30,
        weekly=every_day(("09:00", "10:00")),
        validFrom=when,
        validUntil=when,
    )
    manual = await api.slot(clinic, "20:00", "20:30", day=when)
    before = await live_slots(store, clinic.doctor_id)
    assert [s["starts_at"].astimezone(UTC).strftime("%H:%M") for s in before] == [
        "09:00",
        "09:30",
        "20:00",
    ]
    moved = await api.gql(
        UPDATE_DOCTOR,
        {"id": clinic.doctor_id, "input": {"timezone": "Asia/Kolkata"}},
        api.admin.token,
    )
    assert moved.data["updateDoctor"]["timezone"] == "Asia/Kolkata"
    after = await live_slots(store, clinic.doctor_id)
    assert_sound(after)
    generated = [s for s in after if s["source"] == "SCHEDULE"]
    assert [wall(s, "Asia/Kolkata") for s in generated] == [(when, "09:00"), (when, "09:30")]
    assert [(s["date"], s["start_time"]) for s in generated] == [(when, "09:00"), (when, "09:30")]
    assert [s["starts_at"].astimezone(UTC).strftime("%H:%M") for s in generated] == [
        "03:30",
        "04:00",
    ]
    assert [s["_id"] for s in after if s["source"] == "MANUAL"] == [ObjectId(manual["id"])]


async def test_an_override_for_a_doctor_without_schedule_touches_no_slot(
    api: Api, store: Any
) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "09:00", "09:30", day=day(2))
    await _book(api, slot["id"], await api.patient())
    change = (
        await api.gql(
            SET_OVERRIDE,
            {"doctorId": clinic.doctor_id, "date": day(2), "ranges": []},
            clinic.doctor_token,
        )
    ).data["setDateOverride"]
    assert (change["slotsAdded"], change["slotsRemoved"], change["conflicts"]) == (0, 0, [])
    assert [str(s["_id"]) for s in await live_slots(store, clinic.doctor_id)] == [slot["id"]]
