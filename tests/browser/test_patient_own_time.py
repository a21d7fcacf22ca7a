"""Issue 22, "the patient's own time": a patient whose browser is in America/Los_Angeles, booking
a doctor in Asia/Kolkata, sees every time in Los Angeles time with the doctor's zone named, and a
switch shows the doctor's local times instead."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import NewContext
from tests.browser.support import (
    WebUser,
    day_times,
    login,
    make_clinic,
    make_slots,
    patient_link,
    today_in,
)
from tests.graphql_client import GraphQL, unique

PATIENT_ZONE = "America/Los_Angeles"
DASH = "\N{EN DASH}"  # between the two times of a range
DOCTOR_ZONE = "Asia/Kolkata"
ME = "{ me { timezone } }"


def shown(instant: str, zone: str, fmt: str = "%H:%M") -> str:
    return (
        datetime.fromisoformat(instant.replace("Z", "+00:00"))
        .astimezone(ZoneInfo(zone))
        .strftime(fmt)
    )


async def register_in_the_browser(page: Page, gql: GraphQL) -> WebUser:
    """Registers through the form, as a new patient would: the browser's zone becomes theirs."""
    email = f"{unique('la-patient')}@example.com"
    await page.goto("/")
    await page.get_by_role("tab", name="Register").click()
    await page.get_by_label("Full name").fill("Lena Los Angeles")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill("la-patient-password")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_test_id("patient-portal")).to_be_visible()
    return await login(gql, email, "la-patient-password")


async def test_times_in_the_patients_zone_with_the_doctors_named_and_a_switch(
    new_context: NewContext, base_url: str, web_gql: GraphQL, web_admin: WebUser
) -> None:
    clinic = await make_clinic(web_gql, web_admin, timezone=DOCTOR_ZONE)
    doctor_day = today_in(DOCTOR_ZONE) + timedelta(days=2)
    slots = await make_slots(web_gql, web_admin, clinic, doctor_day, day_times(2, first="09:00"))
    page = await (await new_context("desktop", timezone_id=PATIENT_ZONE)).new_page()
    patient = await register_in_the_browser(page, web_gql)
    # Registration took the browser's zone: User.timezone is the patient's own.
    assert (await web_gql(ME, token=patient.token)).data["me"]["timezone"] == PATIENT_ZONE

    await page.goto(patient_link(base_url, clinic.doctor_id, doctor_day))
    await expect(page.get_by_test_id("day-grid")).to_have_attribute("data-ready", "true")
    zone_line = page.get_by_test_id("view-zone")
    await expect(zone_line).to_have_attribute("data-zone", PATIENT_ZONE)
    await expect(zone_line).to_contain_text(f"your time zone, {PATIENT_ZONE}")
    await expect(zone_line).to_contain_text(f"works in {DOCTOR_ZONE}")
    await expect(page.get_by_test_id("grid-zone")).to_contain_text(f"Times in {PATIENT_ZONE}")

    # 09:00 in Kolkata is the evening before in Los Angeles: the cell says the time and that day.
    first = page.locator(f'[data-testid="slot-cell"][data-slot-id="{slots[0]["id"]}"]')
    la_time = shown(slots[0]["startsAt"], PATIENT_ZONE)
    la_end = shown(slots[0]["endsAt"], PATIENT_ZONE)
    la_day = shown(slots[0]["startsAt"], PATIENT_ZONE, "%a %-d %b")
    assert la_time != "09:00"
    await expect(first).to_have_attribute("data-shown-time", la_time)
    await expect(first).to_contain_text(la_time)
    await expect(first).to_contain_text(la_day)
    await expect(first).to_have_accessible_name(
        re.compile(rf"^{la_time} {la_day}\s*, {la_time} to {la_end}, available$")
    )

    # Held and booked: the patient's time first, then the doctor's own time, zone named.
    await first.click()
    hold = page.get_by_test_id("hold")
    await expect(hold).to_contain_text(f"{la_day}, {la_time}{DASH}{la_end}")
    await expect(hold).to_contain_text("the doctor's time: ")
    await expect(hold).to_contain_text(f"09:00 {DOCTOR_ZONE}")
    await expect(page.get_by_test_id("patient-notice")).to_contain_text(f"{la_time} on {la_day}")
    await page.get_by_role("button", name="Confirm booking").click()
    row = page.get_by_test_id("appointment-row")
    await expect(row).to_have_attribute("data-status", "SCHEDULED")
    await expect(row).to_contain_text(f"{la_day}, {la_time}{DASH}{la_end}")
    await expect(row.get_by_test_id("appointment-zone")).to_contain_text(PATIENT_ZONE)
    await expect(row.get_by_test_id("appointment-zone")).to_contain_text(f"09:00 {DOCTOR_ZONE}")

    await assert_accessible(page, "patient portal in the patient's zone, a booking made")

    # The switch: the doctor's local times everywhere, kept across a reload.
    await page.get_by_role("switch", name="Show the doctor's local times").check()
    await expect(zone_line).to_have_attribute("data-zone", DOCTOR_ZONE)
    await expect(first).to_have_attribute("data-shown-time", "09:00")
    second = page.locator(f'[data-testid="slot-cell"][data-slot-id="{slots[1]["id"]}"]')
    await expect(second).to_have_accessible_name(
        re.compile(r"^09:30 \s*, 09:30 to 10:00, available$")
    )
    await expect(row).to_contain_text(f"09:00{DASH}09:30")
    await expect(row.get_by_test_id("appointment-zone")).to_have_text(
        re.compile(rf"^{DOCTOR_ZONE}")
    )
    await page.reload()
    await expect(page.get_by_test_id("day-grid")).to_have_attribute("data-ready", "true")
    await expect(first).to_have_attribute("data-shown-time", "09:00")
    await page.get_by_role("switch", name="Show the doctor's local times").uncheck()
    await expect(first).to_have_attribute("data-shown-time", la_time)
