"""A lock's and a booking's audit entries ride on the write they record and are moved into the
log afterwards (app/domain/audit/owed.py): they arrive on their own, a reader of the log sees
them at once, entries a killed process left behind are moved once, and a lock refused after
its claim leaves no entry."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from app.core.clock import utcnow
from tests.graphql_client import Api, future_day
from tests.notification_sinks import until
from tests.separate_server import separate_server
from tests.servers import ApiServer
from tests.test_booking_policy import set_policy

Store = AsyncDatabase[dict[str, Any]]

LOG = """query($id: ID!) {
  auditLog(entityId: $id, first: 100) { edges { node { id action actor { id } requestId } } }
}"""


async def logged(store: Store, entity_id: str) -> list[str]:
    """The actions in the log's own collection for the entity, read directly (no mover runs)."""
    found = store.audit_log.find({"entity_id": ObjectId(entity_id)}, {"action": 1}).sort("at", 1)
    return [doc["action"] async for doc in found]


async def owes(store: Store, collection: str, doc_id: str) -> bool:
    found = await store[collection].find_one({"_id": ObjectId(doc_id)}, {"audit_owed": 1})
    assert found is not None
    return found.get("audit_owed") is not None


def left_behind(entity: ObjectId, minutes_ago: float, *actions: str) -> dict[str, Any]:
    """What a process killed between its write and its move leaves on the document."""
    at = utcnow() - timedelta(minutes=minutes_ago)
    entries = [
        {
            "_id": ObjectId(),
            "at": at,
            "actor_id": None,
            "action": action,
            "entity_type": "slot",
            "entity_id": entity,
            "before": None,
            "after": None,
            "request_id": None,
            "address": None,
        }
        for action in actions
    ]
    return {"at": at, "entries": entries, "last": entries[-1]["_id"], "owing": True}


async def test_a_lock_and_a_booking_reach_the_log_with_no_reader(api: Api, store: Store) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    assert (await api.lock(slot["id"], patient)).data["lockSlot"]["id"] == slot["id"]
    booked = (await api.book(slot["id"], patient)).data["bookAppointment"]["id"]

    async def moved() -> bool:
        # Inserted into the log first, let go of on their documents after.
        return not (
            await owes(store, "slots", slot["id"]) or await owes(store, "appointments", booked)
        )

    await until(moved, within=10)
    assert await logged(store, slot["id"]) == ["slot.created", "slot.locked", "slot.booked"]
    assert await logged(store, booked) == ["appointment.booked"]
    entry = await store.audit_log.find_one({"entity_id": ObjectId(booked)})
    assert entry is not None
    assert entry["actor_id"] == ObjectId(patient.id)
    assert entry["after"]["slotId"] == slot["id"]


async def test_the_log_shows_entries_still_owed_and_a_repeated_move_writes_once(
    api: Api, store: Store
) -> None:
    """As a killed process leaves them: two entries owed on the slot, the first of which it
    had already inserted before dying. The admin's read moves them, each once."""
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    slot_id = ObjectId(slot["id"])
    owed = left_behind(slot_id, 0, "slot.locked", "slot.unlocked")
    await store.audit_log.insert_one(dict(owed["entries"][0]))
    await store.slots.update_one({"_id": slot_id}, {"$set": {"audit_owed": owed}})

    reply = await api.gql(LOG, {"id": slot["id"]}, api.admin.token)

    actions = [e["node"]["action"] for e in reply.data["auditLog"]["edges"]]
    assert actions == ["slot.created", "slot.locked", "slot.unlocked"]
    assert await logged(store, slot["id"]) == actions
    assert not await owes(store, "slots", slot["id"])


async def test_housekeeping_moves_what_a_killed_process_left(
    http: httpx.AsyncClient, store_uri: str, log_dir: Path
) -> None:
    async with separate_server(
        http, store_uri, log_dir, "audit_owed", {"LOCK_SWEEP_INTERVAL_SECONDS": "0.3"}
    ) as separate:
        clinic = await separate.api.clinic()
        old, recent = [await separate.api.slot(clinic, f"{h}:00", f"{h}:30") for h in (13, 14)]
        for slot, minutes_ago in ((old, 5.0), (recent, 0.0)):
            await separate.store.slots.update_one(
                {"_id": ObjectId(slot["id"])},
                {"$set": {"audit_owed": left_behind(ObjectId(slot["id"]), minutes_ago, "x.y")}},
            )

        async def moved() -> bool:
            # Inserted into the log first, let go of on the slot after.
            return not await owes(separate.store, "slots", old["id"])

        await until(moved, within=10)
        assert (await logged(separate.store, old["id"])).count("x.y") == 1
        # Entries owed for less than LEFT_BEHIND_SECONDS may still be their writer's to move.
        assert await owes(separate.store, "slots", recent["id"])
        assert "x.y" not in await logged(separate.store, recent["id"])


async def test_a_lock_refused_after_its_claim_leaves_no_entry(api: Api, store: Store) -> None:
    """Over the limit, and outside a booking window that shrank: the claim is let go of, and
    the entry it carried with it."""
    clinic = await api.clinic()
    first, second, third = [await api.slot(clinic, f"{h}:00", f"{h}:30") for h in (13, 14, 15)]
    patient = await api.patient()
    await api.lock(first["id"], patient)
    await api.lock(second["id"], patient)
    assert (await api.lock(third["id"], patient)).code == "LOCK_LIMIT_REACHED"

    far = await api.slot(clinic, "12:00", "12:30", day=future_day(12))
    other = await api.patient()
    assert (await api.lock(far["id"], other)).data["lockSlot"]["id"] == far["id"]
    await set_policy(api, clinic, maxDaysAhead=5)
    assert (await api.lock(far["id"], other)).code == "OUTSIDE_BOOKING_WINDOW"

    assert not await owes(store, "slots", third["id"])
    reply = await api.gql(LOG, {"id": third["id"]}, api.admin.token)
    assert [e["node"]["action"] for e in reply.data["auditLog"]["edges"]] == ["slot.created"]
    reply = await api.gql(LOG, {"id": far["id"]}, api.admin.token)
    # The first lock only: the renewal the window refused was never logged.
    assert [e["node"]["action"] for e in reply.data["auditLog"]["edges"]] == [
        "slot.created",
        "slot.locked",
    ]


async def test_a_renewal_before_the_move_is_logged_once_each(
    api: Api, store: Store, server_a: ApiServer
) -> None:
    """The renewal's write finds the first lock's entry still owed: whichever move comes
    first takes both, the other finds them gone, and neither entry is logged twice. The
    renewals' events, of a slot read with an entry owed, are published (the entries, never
    dumped, once made every such event fail)."""
    clinic = await api.clinic()
    slot = await api.slot(clinic, "16:00", "16:30")
    patient = await api.patient()
    for _ in range(3):
        assert (await api.lock(slot["id"], patient)).data["lockSlot"]["id"] == slot["id"]

    async def moved() -> bool:
        return not await owes(store, "slots", slot["id"])

    await until(moved, within=10)
    assert await logged(store, slot["id"]) == ["slot.created"] + ["slot.locked"] * 3
    assert "Unable to serialize" not in server_a.logs()
