"""Issue 11's "token refresh with rotation handled; on expiry the WebSocket reconnects with a
fresh token", in a real browser: a patient portal signed in to an API process whose access
tokens last a few seconds keeps its day grid live, its mutations working and its login alive
past the first token's expiry, rotating the refresh token as it goes (web/src/lib/api.ts).

The API process, the store and Redis are real (tests/browser/conftest.py); the short-token
process shares the store and Redis with the session's `web_server`, so the other patient's lock
made there reaches this page through Redis as any other process's would.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from playwright.async_api import Locator, Page, WebSocket, expect

from tests.browser.conftest import NewContext
from tests.browser.support import (
    PATIENT_PASSWORD,
    SESSION_STORAGE_KEY,
    WebUser,
    clinic_day,
    make_patient,
    patient_link,
    slot_cell,
)
from tests.graphql_client import GraphQL
from tests.servers import ApiServer

Shot = Callable[..., Awaitable[Path]]
# Shorter than the client's 5 s floor on its refresh-ahead timer, and far inside its 30/60 s
# refresh margins (web/src/lib/api.ts): the server ends the page's subscriptions when a token
# expires, before the timer would have rotated it, so the expiry path itself is exercised.
SHORT_TTL_SECONDS = 4
# api.ts never schedules a refresh sooner than this after a rotation.
REFRESH_TIMER_FLOOR_SECONDS = 5
# Generous polling bounds for a loaded 2-core machine, not speed requirements.
WITHIN_SECONDS = 45.0

LOCK = "mutation($slotId: ID!) { lockSlot(slotId: $slotId) { id state } }"
UNLOCK = "mutation($slotId: ID!) { unlockSlot(slotId: $slotId) { id state } }"
REFRESH = """mutation($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) { accessToken }
}"""


@pytest.fixture(scope="module")
def short_token_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    """A second API process on the same store and Redis whose access tokens last seconds."""
    server = ApiServer(
        store_uri,
        db_name,
        env={
            "ACCESS_TOKEN_TTL_SECONDS": str(SHORT_TTL_SECONDS),
            # Each expiry ends the portal's three subscriptions and they start again on the
            # new connection: ~45 a minute, too near the default 60/minute for a stable test.
            "RATE_LIMIT_WS_OPERATIONS": "1000/minute",
        },
    ).start(log_dir)
    yield server
    server.stop()


@dataclass
class SocketLog:
    """What the page's WebSockets sent and heard, with the time each init went out."""

    inits: list[tuple[float, str]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("websocket", self._on_socket)

    def _on_socket(self, socket: WebSocket) -> None:
        socket.on("framesent", self._on_sent)
        socket.on("framereceived", self._on_received)

    def _on_sent(self, payload: str | bytes) -> None:
        message = json.loads(payload)
        if message.get("type") == "connection_init":
            authorization = str((message.get("payload") or {}).get("Authorization", ""))
            self.inits.append((time.time(), authorization.removeprefix("Bearer ")))

    def _on_received(self, payload: str | bytes) -> None:
        self.received.append(json.loads(payload))

    def summary(self) -> str:
        """For failure messages: when each init went out, with its token's expiry."""
        inits = [
            f"{t:.1f} (token expires {expiry_of(token):.0f})" if token else f"{t:.1f} (no token)"
            for t, token in self.inits
        ]
        kinds = [
            str(m.get("type"))
            + (f":{(m.get('payload') or {}).get('errors')}" if m.get("type") == "next" else "")
            for m in self.received[-12:]
        ]
        return f"inits sent at {inits}; last frames heard {kinds}"

    def expiry_errors_heard(self) -> int:
        """Subscriptions the server ended because the token they started with expired."""
        return sum(
            1
            for message in self.received
            if message.get("type") == "next"
            and any(
                (error.get("extensions") or {}).get("code") == "UNAUTHENTICATED"
                for error in (message.get("payload") or {}).get("errors") or []
            )
        )

    def slot_states_heard(self, slot_id: str, since: int = 0) -> list[str]:
        """States of `slot_id` in slotUpdates events received from `since` (a frame index)."""
        states = []
        for message in self.received[since:]:
            if message.get("type") != "next":
                continue
            update = ((message.get("payload") or {}).get("data") or {}).get("slotUpdates")
            if update and update["slot"]["id"] == slot_id:
                states.append(update["slot"]["state"])
        return states


def expiry_of(token: str) -> float:
    """The `exp` claim (epoch seconds); the signature is the server's business, not this test's."""
    return float(jwt.decode(token, options={"verify_signature": False})["exp"])


async def stored_session(page: Page) -> dict[str, Any]:
    raw = await page.evaluate(
        f"() => window.localStorage.getItem({json.dumps(SESSION_STORAGE_KEY)})"
    )
    return json.loads(raw) if raw else {}


def cell(page: Page, slot: dict[str, Any]) -> Locator:
    return slot_cell(page, slot["id"])


async def until_grid_ready(page: Page) -> None:
    """The grid drawn with data while its socket is up. With tokens this short the page is
    ready only between one expiry's reconnect and the next, a window a busy machine can make
    shorter than `expect`'s polling interval: this checks at every animation frame."""
    await page.wait_for_function(
        "() => document.querySelector('[data-testid=day-grid]')?.dataset.ready === 'true'",
        polling="raf",
        timeout=WITHIN_SECONDS * 1000,
    )


async def poll(
    condition: Callable[[], bool], what: str | Callable[[], str], within: float = WITHIN_SECONDS
) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:g} s: {what() if callable(what) else what}")
        await asyncio.sleep(0.1)


