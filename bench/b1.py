"""B1 in full: the booking rushes (bench/b1_booking.py), then what notifications cost them
(bench/b1_notifications.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import b1_booking, b1_notifications
from bench.common import Sizes
from bench.servers import Store


async def run(store: Store, log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    results = await b1_booking.run(store, log_dir, sizes)
    cost = results["notifications"] = await b1_notifications.run(store, log_dir, sizes)
    checks = [r["check"] for found in cost["rounds"].values() for r in found]
    results["no_double_booking"] = results["no_double_booking"] and all(
        check["double_booked_slots"] == 0 for check in checks
    )
    return results
