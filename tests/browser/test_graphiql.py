"""GraphiQL at GET /graphql works with no network beyond the server: every request the page
makes goes to the server's own origin, a query runs over HTTP, and a subscription runs over
graphql-ws with the Headers pane as its connection_init payload."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from playwright.async_api import Page, Request, WebSocket, expect

from tests.browser.conftest import NewContext
from tests.browser.support import WebUser, make_clinic, make_patient
from tests.graphql_client import GraphQL, unique

SEND_EMERGENCY = """mutation($input: EmergencyRequestInput!) {
  sendEmergencyRequest(input: $input) { id message }
}"""


async def replace_editor_text(page: Page, editor_selector: str, text: str) -> None:
    """Monaco editors take keyboard input: focus, select all, paste-like insert."""
    await page.locator(editor_selector).first.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(text)


async def test_graphiql_runs_a_query_and_a_subscription_from_its_own_origin_only(
    new_context: NewContext,
    base_url: str,
    web_gql: GraphQL,
    web_admin: WebUser,
    shot: Callable[..., Awaitable[Path]],
) -> None:
    clinic = await make_clinic(web_gql, web_admin)
    patient = await make_patient(web_gql)
    context = await new_context("desktop")
    requests: list[str] = []
    sockets: list[str] = []
    frames_sent: list[str] = []
    frames_received: list[str] = []

    def on_request(request: Request) -> None:
        requests.append(request.url)

    subscribed = asyncio.Event()

    def on_frame(frames: list[str], payload: str | bytes) -> None:
        frames.append(str(payload))
        if any('"connection_ack"' in f for f in frames_received) and any(
            '"subscribe"' in f for f in frames_sent
        ):
            subscribed.set()

    def on_socket(socket: WebSocket) -> None:
        sockets.append(socket.url)
        socket.on("framesent", lambda payload: on_frame(frames_sent, payload))
        socket.on("framereceived", lambda payload: on_frame(frames_received, payload))

    context.on("request", on_request)
    page = await context.new_page()
    page.on("websocket", on_socket)

    await page.goto("/graphql", wait_until="load")
    query_editor = ".graphiql-query-editor .monaco-editor"
    await page.locator(query_editor).first.wait_for()

    # A query over HTTP: the default one lists specialties, this test's among them.
    await page.locator(".graphiql-execute-button").click()
    response = page.locator(".graphiql-response")
    await expect(response).to_contain_text(clinic.specialty_name)

    # A subscription over graphql-ws, authorised by the Headers pane (admins hear emergencies).
    await replace_editor_text(
        page, query_editor, "subscription Alerts { emergencyRequests { id message } }"
    )
    await page.get_by_role("button", name="Headers").click()
    await replace_editor_text(
        page,
        '.graphiql-editor-tool .monaco-editor[data-uri$="headers.json"]',
        json.dumps({"Authorization": f"Bearer {web_admin.token}"}),
    )
    await page.locator(".graphiql-execute-button").click()

    await asyncio.wait_for(subscribed.wait(), timeout=10)
    init = next(json.loads(f) for f in frames_sent if '"connection_init"' in f)
    assert init["payload"] == {"Authorization": f"Bearer {web_admin.token}"}

    message = unique("Chest pain, please call ")
    sent = await web_gql(
        SEND_EMERGENCY,
        {"input": {"message": message, "doctorId": clinic.doctor_id}},
        patient.token,
    )
    assert sent.data["sendEmergencyRequest"]["message"] == message
    await expect(response).to_contain_text(message)
    await shot(page)

    own = urlsplit(base_url)
    assert requests, "the page made no requests at all"
    foreign = [url for url in requests if urlsplit(url).netloc != own.netloc]
    assert not foreign, f"GraphiQL reached beyond its server: {foreign}"
    assert {urlsplit(url).scheme for url in requests} <= {"http", "data", "blob"}
    assert sockets and all(urlsplit(url).netloc == own.netloc for url in sockets), sockets
    assert f"{base_url}/graphql" in requests  # the page itself
    assert any(url.startswith(f"{base_url}/assets/") for url in requests)
