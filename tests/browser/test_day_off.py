"""A day off on a day with bookings asks first (issue 22): the schedules form lists the
appointments it would leave without a doctor, with each patient's phone, offers "cancel and
notify" per appointment, and applies the day off only once the admin confirms; "Go back"
writes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from playwright.async_api import expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import NewContext
from tests.browser.staff import assert_focus_on, book
from tests.browser.support import (
    WebUser,
    day_times,
    make_clinic,
    make_patient,
    make_slots,
    today_in,
)
from tests.graphql_client import GraphQL, unique

Shot = Callable[..., Awaitable[Path]]

DAY = """query($id: ID!, $date: Date!) {
  doctor(id: $id) { dateOverrides(from: $date, to: $date) { date reason ranges { start } } }
}"""
APPOINTMENT = """query($id: ID!) { appointment(id: $id) { status cancellationReason } }"""


async def test_a_day_off_on_a_booked_day_lists_the_patients_cancels_and_notifies_then_applies(
    new_context: NewContext, web_gql: GraphQL, web_admin: WebUser, shot: Shot
) -> None:
    clinic = await make_clinic(web_gql, web_admin)
    day = today_in(clinic.timezone) + timedelta(days=2)
    slots = await make_slots(web_gql, web_admin, clinic, day, day_times(3, first="10:00"))
    asha = await make_patient(web_gql, unique("Asha Rao "), "+91 98765 43210")
    vikram = await make_patient(web_gql, unique("Vikram Das "), "+91 91234 56789")
    first = await book(web_gql, asha, slots[0]["id"], reason="Follow-up")
    second = await book(web_gql, vikram, slots[1]["id"], reason="Chest pain")

    page = await (await new_context("desktop", web_admin)).new_page()
    await page.goto("/#/admin")
    await page.get_by_role("tab", name="Schedules").click()
    await page.get_by_label("Doctor").select_option(value=clinic.doctor_id)
    editor = page.get_by_test_id("schedule-editor")
    await editor.get_by_label("Date", exact=True).fill(day.isoformat())
    await editor.get_by_label("Reason (optional)").fill("Conference")
    await editor.get_by_role("button", name="Mark day off").click()

    # Asked first: both bookings, in time order, with the patients' phones.
    check = editor.get_by_test_id("day-off-check")
    await expect(check).to_contain_text("2 booked appointments")
    rows = check.get_by_test_id("affected-appointment")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_have_attribute("data-appointment-id", first["id"])
    await expect(rows.nth(0)).to_contain_text(asha.name)
    await expect(rows.nth(0).get_by_test_id("affected-phone")).to_have_text("+91 98765 43210")
    await expect(rows.nth(0).get_by_test_id("affected-phone")).to_have_attribute(
        "href", "tel:+919876543210"
    )
    await expect(rows.nth(1).get_by_test_id("affected-phone")).to_have_text("+91 91234 56789")
    await expect(check.get_by_role("heading")).to_be_focused()
    overrides = (
        await web_gql(DAY, {"id": clinic.doctor_id, "date": day.isoformat()}, web_admin.token)
    ).data
    assert overrides["doctor"]["dateOverrides"] == []  # nothing applied while asking

    # Going back writes nothing and returns the focus to the button that asked.
    await check.get_by_role("button", name="Go back").click()
    await expect(check).to_have_count(0)
    await expect(editor.get_by_role("button", name="Mark day off")).to_be_focused()
    overrides = (
        await web_gql(DAY, {"id": clinic.doctor_id, "date": day.isoformat()}, web_admin.token)
    ).data
    assert overrides["doctor"]["dateOverrides"] == []

    # Asked again: Vikram's booking is cancelled from the list, told the day off's reason.
    await editor.get_by_role("button", name="Mark day off").click()
    vikram_row = check.locator(f'[data-appointment-id="{second["id"]}"]')
    await vikram_row.get_by_role("button", name=f"Cancel and notify {vikram.name}").click()
    await expect(vikram_row).to_have_attribute("data-cancelled", "true")
    await expect(vikram_row).to_contain_text("Cancelled, patient notified")
    focus = await assert_focus_on(page, vikram_row)  # the row acted on, not the page's top
    assert focus["appointmentId"] == second["id"], focus
    cancelled = (await web_gql(APPOINTMENT, {"id": second["id"]}, web_admin.token)).data
    assert cancelled["appointment"] == {"status": "CANCELLED", "cancellationReason": "Conference"}
    await assert_accessible(page, "schedules, a day off asking first")
    await shot(page, "asked")

    # Confirmed: the day off is applied and listed; Asha's booking was kept, as the admin chose.
    await check.get_by_role("button", name="Confirm day off").click()
    await expect(check).to_have_count(0)
    await expect(
        editor.get_by_test_id("override-list").locator(f'[data-date="{day}"]')
    ).to_contain_text("day off (Conference)")
    await expect(editor.get_by_test_id("override-result")).to_be_focused()
    overrides = (
        await web_gql(DAY, {"id": clinic.doctor_id, "date": day.isoformat()}, web_admin.token)
    ).data
    assert overrides["doctor"]["dateOverrides"] == [
        {"date": day.isoformat(), "reason": "Conference", "ranges": []}
    ]
    kept = (await web_gql(APPOINTMENT, {"id": first["id"]}, web_admin.token)).data
    assert kept["appointment"]["status"] == "SCHEDULED"
    await shot(page)
