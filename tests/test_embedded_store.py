"""EmbeddedStoreProcess.start honours its timeout: a store that never says it listens is
stopped and reported, so neither `serve` nor its supervisor's restarts wait forever."""

from __future__ import annotations

from pathlib import Path

import pytest
from pymongo import MongoClient

from app.store.embedded import EmbeddedStoreProcess


def _never_ready(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's interpreter blocks before it runs any of the store's code: a real process
    that hangs at start-up, the way one stuck on a slow disk or a stalled import would."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text("import time\ntime.sleep(3600)\n")
    monkeypatch.setenv("PYTHONPATH", str(hook))


def test_a_store_that_never_gets_ready_is_stopped_at_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _never_ready(tmp_path, monkeypatch)
    store = EmbeddedStoreProcess("sqlite", tmp_path / "data")
    with pytest.raises(TimeoutError, match=r"did not start within 1.5 s"):
        store.start(timeout=1.5)
    assert store.process is not None
    assert store.process.poll() is not None, "the hung store was left running"
    assert store.uri is None


def test_the_supervisor_counts_a_timeout_as_a_failed_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its restarts catch RuntimeError and OSError: a timeout must be one of them."""
    _never_ready(tmp_path, monkeypatch)
    store = EmbeddedStoreProcess("sqlite", tmp_path / "data")
    with pytest.raises(OSError):
        store.start(timeout=0.5)


def test_a_store_that_gets_ready_in_time_serves(tmp_path: Path) -> None:
    store = EmbeddedStoreProcess("sqlite", tmp_path / "data")
    uri = store.start(timeout=60)
    try:
        with MongoClient(uri, serverSelectionTimeoutMS=10_000) as client:
            assert client.admin.command("ping")["ok"] == 1
    finally:
        store.stop()
    assert store.process is not None and store.process.poll() is not None
