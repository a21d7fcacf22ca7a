"""The results table: every figure beside its floor (or reference), the ratio and the target.

`python -m bench.report [results.json] [--markdown]` renders a saved run again, e.g. for the
docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
KB = 1024
VARIANTS = ("lock_then_book", "straight")  # B1's two rushes
MB = 1024 * 1024


@dataclass
class Row:
    scenario: str
    figure: str
    value: float
    unit: str
    reference: float = math.nan
    reference_is: str = "floor"
    ratio: float = math.nan
    target: str = ""
    met: bool | None = None


def _row(
    scenario: str,
    figure: str,
    value: float,
    unit: str,
    reference: float = math.nan,
    reference_is: str = "floor",
    target: str = "",
    met: bool | None = None,
) -> Row:
    usable = reference is not None and not math.isnan(reference) and reference != 0
    ratio = value / reference if usable else math.nan
    return Row(scenario, figure, value, unit, reference, reference_is, ratio, target, met)


def _latency_rows(
    scenario: str, title: str, app: dict[str, Any], floor: dict[str, Any], *quantiles: str
) -> list[Row]:
    """The app's latency quantiles, each beside the floor's."""
    return [
        _row(scenario, f"{title}: {q} latency", app[f"{q}_ms"], "ms", floor[f"{q}_ms"])
        for q in quantiles
    ]


B1_FLOOR_TARGETS = {"lock_then_book": 0.5, "straight": 0.7}


def _b1_memory(results: dict[str, Any]) -> list[Row]:
    """Lock then book on this run's engine against the memory engine, same run."""
    memory = results.get("memory_engine")
    if not memory:
        return []
    least = results["memory_engine_target"]
    return [
        _row(
            "B1",
            "lock then book: bookings/s on SQLite against the memory engine",
            results["lock_then_book"]["app"]["bookings_per_s"],
            "/s",
            memory["bookings_per_s"],
            "memory engine",
            target=f">= {least:.2f}x memory",
            met=results["memory_engine_ratio"] >= least,
        ),
        _row(
            "B1",
            "lock then book on the memory engine: slots booked twice",
            memory["check"]["double_booked_slots"],
            "",
            target="0",
            met=memory["check"]["double_booked_slots"] == 0,
        ),
    ]


