"""How a single write's cost grows with the collection on the embedded store (docs/store.md).

Bare PyMongo against the embedded wire server (SQLite by default), a collection with a
unique string key, a unique integer key and a sparse unique lock key; at each size the
median of N single writes of each kind, and the store process's CPU time per write
(a fairer figure on a busy machine). Run from the repository root:

    .venv/bin/python scripts/store_write_scaling.py --sizes 100,3000,20000,50000
    .venv/bin/python scripts/store_write_scaling.py --uri mongodb://...   # a store you started

`--uri` measures a store started elsewhere (e.g. another checkout's, for a before/after).
`--bulk 3000` measures instead, at each size, one insert_many and one update_many of that
many documents of one doctor (per document, ms) and the store process's CPU for them.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient, ReturnDocument

from app.store.embedded import EmbeddedStoreProcess

Op = Callable[[int], Awaitable[object]]


def store_cpu_seconds(pid: int) -> float:
    """CPU the store process has used: unlike wall time, not inflated by a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _median_ms(op: Op, count: int, pid: int | None) -> tuple[float, float | None]:
    """(median wall ms, store CPU ms per operation) of `count` runs of `op`."""
    times = []
    cpu_before = store_cpu_seconds(pid) if pid else 0.0
    for i in range(count):
        began = time.perf_counter()
        await op(i)
        times.append((time.perf_counter() - began) * 1000)
    cpu = (store_cpu_seconds(pid) - cpu_before) * 1000 / count if pid else None
    return statistics.median(times), cpu


async def _grow(coll: Any, have: int, want: int) -> None:
    for first in range(have, want, 1000):
        docs = [
            {"key": f"k{i:07d}", "num": i, "status": "free", "doctor": i % 50, "at": i}
            for i in range(first, min(first + 1000, want))
        ]
        await coll.insert_many(docs)


def _operations(coll: Any, size: int, step: int) -> list[tuple[str, Op]]:
    def spread(i: int) -> int:
        return i * step % size

    async def by_string(i: int) -> object:
        return await coll.update_one({"key": f"k{spread(i):07d}"}, {"$set": {"status": "x"}})

    async def by_number(i: int) -> object:
        return await coll.find_one_and_update(
            {"num": spread(i)}, {"$set": {"status": "y"}}, return_document=ReturnDocument.AFTER
        )

    async def by_compound(i: int) -> object:
        return await coll.update_one(
            {"doctor": spread(i) % 50, "at": spread(i)}, {"$set": {"status": "z"}}
        )

    async def lock_and_release(i: int) -> object:
        key = f"k{spread(i):07d}"
        await coll.update_one({"key": key}, {"$set": {"lock": f"L{key}"}})
        return await coll.update_one({"key": key}, {"$unset": {"lock": ""}})

    async def read_by_number(i: int) -> object:
        return await coll.find_one({"num": spread(i)}, {"_id": 1})

    return [
        ("update_one_string_key", by_string),
        ("find_one_and_update_int_key", by_number),
        ("update_one_compound_key", by_compound),
        ("lock_then_unlock", lock_and_release),
        ("find_one_int_key", read_by_number),
    ]


async def measure_bulk(
    uri: str, sizes: list[int], bulk: int, pid: int | None = None
) -> list[dict[str, object]]:
    """Per-document cost of one insert_many and one update_many of `bulk` documents."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    coll = client["scaling"]["bulk"]
    rows: list[dict[str, object]] = []
    for size in sizes:
        await coll.drop()
        await coll.create_index("key", unique=True)
        await coll.create_index("doctor")
        await coll.create_index("lock", unique=True, sparse=True)
        await _grow(coll, 0, max(size - bulk, 0))
        row: dict[str, object] = {"docs": size, "bulk": bulk}
        docs = [
            {"key": f"b{i:07d}", "num": -i, "status": "free", "doctor": -1, "at": i}
            for i in range(bulk)
        ]
        pending, done = {"doctor": -1, "status": "free"}, {"$set": {"status": "x"}}
        for name, write in (
            ("insert_many", functools.partial(coll.insert_many, docs)),
            (
                "update_many",
                functools.partial(coll.update_many, pending, done),
            ),
        ):
            cpu = store_cpu_seconds(pid) if pid else 0.0
            began = time.perf_counter()
            await write()
            row[f"{name}_ms_per_doc"] = round((time.perf_counter() - began) * 1000 / bulk, 2)
            if pid:
                row[f"{name}_cpu_ms_per_doc"] = round(
                    (store_cpu_seconds(pid) - cpu) * 1000 / bulk, 2
                )
        assert await coll.count_documents({"status": "x"}) == bulk
        rows.append(row)
        print(row, flush=True)
    await coll.drop()
    await client.close()
    return rows


async def measure(
    uri: str, sizes: list[int], count: int, pid: int | None = None
) -> list[dict[str, object]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
    coll = client["scaling"]["writes"]
    await coll.drop()
    await coll.create_index("key", unique=True)
    await coll.create_index("num", unique=True)
    await coll.create_index([("doctor", 1), ("at", 1)], unique=True)
    await coll.create_index("lock", unique=True, sparse=True)
    rows: list[dict[str, object]] = []
    have = 0
    for size in sizes:
        began = time.perf_counter()
        await _grow(coll, have, size)
        load_s = time.perf_counter() - began
        have = size
        step = max(size // count, 1)

        row: dict[str, object] = {"docs": size, "load_s": round(load_s, 1)}
        for name, op in _operations(coll, size, step):
            wall, cpu = await _median_ms(op, count, pid)
            row[name] = round(wall, 2)
            if cpu is not None:
                row[f"{name}_cpu"] = round(cpu, 2)
        rows.append(row)
        print(row, flush=True)
    await coll.drop()
    await client.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,3000,20000,50000")
    parser.add_argument("--count", type=int, default=30, help="writes per kind and size")
    parser.add_argument("--engine", choices=("sqlite", "memory"), default="sqlite")
    parser.add_argument("--uri", help="measure this running store instead of starting one")
    parser.add_argument("--bulk", type=int, help="measure insert_many/update_many of this many")
    parser.add_argument("--synchronous", choices=("NORMAL", "FULL"), default="NORMAL")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.uri:
        if args.bulk:
            asyncio.run(measure_bulk(args.uri, sizes, args.bulk))
        else:
            asyncio.run(measure(args.uri, sizes, args.count))
        return
    with tempfile.TemporaryDirectory() as data_dir:
        store = EmbeddedStoreProcess(args.engine, Path(data_dir), synchronous=args.synchronous)
        try:
            uri = store.start()
            assert store.process is not None
            if args.bulk:
                asyncio.run(measure_bulk(uri, sizes, args.bulk, store.process.pid))
            else:
                asyncio.run(measure(uri, sizes, args.count, store.process.pid))
        finally:
            store.stop()


if __name__ == "__main__":
    main()
