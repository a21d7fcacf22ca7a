"""The patient portal by keyboard alone (issue 22): the calendar is one tab stop moved with
arrow keys, Home/End and PageUp/PageDown (the ARIA grid pattern), and a patient books,
reschedules and cancels without a mouse, the focus landing on the result of each action."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

from playwright.async_api import Page, expect

from tests.browser.conftest import NewContext
from tests.browser.support import (
    WebUser,
    day_times,
    make_clinic,
    make_patient,
    make_slots,
    today_in,
)
from tests.graphql_client import GraphQL

Shot = Callable[..., Awaitable[Path]]
MY_APPOINTMENTS = "{ myAppointments { status cancellationReason reasonForVisit slot { id } } }"


async def focused(page: Page, attribute: str = "data-testid") -> str | None:
    value = await page.evaluate(
        "(name) => document.activeElement && document.activeElement.getAttribute(name)",
        attribute,
    )
    return value if isinstance(value, str) else None


async def tab_to(page: Page, testid: str, limit: int = 60) -> None:
    """Presses Tab until the focus is on an element with this data-testid."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await focused(page) == testid:
            return
    raise AssertionError(f"{limit} Tabs did not reach {testid}")


async def focused_day(page: Page) -> date:
    value = await focused(page, "data-date")
    assert value, "the focus is not on a calendar day"
    return date.fromisoformat(value)


async def test_book_reschedule_and_cancel_by_keyboard_alone(
    new_context: NewContext, base_url: str, web_gql: GraphQL, web_admin: WebUser, shot: Shot
) -> None:
    clinic = await make_clinic(web_gql, web_admin)
    today = today_in(clinic.timezone)
    first_day, day = today + timedelta(days=1), today + timedelta(days=2)
    await make_slots(web_gql, web_admin, clinic, first_day, day_times(2))
    slots = await make_slots(web_gql, web_admin, clinic, day, day_times(3, first="10:00"))
    patient = await make_patient(web_gql, timezone=clinic.timezone)
    page = await (await new_context("desktop", patient)).new_page()
    await page.goto(f"{base_url}/#/patient?doctor={clinic.doctor_id}")
    await expect(page.get_by_test_id("day-grid")).to_have_attribute("data-ready", "true")

    # One tab stop: the chosen day; Tab leaves the calendar at once, Shift+Tab comes back.
    await expect(page.locator('[data-testid="calendar-day"][tabindex="0"]')).to_have_count(1)
    await tab_to(page, "calendar-day")
    assert await focused_day(page) == first_day
    await page.keyboard.press("Tab")
    assert await focused(page) != "calendar-day"
    await page.keyboard.press("Shift+Tab")
    assert await focused_day(page) == first_day

    # Arrows by a day and a week, Home/End to the row's ends, PageUp/PageDown by four weeks.
    for key, expected in [
        ("ArrowRight", day),
        ("ArrowDown", day + timedelta(days=7)),
        ("ArrowUp", day),
        ("Home", today),
        ("ArrowLeft", today),  # nothing before today
        ("End", today + timedelta(days=6)),
        ("PageDown", today + timedelta(days=34)),
        ("PageUp", today + timedelta(days=6)),
    ]:
        await page.keyboard.press(key)
        assert await focused_day(page) == expected, key
        await expect(page.locator('[data-testid="calendar-day"][tabindex="0"]')).to_have_count(1)
    for _ in range(4):
        await page.keyboard.press("ArrowLeft")
    assert await focused_day(page) == day
    await page.keyboard.press("Enter")
    await expect(page.locator('[data-testid="slot-cell"]')).to_have_count(len(slots))
    await expect(page.get_by_test_id("day-grid")).to_have_attribute("data-ready", "true")
    assert f"date={day.isoformat()}" in page.url

    # Book: Enter on a time holds it and focuses its reason; the booked row takes the focus.
    await tab_to(page, "slot-cell")
    assert await focused(page, "data-slot-id") == slots[0]["id"]
    await page.keyboard.press("Enter")
    await expect(page.get_by_label("Reason for the visit (optional)")).to_be_focused()
    await page.keyboard.type("Knee pain")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Confirm booking")).to_be_focused()
    await page.keyboard.press("Enter")
    row = page.get_by_test_id("appointment-row")
    await expect(row).to_have_attribute("data-status", "SCHEDULED")
    await expect(row).to_be_focused()
    await shot(page, "booked")

    # Reschedule: from the row, the focus goes to the first free time, then to "Move it here",
    # then back to the moved row.
    await page.keyboard.press("Tab")
    await expect(row.get_by_role("button", name="Reschedule")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(
        page.locator(f'[data-testid="slot-cell"][data-slot-id="{slots[1]["id"]}"]')
    ).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="Move it here")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("reschedule-banner")).to_have_count(0)
    await expect(row).to_contain_text(slots[1]["startTime"])
    await expect(row).to_be_focused()
    await shot(page, "moved")

    # Cancel: Tab past Reschedule to "Cancel…"; the reason field takes the focus; Enter sends;
    # the result message takes the focus (the row has left the upcoming list).
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await expect(row.get_by_role("button", name="Cancel…")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(row.get_by_label("Why are you cancelling? (optional)")).to_be_focused()
    await page.keyboard.type("Feeling better")
    await page.keyboard.press("Enter")
    notice = page.get_by_test_id("patient-notice")
    await expect(notice).to_contain_text("Cancelled the")
    await expect(notice).to_be_focused()
    await shot(page, "cancelled")

    mine = (await web_gql(MY_APPOINTMENTS, token=patient.token)).data["myAppointments"]
    assert mine == [
        {
            "status": "CANCELLED",
            "cancellationReason": "Feeling better",
            "reasonForVisit": "Knee pain",
            "slot": {"id": slots[1]["id"]},
        }
    ]
