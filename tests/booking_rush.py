"""A booking rush for fault tests: patients lock then book with idempotency keys while a
fault strikes, and the invariants a fault must not break, read straight from the store."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from app.models import ACTIVE_STATUSES
from tests.graphql_client import BOOK, LOCK, Api, GraphQL, Person

Store = AsyncDatabase[dict[str, Any]]
SETTLE_SECONDS = 60  # an upper bound for the reconciler to finish, polled, never a threshold


@dataclass
class Rush:
    """What the clients saw: bookings acknowledged with data, and every error in full."""

    acknowledged: dict[str, tuple[str, str]] = field(default_factory=dict)  # appt -> slot, key
    errors: list[dict[str, Any]] = field(default_factory=list)
    unanswered: int = 0
    first_ack: asyncio.Event = field(default_factory=asyncio.Event)
    keys: dict[str, str] = field(default_factory=dict)  # patient id -> idempotency key

    @property
    def codes(self) -> set[str]:
        return {str(error.get("extensions", {}).get("code")) for error in self.errors}


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


async def setup(
    http: httpx.AsyncClient, url: str, slots: int, patients: int
) -> tuple[Api, list[str], list[Person]]:
    """A fresh doctor with `slots` half-hour slots from 08:00, and `patients` patients."""
    gql = GraphQL(http, url)
    api = Api(gql, await Api.login_admin(gql))
    clinic = await api.clinic()
    slot_ids = [
        (await api.slot(clinic, clock(8 * 60 + 30 * i), clock(8 * 60 + 30 * (i + 1))))["id"]
        for i in range(slots)
    ]
    people = [await api.patient(f"Rush {i}") for i in range(patients)]
    return api, slot_ids, people


async def book(
    http: httpx.AsyncClient, url: str, patient: Person, slot_id: str, rush: Rush, delay: float
) -> None:
    """Lock then book with an idempotency key, as a careful client does."""
    await asyncio.sleep(delay)
    gql = GraphQL(http, url)
    key = rush.keys.setdefault(patient.id, str(uuid.uuid4()))
    try:
        locked = await gql(LOCK, {"slotId": slot_id}, patient.token)
        rush.errors += locked.body.get("errors") or []
        booked = await gql(
            BOOK, {"input": {"slotId": slot_id, "idempotencyKey": key}}, patient.token
        )
    except httpx.TransportError:
        rush.unanswered += 1
        return
    if booked.body.get("errors"):
        rush.errors += booked.body["errors"]
        return
    rush.acknowledged[booked.body["data"]["bookAppointment"]["id"]] = (slot_id, key)
    rush.first_ack.set()


def start(
    http: httpx.AsyncClient,
    urls: list[str],
    patients: list[Person],
    slots: list[str],
    rush: Rush,
    stagger: float,
) -> list[asyncio.Task[None]]:
    """Patient i books slot i mod len(slots) through API process i mod len(urls)."""
    return [
        asyncio.create_task(
            book(http, urls[i % len(urls)], p, slots[i % len(slots)], rush, i * stagger)
        )
        for i, p in enumerate(patients)
    ]


async def problems(store: Store) -> list[str]:
    """The invariants, read straight from the store."""
    active = await store.appointments.find(
        {"status": {"$in": ACTIVE_STATUSES}}, {"slot_id": 1}
    ).to_list(None)
    held: dict[ObjectId, int] = {}
    for appointment in active:
        held[appointment["slot_id"]] = held.get(appointment["slot_id"], 0) + 1
    found = [f"slot {slot} has {n} active appointments" for slot, n in held.items() if n > 1]
    booked = await store.slots.find({"is_booked": True}, {"_id": 1}).to_list(None)
    found += [
        f"slot {s['_id']} is BOOKED with no appointment" for s in booked if s["_id"] not in held
    ]
    unbooked = await store.slots.find(
        {"_id": {"$in": list(held)}, "is_booked": False}, {"_id": 1}
    ).to_list(None)
    found += [f"slot {s['_id']} has an appointment but is not BOOKED" for s in unbooked]
    return found


async def settled(store: Store) -> list[str]:
    """Polls until the reconciler has repaired what the fault left (one lock TTL + grace)."""
    found: list[str] = []
    for _ in range(int(SETTLE_SECONDS / 0.5)):
        found = await problems(store)
        if not found:
            break
        await asyncio.sleep(0.5)
    return found


async def assert_acknowledged_kept(store: Store, rush: Rush) -> None:
    for appointment_id, (slot_id, _) in rush.acknowledged.items():
        stored = await store.appointments.find_one({"_id": ObjectId(appointment_id)})
        assert stored is not None, f"acknowledged appointment {appointment_id} was lost"
        assert stored["status"] == "SCHEDULED"
        assert stored["slot_id"] == ObjectId(slot_id)
