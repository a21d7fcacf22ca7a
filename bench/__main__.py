"""`python -m bench [--quick] [--engine sqlite|memory] [--output FILE] [--only B1,B3]`: run
the scenarios, print the table, write the figures as JSON (bench/results/<timestamp>.json and
latest.json, or FILE). The store is the SQLite engine `serve` runs unless `--engine memory`.

Exits 1 when a scenario could not run or B1 found a double booking; missed performance
targets are figures, not failures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import (
    b1,
    b2_search,
    b3_fanout,
    b4_memory,
    b5_schedules,
    b6_first_start,
    b7_growth,
    b8_idle_housekeeping,
    b9_web,
    b10_notifications,
    b11_patients,
    b12_rush,
    b13_hostile_documents,
    report,
)
from bench.common import FULL, QUICK, Sizes
from bench.servers import ENGINES, ROOT, Store

SCENARIOS = {
    "B1": b1.run,
    "B2": b2_search.run,
    "B3": b3_fanout.run,
    "B4": b4_memory.run,
    "B5": b5_schedules.run,
    "B6": b6_first_start.run,
    "B7": b7_growth.run,
    "B8": b8_idle_housekeeping.run,
    "B9": b9_web.run,
    "B10": b10_notifications.run,
    "B11": b11_patients.run,
    "B12": b12_rush.run,
    "B13": b13_hostile_documents.run,
}
OPEN_FILES_WANTED = 16384


def _raise_open_files() -> int:
    """Thousands of WebSockets and Redis connections need descriptors; servers inherit this."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES_WANTED if hard == resource.RLIM_INFINITY else min(hard, OPEN_FILES_WANTED)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _machine() -> dict[str, Any]:
    cpu_model = ""
    try:
        with open("/proc/cpuinfo") as info:
            cpu_model = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                "",
            )
        with open("/proc/meminfo") as info:
            memory_kb = int(next(line for line in info if line.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration):
        memory_kb = 0
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "app"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    versions = {}
    for package in ("mongoeco", "pymongo", "strawberry-graphql", "uvicorn", "websockets", "redis"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "?"
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": commit,
        "app_has_uncommitted_changes": bool(dirty),
        "versions": versions,
    }


def _clean(value: Any) -> Any:
    """NaN is not JSON: write null instead."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


async def _run(
    selected: list[str], sizes: Sizes, log_dir: Path, engine: str
) -> tuple[dict[str, Any], dict[str, float]]:
    results: dict[str, Any] = {}
    durations: dict[str, float] = {}
    for name in selected:
        print(f"\n== {name}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        # A store of its own per scenario: sharing one, the SQLite file had grown to 5 GB
        # (and 1.8 GB of WAL) by B7, whose seeding then crawled at 30 documents a second;
        # every scenario measures a clinic's store holding its own data, not the run's.
        store = Store(engine)
        try:
            store.start()
            results[name] = await SCENARIOS[name](store, log_dir, sizes)
        except Exception:
            results[name] = {"error": traceback.format_exc()}
            print(results[name]["error"], file=sys.stderr)
        finally:
            store.stop()
        durations[name] = time.perf_counter() - started
    return results, durations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--output", type=Path, help="write the JSON here (not bench/results/)")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="e.g. B1,B3")
    parser.add_argument(
        "--engine", choices=ENGINES, default="sqlite", help="the embedded store's engine"
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--keep-logs", action="store_true", help="keep server logs on success")
    args = parser.parse_args(argv)
    selected = [s.strip().upper() for s in args.only.split(",") if s.strip()]
    unknown = set(selected) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    sizes = QUICK if args.quick else FULL
    open_files = _raise_open_files()
    log_dir = Path(tempfile.mkdtemp(prefix="aayulink-bench-logs-"))
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    results, durations = asyncio.run(_run(selected, sizes, log_dir, args.engine))
    document = _clean(
        {
            "meta": {
                "started_at": started_at.isoformat(),
                "duration_s": time.perf_counter() - started,
                "scenario_durations_s": durations,
                "quick": args.quick,
                "engine": args.engine,
                "sizes": sizes.__dict__,
                "open_files_limit": open_files,
                "machine": _machine(),
            },
            "scenarios": results,
            "rows": report.rows(results),
        }
    )
    text = json.dumps(document, indent=2, default=str)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
        written = [args.output]
    else:
        report.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        stamped = report.RESULTS_DIR / f"{started_at.strftime('%Y%m%dT%H%M%SZ')}.json"
        latest = report.RESULTS_DIR / "latest.json"
        stamped.write_text(text)
        latest.write_text(text)
        written = [stamped, latest]
    print(report.table(document["rows"], markdown=args.markdown))
    failed = [name for name, result in results.items() if "error" in result]
    double = "B1" in results and not results["B1"].get("no_double_booking", False)
    keep = args.keep_logs or failed or double
    if not keep:
        shutil.rmtree(log_dir, ignore_errors=True)
    print(
        f"\n{'quick' if args.quick else 'full'} run: {document['meta']['duration_s']:.0f}s; "
        f"figures in {', '.join(str(p) for p in written)}"
        + (f"; server logs in {log_dir}" if keep else "")
    )
    if failed or double:
        print(f"FAILED: {', '.join(failed) or 'B1 found a double booking'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
