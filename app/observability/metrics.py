"""Prometheus metrics, behind small hooks so the rest of the code never imports prometheus.

`python -m app serve` points PROMETHEUS_MULTIPROC_DIR at a fresh directory before any
worker starts, so every worker writes there and /metrics reads one view of them all.
Without it (a single uvicorn process, the tests' servers) the process's own registry serves.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from app.core.errors import ErrorCode

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

# Conflicts a patient meets while booking: slots taken or held, and the rules around them.
BOOKING_CONFLICT_CODES = frozenset(
    {
        ErrorCode.SLOT_LOCKED,
        ErrorCode.SLOT_ALREADY_BOOKED,
        ErrorCode.SLOT_UNAVAILABLE,
        ErrorCode.LOCK_LIMIT_REACHED,
        ErrorCode.CONFLICT,
        ErrorCode.OUTSIDE_BOOKING_WINDOW,
        ErrorCode.TOO_LATE_TO_CANCEL,
        ErrorCode.INVALID_TRANSITION,
    }
)

OPERATIONS = Counter(
    "aayulink_graphql_operations",
    "GraphQL operations by operation (root fields) and outcome (OK or the first error code)",
    ["operation", "outcome"],
)
OPERATION_SECONDS = Histogram(
    "aayulink_graphql_operation_seconds",
    "Time to answer a query or mutation",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
STORE_COMMAND_SECONDS = Histogram(
    "aayulink_store_command_seconds",
    "Round trip of one store command, as PyMongo saw it",
    ["command", "outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
STORE_COMMAND_PLACES = Gauge(
    "aayulink_store_command_places",
    "Store commands this process keeps at the store at once (STORE_COMMANDS_IN_FLIGHT); "
    "0: not limited",
    multiprocess_mode="liveall",
)
STORE_COMMANDS_WAITING = Gauge(
    "aayulink_store_commands_waiting",
    "Store commands waiting for a place, the oldest request's first",
    multiprocess_mode="livesum",
)
WORKERS = Gauge(
    "aayulink_worker_up",
    "1 for each live API worker (labelled by pid under serve)",
    multiprocess_mode="liveall",
)
REQUESTS_IN_FLIGHT = Gauge(
    "aayulink_graphql_requests_in_flight",
    "GraphQL HTTP requests being answered",
    multiprocess_mode="livesum",
)
WEBSOCKET_CONNECTIONS = Gauge(
    "aayulink_websocket_connections",
    "Open WebSocket connections",
    multiprocess_mode="livesum",
)
ACTIVE_SUBSCRIPTIONS = Gauge(
    "aayulink_subscriptions_active",
    "Subscriptions running over WebSockets",
    multiprocess_mode="livesum",
)
EVENTS_PUBLISHED = Counter("aayulink_events_published", "Events this process announced", ["topic"])
EVENTS_DELIVERED = Counter(
    "aayulink_events_delivered", "Events queued for a subscriber of this process", ["topic"]
)
EVENTS_DROPPED = Counter(
    "aayulink_events_dropped",
    "Events a subscriber could not take (its queue was full, so it was ended)",
    ["topic"],
)
READ_MODEL_READS = Counter(
    "aayulink_read_model_reads",
    "Reads of bookable slots, doctors or specialties, by where they were answered",
    ["source"],
)
LOCK_EXPIRIES = Counter("aayulink_slot_lock_expiries", "Slot locks released by expiry")
HOUSEKEEPING_HELD = Gauge(
    "aayulink_housekeeping_lease_held",
    "1 in the process holding the housekeeping lease (labelled by its holder name, which "
    "carries host and pid), 0 in the others",
    ["holder"],
    multiprocess_mode="liveall",
)
HOUSEKEEPING_HANDOVERS = Counter(
    "aayulink_housekeeping_handovers",
    "Times a process took the housekeeping lease over from another whose lease had run out "
    "(a clean stop lets go without one)",
)
BOOKING_CONFLICTS = Counter(
    "aayulink_booking_conflicts", "Booking refusals by error code", ["code"]
)


def operation_finished(
    operation: str, outcome: str, seconds: float | None, codes: list[str]
) -> None:
    """One GraphQL operation ended; `seconds` is None for subscriptions (their lifetime)."""
    OPERATIONS.labels(operation, outcome).inc()
    if seconds is not None:
        OPERATION_SECONDS.labels(operation).observe(seconds)
    for code in codes:
        if code in BOOKING_CONFLICT_CODES:
            BOOKING_CONFLICTS.labels(code).inc()


def store_command_finished(command: str, seconds: float, succeeded: bool) -> None:
    STORE_COMMAND_SECONDS.labels(command, "ok" if succeeded else "failed").observe(seconds)


def store_command_places(places: int) -> None:
    STORE_COMMAND_PLACES.set(places)


def store_command_waiting(change: int) -> None:
    STORE_COMMANDS_WAITING.inc(change)


def request_started() -> None:
    REQUESTS_IN_FLIGHT.inc()


def request_ended() -> None:
    REQUESTS_IN_FLIGHT.dec()


def websocket_opened() -> None:
    WEBSOCKET_CONNECTIONS.inc()


def websocket_closed() -> None:
    WEBSOCKET_CONNECTIONS.dec()


def subscription_started() -> None:
    ACTIVE_SUBSCRIPTIONS.inc()


def subscription_ended() -> None:
    ACTIVE_SUBSCRIPTIONS.dec()


def events_published(topic: str, count: int = 1) -> None:
    EVENTS_PUBLISHED.labels(topic).inc(count)


def events_delivered(topic: str, count: int) -> None:
    if count:
        EVENTS_DELIVERED.labels(topic).inc(count)


def event_dropped(topic: str) -> None:
    EVENTS_DROPPED.labels(topic).inc()


def read_model_read(from_memory: bool, reused: bool = False) -> None:
    """`reused`: a whole answer given again (app/web/answer_cache.py)."""
    source = "answer" if reused else "memory" if from_memory else "store"
    READ_MODEL_READS.labels(source).inc()


def locks_expired(count: int) -> None:
    if count:
        LOCK_EXPIRIES.inc(count)


def housekeeping_held(holder: str, held: bool) -> None:
    HOUSEKEEPING_HELD.labels(holder).set(1 if held else 0)


def housekeeping_handed_over() -> None:
    HOUSEKEEPING_HANDOVERS.inc()


NOTIFICATIONS = Counter(
    "aayulink_notifications",
    "Notification deliveries settled, by channel and status (PENDING: failed, to be retried)",
    ["channel", "status"],
)


def notification_settled(channel: str, status: str) -> None:
    NOTIFICATIONS.labels(channel, status).inc()


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w*_(\d+)\.db$")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_dead_workers(directory: Path) -> None:
    """Forget the live gauges of workers that died without saying so (killed, crashed).

    prometheus_client leaves this to the supervisor; uvicorn's has no hook for it, so
    /metrics checks the pids behind the live-gauge files before it reads them.
    """
    for path in directory.glob("gauge_live*.db"):
        found = _LIVE_GAUGE_FILE.match(path.name)
        if found and not _pid_alive(int(found.group(1))):
            multiprocess.mark_process_dead(int(found.group(1)), str(directory))


def this_process_serves() -> None:
    WORKERS.set(1)


def forget_this_process() -> None:
    """A worker shutting down takes its live gauges with it; so does serve's supervisor,
    which answers no requests and would otherwise read as a worker at zero."""
    directory = multiprocess_dir()
    if directory is not None:
        multiprocess.mark_process_dead(os.getpid(), str(directory))


def render() -> bytes:
    """The text exposition: every worker's numbers under serve, this process's otherwise."""
    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(REGISTRY)
    mark_dead_workers(directory)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, str(directory))
    return generate_latest(registry)
