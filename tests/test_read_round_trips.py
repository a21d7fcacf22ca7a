"""Store round trips of the read paths, counted by bench/roundtrips.py's command listener.

Each list query must cost the same number of store commands for one doctor as for several:
the day grid, the next slot, and the bookable slots are batched, not read per doctor.
Bookable slots and the catalogue come from the read model (app/domain/read_model): the first
read of a day costs at most what the store path costs, a repeated one costs nothing.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from bench import data
from bench.roundtrips import count_round_trips

DAY_GRID = """query($s: ID!, $d: Date!) {
  doctors(specialtyId: $s) { id daySlots(date: $d) { id state } }
}"""
NEXT = """query($s: ID!) { doctors(specialtyId: $s) { id nextAvailableSlot { id startTime } } }"""
DOCTORS_ON = """query($s: ID!, $d: Date!) {
  doctors(specialtyId: $s, date: $d) { name specialty { name } availableSlots(date: $d) { id } }
}"""
AVAILABLE = (
    """query($doctor: ID!, $d: Date!) { availableSlots(doctorId: $doctor, date: $d) { id } }"""
)
AVAILABILITY = """query($doctor: ID!, $f: Date!, $t: Date!) {
  doctor(id: $doctor) { availability(from: $f, to: $t) { date bookable } }
}"""
EXPECTED = {"day_grid": 2, "next": 2, "availability": 2}
# Read-model reads: at most this on a first read (doctors, the day's slots, specialties).
FIRST_READ_AT_MOST = {"doctors_on": 3, "available": 2}


@pytest.mark.timeout(300)
async def test_list_reads_cost_the_same_for_one_doctor_as_for_many(store_uri: str) -> None:
    db_name = f"aayulink_trips_{uuid.uuid4().hex[:8]}"
    client, database = await data.open_database(store_uri, db_name)
    try:
        day = date.today() + timedelta(days=3)
        requests: list[dict[str, Any]] = []
        for size in (1, 4):
            specialty = await data.add_specialty(database, f"Trips {size} {uuid.uuid4().hex[:6]}")
            doctors = await data.add_doctors(database, specialty, size, "doctors")
            slots = [s for d in doctors for s in data.slot_docs(d, specialty, day, 4)]
            await data.insert(database, "slots", slots, "slots")
            by_specialty = {"s": str(specialty), "d": day.isoformat()}
            by_doctor = {"doctor": str(doctors[0]), "d": day.isoformat()}
            window = {"doctor": str(doctors[0]), "f": day.isoformat(), "t": day.isoformat()}
            requests += [
                {"name": f"day_grid_{size}", "query": DAY_GRID, "variables": by_specialty},
                {"name": f"next_{size}", "query": NEXT, "variables": {"s": str(specialty)}},
                {
                    "name": f"doctors_on_{size}",
                    "query": DOCTORS_ON,
                    "variables": by_specialty,
                    "repeat": 2,
                },
                {
                    "name": f"available_{size}",
                    "query": AVAILABLE,
                    "variables": by_doctor,
                    "repeat": 2,
                },
                {"name": f"availability_{size}", "query": AVAILABILITY, "variables": window},
            ]
        counts = await count_round_trips(store_uri, db_name, requests)
    finally:
        await client.drop_database(db_name)
        await client.close()

    for name, expected in EXPECTED.items():
        for size in (1, 4):
            found = counts[f"{name}_{size}"]
            assert found["errors"] == [], (name, size, found)
            assert found["round_trips"] == expected, (name, size, found)
    for name, at_most in FIRST_READ_AT_MOST.items():
        for size in (1, 4):
            found = counts[f"{name}_{size}"]
            assert found["errors"] == [], (name, size, found)
            assert found["max"] <= at_most, (name, size, found)  # the first read
            assert found["min"] == 0, (name, size, found)  # the repeat, from memory
