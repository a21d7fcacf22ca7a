"""/metrics through real servers: what an operator's Prometheus would read.

One API process on its own database for the counters (so no other test's traffic or
lock sweeps mix in), production's default (off) and the bearer token, and
`python -m app serve --workers 2` for one view across workers that survives a worker's death.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.graphql_client import Api, GraphQL
from tests.metrics_scrape import Sample, labels_of, scrape, total
from tests.serve_process import Serve
from tests.servers import ApiServer
from tests.subscriptions_client import connect, until_ready
from tests.test_subscriptions import SLOT_UPDATES, SlotProbe

TOKEN = "metrics-scraper-token-for-tests"
WAIT_S = 60  # a liveness bound for the test, not a performance target


def eventually(
    base: str, check: Callable[[list[Sample]], bool], token: str | None = None
) -> list[Sample]:
    """Scrapes until `check` holds (the housekeeping loop and workers act on their own time)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        samples = scrape(base, token)
        if check(samples):
            return samples
        assert time.monotonic() < deadline, [s for s in samples if s.name.startswith("aayulink")]
        time.sleep(0.2)


@pytest.fixture(scope="module")
def metered(store_uri: str, log_dir: Path) -> Iterator[ApiServer]:
    server = ApiServer(
        store_uri,
        f"aayulink_metrics_{uuid.uuid4().hex[:8]}",
        env={"SLOT_LOCK_TTL_SECONDS": "3", "LOCK_SWEEP_INTERVAL_SECONDS": "0.2"},
    ).start(log_dir)
    yield server
    server.stop()


async def test_operations_store_websockets_events_conflicts_and_expiries(
    metered: ApiServer, http: httpx.AsyncClient
) -> None:
    base = f"http://127.0.0.1:{metered.port}"
    gql = GraphQL(http, metered.url)
    api = Api(gql, await Api.login_admin(gql))
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    holder, other = await api.patient(), await api.patient()
    probe = await SlotProbe.create(api, clinic)
    before = scrape(base)

    async with connect(metered.ws_url) as connection:
        events = connection.subscribe(SLOT_UPDATES, {"doctorId": clinic.doctor_id}, skip=probe.skip)
        await until_ready([events], probe)
        live = scrape(base)
        assert total(live, "aayulink_websocket_connections") == 1
        assert total(live, "aayulink_subscriptions_active") == 1

        _ = (await api.lock(slot["id"], holder)).data
        refused = await api.lock(slot["id"], other)
        assert refused.code == "SLOT_LOCKED"
        locked = await events.next()
        assert locked["slotUpdates"]["kind"] == "LOCKED"
        during = scrape(base)

    def grew(name: str, after: list[Sample] = during, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert grew("aayulink_graphql_operations_total", operation="mutation:lockSlot", outcome="OK")
    assert (
        grew(
            "aayulink_graphql_operations_total",
            operation="mutation:lockSlot",
            outcome="SLOT_LOCKED",
        )
        == 1
    )
    assert grew("aayulink_graphql_operation_seconds_count", operation="mutation:lockSlot") == 2
    assert grew("aayulink_booking_conflicts_total", code="SLOT_LOCKED") == 1
    assert grew("aayulink_store_command_seconds_count", command="findAndModify") >= 1
    assert grew("aayulink_events_published_total", topic="slot") >= 1
    assert grew("aayulink_events_delivered_total", topic="slot") >= 1

    # The connection is closed: the gauges come back down; the lock expires on its own.
    after = eventually(
        base,
        lambda s: (
            total(s, "aayulink_websocket_connections") == 0
            and total(s, "aayulink_subscriptions_active") == 0
            and total(s, "aayulink_slot_lock_expiries_total") >= 1
        ),
    )
    assert grew("aayulink_slot_lock_expiries_total", after) == 1


async def test_operation_labels_are_the_schema_fields_not_the_client_names(
    metered: ApiServer, http: httpx.AsyncClient
) -> None:
    """A client choosing operation names cannot make new time series."""
    base = f"http://127.0.0.1:{metered.port}"
    for name in ("First", "Second"):
        reply = await http.post(
            metered.url, json={"query": f"query {name} {{ specialties {{ id }} }}"}
        )
        assert reply.status_code == 200
    nonsense = await http.post(metered.url, json={"query": "{ noSuchField }"})
    assert nonsense.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    samples = scrape(base)
    operations = labels_of(samples, "aayulink_graphql_operations_total", "operation")
    assert "query:specialties" in operations
    assert not {"First", "Second", "query:noSuchField"} & operations
    assert (
        total(
            samples,
            "aayulink_graphql_operations_total",
            operation="invalid",
            outcome="BAD_USER_INPUT",
        )
        >= 1
    )


def test_metrics_are_off_in_production_unless_asked_for(store_uri: str, log_dir: Path) -> None:
    server = ApiServer(store_uri, "aayulink_metrics_off", env={"APP_ENV": "production"})
    server.start(log_dir)
    try:
        reply = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=10)
        assert reply.status_code == 404
    finally:
        server.stop()


