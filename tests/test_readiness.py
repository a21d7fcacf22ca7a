"""/readyz answers 503 naming the part that does not answer, and never hangs; /healthz stays 200."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from app.store.embedded import EmbeddedStoreProcess
from tests.servers import ApiServer, free_port

ANSWER_TIMEOUT_S = 15  # the client's bound: a probe that hung would fail here, not pass


def _get(server: ApiServer, path: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{server.port}{path}", timeout=ANSWER_TIMEOUT_S)


def test_ready_when_store_and_redis_answer(server_a: ApiServer) -> None:
    reply = _get(server_a, "/readyz")
    assert reply.status_code == 200
    assert reply.json() == {"status": "ready", "checks": {"store": "ok", "redis": "ok"}}


def test_a_redis_nobody_listens_on_is_named(store_uri: str, log_dir: Path) -> None:
    server = ApiServer(
        store_uri,
        f"aayulink_ready_{uuid.uuid4().hex[:8]}",
        env={"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
    ).start(log_dir)
    try:
        reply = _get(server, "/readyz")
        assert reply.status_code == 503
        body = reply.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["store"] == "ok"
        assert body["checks"]["redis"] != "ok"
        assert "redis://" not in reply.text
        assert _get(server, "/healthz").status_code == 200, "liveness is not readiness"
    finally:
        server.stop()


def test_a_stopped_store_is_named(tmp_path: Path, log_dir: Path) -> None:
    store = EmbeddedStoreProcess("sqlite", tmp_path)
    server = ApiServer(store.start(), f"aayulink_ready_{uuid.uuid4().hex[:8]}").start(log_dir)
    try:
        assert _get(server, "/readyz").status_code == 200
        store.stop()
        reply = _get(server, "/readyz")
        assert reply.status_code == 503
        assert reply.json()["checks"]["store"] != "ok"
        assert reply.json()["checks"]["redis"] == "ok"
        assert _get(server, "/healthz").status_code == 200
    finally:
        server.stop()
        store.stop()
