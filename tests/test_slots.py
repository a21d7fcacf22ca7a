"""Slot administration: creating, listing, removing and switching slots on and off."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from tests.graphql_client import Api, GraphQL, future_day

SLOT_FIELDS = """id date startTime endTime durationMinutes startsAt endsAt state isAvailable
  isBooked createdAt updatedAt doctor { id timezone } specialty { id }"""
CREATE_SLOT_FULL = f"""mutation($doctorId: ID!, $input: SlotInput!) {{
  createSlot(doctorId: $doctorId, input: $input) {{ {SLOT_FIELDS} }}
}}"""
SLOT = f"query($id: ID!) {{ slot(id: $id) {{ {SLOT_FIELDS} }} }}"
SLOTS = """query($doctorId: ID!, $from: Date!, $to: Date!) {
  slots(doctorId: $doctorId, from: $from, to: $to) {
    id date startTime state isAvailable isBooked lock { lockedByMe patient { id } }
  }
}"""
AVAILABLE_SLOTS = """query($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) { id startTime state }
}"""
REMOVE_SLOT = "mutation($id: ID!) { removeSlot(id: $id) { id state isAvailable isBooked } }"
SET_AVAILABILITY = """mutation($id: ID!, $isAvailable: Boolean!) {
  setSlotAvailability(id: $id, isAvailable: $isAvailable) { id state isAvailable isBooked lock {
    expiresAt } }
}"""
CANCEL = """mutation($id: ID!, $reason: String) {
  cancelAppointment(id: $id, reason: $reason) { id status slot { id state isBooked } }
}"""
CREATE_SPECIALTY = """mutation($input: SpecialtyInput!) { createSpecialty(input: $input) { id } }"""
MOVE_DOCTOR = """mutation($id: ID!, $s: ID!) {
  updateDoctor(id: $id, input: {specialtyId: $s}) { specialty { id } }
}"""

UNKNOWN_ID = str(ObjectId())


def slot_input(start: str, end: str, day: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "date": future_day() if day is None else day,
        "startTime": start,
        "endTime": end,
        **extra,
    }


async def create_slot(
    gql: GraphQL, token: str | None, doctor_id: str, start: str, end: str, **extra: Any
) -> Any:
    return await gql(
        CREATE_SLOT_FULL, {"doctorId": doctor_id, "input": slot_input(start, end, **extra)}, token
    )


async def slot_count(store: AsyncDatabase[Any], doctor_id: str) -> int:
    return await store["slots"].count_documents({"doctor_id": ObjectId(doctor_id)})


def instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() is not None, f"{value} has no UTC offset"
    return parsed


# --- createSlot ----------------------------------------------------------------------------


async def test_create_slot_in_the_doctors_timezone(api: Api) -> None:
    clinic = await api.clinic(timezone="Asia/Kolkata")
    day = future_day(8)
    reply = await create_slot(api.gql, api.admin.token, clinic.doctor_id, "09:00", "09:45", day=day)
    slot = reply.data["createSlot"]
    assert slot["date"] == day
    assert slot["startTime"] == "09:00"
    assert slot["endTime"] == "09:45"
    assert slot["durationMinutes"] == 45
    # 09:00 in Kolkata (UTC+05:30, no DST) is 03:30Z the same day.
    y, m, d = (int(part) for part in day.split("-"))
    assert instant(slot["startsAt"]) == datetime(y, m, d, 3, 30, tzinfo=UTC)
    assert instant(slot["endsAt"]) == datetime(y, m, d, 4, 15, tzinfo=UTC)
    assert slot["state"] == "AVAILABLE"
    assert slot["isAvailable"] is True
    assert slot["isBooked"] is False
    assert slot["doctor"] == {"id": clinic.doctor_id, "timezone": "Asia/Kolkata"}
    assert slot["specialty"] == {"id": clinic.specialty_id}  # the doctor's, by default
    assert slot["createdAt"] == slot["updatedAt"]
    assert (await api.gql(SLOT, {"id": slot["id"]})).data["slot"] == slot


async def test_create_slot_local_time_that_is_the_next_utc_day(api: Api) -> None:
    clinic = await api.clinic(timezone="America/New_York")
    day = future_day(15)
    slot = (
        await create_slot(api.gql, api.admin.token, clinic.doctor_id, "22:30", "23:30", day=day)
    ).data["createSlot"]
    local = datetime.combine(
        date.fromisoformat(day), time(22, 30), tzinfo=ZoneInfo("America/New_York")
    )
    assert instant(slot["startsAt"]) == local
    assert instant(slot["startsAt"]).astimezone(UTC).date() == date.fromisoformat(day) + timedelta(
        days=1
    )
    assert instant(slot["endsAt"]) - instant(slot["startsAt"]) == timedelta(hours=1)
    assert slot["date"] == day  # the doctor's calendar date, not the UTC one
    assert slot["durationMinutes"] == 60


async def test_create_slot_with_matching_duration_and_another_specialty(api: Api) -> None:
    clinic = await api.clinic()
    other = (
        await api.gql(CREATE_SPECIALTY, {"input": {"name": f"Other {ObjectId()}"}}, api.admin.token)
    ).data["createSpecialty"]
    slot = (
        await create_slot(
            api.gql,
            api.admin.token,
            clinic.doctor_id,
            "10:00",
            "10:20",
            durationMinutes=20,
            specialtyId=other["id"],
        )
    ).data["createSlot"]
    assert slot["durationMinutes"] == 20
    assert slot["specialty"]["id"] == other["id"]
    assert instant(slot["endsAt"]) - instant(slot["startsAt"]) == timedelta(minutes=20)

    # The doctor moves to a third specialty: a slot made for its own follows it, this one stays.
    own = (await create_slot(api.gql, api.admin.token, clinic.doctor_id, "11:00", "11:20")).data[
        "createSlot"
    ]
    third = (
        await api.gql(CREATE_SPECIALTY, {"input": {"name": f"Third {ObjectId()}"}}, api.admin.token)
    ).data["createSpecialty"]
    moved = await api.gql(MOVE_DOCTOR, {"id": clinic.doctor_id, "s": third["id"]}, api.admin.token)
    assert moved.data["updateDoctor"]["specialty"] == {"id": third["id"]}
    shown = {
        s: (await api.gql(SLOT, {"id": s})).data["slot"]["specialty"]
        for s in (slot["id"], own["id"])
    }
    assert shown == {slot["id"]: {"id": other["id"]}, own["id"]: {"id": third["id"]}}


INVALID_TIMES: list[tuple[str, str, int | None, str]] = [
    ("24:00", "24:30", None, "startTime"),
    ("9:00", "09:30", None, "startTime"),
    ("12:60", "13:30", None, "startTime"),
    ("09:00am", "10:00", None, "startTime"),
    ("", "10:00", None, "startTime"),
    ("09:00", "24:00", None, "endTime"),
    ("09:00", "9:30", None, "endTime"),
    ("10:00", "09:00", None, "endTime"),  # end before start
    ("10:00", "10:00", None, "endTime"),  # end equal to start
    ("08:00", "20:01", None, "endTime"),  # longer than 12 hours
    ("09:00", "09:30", 45, "durationMinutes"),
    ("09:00", "09:30", 0, "durationMinutes"),
    ("09:00", "09:30", -30, "durationMinutes"),
]


@pytest.mark.parametrize(
    ("start", "end", "duration", "field"),
    INVALID_TIMES,
    ids=[f"{s}-{e}-{d}" for s, e, d, _ in INVALID_TIMES],
)
async def test_create_slot_refuses_bad_times(
    api: Api,
    store: AsyncDatabase[Any],
    start: str,
    end: str,
    duration: int | None,
    field: str,
) -> None:
    clinic = await api.clinic()
    await api.slot(clinic, "15:00", "15:30")
    before = await slot_count(store, clinic.doctor_id)
    extra = {} if duration is None else {"durationMinutes": duration}
    reply = await create_slot(api.gql, api.admin.token, clinic.doctor_id, start, end, **extra)
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"]["field"] == field
    assert reply.body.get("data") is None
    assert await slot_count(store, clinic.doctor_id) == before


@pytest.mark.parametrize("days_ago", [1, 30, 400])
async def test_create_slot_refuses_a_date_in_the_past(
    api: Api, store: AsyncDatabase[Any], days_ago: int
) -> None:
    clinic = await api.clinic()
    past = (datetime.now(UTC).date() - timedelta(days=days_ago)).isoformat()
    reply = await create_slot(
        api.gql, api.admin.token, clinic.doctor_id, "09:00", "09:30", day=past
    )
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"].get("field") == "date"
    assert await slot_count(store, clinic.doctor_id) == 0


async def test_create_slot_refuses_an_impossible_date(api: Api, store: AsyncDatabase[Any]) -> None:
    clinic = await api.clinic()
    year = date.today().year + 1
    for bad in (f"{year}-02-30", f"{year}-13-01", "tomorrow", ""):
        reply = await create_slot(
            api.gql, api.admin.token, clinic.doctor_id, "09:00", "09:30", day=bad
        )
        assert reply.code == "BAD_USER_INPUT", bad
    assert await slot_count(store, clinic.doctor_id) == 0


def _next_spring_forward(zone: str) -> date:
    """The next date on which 02:30 does not exist in `zone` (clocks jump 02:00 -> 03:00)."""
    tz = ZoneInfo(zone)
    day = date.today() + timedelta(days=2)
    while True:
        local = datetime.combine(day, time(2, 30), tzinfo=tz)
        if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
            return day
        day += timedelta(days=1)


async def test_create_slot_refuses_a_time_skipped_by_daylight_saving(
    api: Api, store: AsyncDatabase[Any]
) -> None:
    clinic = await api.clinic(timezone="America/New_York")
    day = _next_spring_forward("America/New_York").isoformat()
    reply = await create_slot(api.gql, api.admin.token, clinic.doctor_id, "02:30", "03:30", day=day)
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"]["field"] == "startTime"
    assert await slot_count(store, clinic.doctor_id) == 0


async def test_create_slot_refuses_overlaps_with_the_same_doctor(
    api: Api, store: AsyncDatabase[Any]
) -> None:
    clinic = await api.clinic()
    day = future_day(6)
    existing = (
        await create_slot(api.gql, api.admin.token, clinic.doctor_id, "10:00", "11:00", day=day)
    ).data["createSlot"]
    before = await slot_count(store, clinic.doctor_id)
    for start, end in [
        ("10:00", "11:00"),  # exact duplicate
        ("10:30", "11:30"),  # overlaps the end
        ("09:30", "10:30"),  # overlaps the start
        ("10:15", "10:45"),  # inside
        ("09:00", "12:00"),  # around
        ("10:00", "10:30"),  # same start, shorter
    ]:
        reply = await create_slot(api.gql, api.admin.token, clinic.doctor_id, start, end, day=day)
        assert reply.code == "CONFLICT", (start, end, reply.body)
        assert reply.body.get("data") is None
    assert await slot_count(store, clinic.doctor_id) == before
    listed = (
        await api.gql(
            SLOTS, {"doctorId": clinic.doctor_id, "from": day, "to": day}, api.admin.token
        )
    ).data["slots"]
    assert [s["id"] for s in listed] == [existing["id"]]

    # Touching is not overlapping.
    for start, end in [("09:00", "10:00"), ("11:00", "11:30")]:
        reply = await create_slot(api.gql, api.admin.token, clinic.doctor_id, start, end, day=day)
        assert reply.data["createSlot"]["startTime"] == start
    # The same time on another day is fine.
    other_day = await create_slot(
        api.gql, api.admin.token, clinic.doctor_id, "10:00", "11:00", day=future_day(5)
    )
    assert other_day.data["createSlot"]["state"] == "AVAILABLE"


async def test_overlap_is_judged_in_utc_across_time_zone_changes(api: Api) -> None:
    """A doctor moving zones keeps its old slots; a new slot at the same instant conflicts."""
    clinic = await api.clinic(timezone="UTC")
    day = future_day(6)
    await create_slot(api.gql, api.admin.token, clinic.doctor_id, "10:00", "11:00", day=day)
    await api.gql(
        """mutation($id: ID!, $input: DoctorUpdateInput!) {
          updateDoctor(id: $id, input: $input) { id }
        }""",
        {"id": clinic.doctor_id, "input": {"timezone": "Asia/Kolkata"}},
        api.admin.token,
    )
    # 15:30 in Kolkata is 10:00Z: the same instant as the existing slot.
    reply = await create_slot(api.gql, api.admin.token, clinic.doctor_id, "15:30", "16:00", day=day)
    assert reply.code == "CONFLICT", reply.body


async def test_the_same_time_for_another_doctor_is_fine(api: Api) -> None:
    first, second = await api.clinic(), await api.clinic()
    day = future_day(6)
    a = await create_slot(api.gql, api.admin.token, first.doctor_id, "10:00", "11:00", day=day)
    b = await create_slot(api.gql, api.admin.token, second.doctor_id, "10:00", "11:00", day=day)
    assert a.data["createSlot"]["startsAt"] == b.data["createSlot"]["startsAt"]
    assert a.data["createSlot"]["id"] != b.data["createSlot"]["id"]


async def test_create_slot_doctor_id_errors(api: Api, store: AsyncDatabase[Any]) -> None:
    before = await store["slots"].count_documents({})
    malformed = await create_slot(api.gql, api.admin.token, "not-an-id", "09:00", "09:30")
    assert malformed.code == "BAD_USER_INPUT"
    assert malformed.error["extensions"]["field"] == "doctorId"
    unknown = await create_slot(api.gql, api.admin.token, UNKNOWN_ID, "09:00", "09:30")
    assert unknown.code == "NOT_FOUND"
    assert unknown.error["extensions"].get("field") == "doctorId"
    clinic = await api.clinic()
    bad_specialty = await create_slot(
        api.gql, api.admin.token, clinic.doctor_id, "09:00", "09:30", specialtyId="nope"
    )
    assert bad_specialty.code == "BAD_USER_INPUT"
    assert bad_specialty.error["extensions"]["field"] == "specialtyId"
    unknown_specialty = await create_slot(
        api.gql, api.admin.token, clinic.doctor_id, "09:00", "09:30", specialtyId=UNKNOWN_ID
    )
    assert unknown_specialty.code == "NOT_FOUND"
    assert unknown_specialty.error["extensions"].get("field") == "specialtyId"
    assert await store["slots"].count_documents({}) == before


# --- who may manage slots ------------------------------------------------------------------


async def test_a_doctor_creates_and_removes_its_own_slots(
    api: Api, store: AsyncDatabase[Any]
) -> None:
    clinic = await api.clinic()
    created = (
        await create_slot(api.gql, clinic.doctor_token, clinic.doctor_id, "16:00", "16:30")
    ).data["createSlot"]
    assert created["doctor"]["id"] == clinic.doctor_id
    assert created["state"] == "AVAILABLE"
    changed = (
        await api.gql(
            SET_AVAILABILITY, {"id": created["id"], "isAvailable": False}, clinic.doctor_token
        )
    ).data["setSlotAvailability"]
    assert changed["state"] == "UNAVAILABLE"
    removed = (await api.gql(REMOVE_SLOT, {"id": created["id"]}, clinic.doctor_token)).data[
        "removeSlot"
    ]
    assert removed["id"] == created["id"]
    assert (await api.gql(SLOT, {"id": created["id"]})).code == "NOT_FOUND"
    stored = await store["slots"].find_one({"_id": ObjectId(created["id"])})
    assert stored is not None and stored["is_removed"] is True


async def test_other_doctors_patients_and_strangers_cannot_manage_slots(
    api: Api, store: AsyncDatabase[Any]
) -> None:
    clinic, other = await api.clinic(), await api.clinic()
    patient = await api.patient()
    slot = await api.slot(clinic, "17:00", "17:30")
    before = await slot_count(store, clinic.doctor_id)
    for token, code in [
        (other.doctor_token, "FORBIDDEN"),
        (patient.token, "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ]:
        created = await create_slot(api.gql, token, clinic.doctor_id, "18:00", "18:30")
        assert created.code == code, created.body
        removed = await api.gql(REMOVE_SLOT, {"id": slot["id"]}, token)
        assert removed.code == code, removed.body
        disabled = await api.gql(SET_AVAILABILITY, {"id": slot["id"], "isAvailable": False}, token)
        assert disabled.code == code, disabled.body
    assert await slot_count(store, clinic.doctor_id) == before
    still = (await api.gql(SLOT, {"id": slot["id"]})).data["slot"]
    assert still["state"] == "AVAILABLE"


# --- slots(doctorId, from, to) --------------------------------------------------------------


async def test_slots_in_a_range_show_every_state_to_admin_and_that_doctor(api: Api) -> None:
    clinic = await api.clinic()
    day, next_day = future_day(20), future_day(21)
    free = await api.slot(clinic, "09:00", "09:30", day)
    locked = await api.slot(clinic, "09:30", "10:00", day)
    booked = await api.slot(clinic, "10:00", "10:30", day)
    disabled = await api.slot(clinic, "10:30", "11:00", next_day)
    removed = await api.slot(clinic, "11:00", "11:30", next_day)
    outside = await api.slot(clinic, "09:00", "09:30", future_day(22))
    locker, booker = await api.patient(), await api.patient()
    assert (await api.lock(locked["id"], locker)).data["lockSlot"]["state"] == "LOCKED"
    assert (await api.book(booked["id"], booker)).data["bookAppointment"]["slot"]["state"] == (
        "BOOKED"
    )
    await api.gql(SET_AVAILABILITY, {"id": disabled["id"], "isAvailable": False}, api.admin.token)
    await api.gql(REMOVE_SLOT, {"id": removed["id"]}, api.admin.token)

    expected = [
        (free["id"], "AVAILABLE"),
        (locked["id"], "LOCKED"),
        (booked["id"], "BOOKED"),
        (disabled["id"], "UNAVAILABLE"),
    ]
    variables = {"doctorId": clinic.doctor_id, "from": day, "to": next_day}
    for token in (api.admin.token, clinic.doctor_token):
        listed = (await api.gql(SLOTS, variables, token)).data["slots"]
        assert [(s["id"], s["state"]) for s in listed] == expected
        assert outside["id"] not in {s["id"] for s in listed}
    by_admin = {
        s["id"]: s for s in (await api.gql(SLOTS, variables, api.admin.token)).data["slots"]
    }
    assert by_admin[locked["id"]]["lock"] == {"lockedByMe": False, "patient": {"id": locker.id}}
    by_doctor = {
        s["id"]: s for s in (await api.gql(SLOTS, variables, clinic.doctor_token)).data["slots"]
    }
    # Only an admin learns who holds a lock.
    assert by_doctor[locked["id"]]["lock"] == {"lockedByMe": False, "patient": None}
    assert by_doctor[free["id"]]["lock"] is None

    one_day = (
        await api.gql(
            SLOTS, {"doctorId": clinic.doctor_id, "from": day, "to": day}, api.admin.token
        )
    ).data["slots"]
    assert [s["id"] for s in one_day] == [free["id"], locked["id"], booked["id"]]


async def test_slots_in_a_range_are_hidden_from_others(api: Api) -> None:
    clinic, other = await api.clinic(), await api.clinic()
    await api.slot(clinic)
    patient = await api.patient()
    variables = {"doctorId": clinic.doctor_id, "from": future_day(1), "to": future_day(14)}
    for who in (patient.token, other.doctor_token):
        reply = await api.gql(SLOTS, variables, who)
        assert reply.code == "FORBIDDEN", reply.body
        assert reply.body.get("data") is None
    assert (await api.gql(SLOTS, variables)).code == "UNAUTHENTICATED"


async def test_slots_in_a_range_input_errors(api: Api) -> None:
    clinic = await api.clinic()
    backwards = await api.gql(
        SLOTS,
        {"doctorId": clinic.doctor_id, "from": future_day(10), "to": future_day(9)},
        api.admin.token,
    )
    assert backwards.code == "BAD_USER_INPUT"
    assert backwards.error["extensions"]["field"] == "to"
    malformed = await api.gql(
        SLOTS, {"doctorId": "abc", "from": future_day(1), "to": future_day(2)}, api.admin.token
    )
    assert malformed.code == "BAD_USER_INPUT"
    assert malformed.error["extensions"]["field"] == "doctorId"
    unknown = await api.gql(
        SLOTS, {"doctorId": UNKNOWN_ID, "from": future_day(1), "to": future_day(2)}, api.admin.token
    )
    assert unknown.code == "NOT_FOUND"
    too_long = await api.gql(
        SLOTS,
        {"doctorId": clinic.doctor_id, "from": future_day(1), "to": future_day(200)},
        api.admin.token,
    )
    assert too_long.code == "BAD_USER_INPUT"
    assert too_long.error["extensions"]["field"] == "to"
    same_day = await api.gql(
        SLOTS,
        {"doctorId": clinic.doctor_id, "from": future_day(3), "to": future_day(3)},
        api.admin.token,
    )
    assert same_day.data["slots"] == []


# --- removeSlot ---------------------------------------------------------------------------


async def test_remove_slot(api: Api, store: AsyncDatabase[Any]) -> None:
    clinic = await api.clinic()
    day = future_day(4)
    slot = await api.slot(clinic, "11:00", "11:30", day)
    keep = await api.slot(clinic, "12:00", "12:30", day)
    listed = (await api.gql(AVAILABLE_SLOTS, {"doctorId": clinic.doctor_id, "date": day})).data
    assert [s["id"] for s in listed["availableSlots"]] == [slot["id"], keep["id"]]

    removed = (await api.gql(REMOVE_SLOT, {"id": slot["id"]}, api.admin.token)).data["removeSlot"]
    assert removed["id"] == slot["id"]
    assert removed["isBooked"] is False

    gone = await api.gql(SLOT, {"id": slot["id"]})
    assert gone.code == "NOT_FOUND"
    listed = (await api.gql(AVAILABLE_SLOTS, {"doctorId": clinic.doctor_id, "date": day})).data
    assert [s["id"] for s in listed["availableSlots"]] == [keep["id"]]
    again = await api.gql(REMOVE_SLOT, {"id": slot["id"]}, api.admin.token)
    assert again.code == "NOT_FOUND"

    # The time is free again.
    recreated = await api.slot(clinic, "11:00", "11:30", day)
    assert recreated["id"] != slot["id"]
    assert recreated["state"] == "AVAILABLE"
    assert recreated["startsAt"] == slot["startsAt"]
    listed = (await api.gql(AVAILABLE_SLOTS, {"doctorId": clinic.doctor_id, "date": day})).data
    assert [s["id"] for s in listed["availableSlots"]] == [recreated["id"], keep["id"]]
    assert (
        await store["slots"].count_documents(
            {"doctor_id": ObjectId(clinic.doctor_id), "is_removed": False}
        )
        == 2
    )


async def test_remove_slot_id_errors(api: Api) -> None:
    assert (await api.gql(REMOVE_SLOT, {"id": UNKNOWN_ID}, api.admin.token)).code == "NOT_FOUND"
    malformed = await api.gql(REMOVE_SLOT, {"id": "nope"}, api.admin.token)
    assert malformed.code == "BAD_USER_INPUT"
    assert malformed.error["extensions"]["field"] == "id"


async def test_a_removed_slot_cannot_be_locked(api: Api) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "13:00", "13:30")
    await api.gql(REMOVE_SLOT, {"id": slot["id"]}, api.admin.token)
    patient = await api.patient()
    locked = await api.lock(slot["id"], patient)
    assert locked.code == "SLOT_UNAVAILABLE", locked.body


async def test_a_removed_slot_cannot_be_booked(api: Api, store: AsyncDatabase[Any]) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "13:00", "13:30")
    await api.gql(REMOVE_SLOT, {"id": slot["id"]}, api.admin.token)
    patient = await api.patient()
    booked = await api.book(slot["id"], patient)
    assert await store["appointments"].count_documents({"slot_id": ObjectId(slot["id"])}) == 0
    assert booked.code == "SLOT_UNAVAILABLE", booked.body


async def test_removing_a_locked_slot_releases_the_lock(api: Api) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "14:00", "14:30")
    patient = await api.patient()
    assert (await api.lock(slot["id"], patient)).data["lockSlot"]["state"] == "LOCKED"
    removed = (await api.gql(REMOVE_SLOT, {"id": slot["id"]}, api.admin.token)).data["removeSlot"]
    assert removed["state"] == "UNAVAILABLE"
    assert (await api.gql(SLOT, {"id": slot["id"]})).code == "NOT_FOUND"


async def test_a_booked_slot_cannot_be_removed_until_its_appointment_is_cancelled(
    api: Api, store: AsyncDatabase[Any]
) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "15:00", "15:30")
    patient = await api.patient()
    appointment = (await api.book(slot["id"], patient)).data["bookAppointment"]

    for token in (api.admin.token, clinic.doctor_token):
        refused = await api.gql(REMOVE_SLOT, {"id": slot["id"]}, token)
        assert refused.code == "SLOT_ALREADY_BOOKED", refused.body
        assert refused.body.get("data") is None
    still = (await api.gql(SLOT, {"id": slot["id"]})).data["slot"]
    assert still["state"] == "BOOKED"
    stored = await store["slots"].find_one({"_id": ObjectId(slot["id"])})
    assert stored is not None
    assert stored["is_removed"] is False
    assert stored["is_booked"] is True

    cancelled = (
        await api.gql(CANCEL, {"id": appointment["id"], "reason": "moving"}, patient.token)
    ).data["cancelAppointment"]
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["slot"]["state"] == "AVAILABLE"

    removed = (await api.gql(REMOVE_SLOT, {"id": slot["id"]}, api.admin.token)).data["removeSlot"]
    assert removed["id"] == slot["id"]
    assert (await api.gql(SLOT, {"id": slot["id"]})).code == "NOT_FOUND"


# --- setSlotAvailability ------------------------------------------------------------------


async def test_set_slot_availability(api: Api) -> None:
    clinic = await api.clinic()
    day = future_day(3)
    slot = await api.slot(clinic, "08:00", "08:30", day)
    patient = await api.patient()

    off = (
        await api.gql(SET_AVAILABILITY, {"id": slot["id"], "isAvailable": False}, api.admin.token)
    ).data["setSlotAvailability"]
    assert off == {
        "id": slot["id"],
        "state": "UNAVAILABLE",
        "isAvailable": False,
        "isBooked": False,
        "lock": None,
    }
    assert (await api.gql(SLOT, {"id": slot["id"]})).data["slot"]["state"] == "UNAVAILABLE"
    listed = (await api.gql(AVAILABLE_SLOTS, {"doctorId": clinic.doctor_id, "date": day})).data
    assert listed["availableSlots"] == []

    locked = await api.lock(slot["id"], patient)
    assert locked.code == "SLOT_UNAVAILABLE", locked.body
    booked = await api.book(slot["id"], patient)
    assert booked.code == "SLOT_UNAVAILABLE", booked.body
    # Switching off twice is harmless.
    twice = await api.gql(
        SET_AVAILABILITY, {"id": slot["id"], "isAvailable": False}, api.admin.token
    )
    assert twice.data["setSlotAvailability"]["state"] == "UNAVAILABLE"

    on = (
        await api.gql(SET_AVAILABILITY, {"id": slot["id"], "isAvailable": True}, api.admin.token)
    ).data["setSlotAvailability"]
    assert on["state"] == "AVAILABLE"
    assert on["isAvailable"] is True
    listed = (await api.gql(AVAILABLE_SLOTS, {"doctorId": clinic.doctor_id, "date": day})).data
    assert [s["id"] for s in listed["availableSlots"]] == [slot["id"]]
    assert (await api.lock(slot["id"], patient)).data["lockSlot"]["state"] == "LOCKED"
    assert (await api.book(slot["id"], patient)).data["bookAppointment"]["status"] == "SCHEDULED"


async def test_disabling_a_locked_slot_drops_the_lock(api: Api) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "08:30", "09:00")
    holder, other = await api.patient(), await api.patient()
    assert (await api.lock(slot["id"], holder)).data["lockSlot"]["state"] == "LOCKED"
    off = (
        await api.gql(SET_AVAILABILITY, {"id": slot["id"], "isAvailable": False}, api.admin.token)
    ).data["setSlotAvailability"]
    assert off["state"] == "UNAVAILABLE"
    assert off["lock"] is None
    on = (
        await api.gql(SET_AVAILABILITY, {"id": slot["id"], "isAvailable": True}, api.admin.token)
    ).data["setSlotAvailability"]
    assert on["state"] == "AVAILABLE"
    assert on["lock"] is None
    # The old hold is gone: another patient can take the slot.
    assert (await api.lock(slot["id"], other)).data["lockSlot"]["state"] == "LOCKED"


async def test_set_availability_id_errors(api: Api) -> None:
    unknown = await api.gql(
        SET_AVAILABILITY, {"id": UNKNOWN_ID, "isAvailable": False}, api.admin.token
    )
    assert unknown.code == "NOT_FOUND"
    malformed = await api.gql(SET_AVAILABILITY, {"id": "x", "isAvailable": False}, api.admin.token)
    assert malformed.code == "BAD_USER_INPUT"
    assert malformed.error["extensions"]["field"] == "id"
