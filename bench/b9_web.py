"""B9 web budgets: the patient portal's JavaScript, gzipped, and the time from navigation to
its day grid drawn, in Debian's chromium against an API process holding the demo data.

- JS: every script the page loads for `#/patient` (signed in, a doctor and date chosen),
  gzipped at level 6 as the server sends it. Budget < 200 KB.
- Time: from navigation start (performance.timeOrigin) to the first frame painted after
  `[data-testid=day-grid][data-ready=true]` appears, on a cold cache (a new browser context)
  and warm (a reload; hashed assets are cached immutably). Budget < 1 s, cold. The floor is
  the same day's slots fetched by a bare HTTP client from the same server: what the API
  alone costs.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page, Response, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from bench.common import Sizes
from bench.servers import ROOT, Store, UvicornProcess, api_env

CHROMIUM = Path("/usr/bin/chromium")
JS_BUDGET_KB = 200.0
GRID_BUDGET_S = 1.0
GRID_SELECTOR = "[data-testid=day-grid][data-ready=true]"
# The client keeps its session here (web/src/lib/session.ts).
SESSION_STORAGE_KEY = "aayulink.session"
DEMO_PATIENT = ("patient@example.com", "patient-demo-pass")

LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    accessToken refreshToken expiresIn user { id email name role doctor { id name timezone } }
  }
}"""
DOCTORS = "{ doctors { id name timezone nextAvailableSlot { date } } }"
DAY_SLOTS = """query($id: ID!, $date: Date!) {
  doctor(id: $id) { id timezone daySlots(date: $date) { id startTime endTime state } }
}"""

# Records when the grid is ready and the frame after it painted, relative to navigation start.
READY_PROBE = """
(() => {
  const selector = SELECTOR;
  const mark = () => {
    if (window.__gridDrawnAt !== undefined || !document.querySelector(selector)) return false;
    window.__gridDrawnAt = null;
    requestAnimationFrame(() => requestAnimationFrame(() => {
      window.__gridDrawnAt = performance.now();
    }));
    return true;
  };
  const observer = new MutationObserver(() => { if (mark()) observer.disconnect(); });
  observer.observe(document, { subtree: true, childList: true, attributes: true });
})();
""".replace("SELECTOR", json.dumps(GRID_SELECTOR))


async def _seed(store_uri: str, db_name: str, log_dir: Path) -> None:
    env = {**api_env(store_uri, db_name, "unused"), "SEED_DEMO_DATA": "true"}
    log_path = log_dir / f"b9-seed-{db_name}.log"
    with log_path.open("wb") as log:
        process = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "app", "seed"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=300,
        )
    if process.returncode != 0:
        raise RuntimeError(f"demo seed failed:\n{log_path.read_text(errors='replace')}")


