"""A first `python -m app serve` on an empty data directory: seeds with progress, answers,
then rolls the demo schedules forward to the full horizon on its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.store.embedded import stop_process
from tests.servers import ROOT, free_port

ANSWER_WITHIN_S = 120  # a liveness bound for the test, not a performance target (B6 measures)


@pytest.fixture(scope="module")
def first_start(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("first-start")
    log_path = data_dir / "serve.log"
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("MONGODB_URI", "REDIS_URL")},
        "APP_ENV": "development",
        "DATA_DIR": str(data_dir / "data"),
        "PORT": str(port),
        "LOG_LEVEL": "INFO",
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        deadline = time.monotonic() + ANSWER_WITHIN_S
        while True:
            assert process.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")
            try:
                if httpx.post(url, json={"query": "{ __typename }"}, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield url, log_path
    finally:
        stop_process(process, 30)


def test_seeding_says_what_it_does(first_start: tuple[str, Path]) -> None:
    log = first_start[1].read_text(errors="replace")
    for line in (
        "seed: specialties: 4",
        "seed: doctors: 6",
        "seed: schedule 6/6",
        "demo data ready",
    ):
        assert line in log, log


def test_every_doctor_has_a_next_slot(first_start: tuple[str, Path]) -> None:
    reply = httpx.post(
        first_start[0], json={"query": "{ doctors { name nextAvailableSlot { id } } }"}, timeout=30
    ).json()
    doctors = reply["data"]["doctors"]
    assert len(doctors) == 6
    assert all(d["nextAvailableSlot"] for d in doctors), doctors


def test_the_horizon_rolls_forward_after_start(first_start: tuple[str, Path]) -> None:
    """Two weeks are made before the server answers; the rest follows in the background."""
    url = first_start[0]
    doctor = httpx.post(url, json={"query": "{ doctors { id name } }"}, timeout=30).json()["data"][
        "doctors"
    ]
    mei = next(d["id"] for d in doctor if d["name"] == "Dr. Mei Lin")  # works every day
    today = datetime.now(UTC).date()
    later = {
        "from": (today + timedelta(days=40)).isoformat(),
        "to": (today + timedelta(days=45)).isoformat(),
    }
    query = """query($d: ID!, $from: Date!, $to: Date!) {
      doctor(id: $d) { availability(from: $from, to: $to) { bookable } }
    }"""
    deadline = time.monotonic() + ANSWER_WITHIN_S
    while True:
        days = httpx.post(
            url, json={"query": query, "variables": {"d": mei, **later}}, timeout=30
        ).json()["data"]["doctor"]["availability"]
        if all(day["bookable"] > 0 for day in days):
            return
        assert time.monotonic() < deadline, days
        time.sleep(1)