async def until_heard_live(
    gql: GraphQL, log: SocketLog, other: WebUser, slot: dict[str, Any]
) -> None:
    """Another patient locks `slot` until the page's socket hears it as a slotUpdates event.
    The page reconnects at every expiry, and an event sent while it is reconnecting is only
    re-read (not heard), so a lock that fell into such a gap is released and taken again."""

    def heard(since: int) -> bool:
        return "LOCKED" in log.slot_states_heard(slot["id"], since)

    deadline = time.monotonic() + WITHIN_SECONDS
    while True:
        since = len(log.received)
        await gql(LOCK, {"slotId": slot["id"]}, other.token)
        try:
            await poll(partial(heard, since), "the lock heard", within=3)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no slotUpdates event for the lock reached the page in {WITHIN_SECONDS:g} s"
                ) from None
            await gql(UNLOCK, {"slotId": slot["id"]}, other.token)


async def test_past_the_access_tokens_expiry_the_socket_reconnects_with_a_fresh_token_and_the_portal_keeps_working(  # noqa: E501
    new_context: NewContext,
    http: httpx.AsyncClient,
    short_token_server: ApiServer,
    web_gql: GraphQL,
    web_admin: WebUser,
    shot: Shot,
) -> None:
    base_url = f"http://127.0.0.1:{short_token_server.port}"
    short_gql = GraphQL(http, short_token_server.url)
    clinic, day, slots = await clinic_day(web_gql, web_admin, 3)
    # Both registered on the session's server (2-hour tokens): the patient signs in again on
    # the short-token server through the form; the other patient acts through the API.
    patient, other = await asyncio.gather(
        make_patient(web_gql, "Esha Expiry"), make_patient(web_gql, "Omar Other")
    )
    page = await (await new_context("desktop")).new_page()
    log = SocketLog()
    log.watch(page)

    await page.goto(f"{base_url}/")
    await page.get_by_label("Email").fill(patient.email)
    await page.get_by_label("Password").fill(PATIENT_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_test_id("signed-in-user")).to_contain_text(patient.name)
    signed_in = await stored_session(page)
    assert expiry_of(signed_in["accessToken"]) - time.time() <= SHORT_TTL_SECONDS + 1

    await page.goto(patient_link(base_url, clinic.doctor_id, day))
    await until_grid_ready(page)
    assert log.inits, "the grid is live, so its socket sent a connection_init"
    _, first_token = log.inits[0]
    assert first_token, "the first connection_init carried no token"
    first_expiry = expiry_of(first_token)

    # Past the first token's expiry (the server ends its subscriptions then) and past a whole
    # refresh-timer floor more, so neither the expiry nor a scheduled rotation is still ahead.
    await asyncio.sleep(max(0.0, first_expiry + REFRESH_TIMER_FLOOR_SECONDS - time.time()))

    # (1) The socket reconnected with a token other than the first, issued after it.
    await poll(
        lambda: any(t > first_expiry and token != first_token for t, token in log.inits),
        lambda: f"a connection_init with a new token after the first one expired; {log.summary()}",
    )
    # The server, not the page's refresh timer, ended the expired connection's subscriptions
    # (the path of a laptop that slept through the timer), and the page carried on.
    assert log.expiry_errors_heard(), log.summary()
    later_tokens = [token for t, token in log.inits if t > first_expiry]
    assert all(later_tokens), "a connection_init after the expiry carried no token"
    assert first_token not in later_tokens
    assert all(expiry_of(token) > first_expiry for token in later_tokens)
    await until_grid_ready(page)
    await expect(page.get_by_test_id("signed-in-user")).to_contain_text(patient.name)

    # (2) Live updates still arrive: another patient's lock is heard on the socket and the
    # cell turns LOCKED.
    await until_heard_live(web_gql, log, other, slots[0])
    await expect(cell(page, slots[0])).to_have_attribute("data-state", "LOCKED")

    # (3) A mutation after the expiry works: holding a time from the grid, sent with a token
    # issued after the first one expired.
    async with page.expect_request(
        lambda request: request.method == "POST" and "PatientLockSlot" in (request.post_data or "")
    ) as lock_request:
        await cell(page, slots[1]).click()
    request = await lock_request.value
    authorization = (await request.all_headers()).get("authorization", "")
    lock_token = authorization.removeprefix("Bearer ")
    assert lock_token and lock_token != first_token
    assert expiry_of(lock_token) > first_expiry
    response = await request.response()
    assert response is not None
    answer = await response.json()
    assert not answer.get("errors"), answer
    assert answer["data"]["lockSlot"]["state"] == "LOCKED"
    await expect(cell(page, slots[1])).to_have_attribute("data-state", "MINE")
    await expect(page.get_by_test_id("lock-countdown")).to_be_visible()
    await expect(page.get_by_test_id("signed-in-user")).to_contain_text(patient.name)
    await shot(page, "after-expiry")

    # (4) The refresh token was rotated: the stored one is another, and the one the page was
    # signed in with is refused with the contract's code.
    rotated = await stored_session(page)
    assert rotated["refreshToken"] != signed_in["refreshToken"]
    assert rotated["accessToken"] != signed_in["accessToken"]
    reused = await short_gql(REFRESH, {"refreshToken": signed_in["refreshToken"]})
    assert reused.code == "UNAUTHENTICATED"