def test_a_metrics_token_is_required_when_set(store_uri: str, log_dir: Path) -> None:
    server = ApiServer(
        store_uri, "aayulink_metrics_token", env={"APP_ENV": "production", "METRICS_TOKEN": TOKEN}
    )
    server.start(log_dir)
    try:
        url = f"http://127.0.0.1:{server.port}/metrics"
        assert httpx.get(url, timeout=10).status_code == 401
        wrong = httpx.get(url, headers={"Authorization": "Bearer not-it"}, timeout=10)
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"
        assert total(scrape(f"http://127.0.0.1:{server.port}", TOKEN), "aayulink_worker_up") == 1
    finally:
        server.stop()


def _metrics_dirs(temp: Path) -> set[Path]:
    return set(temp.glob("aayulink-metrics-*"))


def test_serve_with_two_workers_reports_one_view(tmp_path: Path) -> None:
    # A temporary directory of its own (TMPDIR), so other runs' serve processes cannot
    # add or remove metrics directories under the test's eyes.
    temp = tmp_path / "tmp"
    temp.mkdir()
    server = Serve(
        tmp_path / "data",
        tmp_path / "serve.log",
        env={"METRICS_TOKEN": TOKEN, "TMPDIR": str(temp)},
        workers=2,
    ).start()
    try:
        assert len(_metrics_dirs(temp)) == 1, "serve made its own metrics directory"
        workers = labels_of(
            eventually(
                server.base,
                lambda s: len(labels_of(s, "aayulink_worker_up", "pid")) == 2,
                TOKEN,
            ),
            "aayulink_worker_up",
            "pid",
        )
        queries = 20
        for _ in range(queries):
            # A fresh connection each, so the kernel hands them to either worker.
            with httpx.Client(timeout=30) as client:
                reply = client.post(server.url, json={"query": "{ specialties { id } }"})
                assert reply.status_code == 200
        for _ in range(5):  # whichever worker answers the scrape, it tells the same story
            samples = scrape(server.base, TOKEN)
            assert labels_of(samples, "aayulink_worker_up", "pid") == workers
            assert (
                total(samples, "aayulink_graphql_operations_total", operation="query:specialties")
                == queries
            )

        killed = sorted(workers)[0]
        os.kill(int(killed), signal.SIGKILL)
        samples = eventually(
            server.base,
            lambda s: (
                killed not in labels_of(s, "aayulink_worker_up", "pid")
                and len(labels_of(s, "aayulink_worker_up", "pid")) == 2
            ),
            TOKEN,
        )
        assert (
            total(samples, "aayulink_graphql_operations_total", operation="query:specialties")
            == queries
        ), "a dead worker's counts stay counted"
        server.terminate()
        assert server.process is not None and server.process.wait(timeout=WAIT_S) == 0
    finally:
        server.stop()
    assert _metrics_dirs(temp) == set(), "serve removes its metrics directory"
