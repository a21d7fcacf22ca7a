"""`python -m bench --quick` runs end to end and produces every figure (no timing asserted).

The benchmark starts its own store and API processes, so this runs it as a subprocess and
reads the JSON it writes; B1's store check must find no slot booked twice. It runs on the
memory engine: what it checks is that every scenario runs and reports its figures, not how
fast the engine is; the SQLite figures (the default) are the full bench's, and B6 starts
`serve` on SQLite whatever the engine.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B12")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    output = tmp_path_factory.mktemp("bench") / "quick.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--engine",
            "memory",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, f"bench failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
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
    for stage in scenarios["B2"]["stages"].values():
        for query in ("doctors", "available_slots"):
            for side in ("app", "floor"):
                figures = stage[query][side]
                assert _number(figures["latency"]["p50_ms"]) and _number(figures["round_trips"])
                assert _number(figures["throughput_per_s"])
    for phase in scenarios["B3"]["phases"].values():
        for side in ("app", "floor"):
            assert _number(phase[side]["delivered_share"])
            assert _number(phase[side]["latency_from_send"]["p99_ms"])
        assert _number(phase["app"]["api_cpu_s_per_event"])
    b5 = scenarios["B5"]
    assert not b5["errors"], b5["errors"]
    assert b5["app"]["slots"] == b5["floor"]["slots"] > 0
    assert b5["round_trips"]["days_7"] == b5["round_trips"]["days_60"]
    assert scenarios["B6"]["app"]["slots_seeded"] > 0
    for start in ("first", "again"):
        assert _number(scenarios["B6"]["filled"][start]["ready_s"])
    rush = scenarios["B12"]
    assert [r["api_processes"] for r in rush["runs"]] == [1, 2, 4]
    assert rush["targets"]["every_patient_booked"], rush
    for run in rush["runs"]:
        assert run["errors"] == [], run["errors"]
        assert _number(run["pair"]["p99_ms"]) and run["store_ms_per_operation"] > 0
    b7 = scenarios["B7"]
    assert b7["large"]["slots_in_store"] > b7["small"]["slots_in_store"] > 0
    for size in ("small", "large"):
        for query in ("available_slots", "doctors"):
            assert _number(b7[size][query]["latency"]["p50_ms"])
        for call in ("lock", "book", "cancel", "update"):
            assert b7[size][call]["store_ms_per_call"] > 0
            assert b7[size][call]["round_trips"] > 0
    assert all(_number(t["growth"]) for t in b7["targets"].values())
    for size in ("app", "reference"):
        assert _number(scenarios["B8"][size]["store_cpu_percent"])
        assert scenarios["B8"][size]["lease_holders"] == 1
    for side in ("api", "api_no_compression", "floor", "floor_no_compression"):
        assert _number(scenarios["B4"][side]["rss_idle_bytes"])
        assert _number(scenarios["B4"][side]["growth_per_connection_bytes"])
    b9 = scenarios["B9"]
    assert b9["slots_on_the_day"] > 0 and b9["js_files"]
    for figure in ("js_gzip_kb", "grid_cold_s", "grid_warm_s", "floor_day_slots_s"):
        assert _number(b9[figure]) and b9[figure] > 0, figure


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
