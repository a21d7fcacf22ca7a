"""Day views through the HTTP endpoint: daySlots, availability, nextAvailableSlot, and the
booking window on availableSlots; the store is read directly to check what the API says."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from app.models.slot import slot_key
from tests.graphql_client import Api, Clinic, Person, Response, future_day

Store = AsyncDatabase[dict[str, Any]]

DAY_SLOTS = """query($id: ID!, $date: Date!) {
  doctor(id: $id) {
    daySlots(date: $date) {
      id date startTime endTime state isAvailable isBooked
      lock { lockedAt expiresAt lockedByMe patient { id email name } }
      doctor { id } specialty { id }
    }
  }
}"""
AVAILABILITY = """query($id: ID!, $from: Date!, $to: Date!) {
  doctor(id: $id) { availability(from: $from, to: $to) { date bookable } }
}"""
NEXT = """query($id: ID!) { doctor(id: $id) { nextAvailableSlot { id date startTime state } } }"""
NEXT_BY_SPECIALTY = (
    """query($s: ID!) { doctors(specialtyId: $s) { id nextAvailableSlot { id } } }"""
)
DAY_SLOTS_BY_SPECIALTY = """query($s: ID!, $d: Date!) {
  doctors(specialtyId: $s) { id daySlots(date: $d) { id startTime state } }
}"""
AVAILABLE_SLOTS = """query($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) { id startTime }
}"""
DOCTOR_AVAILABLE_SLOTS = """query($id: ID!, $date: Date!) {
  doctor(id: $id) { availableSlots(date: $date) { id startTime } }
}"""
DOCTORS_ON = """query($s: ID!, $d: Date!) {
  doctors(specialtyId: $s, date: $d) { id availableSlots(date: $d) { id startTime } }
}"""
SET_AVAILABILITY = """mutation($id: ID!, $isAvailable: Boolean!) {
  setSlotAvailability(id: $id, isAvailable: $isAvailable) { id state }
}"""
REMOVE_SLOT = "mutation($id: ID!) { removeSlot(id: $id) { id } }"
CANCEL = "mutation($id: ID!) { cancelAppointment(id: $id) { id status } }"
UPDATE_DOCTOR = """mutation($id: ID!, $input: DoctorUpdateInput!) {
  updateDoctor(id: $id, input: $input) { id isActive }
}"""


def succeeds(reply: Response) -> None:
    assert not reply.body.get("errors"), reply.body


def day(offset: int) -> date:
    return date.fromisoformat(future_day(offset))


async def set_policy(
    api: Api, clinic: Clinic, min_notice: int | None = None, max_days: int | None = None
) -> None:
    """The doctor's booking policy, through updateDoctor (so every process's read model
    hears of it); an unset number is the default (no notice, 90 days ahead)."""
    policy = {"minNoticeMinutes": min_notice or 0, "maxDaysAhead": max_days or 90}
    succeeds(
        await api.gql(UPDATE_DOCTOR, {"id": clinic.doctor_id, "input": policy}, api.admin.token)
    )


async def day_slots(api: Api, clinic: Clinic, on: str, who: Person | None) -> list[dict[str, Any]]:
    reply = await api.gql(
        DAY_SLOTS, {"id": clinic.doctor_id, "date": on}, who.token if who else None
    )
    return list(reply.data["doctor"]["daySlots"])


async def availability(api: Api, clinic: Clinic, start: date, end: date) -> list[dict[str, Any]]:
    reply = await api.gql(
        AVAILABILITY, {"id": clinic.doctor_id, "from": start.isoformat(), "to": end.isoformat()}
    )
    return list(reply.data["doctor"]["availability"])


async def counts(api: Api, clinic: Clinic, start: date, end: date) -> list[int]:
    return [entry["bookable"] for entry in await availability(api, clinic, start, end)]


async def next_slot(api: Api, clinic: Clinic) -> dict[str, Any] | None:
    found = (await api.gql(NEXT, {"id": clinic.doctor_id})).data["doctor"]["nextAvailableSlot"]
    return dict(found) if found else None


async def insert_past_slot(store: Store, clinic: Clinic, hours_ago: int) -> str:
    """A slot that has already started; the API refuses to create one, so it is written directly."""
    starts_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours_ago)
    ends_at = starts_at + timedelta(minutes=30)
    doctor_id = ObjectId(clinic.doctor_id)
    doc = {
        "doctor_id": doctor_id,
        "specialty_id": ObjectId(clinic.specialty_id),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "date": starts_at.date().isoformat(),
        "start_time": starts_at.strftime("%H:%M"),
        "end_time": ends_at.strftime("%H:%M"),
        "duration_minutes": 30,
        "is_available": True,
        "is_booked": False,
        "is_removed": False,
        "source": "MANUAL",
        "doctor_is_active": True,
        "booking_lock": {
            "patient_id": None,
            "locked_at": None,
            "expires_at": None,
            "is_active": False,
        },
        "slot_key": slot_key(doctor_id, starts_at),  # type: ignore[arg-type]
        "created_at": starts_at,
        "updated_at": starts_at,
    }
    return str((await store["slots"].insert_one(doc)).inserted_id)


# --- daySlots ---------------------------------------------------------------------------


async def test_day_slots_show_every_state_by_start_without_removed_ones(
    api: Api, store: Store
) -> None:
    clinic = await api.clinic()
    on = future_day(9)
    # Created out of order, so the order seen is the API's, not the insertion's.
    free = await api.slot(clinic, "11:00", "11:30", day=on)
    locked = await api.slot(clinic, "09:00", "09:30", day=on)
    booked = await api.slot(clinic, "10:00", "10:30", day=on)
    disabled = await api.slot(clinic, "12:00", "12:30", day=on)
    removed = await api.slot(clinic, "08:00", "08:30", day=on)
    elsewhere = await api.slot(clinic, "09:00", "09:30", day=future_day(10))
    holder, booker, viewer = await api.patient(), await api.patient(), await api.patient()
    succeeds(await api.lock(locked["id"], holder))
    succeeds(await api.book(booked["id"], booker))
    succeeds(
        await api.gql(
            SET_AVAILABILITY, {"id": disabled["id"], "isAvailable": False}, api.admin.token
        )
    )
    succeeds(await api.gql(REMOVE_SLOT, {"id": removed["id"]}, api.admin.token))

    seen = await day_slots(api, clinic, on, viewer)

    assert [(s["id"], s["startTime"], s["state"]) for s in seen] == [
        (locked["id"], "09:00", "LOCKED"),
        (booked["id"], "10:00", "BOOKED"),
        (free["id"], "11:00", "AVAILABLE"),
        (disabled["id"], "12:00", "UNAVAILABLE"),
    ]
    assert all(s["date"] == on and s["doctor"]["id"] == clinic.doctor_id for s in seen)
    assert elsewhere["id"] not in {s["id"] for s in seen}
    stored = await store["slots"].count_documents(
        {"doctor_id": ObjectId(clinic.doctor_id), "date": on, "is_removed": False}
    )
    assert stored == len(seen) == 4
    assert await store["slots"].count_documents({"_id": ObjectId(removed["id"])}) == 1


async def test_day_slots_show_a_patient_no_patient_data(api: Api) -> None:
    clinic = await api.clinic()
    on = future_day(9)
    locked = await api.slot(clinic, "09:00", "09:30", day=on)
    booked = await api.slot(clinic, "10:00", "10:30", day=on)
    holder, booker, viewer = await api.patient(), await api.patient(), await api.patient()
    succeeds(await api.lock(locked["id"], holder))
    succeeds(await api.book(booked["id"], booker))

    for caller in (viewer, None, booker):
        reply = await api.gql(
            DAY_SLOTS, {"id": clinic.doctor_id, "date": on}, caller.token if caller else None
        )
        text = json.dumps(reply.body)
        for patient in (holder, booker):
            assert patient.id not in text and patient.email not in text
        lock = reply.data["doctor"]["daySlots"][0]["lock"]
        assert lock["patient"] is None and lock["lockedByMe"] is False

    # The holder sees its own hold; an admin sees who holds it.
    mine = (await day_slots(api, clinic, on, holder))[0]["lock"]
    assert mine["lockedByMe"] is True and mine["patient"] is None
    seen_by_admin = (await day_slots(api, clinic, on, api.admin))[0]["lock"]
    assert seen_by_admin["patient"]["id"] == holder.id


async def test_day_slots_use_the_doctors_calendar_date(api: Api, store: Store) -> None:
    clinic = await api.clinic(timezone="Asia/Kolkata")
    on = future_day(12)
    early = await api.slot(clinic, "01:00", "01:30", day=on)  # 19:30Z the day before
    stored = await store["slots"].find_one({"_id": ObjectId(early["id"])})
    assert stored is not None and stored["starts_at"].date() < date.fromisoformat(on)
    assert [s["id"] for s in await day_slots(api, clinic, on, None)] == [early["id"]]
    before = (date.fromisoformat(on) - timedelta(days=1)).isoformat()
    assert await day_slots(api, clinic, before, None) == []


async def test_day_slots_for_a_list_of_doctors(api: Api) -> None:
    first = await api.clinic()
    on = future_day(9)
    a = await api.slot(first, "10:00", "10:30", day=on)
    b = await api.slot(first, "09:00", "09:30", day=on)
    reply = await api.gql(DAY_SLOTS_BY_SPECIALTY, {"s": first.specialty_id, "d": on})
    (doctor,) = reply.data["doctors"]
    assert [s["id"] for s in doctor["daySlots"]] == [b["id"], a["id"]]


async def test_day_slots_refuse_a_bad_date(api: Api) -> None:
    clinic = await api.clinic()
    for bad in ("2026-02-30", "tomorrow", "", "2026-1-5"):
        reply = await api.gql(DAY_SLOTS, {"id": clinic.doctor_id, "date": bad})
        assert reply.code == "BAD_USER_INPUT", (bad, reply.body)
        assert reply.error["extensions"].get("field") == "date", reply.body
    reply = await api.gql(DAY_SLOTS, {"id": "not-an-id", "date": future_day()})
    assert reply.code == "BAD_USER_INPUT" and reply.error["extensions"]["field"] == "id"
    reply = await api.gql(DAY_SLOTS, {"id": str(ObjectId()), "date": future_day()})
    assert reply.code == "NOT_FOUND"


# --- availability -----------------------------------------------------------------------


async def test_availability_counts_each_date_and_follows_locks_bookings_and_cancels(
    api: Api, store: Store
) -> None:
    clinic = await api.clinic()
    first, second = day(10), day(11)
    one = await api.slot(clinic, "09:00", "09:30", day=first.isoformat())
    two = await api.slot(clinic, "10:00", "10:30", day=first.isoformat())
    await api.slot(clinic, "11:00", "11:30", day=first.isoformat())
    await api.slot(clinic, "09:00", "09:30", day=second.isoformat())
    start, end = first - timedelta(days=1), second + timedelta(days=1)

    found = await availability(api, clinic, start, end)
    assert found == [
        {"date": (start + timedelta(days=i)).isoformat(), "bookable": n}
        for i, n in enumerate([0, 3, 1, 0])
    ]

    patient = await api.patient()
    succeeds(await api.lock(one["id"], patient))
    assert await counts(api, clinic, start, end) == [0, 2, 1, 0]
    booked = (await api.book(two["id"], patient)).data["bookAppointment"]
    assert await counts(api, clinic, start, end) == [0, 1, 1, 0]
    succeeds(await api.gql(CANCEL, {"id": booked["id"]}, patient.token))
    assert await counts(api, clinic, start, end) == [0, 2, 1, 0]
    stored = await store["slots"].find_one({"_id": ObjectId(two["id"])})
    assert stored is not None and stored["is_booked"] is False


async def test_availability_respects_the_doctors_booking_window(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    near, far = day(10), day(20)
    await api.slot(clinic, "09:00", "09:30", day=near.isoformat())
    await api.slot(clinic, "09:00", "09:30", day=far.isoformat())
    await api.slot(clinic, "10:00", "10:30", day=far.isoformat())
    past = await insert_past_slot(store, clinic, hours_ago=2)
    past_day = (await store["slots"].find_one({"_id": ObjectId(past)}) or {})["date"]
    start = date.fromisoformat(past_day)

    def at(found: list[int], when: date) -> int:
        return found[(when - start).days]

    found = await counts(api, clinic, start, far)
    assert (at(found, near), at(found, far), sum(found)) == (1, 2, 3)  # the past slot never counts

    await set_policy(api, clinic, min_notice=15 * 24 * 60)
    found = await counts(api, clinic, start, far)
    assert (at(found, near), at(found, far)) == (0, 2)

    await set_policy(api, clinic, max_days=15)
    found = await counts(api, clinic, start, far)
    assert (at(found, near), at(found, far)) == (1, 0)


async def test_availability_range_limits(api: Api) -> None:
    clinic = await api.clinic()
    start = day(1)
    assert len(await availability(api, clinic, start, start)) == 1
    assert len(await availability(api, clinic, start, start + timedelta(days=61))) == 62
    for end in (start + timedelta(days=62), start - timedelta(days=1)):
        reply = await api.gql(
            AVAILABILITY,
            {"id": clinic.doctor_id, "from": start.isoformat(), "to": end.isoformat()},
        )
        assert reply.code == "BAD_USER_INPUT", reply.body
        assert reply.error["extensions"]["field"] == "to"
        assert reply.body["data"] is None or reply.body["data"]["doctor"] is None
    reply = await api.gql(AVAILABILITY, {"id": clinic.doctor_id, "from": "2026-13-01", "to": "x"})
    assert reply.code == "BAD_USER_INPUT" and reply.error["extensions"]["field"] in {"from", "to"}


# --- nextAvailableSlot ------------------------------------------------------------------


async def test_next_available_slot_skips_what_cannot_be_booked(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    assert await next_slot(api, clinic) is None  # no slots at all

    await insert_past_slot(store, clinic, hours_ago=1)
    booked = await api.slot(clinic, "09:00", "09:30", day=future_day(3))
    locked = await api.slot(clinic, "10:00", "10:30", day=future_day(3))
    disabled = await api.slot(clinic, "09:00", "09:30", day=future_day(4))
    removed = await api.slot(clinic, "08:00", "08:30", day=future_day(4))
    later = await api.slot(clinic, "12:00", "12:30", day=future_day(5))
    first = await api.slot(clinic, "09:00", "09:30", day=future_day(5))
    patient, other = await api.patient(), await api.patient()
    succeeds(await api.book(booked["id"], patient))
    succeeds(await api.lock(locked["id"], other))
    succeeds(
        await api.gql(
            SET_AVAILABILITY, {"id": disabled["id"], "isAvailable": False}, api.admin.token
        )
    )
    succeeds(await api.gql(REMOVE_SLOT, {"id": removed["id"]}, api.admin.token))

    found = await next_slot(api, clinic)
    assert found == {
        "id": first["id"],
        "date": future_day(5),
        "startTime": "09:00",
        "state": "AVAILABLE",
    }
    assert later["id"] != first["id"]

    await set_policy(api, clinic, max_days=4)  # day +5 is beyond it
    assert await next_slot(api, clinic) is None


async def test_next_available_slot_looks_past_the_minimum_notice_and_far_ahead(
    api: Api, store: Store
) -> None:
    clinic = await api.clinic()
    await api.slot(clinic, "09:00", "09:30", day=future_day(2))
    far = await api.slot(clinic, "09:00", "09:30", day=future_day(40))
    await set_policy(api, clinic, min_notice=6 * 24 * 60)
    assert (await next_slot(api, clinic) or {}).get("id") == far["id"]
    await set_policy(api, clinic, min_notice=6 * 24 * 60, max_days=30)
    assert await next_slot(api, clinic) is None


async def test_next_available_slot_of_an_inactive_doctor_is_null(api: Api) -> None:
    clinic = await api.clinic()
    await api.slot(clinic, "09:00", "09:30", day=future_day(2))
    assert await next_slot(api, clinic) is not None
    update = {"id": clinic.doctor_id, "input": {"isActive": False}}
    succeeds(await api.gql(UPDATE_DOCTOR, update, api.admin.token))
    assert await next_slot(api, clinic) is None


async def test_next_available_slot_for_each_doctor_of_a_list(api: Api, store: Store) -> None:
    first = await api.clinic()
    second_doctor = await api.clinic()
    # Move the second doctor into the first one's specialty, straight in the store.
    await store["doctors"].update_one(
        {"_id": ObjectId(second_doctor.doctor_id)},
        {"$set": {"specialty_id": ObjectId(first.specialty_id)}},
    )
    mine = await api.slot(first, "09:00", "09:30", day=future_day(20))
    theirs = await api.slot(second_doctor, "09:00", "09:30", day=future_day(2))
    reply = await api.gql(NEXT_BY_SPECIALTY, {"s": first.specialty_id})
    found = {d["id"]: (d["nextAvailableSlot"] or {}).get("id") for d in reply.data["doctors"]}
    assert found == {first.doctor_id: mine["id"], second_doctor.doctor_id: theirs["id"]}


# --- availableSlots and doctors(date) keep to the booking window ------------------------


async def test_available_slots_keep_to_the_booking_window(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    near, far = future_day(3), future_day(20)
    near_slot = await api.slot(clinic, "09:00", "09:30", day=near)
    far_slot = await api.slot(clinic, "09:00", "09:30", day=far)

    async def listed(on: str) -> dict[str, list[str]]:
        variables = {"doctorId": clinic.doctor_id, "id": clinic.doctor_id, "date": on}
        by_query = (await api.gql(AVAILABLE_SLOTS, variables)).data["availableSlots"]
        by_doctor = (await api.gql(DOCTOR_AVAILABLE_SLOTS, variables)).data["doctor"]
        by_search = (await api.gql(DOCTORS_ON, {"s": clinic.specialty_id, "d": on})).data
        return {
            "query": [s["id"] for s in by_query],
            "doctor": [s["id"] for s in by_doctor["availableSlots"]],
            "search": [s["id"] for d in by_search["doctors"] for s in d["availableSlots"]],
        }

    everywhere = ("query", "doctor", "search")
    assert await listed(near) == {k: [near_slot["id"]] for k in everywhere}
    assert await listed(far) == {k: [far_slot["id"]] for k in everywhere}

    await set_policy(api, clinic, min_notice=5 * 24 * 60)
    assert await listed(near) == {k: [] for k in everywhere}
    assert await listed(far) == {k: [far_slot["id"]] for k in everywhere}

    await set_policy(api, clinic, max_days=10)
    assert await listed(near) == {k: [near_slot["id"]] for k in everywhere}
    assert await listed(far) == {k: [] for k in everywhere}


async def test_available_slots_refuse_bad_ids(api: Api) -> None:
    reply = await api.gql(AVAILABLE_SLOTS, {"doctorId": "nope", "date": future_day()})
    assert reply.code == "BAD_USER_INPUT" and reply.error["extensions"]["field"] == "doctorId"
    reply = await api.gql(AVAILABLE_SLOTS, {"doctorId": str(ObjectId()), "date": future_day()})
    assert reply.code == "NOT_FOUND"
    reply = await api.gql(AVAILABLE_SLOTS, {"doctorId": str(ObjectId()), "date": "2026-02-31"})
    assert reply.code == "BAD_USER_INPUT" and reply.error["extensions"]["field"] == "date"
