"""Store round trips per request, counted inside a process that runs the app in-process.

The API processes are separate, so their PyMongo commands cannot be observed from the
runner. This module runs in a child process instead (`python -m bench.roundtrips`, with the
API's environment): it registers a global `pymongo.monitoring.CommandListener` before the
app creates its client, drives the app's lifespan itself, sends each request through
`httpx.ASGITransport` with its own X-Request-ID, and attributes every command to the request
whose id is current (`app.core.request_id.current_request_id`), so the app's housekeeping loop
never counts; it also sums the time each command took (the request's store time). Input: a
JSON list of requests on stdin; output: one JSON object on stdout.
"""

from __future__ import annotations

import asyncio
import collections
import json
import sys
from typing import Any

from pymongo import monitoring

from app.core.request_id import current_request_id


class _Counter(monitoring.CommandListener):
    """Commands, and the store time they took, by the request id current when PyMongo sent
    them. Store time is each command's duration as PyMongo measured it (send to reply)."""

    def __init__(self) -> None:
        self.by_request: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )
        self.store_ms: dict[str, dict[str, float]] = collections.defaultdict(dict)
        self.targets: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )
        self.pending: dict[tuple[int, int | None], tuple[str, str]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        request_id = current_request_id.get()
        self.by_request[request_id][event.command_name] += 1
        target = event.command.get(event.command_name)
        what = f"{event.command_name} {target}" if isinstance(target, str) else event.command_name
        self.targets[request_id][what] += 1
        self.pending[(event.request_id, event.operation_id)] = (request_id, what)

    def _finished(
        self, event: monitoring.CommandSucceededEvent | monitoring.CommandFailedEvent
    ) -> None:
        found = self.pending.pop((event.request_id, event.operation_id), None)
        if found is not None:
            request_id, what = found
            spent = self.store_ms[request_id]
            spent[what] = spent.get(what, 0.0) + event.duration_micros / 1000

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._finished(event)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._finished(event)


async def _count(requests: list[dict[str, Any]], counter: _Counter) -> dict[str, Any]:
    import httpx

    from app.web.app import create_app

    app = create_app()
    results: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for request in requests:
                totals: list[int] = []
                store_ms: list[float] = []
                commands: collections.Counter[str] = collections.Counter()
                spent: dict[str, float] = {}
                targets: collections.Counter[str] = collections.Counter()
                errors: list[Any] = []
                for attempt in range(int(request.get("repeat", 1))):
                    request_id = f"rt{request['name']}{attempt}".replace("_", "")
                    headers = {"X-Request-ID": request_id}
                    if request.get("token"):
                        headers["Authorization"] = f"Bearer {request['token']}"
                    reply = await client.post(
                        "/graphql",
                        json={"query": request["query"], "variables": request.get("variables")},
                        headers=headers,
                    )
                    if reply.json().get("errors"):
                        errors.append(reply.json()["errors"][0].get("extensions", {}).get("code"))
                    seen = counter.by_request.pop(request_id, collections.Counter())
                    totals.append(sum(seen.values()))
                    commands.update(seen)
                    targets.update(counter.targets.pop(request_id, collections.Counter()))
                    timed = counter.store_ms.pop(request_id, {})
                    store_ms.append(sum(timed.values()))
                    for what, ms in timed.items():
                        spent[what] = spent.get(what, 0.0) + ms
                results[request["name"]] = {
                    "round_trips": sum(totals) / len(totals),
                    "min": min(totals),
                    "max": max(totals),
                    "commands_per_request": {
                        name: n / len(totals) for name, n in sorted(commands.items())
                    },
                    "commands_by_collection": {
                        what: n / len(totals) for what, n in sorted(targets.items())
                    },
                    "store_ms": sum(store_ms) / len(store_ms),
                    "store_ms_per_command": {
                        name: ms / len(store_ms) for name, ms in sorted(spent.items())
                    },
                    "errors": errors,
                }
    return results


async def count_round_trips(
    store_uri: str, db_name: str, requests: list[dict[str, Any]]
) -> dict[str, Any]:
    """Run the child process on `db_name` and return its counts, by request name."""
    import uuid

    from bench.servers import ROOT, api_env

    env = api_env(store_uri, db_name, f"aayulink-bench:{uuid.uuid4().hex[:12]}")
    env["LOCK_SWEEP_INTERVAL_SECONDS"] = "3600"  # keep housekeeping quiet (it never counts anyway)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.roundtrips",
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await child.communicate(json.dumps(requests).encode())
    if child.returncode != 0:
        raise RuntimeError(f"round-trip counter failed:\n{err.decode(errors='replace')}")
    counts: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return counts


def main() -> None:
    counter = _Counter()
    monitoring.register(counter)  # before the app creates its client in the lifespan
    requests = json.loads(sys.stdin.read())
    print(json.dumps(asyncio.run(_count(requests, counter))))


if __name__ == "__main__":
    main()
