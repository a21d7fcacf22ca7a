"""The store's CPU per read of one collection at 1,000 and at 20,000 documents: how the engine
fixes' tests show that a read does not grow with the data (CPU, not wall time, so a busy
machine does not inflate one side)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from app.store.embedded import EmbeddedStoreProcess

Collection = AsyncCollection[dict[str, Any]]
SIZES = (1000, 20_000)
# The large size may cost up to this much per read: a read through an index wobbles, a scan
# costs about 20 times as much at 20,000 documents.
MOST_GROWTH = 2.5


def store_cpu_seconds(pid: int) -> float:
    """CPU the store process has used: unlike wall time, not inflated by a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def cpu_per_read_as_it_grows(
    data_dir: Path,
    prepare: Callable[[Collection], Awaitable[None]],
    add: Callable[[Collection, int], Awaitable[int]],
    read: Callable[[Collection, int], Awaitable[None]],
    reads: int,
) -> tuple[float, float]:
    """A fresh SQLite store: `prepare` the collection, `add(coll, size)` documents (it returns
    how many) up to each size, and time `reads` calls of `read(coll, i)` at each."""
    store = EmbeddedStoreProcess("sqlite", data_dir)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store.start())
    assert store.process is not None
    pid = store.process.pid
    coll: Collection = client["growth"]["documents"]
    per_read: list[float] = []
    try:
        await prepare(coll)
        size = 0
        for target in SIZES:
            while size < target:
                size += await add(coll, size)
            began = store_cpu_seconds(pid)
            for i in range(reads):
                await read(coll, i)
            per_read.append((store_cpu_seconds(pid) - began) / reads)
    finally:
        await client.close()
        store.stop()
    small, large = per_read
    return small, large


def assert_flat(small: float, large: float) -> None:
    assert large < MOST_GROWTH * small, (
        f"store CPU per read: {small * 1000:.2f} ms at 1k, {large * 1000:.2f} ms at 20k"
    )