async def _graphql(
    client: httpx.AsyncClient, url: str, query: str, variables: dict[str, Any], token: str = ""
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    reply = await client.post(url, json={"query": query, "variables": variables}, headers=headers)
    body: dict[str, Any] = reply.json()
    if body.get("errors"):
        raise RuntimeError(f"{query.split('(')[0]}: {body['errors']}")
    return dict(body["data"])


def _storage_state(origin: str, auth: dict[str, Any]) -> dict[str, Any]:
    session = {
        "accessToken": auth["accessToken"],
        "refreshToken": auth["refreshToken"],
        "expiresAt": int((datetime.now(UTC).timestamp() + auth["expiresIn"]) * 1000),
        "user": auth["user"],
    }
    return {
        "cookies": [],
        "origins": [
            {
                "origin": origin,
                "localStorage": [{"name": SESSION_STORAGE_KEY, "value": json.dumps(session)}],
            }
        ],
    }


async def _navigate(page: Page, link: str | None) -> float:
    """Seconds from navigation start to the grid drawn: `link` to go there, None to reload."""
    if link is None:
        await page.reload(wait_until="commit")
    else:
        await page.goto(link, wait_until="commit")
    try:
        await page.wait_for_function(
            "() => window.__gridDrawnAt !== undefined && window.__gridDrawnAt !== null",
            timeout=30_000,
        )
    except PlaywrightTimeoutError as exc:
        raise RuntimeError(
            f"the patient portal drew no {GRID_SELECTOR} within 30 s of opening {page.url}"
        ) from exc
    return float(await page.evaluate("window.__gridDrawnAt")) / 1000


async def _measure(
    browser: Browser, origin: str, link: str, auth: dict[str, Any], navigations: int
) -> dict[str, Any]:
    cold: list[float] = []
    warm: list[float] = []
    scripts: dict[str, int] = {}
    for attempt in range(navigations):
        context = await browser.new_context(
            base_url=origin,
            viewport={"width": 1280, "height": 800},
            storage_state=_storage_state(origin, auth),  # type: ignore[arg-type]
        )
        await context.add_init_script(READY_PROBE)
        page = await context.new_page()
        loaded: list[Response] = []

        def keep(response: Response, into: list[Response] = loaded) -> None:
            into.append(response)

        if attempt == 0:
            page.on("response", keep)
        cold.append(await _navigate(page, link))
        for response in loaded:
            if response.request.resource_type == "script":
                body = await response.body()
                scripts[response.url] = len(gzip.compress(body, compresslevel=6))
        if attempt == 0:
            page.remove_listener("response", keep)
        warm.append(await _navigate(page, None))
        await context.close()
    return {"cold_s": cold, "warm_s": warm, "scripts_gzip_bytes": scripts}


async def _in_chromium(
    origin: str, link: str, auth: dict[str, Any], navigations: int
) -> dict[str, Any]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            return await _measure(browser, origin, link, auth, navigations)
        finally:
            await browser.close()


async def run(store: Store, log_dir: Path, sizes: Sizes) -> dict[str, Any]:
    if not await asyncio.to_thread(CHROMIUM.exists):
        raise RuntimeError(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh")
    db_name = f"aayulink_bench_web_{uuid.uuid4().hex[:8]}"
    await _seed(store.uri, db_name, log_dir)
    channel = f"aayulink-bench:{uuid.uuid4().hex[:12]}"
    server = UvicornProcess(
        "app.web.app:create_app", api_env(store.uri, db_name, channel), log_dir, factory=True
    )
    server.spawn()
    try:
        await server.wait_ready()
        origin = f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(timeout=30) as client:
            auth = (
                await _graphql(
                    client,
                    server.url,
                    LOGIN,
                    dict(zip(("email", "password"), DEMO_PATIENT, strict=True)),
                )
            )["login"]
            doctors = (await _graphql(client, server.url, DOCTORS, {}, auth["accessToken"]))[
                "doctors"
            ]
            doctor = next(d for d in doctors if d["nextAvailableSlot"])
            day = doctor["nextAvailableSlot"]["date"]
            floor: list[float] = []
            slot_count = 0
            for _ in range(max(5, sizes.b9_navigations)):
                started = time.perf_counter()
                data = await _graphql(
                    client,
                    server.url,
                    DAY_SLOTS,
                    {"id": doctor["id"], "date": day},
                    auth["accessToken"],
                )
                floor.append(time.perf_counter() - started)
                slot_count = len(data["doctor"]["daySlots"])
        link = f"{origin}/#/patient?doctor={doctor['id']}&date={day}"
        measured = await _in_chromium(origin, link, auth, sizes.b9_navigations)
    finally:
        await asyncio.to_thread(server.stop)
    js_kb = sum(measured["scripts_gzip_bytes"].values()) / 1024
    cold = statistics.median(measured["cold_s"])
    return {
        "doctor": doctor["name"],
        "date": day,
        "slots_on_the_day": slot_count,
        "navigations": sizes.b9_navigations,
        "js_gzip_kb": js_kb,
        "js_files": {Path(url).name: size for url, size in measured["scripts_gzip_bytes"].items()},
        "js_budget_kb": JS_BUDGET_KB,
        "grid_cold_s": cold,
        "grid_cold_max_s": max(measured["cold_s"]),
        "grid_warm_s": statistics.median(measured["warm_s"]),
        "grid_budget_s": GRID_BUDGET_S,
        "floor_day_slots_s": statistics.median(floor),
        "chromium": os.fspath(CHROMIUM),
    }
