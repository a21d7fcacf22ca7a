"""B5, second part: schedule and doctor-wide changes on the SQLite store users run.

On its own SQLite embedded store, one API process, over HTTP as an admin:
- a doctor working 08:00-20:00 every day in 15-minute slots (about 2,900 slots over the
  60-day horizon) narrows to 09:00-18:00 (target: within 3 s), then takes a day off
  (target: within 1 s);
- a dense doctor, 5-minute slots around the clock (about 17,000 future slots), is
  deactivated, reactivated, moved to another specialty and to another time zone (target:
  each within 3 s). A time zone move answers after its first days; the time until the
  background roll has regenerated the rest is reported beside it.
`--quick` makes the dense doctor's slots 30 minutes long (about 2,900).
Every answer's error code is kept: a change that fails counts as missing its target.
"""

from __future__ import annotations

import asyncio
import logging
import math
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from app.store.embedded import EmbeddedStoreProcess
from bench import data
from bench.common import (
    ADMIN_EMAIL,
    Sizes,
    error_code,
    future_day,
    graphql,
    http_client,
    mint_token,
)
from bench.servers import api_processes

log = logging.getLogger(__name__)
SET_SCHEDULE = """mutation($doctorId: ID!, $input: ScheduleInput!) {
  setSchedule(doctorId: $doctorId, input: $input) { slotsAdded slotsRemoved }
}"""
SET_OVERRIDE = """mutation($doctorId: ID!, $date: Date!) {
  setDateOverride(doctorId: $doctorId, date: $date, ranges: []) { slotsAdded slotsRemoved }
}"""
UPDATE_DOCTOR = """mutation($id: ID!, $input: DoctorUpdateInput!) {
  updateDoctor(id: $id, input: $input) { id }
}"""
DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
TARGETS = {
    "schedule_narrowed": 3.0,
    "day_off": 1.0,
    "deactivated": 3.0,
    "reactivated": 3.0,
    "specialty_moved": 3.0,
    "timezone_moved": 3.0,
}


def every_day(start: str, end: str, minutes: int) -> dict[str, Any]:
    ranges = [{"start": start, "end": end}]
    return {"slotMinutes": minutes, "weekly": [{"weekday": d, "ranges": ranges} for d in DAYS]}


async def run_changes(log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    dense_minutes = 5 if sizes.b5_doctors >= 100 else 30
    store_dir = Path(tempfile.mkdtemp(prefix="aayulink-bench-b5-sqlite-"))
    store = EmbeddedStoreProcess("sqlite", store_dir)
    uri = store.start()
    client, database = await data.open_database(uri, f"bench_b5c_{uuid.uuid4().hex[:8]}")
    http = http_client()
    seconds: dict[str, float] = {}
    errors: dict[str, str] = {}
    try:
        specialty = await data.add_specialty(database, "Bench Changes")
        other = await data.add_specialty(database, "Bench Changes Elsewhere")
        regular, dense = await data.add_doctors(database, specialty, 2, "B5 change doctors")
        async with api_processes(uri, database.name, log_dir, count=1) as apis:
            admin = await database["users"].find_one({"email": ADMIN_EMAIL}, {"_id": 1})
            assert admin is not None, "the API process creates the admin at start-up"
            token = mint_token(str(admin["_id"]), role="ADMIN")

            async def timed(name: str, query: str, variables: dict[str, Any]) -> None:
                started = time.perf_counter()
                try:
                    code = error_code(await graphql(http, apis[0].url, query, variables, token))
                except TimeoutError:
                    code = "NO_ANSWER"  # the client gave up (bench/http.py); the change goes on
                seconds[name] = time.perf_counter() - started
                if code is not None:
                    errors[name] = code
                log.info("B5 change %s: %.2f s %s", name, seconds[name], code or "")

            await timed(
                "regular_made",
                SET_SCHEDULE,
                {"doctorId": str(regular), "input": every_day("08:00", "20:00", 15)},
            )
            regular_slots = await _live(database, regular)
            await timed(
                "schedule_narrowed",
                SET_SCHEDULE,
                {"doctorId": str(regular), "input": every_day("09:00", "18:00", 15)},
            )
            await timed(
                "day_off",
                SET_OVERRIDE,
                {"doctorId": str(regular), "date": future_day(3).isoformat()},
            )
            await timed(
                "dense_made",
                SET_SCHEDULE,
                {"doctorId": str(dense), "input": every_day("00:00", "24:00", dense_minutes)},
            )
            dense_slots = await _live(database, dense)
            for name, change in (
                ("deactivated", {"isActive": False}),
                ("reactivated", {"isActive": True}),
                ("specialty_moved", {"specialtyId": str(other)}),
                ("timezone_moved", {"timezone": "Asia/Kolkata"}),
            ):
                await timed(name, UPDATE_DOCTOR, {"id": str(dense), "input": change})
            settled = await _until_regenerated(database, dense)
            moved_slots = await _live(database, dense)
        return {
            "engine": "sqlite",
            "regular_slots": regular_slots,
            "dense_slots": dense_slots,
            "seconds": seconds,
            "errors": errors,
            # After the move's answer: its remaining days regenerated in the background.
            "timezone_settled_s": settled,
            "moved_slots": moved_slots,
            "targets": TARGETS,
        }
    finally:
        await http.close()
        await client.close()
        store.stop()
        shutil.rmtree(store_dir, ignore_errors=True)


async def _live(database: Any, doctor_id: Any) -> int:
    return int(
        await database["slots"].count_documents({"doctor_id": doctor_id, "is_removed": False})
    )


async def _until_regenerated(database: Any, doctor_id: Any) -> float:
    """Seconds until the move's background roll has cleared the doctor's mark (NaN: never,
    within 10 minutes)."""
    started = time.perf_counter()
    while time.perf_counter() - started < 600:
        doctor = await database["doctors"].find_one({"_id": doctor_id}, {"regenerating_from": 1})
        if doctor is not None and doctor.get("regenerating_from") is None:
            return time.perf_counter() - started
        await asyncio.sleep(0.2)
    return math.nan
