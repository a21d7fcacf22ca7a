"""The server rolls schedule horizons forward on its own: several processes at once make
each new slot once and announce it once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from bson import ObjectId

from tests.graphql_client import Api
from tests.schedule_helpers import assert_sound, every_day, live_slots, set_schedule, today_in
from tests.servers import ApiServer
from tests.subscriptions_client import connect, until_ready
from tests.test_schedules import SLOT_UPDATES, Probe

SHORT_BY = 20  # more than one ROLL_DAYS_PER_BATCH


async def _settled(store: Any, doctor_id: ObjectId, horizon_end: str) -> None:
    """Until the horizon has moved and no process holds the doctor's lease (bounded)."""
    for _ in range(600):
        doctor = await store.doctors.find_one({"_id": doctor_id})
        if doctor["horizon_end"] == horizon_end and doctor.get("guard_until") is None:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the horizon never reached {horizon_end}: {doctor}")


async def test_two_processes_roll_the_horizon_forward_once(
    api: Api, store: Any, server_a: ApiServer, store_uri: str, db_name: str, log_dir: Path
) -> None:
    clinic = await api.clinic()
    doctor_id = ObjectId(clinic.doctor_id)
    change = (
        await set_schedule(api, clinic, slotMinutes=30, weekly=every_day(("09:00", "09:30")))
    ).data["setSchedule"]
    horizon_end = today_in("UTC") + timedelta(days=60)
    assert change["horizonEnd"] == horizon_end.isoformat()
    # As if the last days had not been generated yet.
    cut = (horizon_end - timedelta(days=SHORT_BY)).isoformat()
    await store.slots.delete_many({"doctor_id": doctor_id, "date": {"$gt": cut}})
    await store.doctors.update_one({"_id": doctor_id}, {"$set": {"horizon_end": cut}})

    probe = await Probe.create(api, clinic, (today_in("UTC") + timedelta(days=3)).isoformat())
    async with connect(server_a.ws_url, api.admin.token) as connection:
        events = connection.subscribe(SLOT_UPDATES, {"doctorId": clinic.doctor_id}, skip=probe.skip)
        await until_ready([events], probe)
        processes = [ApiServer(store_uri, db_name), ApiServer(store_uri, db_name)]
        try:
            # Both start at once; each rolls horizons forward at start-up.
            await asyncio.gather(*(asyncio.to_thread(p.start, log_dir) for p in processes))
            added = [(await events.next(within=60))["slotUpdates"] for _ in range(SHORT_BY)]
            await _settled(store, doctor_id, horizon_end.isoformat())
        finally:
            for process in processes:
                process.stop()
        # Anything else either process announced would arrive before this slot's event.
        manual = await api.slot(clinic, "20:00", "20:30", day=cut)
        following = (await events.next())["slotUpdates"]
        assert (following["kind"], following["slot"]["id"]) == ("ADDED", manual["id"])

    new_days = [(horizon_end - timedelta(days=n)).isoformat() for n in reversed(range(SHORT_BY))]
    assert {e["kind"] for e in added} == {"ADDED"}
    assert sorted(e["slot"]["date"] for e in added) == new_days
    slots = await live_slots(store, clinic.doctor_id)
    assert_sound(slots)
    generated = [(s["date"], s["start_time"]) for s in slots if s["date"] > cut]
    assert sorted(generated) == [(d, "09:00") for d in new_days]