def _b1(results: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    label = f"{results['patients']} patients, {results['slots']} slots"
    for variant in VARIANTS:
        app, floor = results[variant]["app"], results[variant]["floor"]
        check = app["check"]
        name = "lock then book" if variant == "lock_then_book" else "straight book"
        ratio = results[variant]["throughput_ratio"]
        least = B1_FLOOR_TARGETS[variant]
        rows += [
            _row(
                "B1",
                f"{name}: bookings/s ({label})",
                app["bookings_per_s"],
                "/s",
                floor["bookings_per_s"],
                target=f">= {least:g}x floor",
                met=ratio >= least,
            ),
            *_latency_rows("B1", name, app["latency"], floor["latency"], "p50", "p99"),
            _row(
                "B1",
                f"{name}: active appointments",
                check["active_appointments"],
                "",
                check["expected_bookings"],
                "slots",
                target="= slots",
                met=check["correct"],
            ),
            _row(
                "B1",
                f"{name}: slots booked twice",
                check["double_booked_slots"],
                "",
                target="0",
                met=check["double_booked_slots"] == 0,
            ),
        ]
    moved = results.get("reschedule")
    if moved:
        check = moved["check"]
        label = f"{moved['patients']} patients, {moved['slots']} slots, half rescheduling"
        rows += [
            _row(
                "B1",
                f"reschedule rush: slots with two active appointments ({label})",
                check["double_booked_slots"],
                "",
                target="0",
                met=check["double_booked_slots"] == 0,
            ),
            _row(
                "B1",
                "reschedule rush: appointments lost",
                check["appointments_lost"],
                "",
                target="0",
                met=check["appointments_lost"] == 0,
            ),
            _row(
                "B1",
                "reschedule rush: slots BOOKED without an appointment",
                check["slots_booked_without_appointment"],
                "",
                target="0",
                met=check["slots_booked_without_appointment"] == 0,
            ),
            _row("B1", "reschedule rush: p50 latency", moved["latency"]["p50_ms"], "ms"),
        ]
    background = results.get("background")
    if background:
        rows += _b1_background(results, background)
    rows += _b1_memory(results)
    rows += _b1_notifications(results.get("notifications"))
    trips = results.get("store_round_trips", {})
    if trips:
        floor = trips["floor"]
        rows += [
            _row(
                "B1", "store round trips: lockSlot", trips["lock"]["round_trips"], "", floor["lock"]
            ),
            _row(
                "B1",
                "store round trips: bookAppointment",
                trips["book_straight"]["round_trips"],
                "",
                floor["book"],
            ),
        ]
    return rows


def _b1_notifications(cost: dict[str, Any] | None) -> list[Row]:
    """Lock then book with the outbox on against NOTIFICATIONS_ENABLED=false, same run."""
    if not cost:
        return []
    least = cost["target"]
    return [
        _row(
            "B1",
            "lock then book with notifications: bookings/s (median of 5 rounds)",
            cost["bookings_per_s"]["with"],
            "/s",
            cost["bookings_per_s"]["without"],
            "without notifications",
            target=f">= {least:.1f}x without",
            met=cost["ratio"] >= least,
        )
    ]


def _b1_background(results: dict[str, Any], background: dict[str, Any]) -> list[Row]:
    """The rushes again beside background slots: no slot booked twice, and their pace beside
    the same rush on a store without them."""
    rows: list[Row] = []
    beside = f"with {background['background_slots']:,} background slots"
    for variant in VARIANTS:
        app, check = background[variant]["app"], background[variant]["app"]["check"]
        name = "lock then book" if variant == "lock_then_book" else "straight book"
        rows += [
            _row(
                "B1",
                f"{name} {beside}: bookings/s",
                app["bookings_per_s"],
                "/s",
                results[variant]["app"]["bookings_per_s"],
                "without",
            ),
            _row(
                "B1",
                f"{name} {beside}: p50 latency",
                app["latency"]["p50_ms"],
                "ms",
                results[variant]["app"]["latency"]["p50_ms"],
                "without",
            ),
            _row(
                "B1",
                f"{name} {beside}: active appointments",
                check["active_appointments"],
                "",
                check["expected_bookings"],
                "slots",
                target="= slots",
                met=check["correct"],
            ),
            _row(
                "B1",
                f"{name} {beside}: slots booked twice",
                check["double_booked_slots"],
                "",
                target="0",
                met=check["double_booked_slots"] == 0,
            ),
        ]
    return rows


def _b5(results: dict[str, Any]) -> list[Row]:
    app, floor, trips = results["app"], results["floor"], results["round_trips"]
    label = f"{results['doctors']} doctors x {results['days']} days"
    ratio = app["slots_per_s"] / floor["slots_per_s"] if floor["slots_per_s"] else math.nan
    return [
        _row(
            "B5",
            f"schedule generation: slots written/s ({label})",
            app["slots_per_s"],
            "/s",
            floor["slots_per_s"],
            "bare insert_many, _id only",
            target=">= 0.5x floor",
            met=ratio >= 0.5 and not results["errors"],
        ),
        _row("B5", "schedule generation: slots written", app["slots"], "", floor["slots"]),
        _row(
            "B5",
            "store round trips per doctor: 60-day schedule",
            trips["days_60"],
            "",
            trips["days_7"],
            "7-day schedule",
            target="equal",
            met=trips["days_60"] == trips["days_7"] and not trips["errors"],
        ),
        *_b5_changes(results.get("changes")),
    ]


def _b5_changes(changes: dict[str, Any] | None) -> list[Row]:
    """Each change's answer time on SQLite against its target; an error misses it."""
    if not changes:
        return []
    about = {
        "schedule_narrowed": f"08:00-20:00 -> 09:00-18:00, {changes['regular_slots']} slots",
        "day_off": "a day off, same doctor",
        "deactivated": f"deactivate a doctor with {changes['dense_slots']} slots",
        "reactivated": "reactivate it",
        "specialty_moved": "move it to another specialty",
        "timezone_moved": "move it to another time zone",
    }
    rows = []
    for name, target in changes["targets"].items():
        took = changes["seconds"].get(name, math.nan)
        error = changes["errors"].get(name)
        rows.append(
            _row(
                "B5",
                f"{about[name]} ({changes['engine']}), s" + (f" [{error}]" if error else ""),
                took,
                "s",
                target=f"<= {target:g} s",
                met=error is None and took <= target,
            )
        )
    if "timezone_settled_s" in changes:
        rows.append(
            _row(
                "B5",
                f"then the rest regenerated in the background ({changes['moved_slots']} slots), s",
                changes["timezone_settled_s"],
                "s",
            )
        )
    return rows


def _b6(results: dict[str, Any]) -> list[Row]:
    app, floor = results["app"], results["floor"]
    return [
        _row(
            "B6",
            "first start: fresh data dir to /graphql answering",
            app["ready_s"],
            "s",
            floor["ready_s"],
            "start without seeding",
            target=f"< {results['target_s']:.0f} s",
            met=app["ready_s"] < results["target_s"],
        ),
        _row("B6", "first start: seconds spent seeding", app["seed_s"], "s"),
        _row("B6", "first start: slots the seed generated", app["slots_seeded"], ""),
        *_b6_filled(results),
    ]


def _b6_filled(results: dict[str, Any]) -> list[Row]:
    """Starts on a store that already holds data, against the empty store's start."""
    filled = results.get("filled")
    if not filled:
        return []
    empty, limit = results["floor"]["ready_s"], results["filled_target_ratio"]
    again = filled["again"]["ready_s"]
    at = f"{filled['slots']:,} slots"
    return [
        _row(
            "B6",
            f"start at {at}, first after upgrade (migrations run): to /graphql answering",
            filled["first"]["ready_s"],
            "s",
            empty,
            "empty store",
        ),
        _row(
            "B6",
            f"start at {at}, every later start: to /graphql answering",
            again,
            "s",
            empty,
            "empty store",
            target=f"<= {limit}x",
            met=again <= limit * empty,
        ),
    ]


def _b2(results: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    stages = results["stages"]
    titles = {"doctors": "doctors(specialtyId, date)", "available_slots": "availableSlots"}
    for key, stage in stages.items():
        where = f"{stage['doctor_count']} doctors, {stage['slots_in_store']} slots"
        for query, title in titles.items():
            app, floor = stage[query]["app"], stage[query]["floor"]
            ratio = stage[query]["throughput_ratio"]
            rows += [
                *_latency_rows(
                    "B2", f"{title} @ {where}", app["latency"], floor["latency"], "p50", "p99"
                ),
                _row(
                    "B2",
                    f"{title} @ {where}: throughput",
                    app["throughput_per_s"],
                    "/s",
                    floor["throughput_per_s"],
                    # Issue 9: the read model serves both at twice the bare store's rate.
                    target=">= 2x floor",
                    met=ratio >= 2,
                ),
                _row(
                    "B2",
                    f"{title} @ {where}: store round trips",
                    app["round_trips"],
                    "",
                    floor["round_trips"],
                    target="<= 4" if key != "large_10x" else "",
                    met=app["round_trips"] <= 4 if key != "large_10x" else None,
                ),
            ]
    small, large = stages["small"]["doctor_count"], stages["large"]["doctor_count"]
    for query, title in titles.items():
        target = results["targets"][query]
        rows += [
            _row(
                "B2",
                f"{title}: round trips @ {large} vs {small} doctors",
                stages["large"][query]["app"]["round_trips"],
                "",
                stages["small"][query]["app"]["round_trips"],
                f"@ {small} doctors",
                target="equal, <= 4",
                met=target["round_trips_constant"],
            ),
            _row(
                "B2",
                f"{title}: p50 with 10x slots vs without",
                stages["large_10x"][query]["app"]["latency"]["p50_ms"],
                "ms",
                stages["large"][query]["app"]["latency"]["p50_ms"],
                "smaller store",
                target="<= 1.3x",
                met=target["p50_growth_10x_slots"] <= 1.3,
            ),
            _row(
                "B2",
                f"{title}: floor p50 with 10x slots vs without",
                stages["large_10x"][query]["floor"]["latency"]["p50_ms"],
                "ms",
                stages["large"][query]["floor"]["latency"]["p50_ms"],
                "smaller store",
            ),
        ]
    return rows


def _b3(results: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    phases = results["phases"]
    counts = sorted(phases, key=int)
    low, high = counts[0], counts[-1]
    for count in counts:
        app, floor = phases[count]["app"], phases[count]["floor"]
        at = f"@ {count} subscribers"
        last = count == high
        p99 = app["latency_from_send"]["p99_ms"]
        rows += [
            _row(
                "B3",
                f"{at}: share of events delivered",
                app["delivered_share"],
                "",
                floor["delivered_share"],
                target="1.0",
                met=app["delivered_share"] == 1.0,
            ),
            *_latency_rows("B3", at, app["latency_from_send"], floor["latency_from_send"], "p50"),
            _row(
                "B3",
                f"{at}: p99 latency",
                p99,
                "ms",
                floor["latency_from_send"]["p99_ms"],
                target="< 250 ms" if last else "",
                met=p99 < 250 if last else None,
            ),
            *_latency_rows("B3", at, app["latency_from_send"], floor["latency_from_send"], "max"),
        ]
        if count == low:
            rows.append(
                _row(
                    "B3",
                    f"{at}: API CPU per event",
                    app["api_cpu_s_per_event"] * 1000,
                    "ms",
                    floor["redis_cpu_s_per_event"] * 1000,
                    "floor (Redis CPU)",
                )
            )
        else:
            growth = results["cpu_per_event_growth"]
            rows.append(
                _row(
                    "B3",
                    f"{at}: API CPU per event",
                    app["api_cpu_s_per_event"] * 1000,
                    "ms",
                    phases[low]["app"]["api_cpu_s_per_event"] * 1000,
                    f"@ {low} subscribers",
                    target=f"<= 5x @ {low} (subs x{results['subscriber_growth']:g})",
                    met=growth <= 5,
                )
            )
    return rows


def _b4(results: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    api, floor = results["api"], results["floor"]
    rows.append(
        _row(
            "B4",
            "idle API process RSS",
            api["rss_idle_bytes"] / MB,
            "MB",
            floor["rss_idle_bytes"] / MB,
            "bare Starlette",
        )
    )
    for suffix, label in (("", "deflate offered"), ("_no_compression", "no compression")):
        app, bare = results[f"api{suffix}"], results[f"floor{suffix}"]
        growth = app["growth_per_connection_bytes"] / KB
        rows.append(
            _row(
                "B4",
                f"RSS per idle subscribed connection ({label}, {app['connections']} conns)",
                growth,
                "KB",
                bare["growth_per_connection_bytes"] / KB,
                "bare Starlette",
                target="< 50 KB",
                met=growth < 50,
            )
        )
    return rows


def _b8(results: dict[str, Any]) -> list[Row]:
    app, reference = results["app"], results["reference"]
    target = results["target_percent"]
    label = f"{app['api_processes']} idle API processes, {app['window_s']:.0f} s"
    return [
        _row(
            "B8",
            f"idle housekeeping: store CPU, % of a core ({label}, {app['slots']} slots)",
            app["store_cpu_percent"],
            "%",
            reference["store_cpu_percent"],
            f"@ {reference['slots']} slots",
            target=f"< {target:g}%",
            met=app["store_cpu_percent"] < target,
        ),
        _row(
            "B8",
            f"idle housekeeping: API CPU, % of a core (both processes, {app['slots']} slots)",
            app["api_cpu_percent"],
            "%",
            reference["api_cpu_percent"],
            f"@ {reference['slots']} slots",
        ),
        _row(
            "B8",
            "idle housekeeping: processes holding the lease",
            app["lease_holders"],
            "",
            target="1",
            met=app["lease_holders"] == 1,
        ),
    ]


WRITES = (
    ("lock", "lockSlot"),
    ("book", "bookAppointment"),
    ("cancel", "cancelAppointment"),
    ("update", "setSlotAvailability"),
)


def _round_p50(reads: dict[str, Any]) -> float:
    """The median of the rounds' p50s (older results: the best round, or the pooled p50)."""
    return float(
        reads.get("median_round_p50_ms", reads.get("best_round_p50_ms", reads["latency"]["p50_ms"]))
    )


def _b7(results: dict[str, Any]) -> list[Row]:
    small, large, targets = results["small"], results["large"], results["targets"]
    at = f"{large['slots_in_store']:,} slots"
    reference = f"@ {small['slots_in_store']:,} slots"

    def growth(key: str, figure: str, value: float, was: float) -> Row:
        target = targets[key]
        return _row(
            "B7",
            f"{figure} @ {at}",
            value,
            "ms",
            was,
            reference,
            target=f"<= {target['limit']:g}x",
            met=target["met"],
        )

    doctors = small["doctors_queried"]
    rows = [
        growth(
            "available_slots",
            "availableSlots: p50 latency, median round",
            _round_p50(large["available_slots"]),
            _round_p50(small["available_slots"]),
        ),
        growth(
            "doctors",
            f"doctors(specialtyId, date) @ {doctors} doctors: p50 latency, median round",
            _round_p50(large["doctors"]),
            _round_p50(small["doctors"]),
        ),
    ]
    rows.append(
        _row(
            "B7",
            "the write doctor's own slots",
            large.get("write_doctor_slots", math.nan),
            "",
            small.get("write_doctor_slots", math.nan),
            reference,
        )
    )
    for key, title in WRITES:
        if key not in large or key not in targets:
            continue
        rows.append(
            growth(
                key,
                f"{title}: store time per call",
                large[key]["store_ms_per_call"],
                small[key]["store_ms_per_call"],
            )
        )
    if "claim" in targets:
        rows.append(
            growth(
                "claim",
                "bookAppointment's slot claim (findAndModify slots): store time",
                large["book"]["store_ms_by_command"].get("findAndModify slots", math.nan),
                small["book"]["store_ms_by_command"].get("findAndModify slots", math.nan),
            )
        )
    # Where a booking's store time goes, command by command (appointments grow with slots).
    commands = large["book"]["store_ms_by_command"]
    for name in ("find appointments", "insert appointments", "findAndModify slots"):
        if name in commands:
            rows.append(
                _row(
                    "B7",
                    f"bookAppointment: {name} store time @ "
                    f"{large['appointments_in_store']:,} appointments",
                    commands[name],
                    "ms",
                    small["book"]["store_ms_by_command"].get(name, math.nan),
                    f"@ {small['appointments_in_store']:,}",
                )
            )
    if "store_baseline" in large:
        rows.append(
            _row(
                "B7",
                f"store baseline (bare find_one by _id, one at a time): p50 @ {at}",
                large["store_baseline"]["p50_ms"],
                "ms",
                small["store_baseline"]["p50_ms"],
                reference,
            )
        )
    for key, title in WRITES:
        if key not in large:
            continue
        rows.append(
            _row(
                "B7",
                f"{title}: store round trips @ {at}",
                large[key]["round_trips"],
                "",
                small[key]["round_trips"],
                reference,
            )
        )
    return rows


def _b9(results: dict[str, Any]) -> list[Row]:
    where = f"{results['slots_on_the_day']} slots, demo data"
    return [
        _row(
            "B9",
            "web: patient portal JavaScript, gzipped",
            results["js_gzip_kb"],
            "KB",
            target=f"< {results['js_budget_kb']:.0f} KB",
            met=results["js_gzip_kb"] < results["js_budget_kb"],
        ),
        _row(
            "B9",
            f"web: navigation to day grid drawn, cold cache, median ({where})",
            results["grid_cold_s"] * 1000,
            "ms",
            results["floor_day_slots_s"] * 1000,
            "daySlots over HTTP",
            target=f"< {results['grid_budget_s'] * 1000:.0f} ms",
            met=results["grid_cold_s"] < results["grid_budget_s"],
        ),
        _row(
            "B9",
            "web: navigation to day grid drawn, warm cache, median",
            results["grid_warm_s"] * 1000,
            "ms",
            results["floor_day_slots_s"] * 1000,
            "daySlots over HTTP",
        ),
    ]


def _b13(results: dict[str, Any]) -> list[Row]:
    alone, attacked = results["honest_alone"], results["honest_under_attack"]
    target = results["target_rise_ms"]
    hostile = results["hostile_clients"]
    refused = sum(results["hostile_answers"].values())
    return [
        _row(
            "B13",
            f"honest p99 while {hostile} clients send 495-field documents",
            attacked["p99_ms"],
            "ms",
            alone["p99_ms"],
            "alone",
        ),
        _row(
            "B13",
            "rise of the honest p99 under the hostile documents",
            results["p99_rise_ms"],
            "ms",
            results["benign_p99_rise_ms"],
            f"{hostile} clients sending unique {{ __typename }}",
            target=f"< {target:g} ms",
            met=results["p99_rise_ms"] < target,
        ),
        _row(
            "B13",
            "hostile documents answered in the window",
            refused,
            "",
            sum(results["benign_answers"].values()),
            "benign documents",
        ),
    ]


def _b11(results: dict[str, Any]) -> list[Row]:
    where = f"{results['patients']:,} patients, {results['concurrency']} clients"
    app, floor = results["app"], results["floor"]
    return [
        _row(
            "B11",
            f"patients(search:): p50 latency ({where})",
            app["p50_ms"],
            "ms",
            floor["p50_ms"],
            "find_one by email",
            target=f"< {results['target_ms']:.0f} ms",
            met=app["p50_ms"] < results["target_ms"],
        ),
        _row("B11", "patients(search:): p99 latency", app["p99_ms"], "ms", floor["p99_ms"]),
        _row(
            "B11",
            "patients(search:): p50 beside the cheapest GraphQL request",
            app["p50_ms"],
            "ms",
            results["bare_graphql"]["p50_ms"],
            "{ __typename }",
        ),
        _row(
            "B11",
            "patients(search:): first search after a registration (directory reload)",
            max(results["search_after_registration_ms"]),
            "ms",
        ),
    ]


def _b12(results: dict[str, Any]) -> list[Row]:
    """The rush at each API process count; targets at the count B1 also runs."""
    rows: list[Row] = []
    targets = results["targets"]
    for run in results["runs"]:
        at = f"rush x{run['patients']}, {run['api_processes']} API process(es)"
        judged = run["api_processes"] == targets["api_processes"]
        rows += [
            _row(
                "B12",
                f"{at}: lock+book p50",
                run["pair"]["p50_ms"],
                "ms",
                target="< 300 ms" if judged else "",
                met=targets["p50_ms"]["met"] if judged else None,
            ),
            _row("B12", f"{at}: lock+book p99", run["pair"]["p99_ms"], "ms"),
            _row(
                "B12",
                f"{at}: lock+book max",
                run["pair"]["max_ms"],
                "ms",
                target="< 1000 ms" if judged else "",
                met=targets["max_ms"]["met"] if judged else None,
            ),
            _row("B12", f"{at}: requests/s", run["requests_per_s"], "/s"),
            _row("B12", f"{at}: store ms per operation", run["store_ms_per_operation"], "ms"),
            _row("B12", f"{at}: store process CPU", run.get("store_cpu_s", math.nan), "s"),
            _row(
                "B12",
                f"{at}: store process CPU per operation (its ceiling: 1000 / this ops/s)",
                run.get("store_cpu_s", math.nan) * 1000 / (2 * run["patients"]),
                "ms",
            ),
        ]
    rows.append(
        _row(
            "B12",
            f"rush: every patient booked ({results['doctor_slots']} slots of one doctor)",
            results["appointments_booked"],
            "",
            target="all",
            met=targets["every_patient_booked"],
        )
    )
    return rows


def _b10(results: dict[str, Any]) -> list[Row]:
    mail = results["mail_latency"]
    where = f"{results['bookings']} bookings, two processes"
    delivered = (
        results["all_delivered"] and results["emails_twice"] == 0 and results["webhooks_twice"] == 0
    )
    return [
        _row(
            "B10",
            f"notifications: emails / webhooks received, none twice ({where})",
            results["emails"],
            "emails",
            results["bookings"],
            "bookings",
            target="all, once",
            met=delivered,
        ),
        _row("B10", "notifications: booking to inbox, p50", mail["p50_ms"], "ms"),
        _row(
            "B10",
            "notifications: booking to inbox, p99",
            mail["p99_ms"],
            "ms",
            target=f"< {results['p99_goal_s'] * 1000:.0f} ms",
            met=mail["p99_ms"] < results["p99_goal_s"] * 1000,
        ),
        _row(
            "B10",
            "notifications: booking to webhook, p99",
            results["webhook_latency"]["p99_ms"],
            "ms",
        ),
        _row(
            "B10",
            "notifications: emails/s during the rush, first to last (the rush's pace)",
            results["sender_per_s"],
            "emails/s",
            results["floor_per_s"],
            "aiosmtplib straight",
        ),
        _row(
            "B10",
            f"notifications: sender throughput, draining {results['bookings']} bookings' backlog",
            results["drain_per_s"],
            "emails/s",
            results["floor_per_s"],
            "aiosmtplib straight",
            target=f">= {results['throughput_goal']}x floor",
            met=results["drain_per_s"] >= results["throughput_goal"] * results["floor_per_s"],
        ),
    ]


BUILDERS = {
    "B1": _b1,
    "B2": _b2,
    "B3": _b3,
    "B4": _b4,
    "B5": _b5,
    "B6": _b6,
    "B7": _b7,
    "B8": _b8,
    "B9": _b9,
    "B11": _b11,
    "B12": _b12,
    "B13": _b13,
    "B10": _b10,
}


def rows(scenarios: dict[str, Any]) -> list[dict[str, Any]]:
    """Every scenario's rows; a scenario that failed gives one row saying so."""
    built: list[Row] = []
    for name, build in BUILDERS.items():
        if name not in scenarios:
            continue
        result = scenarios[name]
        if "error" in result:
            built.append(Row(name, f"FAILED: {result['error'].splitlines()[-1]}", math.nan, ""))
            continue
        built += build(result)
    return [asdict(r) for r in built]


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if value != int(value) else f"{int(value)}"


def _cells(row: dict[str, Any]) -> list[str]:
    met = {True: "yes", False: "NO", None: ""}[row["met"]]
    reference = _fmt(row["reference"])
    if reference != "-" and row["reference_is"] != "floor":
        reference += f" ({row['reference_is']})"
    ratio = _fmt(row["ratio"])
    return [
        row["scenario"],
        row["figure"],
        f"{_fmt(row['value'])} {row['unit']}".strip(),
        reference,
        ratio if ratio == "-" else f"{ratio}x",
        row["target"],
        met,
    ]


HEADER = ["", "figure", "value", "floor / reference", "ratio", "target", "met"]


def table(all_rows: list[dict[str, Any]], markdown: bool = False) -> str:
    lines = [HEADER, *(_cells(r) for r in all_rows)]
    if markdown:
        out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        out += ["| " + " | ".join(cells) + " |" for cells in lines[1:]]
        return "\n".join(out)
    widths = [max(len(cells[i]) for cells in lines) for i in range(len(HEADER))]
    rendered = [
        "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) for cells in lines
    ]
    rendered.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in rendered)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument("results", nargs="?", type=Path, default=RESULTS_DIR / "latest.json")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    saved = json.loads(args.results.read_text())
    print(table(saved["rows"], markdown=args.markdown))


if __name__ == "__main__":
    main()
