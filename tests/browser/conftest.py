"""Browser tests: Playwright (async) driving Debian's chromium against a real API process that
serves the built web client, on the session's embedded store and the real Redis.

Fixtures:
- `web_server`, `base_url`: the API process (GraphiQL on) and its origin.
- `web_gql`, `web_admin`: GraphQL over HTTP to it, and the admin signed in.
- `browser`: one chromium for the session (/usr/bin/chromium; missing it fails, never skips).
- `new_context(viewport="desktop"|"mobile", user=None, timezone_id="UTC")`: a fresh context
  (1280x800 or 375x812) in that browser time zone, signed in as `user` when given; closed after
  the test. Console errors and uncaught page errors
  fail the test (mark it `allow_console_errors` when a test provokes them on purpose).
- `shot(page, label="")`: saves test-results/browser/<test-name>[-label].png. A failing test
  also saves every open page as <test-name>-failure-<n>.png.
Data helpers (clinics, slots, patients, sign-in) are in tests/browser/support.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    async_playwright,
    expect,
)

from tests.browser.support import WebUser, login_admin, save_screenshot, storage_state
from tests.graphql_client import GraphQL
from tests.servers import ApiServer

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 800},
    "mobile": {"width": 375, "height": 812},
}
# Generous for a loaded 2-core machine, short enough that a broken page fails quickly.
DEFAULT_TIMEOUT_MS = 10_000


def pytest_configure(config: pytest.Config) -> None:
    # `expect` polls on its own clock (5 s by default), apart from the context's.
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    config.addinivalue_line(
        "markers", "allow_console_errors: the test provokes browser console errors on purpose"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keeps each phase's report on the item, so teardown knows whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def web_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    env = {
        "GRAPHIQL": "true",
        # One admin account for the whole session: each board page starts five subscriptions,
        # so a few board tests in a row passed the default 60/minute and a later page sat
        # "Reconnecting..." (RATE_LIMITED, retryAfter ~27 s). The limit's own test is in
        # tests/test_subscriptions.py.
        "RATE_LIMIT_WS_OPERATIONS": "1000/minute",
    }
    server = ApiServer(store_uri, db_name, env=env).start(log_dir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def base_url(web_server: ApiServer) -> str:
    return f"http://127.0.0.1:{web_server.port}"


@pytest.fixture(scope="session")
def web_gql(http: httpx.AsyncClient, web_server: ApiServer) -> GraphQL:
    return GraphQL(http, web_server.url)


@pytest_asyncio.fixture(scope="session")
async def web_admin(web_gql: GraphQL) -> WebUser:
    return await login_admin(web_gql)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (make test does)")
    return CHROMIUM


@pytest_asyncio.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium),
            # Containers: no setuid sandbox as root, and a small /dev/shm.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        yield launched
        await launched.close()


class NewContext(Protocol):
    def __call__(
        self, viewport: str = "desktop", user: WebUser | None = None, timezone_id: str = "UTC"
    ) -> Awaitable[BrowserContext]: ...


@pytest_asyncio.fixture
async def new_context(
    browser: Browser, base_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[NewContext]:
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def watch(page: Page) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                problems.append(f"console error on {page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(f"page error on {page.url}: {error}"))

    async def make(
        viewport: str = "desktop", user: WebUser | None = None, timezone_id: str = "UTC"
    ) -> BrowserContext:
        context = await browser.new_context(
            base_url=base_url,
            viewport=VIEWPORTS[viewport],  # type: ignore[arg-type]
            is_mobile=viewport == "mobile",
            has_touch=viewport == "mobile",
            storage_state=storage_state(base_url, user) if user else None,  # type: ignore[arg-type]
            timezone_id=timezone_id,
            locale="en-GB",
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.on("page", watch)
        contexts.append(context)
        return context

    yield make

    call_report = getattr(request.node, "rep_call", None)
    if call_report is not None and call_report.failed:
        n = 0
        for context in contexts:
            for page in context.pages:
                n += 1
                # A crashed page has no picture; the failure itself says why.
                with contextlib.suppress(Exception):
                    await save_screenshot(page, request.node.name, f"failure-{n}")
    for context in contexts:
        await context.close()
    if problems and not request.node.get_closest_marker("allow_console_errors"):
        pytest.fail("the browser reported errors:\n" + "\n".join(problems[:20]))


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[..., Awaitable[Path]]:
    """`await shot(page)` or `await shot(page, "booked")`: a full-page PNG for the test."""

    async def take(page: Page, label: str = "") -> Path:
        return await save_screenshot(page, request.node.name, label)

    return take
