"""Issue 22's smaller frictions on the patient's side, each in a real browser: "Yours" for the
patient's own booking, the cancellation reason shown, the password rule before submitting,
opening a doctor on its next day with free times, and at 375 px the day grid next to the day."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from playwright.async_api import Request, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import NewContext
from tests.browser.support import (
    WebUser,
    day_times,
    make_clinic,
    make_patient,
    make_slots,
    patient_link,
    today_in,
)
from tests.graphql_client import GraphQL

Shot = Callable[..., Awaitable[Path]]
BOOK = """mutation($slotId: ID!) {
  bookAppointment(input: {slotId: $slotId}) { id status }
}"""
CANCEL = """mutation($id: ID!, $reason: String) {
  cancelAppointment(id: $id, reason: $reason) { id status }
}"""
# The API's rule (app/domain/validation.py PASSWORD_MIN, PASSWORD_MAX).
PASSWORD_RULE = "8 to 128 characters"


async def test_own_booking_reads_yours_and_a_cancelled_one_shows_its_reason(
    new_context: NewContext, base_url: str, web_gql: GraphQL, web_admin: WebUser, shot: Shot
) -> None:
    clinic = await make_clinic(web_gql, web_admin)
    day = today_in(clinic.timezone) + timedelta(days=1)
    slots = await make_slots(web_gql, web_admin, clinic, day, day_times(4))
    patient = await make_patient(web_gql, timezone=clinic.timezone)
    other = await make_patient(web_gql, "Bala Other", timezone=clinic.timezone)
    await web_gql(BOOK, {"slotId": slots[0]["id"]}, patient.token)
    await web_gql(BOOK, {"slotId": slots[1]["id"]}, other.token)
    dropped = await web_gql(BOOK, {"slotId": slots[2]["id"]}, patient.token)
    await web_gql(
        CANCEL,
        {"id": dropped.data["bookAppointment"]["id"], "reason": "Doctor called away"},
        web_admin.token,
    )

    page = await (await new_context("desktop", patient)).new_page()
    await page.goto(patient_link(base_url, clinic.doctor_id, day))
    await expect(page.get_by_test_id("day-grid")).to_have_attribute("data-ready", "true")
    mine = page.locator(f'[data-testid="slot-cell"][data-slot-id="{slots[0]["id"]}"]')
    theirs = page.locator(f'[data-testid="slot-cell"][data-slot-id="{slots[1]["id"]}"]')
    await expect(mine).to_have_attribute("data-state", "YOURS")
    await expect(mine).to_contain_text("Yours")
    await expect(mine).to_have_accessible_name(re.compile(r"your appointment$"))
    await expect(theirs).to_have_attribute("data-state", "BOOKED")
    await expect(theirs).to_contain_text("Taken")
    # The cancelled time is free again, and the list says why it was cancelled.
    freed = page.locator(f'[data-testid="slot-cell"][data-slot-id="{slots[2]["id"]}"]')
    await expect(freed).to_have_attribute("data-state", "AVAILABLE")
    await page.get_by_text(re.compile(r"^Past and cancelled")).click()
    cancelled = page.locator('[data-testid="appointment-row"][data-status="CANCELLED"]')
    await expect(cancelled.get_by_test_id("cancellation-reason")).to_have_text(
        "Cancellation reason: Doctor called away"
    )
    await shot(page)


async def test_the_password_rule_is_shown_before_submitting(
    new_context: NewContext, base_url: str
) -> None:
    page = await (await new_context("desktop")).new_page()
    registers: list[Request] = []
    page.on(
        "request",
        lambda request: (
            registers.append(request) if "Register" in (request.post_data or "") else None
        ),
    )
    await page.goto("/")
    await page.get_by_role("tab", name="Register").click()
    password = page.get_by_label("Password")
    rule = page.get_by_test_id("password-rule")
    # Before anything is typed or sent: the rule, tied to the field for screen readers.
    await expect(rule).to_have_text(f"Password: {PASSWORD_RULE}.")
    await expect(password).to_have_accessible_description(f"Password: {PASSWORD_RULE}.")
    await page.get_by_label("Full name").fill("Short Password")
    await page.get_by_label("Email").fill("short-password@example.com")
    await password.fill("abc")
    await expect(rule).to_have_text(f"Password: {PASSWORD_RULE}. 5 more to go.")
    await assert_accessible(page, "register form with the password rule")
    # The browser holds a too-short password back: nothing reaches the API.
    await page.get_by_role("button", name="Create account").click()
    assert await password.evaluate("(el) => el.validity.tooShort") is True
    await expect(page.get_by_test_id("register-form")).to_be_visible()
    assert registers == []
    # The sign-in form does not impose it (older passwords keep working).
    await page.get_by_role("tab", name="Sign in").click()
    await expect(page.get_by_test_id("password-rule")).to_have_count(0)


async def test_opening_a_doctor_lands_on_its_next_day_with_free_times(
    new_context: NewContext, base_url: str, web_gql: GraphQL, web_admin: WebUser
) -> None:
    clinic = await make_clinic(web_gql, web_admin)
    free_day = today_in(clinic.timezone) + timedelta(days=3)
    slots = await make_slots(web_gql, web_admin, clinic, free_day, day_times(3))
    patient = await make_patient(web_gql, timezone=clinic.timezone)
    page = await (await new_context("desktop", patient)).new_page()
    await page.goto(f"{base_url}/#/patient?doctor={clinic.doctor_id}")
    await expect(page.get_by_test_id("day-grid")).to_have_attribute("data-ready", "true")
    assert f"date={free_day.isoformat()}" in page.url
    await expect(page.get_by_test_id("slot-cell")).to_have_count(len(slots))
    chosen = page.locator('[data-testid="calendar-day"][data-date="' + free_day.isoformat() + '"]')
    await expect(chosen.locator("xpath=..")).to_have_attribute("aria-selected", "true")

    # Choosing the doctor from the list does the same.
    await page.goto(f"{base_url}/#/patient")
    await page.get_by_label("Specialty", exact=True).select_option(label=clinic.specialty_name)
    await page.locator(
        f'[data-testid="doctor-option"][data-doctor-id="{clinic.doctor_id}"]'
    ).click()
    await expect(page.get_by_test_id("day-grid")).to_have_attribute("data-ready", "true")
    await expect(page.get_by_test_id("slot-cell")).to_have_count(len(slots))
    assert f"date={free_day.isoformat()}" in page.url


async def test_at_375px_the_day_grid_sits_next_to_the_chosen_day(
    new_context: NewContext, base_url: str, web_gql: GraphQL, web_admin: WebUser, shot: Shot
) -> None:
    clinic = await make_clinic(web_gql, web_admin)
    today = today_in(clinic.timezone)
    patient = await make_patient(web_gql, timezone=clinic.timezone)
    page = await (await new_context("mobile", patient)).new_page()
    # A day late in the four weeks (its last row), and then one in the first.
    for day in (today + timedelta(days=24), today + timedelta(days=2)):
        slots = await make_slots(web_gql, web_admin, clinic, day, day_times(6))
        await page.goto(patient_link(base_url, clinic.doctor_id, day))
        await expect(page.get_by_test_id("day-grid")).to_have_attribute("data-ready", "true")
        await expect(page.get_by_test_id("slot-cell")).to_have_count(6)
        await expect(page.get_by_test_id("slot-cell").first).to_have_attribute(
            "data-slot-id", slots[0]["id"]
        )
        chosen = page.locator(f'[data-testid="calendar-day"][data-date="{day.isoformat()}"]')
        await expect(chosen.locator("xpath=..")).to_have_attribute("aria-selected", "true")
        await expect(page.get_by_test_id("calendar-day")).to_have_count(7)
        # Both measured in one script, so no scroll can fall between the two.
        gap = await page.evaluate(
            """(date) => {
                const day = document.querySelector(
                    `[data-testid="calendar-day"][data-date="${date}"]`).getBoundingClientRect();
                const grid = document.querySelector('[data-testid="day-grid"]')
                    .getBoundingClientRect();
                return grid.top - day.bottom;
            }""",
            day.isoformat(),
        )
        # Only the calendar card's end and the grid's heading lie between: no more.
        assert 0 < gap < 250, f"the day grid is {gap:.0f} px below the chosen day at 375 px"
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the page scrolls sideways at 375 px ({width} px wide)"
    await shot(page)
    await assert_accessible(page, "patient portal at 375 px, one week shown")

    # The four weeks are a button away, and arrow keys move the shown week with the focus.
    await page.get_by_role("button", name="Show four weeks").click()
    await expect(page.get_by_test_id("calendar-day")).to_have_count(28)
    await page.get_by_role("button", name="Show one week").click()
    await expect(page.get_by_test_id("calendar-day")).to_have_count(7)
