"""The client's shell: register and sign in through its forms (at 375 px too), refusals
explained, and tokens rotated before they expire without signing the user out."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import NewContext
from tests.browser.support import (
    PATIENT_PASSWORD,
    SESSION_STORAGE_KEY,
    WebUser,
    make_patient,
    storage_state,
)
from tests.graphql_client import GraphQL, unique
from tests.servers import ApiServer

REFRESH = """mutation($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) { accessToken }
}"""
ME = "{ me { id email } }"
# The client refreshes 60 s before expiry (web/src/lib/api.ts): a 70 s token rotates in ~10 s.
SHORT_TTL_SECONDS = 70


async def stored_session(page: Page) -> dict[str, object]:
    raw = await page.evaluate(
        f"() => window.localStorage.getItem({json.dumps(SESSION_STORAGE_KEY)})"
    )
    return json.loads(raw) if raw else {}


async def test_a_patient_registers_at_375px_lands_on_the_portal_and_signs_out(
    new_context: NewContext, shot: Callable[..., Awaitable[Path]]
) -> None:
    context = await new_context("mobile")
    page = await context.new_page()
    await page.goto("/")
    await page.get_by_role("tab", name="Register").click()
    name = unique("Ravi Kumar ")
    await page.get_by_label("Full name").fill(name)
    await page.get_by_label("Email").fill(f"{unique('ravi')}@example.com")
    await page.get_by_label("Password").fill(PATIENT_PASSWORD)
    await page.get_by_role("button", name="Create account").click()

    await expect(page.get_by_test_id("signed-in-user")).to_contain_text(name)
    await expect(page).to_have_url(re.compile(r"#/patient$"))
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width} px wide at a 375 px viewport"
    await shot(page)

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert await stored_session(page) == {}


async def test_a_wrong_password_and_a_taken_email_are_explained(
    new_context: NewContext, web_gql: GraphQL, shot: Callable[..., Awaitable[Path]]
) -> None:
    patient = await make_patient(web_gql)
    context = await new_context("desktop")
    page = await context.new_page()
    await page.goto("/")
    await page.get_by_label("Email").fill(patient.email)
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("Invalid email or password")

    # Keyboard only: the arrow key moves to the Register tab, Tab into its form.
    await page.get_by_role("tab", name="Sign in").focus()
    await page.keyboard.press("ArrowRight")
    await expect(page.get_by_role("tab", name="Register")).to_have_attribute(
        "aria-selected", "true"
    )
    await expect(page.get_by_role("tab", name="Register")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Full name")).to_be_focused()
    await page.get_by_label("Full name").fill("Someone Else")
    await page.get_by_label("Email").fill(patient.email)
    await page.get_by_label("Password").fill(PATIENT_PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("email")
    await expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")
    await shot(page)
    assert await stored_session(page) == {}


@pytest.fixture(scope="module")
def short_token_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    server = ApiServer(
        store_uri, db_name, env={"ACCESS_TOKEN_TTL_SECONDS": str(SHORT_TTL_SECONDS)}
    ).start(log_dir)
    yield server
    server.stop()


@pytest_asyncio.fixture
async def short_token_patient(http: httpx.AsyncClient, short_token_server: ApiServer) -> WebUser:
    return await make_patient(GraphQL(http, short_token_server.url))


async def test_two_tabs_rotate_tokens_before_expiry_once_and_stay_signed_in(
    browser: Browser,
    http: httpx.AsyncClient,
    short_token_server: ApiServer,
    short_token_patient: WebUser,
    shot: Callable[..., Awaitable[Path]],
) -> None:
    """Both tabs' refresh timers fire together; one rotates, the other adopts its tokens
    (presenting a spent refresh token would revoke the login on every device)."""
    base_url = f"http://127.0.0.1:{short_token_server.port}"
    context = await browser.new_context(
        base_url=base_url,
        storage_state=storage_state(base_url, short_token_patient),  # type: ignore[arg-type]
    )
    try:
        errors: list[str] = []
        pages = [await context.new_page() for _ in range(2)]
        for page in pages:
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto("/")
            await expect(page.get_by_test_id("signed-in-user")).to_contain_text(
                short_token_patient.name
            )
        for page in pages:
            await page.wait_for_function(
                """([key, old]) => {
                    const raw = window.localStorage.getItem(key);
                    return raw !== null && JSON.parse(raw).refreshToken !== old;
                }""",
                arg=[SESSION_STORAGE_KEY, short_token_patient.refresh_token],
                timeout=40_000,
            )
        await pages[0].wait_for_timeout(2000)  # let a second, racing refresh finish if any
        session = await stored_session(pages[0])
        assert session["accessToken"] != short_token_patient.token
        gql = GraphQL(http, short_token_server.url)
        me = await gql(ME, token=str(session["accessToken"]))
        assert me.data["me"]["id"] == short_token_patient.id
        for page in pages:
            await expect(page.get_by_test_id("signed-in-user")).to_be_visible()
        await shot(pages[1])
        # The login was not revoked: the stored refresh token still rotates ...
        rotated = await gql(REFRESH, {"refreshToken": session["refreshToken"]})
        assert rotated.data["refreshToken"]["accessToken"]
        # ... and the one the tabs started with is spent.
        reused = await gql(REFRESH, {"refreshToken": short_token_patient.refresh_token})
        assert reused.code == "UNAUTHENTICATED"
        assert not errors
    finally:
        await context.close()
