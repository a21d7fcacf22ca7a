"""`python -m bench --quick --only B1,B5` runs end to end and produces its figures (no timing
asserted).

The benchmark starts its own store and API processes, so this runs it as a subprocess and
reads the JSON it writes; B1's store check must find no slot booked twice, and B5's schedule
change must cost the same round trips for 7 days as for 60. Only these two scenarios run
here: the whole `--quick` bench (13 scenarios, up to four API processes and a browser) took
about ten minutes of CI's 30 and loaded the two cores enough to fail timing-bound tests
running beside it; `make bench` runs every scenario. It runs on the memory engine: what it
checks is that the scenarios run and report, not how fast the engine is.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("B1", "B5")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    output = tmp_path_factory.mktemp("bench") / "quick.json"
    command = [sys.executable, "-m", "bench", "--quick", "--only", ",".join(SCENARIOS)]
    command += ["--engine", "memory", "--output", str(output)]
    # A session of its own: on a timeout the bench's store, API processes and load senders
    # are killed with it (subprocess.run's timeout kills only the bench, and its children
    # went on loading the machine for the rest of the suite).
    bench = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = bench.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        os.killpg(bench.pid, signal.SIGKILL)
        stdout, stderr = bench.communicate()
        pytest.fail(f"bench ran over 600 s:\n{stdout[-4000:]}\n{stderr[-4000:]}")
    assert bench.returncode == 0, f"bench failed:\n{stdout[-4000:]}\n{stderr[-4000:]}"
    loaded: dict[str, Any] = json.loads(output.read_text())
    return loaded


@pytest.mark.timeout(660)
def test_every_scenario_produced_its_figures(results: dict[str, Any]) -> None:
    scenarios = results["scenarios"]
    for name in SCENARIOS:
        assert name in scenarios and "error" not in scenarios[name], scenarios.get(name)
        rows = [r for r in results["rows"] if r["scenario"] == name]
        assert rows, f"{name} has no figures"
        assert all(_number(r["value"]) for r in rows), [r for r in rows if not _number(r["value"])]
    b1 = scenarios["B1"]
    for variant in ("lock_then_book", "straight"):
        for side in ("app", "floor"):
            assert _number(b1[variant][side]["bookings_per_s"])
            assert _number(b1[variant][side]["latency"]["p99_ms"])
    b5 = scenarios["B5"]
    assert not b5["errors"], b5["errors"]
    assert b5["app"]["slots"] == b5["floor"]["slots"] > 0
    assert b5["round_trips"]["days_7"] == b5["round_trips"]["days_60"]


@pytest.mark.timeout(660)
def test_b1_found_no_double_booking(results: dict[str, Any]) -> None:
    b1 = results["scenarios"]["B1"]
    assert b1["no_double_booking"] is True
    for variant in ("lock_then_book", "straight"):
        check = b1[variant]["app"]["check"]
        assert check["double_booked_slots"] == 0, check
        assert check["active_appointments"] == check["expected_bookings"], check
        check = b1["background"][variant]["app"]["check"]
        assert check["double_booked_slots"] == 0, check
        assert check["active_appointments"] == check["expected_bookings"], check
    assert b1["background"]["slots_in_store"] > b1["background"]["appointments_before"] > 0
    moved = b1["reschedule"]["check"]
    assert moved["double_booked_slots"] == 0, moved
    assert moved["appointments_lost"] == 0, moved
    assert moved["slots_booked_without_appointment"] == 0, moved
