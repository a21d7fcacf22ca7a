"""SQLITE_SYNCHRONOUS: the store's SQLite connections run at the level the clinic chose."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from app.settings import Settings
from app.store.embedded import EmbeddedStoreProcess
from app.store.engine_fixes import SynchronousLevel


@pytest.mark.parametrize("level", ["NORMAL", "FULL"])
def test_the_store_runs_at_the_chosen_level_and_keeps_what_it_acknowledged(
    tmp_path: Path, level: SynchronousLevel
) -> None:
    store = EmbeddedStoreProcess("sqlite", tmp_path / "data", synchronous=level)
    client: MongoClient[dict[str, Any]] = MongoClient(store.start())
    try:
        # Read back from the engine's own connection by the store, not echoed from the flag.
        assert store.durability == {"journal_mode": "wal", "synchronous": level}
        client["durability"]["visits"].insert_many([{"n": n} for n in range(5)])
    finally:
        client.close()
        store.stop()
    again = EmbeddedStoreProcess("sqlite", tmp_path / "data")
    client = MongoClient(again.start())
    try:
        assert again.durability["synchronous"] == "NORMAL"
        assert client["durability"]["visits"].count_documents({}) == 5
    finally:
        client.close()
        again.stop()


def test_the_setting_accepts_either_case_and_defaults_to_normal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SQLITE_SYNCHRONOUS", raising=False)
    assert Settings().sqlite_synchronous == "NORMAL"
    monkeypatch.setenv("SQLITE_SYNCHRONOUS", "full")
    assert Settings().sqlite_synchronous == "FULL"
