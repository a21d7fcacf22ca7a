"""The admin live board in a real browser: cells follow holds, bookings and cancellations as
they happen elsewhere (the admin may see who holds a slot), the feed lists appointment events,
and an emergency request is an alert with a sound that stays until it is acknowledged."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.async_api import expect

from tests.browser.conftest import NewContext
from tests.browser.staff import (
    COUNT_BEEPS,
    board_cell,
    book,
    cancel,
    lock,
    open_admin_board,
    send_emergency,
    until_board_follows,
)
from tests.browser.support import (
    WebUser,
    clinic_day,
    day_times,
    make_clinic,
    make_patient,
    make_slots,
    today_in,
)
from tests.graphql_client import GraphQL, unique

Shot = Callable[..., Awaitable[Path]]

MY_ZONE = "query { me { timezone } }"
SET_MY_ZONE = """mutation($zone: String!) { updateMyProfile(timezone: $zone) { timezone } }"""


def in_zone(day: date, time: str, zone: str, viewer: str) -> str:
    """The doctor's wall-clock `time` on `day` as "YYYY-MM-DD HH:MM" in the viewer's zone."""
    hour, minute = (int(part) for part in time.split(":"))
    local = datetime.combine(day, datetime.min.time(), ZoneInfo(zone)).replace(
        hour=hour, minute=minute
    )
    return local.astimezone(ZoneInfo(viewer)).strftime("%Y-%m-%d %H:%M")


async def test_board_shows_holds_bookings_and_releases_live_with_who_holds_them(
    new_context: NewContext, web_gql: GraphQL, web_admin: WebUser, shot: Shot
) -> None:
    clinic, day, slots = await clinic_day(web_gql, web_admin, 5, first="10:00")
    patient, early = [await make_patient(web_gql, name=unique(n)) for n in ("Ravi ", "Lata ")]
    await lock(web_gql, early, slots[3]["id"])  # held before the page opens
    page = await (await new_context("desktop", web_admin)).new_page()
    await open_admin_board(page, day)
    # What the board read shows who holds a time too, not only what events say.
    await expect(board_cell(page, slots[3]["id"])).to_have_attribute("data-state", "LOCKED")
    await expect(board_cell(page, slots[3]["id"])).to_have_attribute("data-holder", early.name)
    await until_board_follows(web_gql, page, slots[4]["id"])

    row = page.locator(f'[data-testid="board-row"][data-doctor-id="{clinic.doctor_id}"]')
    await expect(row).to_contain_text(clinic.doctor_name)
    await expect(row).to_contain_text(clinic.timezone)  # times are the doctor's, its zone named
    cell = board_cell(page, slots[1]["id"])
    await expect(cell).to_have_attribute("data-state", "AVAILABLE")
    await expect(cell).to_contain_text("10:30")

    await lock(web_gql, patient, slots[1]["id"])
    await expect(cell).to_have_attribute("data-state", "LOCKED")
    await expect(cell).to_have_attribute("data-holder", patient.name)
    await expect(cell).to_contain_text(patient.name)
    await expect(cell).to_contain_text("until")

    booked = await book(web_gql, patient, slots[1]["id"], reason="Chest pain")
    await expect(cell).to_have_attribute("data-state", "BOOKED")
    await expect(cell).to_have_attribute("data-holder", patient.name)
    await expect(cell).to_have_attribute("data-appointment-id", booked["id"])
    feed = page.get_by_test_id("appointment-feed")
    created = feed.locator(f'[data-kind="CREATED"][data-appointment-id="{booked["id"]}"]')
    await expect(created).to_contain_text(patient.name)
    # In the viewer's zone (the admin's User.timezone, the clinic's UTC here), the doctor's named.
    await expect(created.get_by_test_id("feed-when")).to_have_text(
        f"{in_zone(day, '10:30', clinic.timezone, 'UTC')} (10:30 {clinic.timezone})"
    )
    # The other cells did not move.
    await expect(board_cell(page, slots[0]["id"])).to_have_attribute("data-state", "AVAILABLE")
    await shot(page, "booked")

    await cancel(web_gql, patient, booked["id"])
    await expect(cell).to_have_attribute("data-state", "AVAILABLE")
    await expect(cell).to_have_attribute("data-event", "RELEASED")
    await expect(
        feed.locator(f'[data-kind="CANCELLED"][data-appointment-id="{booked["id"]}"]')
    ).to_have_count(1)
    await expect(row).to_contain_text("5 slots: 0 booked, 1 held, 4 free")
    await shot(page)


async def test_emergency_request_is_an_alert_with_sound_that_must_be_acknowledged(
    new_context: NewContext, web_gql: GraphQL, web_admin: WebUser, shot: Shot
) -> None:
    _, day, (spare,) = await clinic_day(web_gql, web_admin, 1)
    patient = await make_patient(web_gql, name=unique("Meera "))
    context = await new_context("desktop", web_admin)
    await context.add_init_script(COUNT_BEEPS)
    page = await context.new_page()
    await open_admin_board(page, day)
    # Emergencies come over the same socket as the board's slot events.
    await until_board_follows(web_gql, page, spare["id"])
    # Browsers play sound only on a page the user has interacted with; staff have clicked.
    await page.get_by_role("tab", name="Live board").click()

    first = await send_emergency(web_gql, patient, "Severe chest pain in the waiting room")
    alert = page.get_by_role("alertdialog")
    await expect(alert).to_be_visible()
    await expect(alert).to_have_attribute("data-testid", "emergency-alert")
    await expect(alert).to_have_attribute("data-emergency-id", first)
    await expect(alert).to_contain_text("Severe chest pain in the waiting room")
    await expect(alert).to_contain_text(patient.name)
    await expect(alert).to_have_attribute("data-sound", "playing")
    await page.wait_for_function("window.__beeps > 0")
    # The acknowledge button has the focus, so Enter would do; Escape must not dismiss it.
    await expect(alert.get_by_role("button", name="Acknowledge")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(alert).to_be_visible()

    second = await send_emergency(web_gql, patient, "Patient fainted at reception")
    await expect(alert).to_contain_text("1 more waiting")
    await shot(page, "alert")

    await alert.get_by_role("button", name="Acknowledge").click()
    await expect(alert).to_have_attribute("data-emergency-id", second)
    await expect(alert).to_contain_text("Patient fainted at reception")
    await page.keyboard.press("Enter")
    await expect(alert).to_be_hidden()
    await expect(page.get_by_test_id("emergency-alert")).to_have_attribute("data-sound", "off")
    log = page.get_by_test_id("emergency-log")
    await expect(log.locator(f'[data-emergency-id="{first}"]')).to_contain_text("Severe chest pain")
    await expect(log.locator(f'[data-emergency-id="{second}"]')).to_contain_text("fainted")
    await shot(page)


async def test_the_feed_tells_times_in_the_viewers_own_zone_named(
    new_context: NewContext, web_gql: GraphQL, web_admin: WebUser, shot: Shot
) -> None:
    """The admin's User.timezone, not UTC nor the browser's (UTC here) nor the doctor's."""
    clinic = await make_clinic(web_gql, web_admin, timezone="Asia/Kolkata")
    day = today_in(clinic.timezone) + timedelta(days=1)
    slots = await make_slots(web_gql, web_admin, clinic, day, day_times(2, first="10:00"))
    patient = await make_patient(web_gql, name=unique("Zoya "))
    before = (await web_gql(MY_ZONE, {}, web_admin.token)).data["me"]["timezone"]
    await web_gql(SET_MY_ZONE, {"zone": "America/Los_Angeles"}, web_admin.token)
    try:
        page = await (await new_context("desktop", web_admin)).new_page()
        await open_admin_board(page, day)
        zone_line = page.get_by_test_id("feed-zone")
        await expect(zone_line).to_have_attribute("data-zone", "America/Los_Angeles")
        await expect(zone_line).to_contain_text("Times in America/Los_Angeles (GMT-")
        await until_board_follows(web_gql, page, slots[1]["id"])

        booked = await book(web_gql, patient, slots[0]["id"])
        feed = page.get_by_test_id("appointment-feed")
        item = feed.locator(f'[data-kind="CREATED"][data-appointment-id="{booked["id"]}"]')
        await expect(item.get_by_test_id("feed-when")).to_have_text(
            f"{in_zone(day, '10:00', clinic.timezone, 'America/Los_Angeles')}"
            f" (10:00 {clinic.timezone})"
        )
        # When it happened: the event's instant as Los Angeles wall-clock time.
        stamp = item.locator("time")
        at = datetime.fromisoformat(str(await stamp.get_attribute("datetime")))
        await expect(stamp).to_have_text(
            at.astimezone(ZoneInfo("America/Los_Angeles")).strftime("%H:%M:%S")
        )
        await shot(page)
    finally:
        await web_gql(SET_MY_ZONE, {"zone": before}, web_admin.token)
