"""An admin on a phone-sized screen sets a clinic up through the UI: a specialty, a doctor with
fee, timezone and sign-in, its weekly hours and a day off, then a fee change and deactivation.
Each step is checked through the API, and refused input shows the server's message with the
field marked, writing nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import NewContext
from tests.browser.support import WebUser, login, today_in
from tests.graphql_client import GraphQL, unique

Shot = Callable[..., Awaitable[Path]]

CATALOG = """query {
  specialties(includeInactive: true) { id name description }
  doctors(includeInactive: true) {
    id name email consultationFee timezone isActive specialty { id }
  }
}"""
DOCTOR = """query($id: ID!, $from: Date!, $to: Date!, $monday: Date!, $off: Date!) {
  doctor(id: $id) {
    consultationFee isActive timezone
    schedule { slotMinutes bufferMinutes weekly { weekday ranges { start end } } }
    dateOverrides(from: $from, to: $to) { date reason ranges { start } }
    monday: daySlots(date: $monday) { startTime endTime }
    off: daySlots(date: $off) { id }
  }
}"""
DASH = "\u2013"  # the client writes ranges with an en dash
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def next_weekday(today: date, weekday: int) -> date:
    """The first date after today with that weekday (Monday is 0)."""
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def day_hours(editor: Locator, day: str) -> Locator:
    """One day's group of time pickers in the weekly hours form."""
    return editor.get_by_role("group", name=day, exact=True)


async def catalog(gql: GraphQL, admin: WebUser) -> dict[str, Any]:
    return dict((await gql(CATALOG, {}, admin.token)).data)


async def open_tab(page: Page, name: str) -> None:
    await page.get_by_role("tab", name=name).click()
    await expect(page.get_by_role("tab", name=name)).to_have_attribute("aria-selected", "true")


async def assert_fits_width(page: Page) -> None:
    """Nothing makes a 375 px screen scroll sideways."""
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow} px wider than the screen"


async def test_admin_sets_up_specialty_doctor_schedule_and_day_off_through_the_ui(
    new_context: NewContext, web_gql: GraphQL, web_admin: WebUser, shot: Shot
) -> None:
    page = await (await new_context("mobile", web_admin)).new_page()
    await page.goto("/#/admin")
    # The sections are tabs: arrow keys move between them, as the ARIA tabs pattern has it.
    await page.get_by_role("tab", name="Live board").focus()
    await page.keyboard.press("ArrowLeft")
    await expect(page.get_by_role("tab", name="Failed deliveries")).to_be_focused()
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("ArrowRight")
    await expect(page.get_by_role("tab", name="Specialties")).to_be_focused()
    await expect(page.get_by_role("tab", name="Specialties")).to_have_attribute(
        "aria-selected", "true"
    )

    # A specialty, then the same name again: CONFLICT, shown on the form, nothing added.
    specialty = unique("Neurology ")
    await open_tab(page, "Specialties")
    form = page.get_by_role("form", name="New specialty")
    await form.get_by_label("Name", exact=True).fill(specialty)
    await form.get_by_label("Description (optional)").fill("Brain and nerves")
    await form.get_by_role("button", name="Add specialty").click()
    await expect(page.get_by_role("status").filter(has_text=f"{specialty} created")).to_be_visible()
    await expect(page.get_by_test_id("specialty-list")).to_contain_text(specialty)
    await form.get_by_label("Name", exact=True).fill(specialty)
    await form.get_by_role("button", name="Add specialty").click()
    await expect(form.get_by_role("alert")).to_contain_text("already exists")
    await expect(form.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    found = await catalog(web_gql, web_admin)
    matching = [s for s in found["specialties"] if s["name"] == specialty]
    assert len(matching) == 1 and matching[0]["description"] == "Brain and nerves"
    specialty_id = matching[0]["id"]

    # A doctor: an unknown zone is refused with the field marked; then it is created.
    name = unique("Dr. Nia ")
    email = f"{unique('nia')}@example.com"
    await open_tab(page, "Doctors")
    await page.get_by_role("button", name="New doctor").click()
    form = page.get_by_role("form", name="New doctor")
    await form.get_by_label("Name", exact=True).fill(name)
    await form.get_by_label("Email").fill(email)
    await form.get_by_label("Specialty").select_option(label=specialty)
    await form.get_by_label("Licence number").fill(unique("LIC-"))
    await form.get_by_label("Consultation fee").fill("450")
    await form.get_by_label("Timezone (IANA)").fill("Mars/Olympus_Mons")
    await form.get_by_label("Sign-in password for the doctor (optional)").fill("nia-password-1")
    await form.get_by_role("button", name="Add doctor").click()
    await expect(form.get_by_role("alert")).to_contain_text("time zone")
    await expect(form.get_by_label("Timezone (IANA)")).to_have_attribute("aria-invalid", "true")
    assert not [d for d in (await catalog(web_gql, web_admin))["doctors"] if d["email"] == email]
    await form.get_by_label("Timezone (IANA)").fill("Europe/Berlin")
    await form.get_by_role("button", name="Add doctor").click()
    await expect(page.get_by_role("status").filter(has_text=f"{name} added")).to_be_visible()
    doctor = next(d for d in (await catalog(web_gql, web_admin))["doctors"] if d["email"] == email)
    assert doctor["consultationFee"] == 450
    assert doctor["timezone"] == "Europe/Berlin"
    assert doctor["specialty"]["id"] == specialty_id
    assert (await login(web_gql, email, "nia-password-1")).role == "DOCTOR"
    await assert_fits_width(page)
    await shot(page, "doctor")

    # Weekly hours: a badly typed range and a refused date write nothing; then they are saved.
    today = today_in("Europe/Berlin")
    monday, day_off = next_weekday(today, 0), next_weekday(today, 1)
    variables = {
        "id": doctor["id"],
        "from": today.isoformat(),
        "to": (today + timedelta(days=30)).isoformat(),
        "monday": monday.isoformat(),
        "off": day_off.isoformat(),
    }
    await open_tab(page, "Schedules")
    await page.get_by_label("Doctor").select_option(value=doctor["id"])
    editor = page.get_by_test_id("schedule-editor")
    # Monday's two ranges by time pickers, copied to Tuesday-Friday in one click.
    monday_hours = day_hours(editor, "Monday")
    await monday_hours.get_by_role("button", name="Add hours to Monday").click()
    await monday_hours.get_by_label("From").fill("09:00")
    await monday_hours.get_by_label("Until").fill("12:00")
    await monday_hours.get_by_role("button", name="Add hours to Monday").click()
    await expect(monday_hours.get_by_test_id("hours-range")).to_have_count(2)
    await monday_hours.get_by_label("From").nth(1).fill("13:00")
    await monday_hours.get_by_label("Until").nth(1).fill("15:00")
    await monday_hours.get_by_role("button", name=f"Copy to Tuesday{DASH}Friday").click()
    await expect(editor.get_by_test_id("hours-copied")).to_contain_text(
        f"09:00{DASH}12:00, 13:00{DASH}15:00"
    )
    for weekday in WEEKDAYS[1:]:
        hours = day_hours(editor, weekday)
        await expect(hours.get_by_label("From")).to_have_count(2)
        await expect(hours.get_by_label("From").nth(0)).to_have_value("09:00")
        await expect(hours.get_by_label("Until").nth(1)).to_have_value("15:00")
    await expect(day_hours(editor, "Saturday")).to_contain_text("Day off")
    # A range that ends before it starts is refused here, the day named, nothing sent.
    saturday = day_hours(editor, "Saturday")
    await saturday.get_by_role("button", name="Add hours to Saturday").click()
    await saturday.get_by_label("From").fill("17:00")
    await saturday.get_by_label("Until").fill("09:00")
    await editor.get_by_label("Slot length, minutes").fill("30")
    await editor.get_by_role("button", name="Save weekly hours").click()
    await expect(editor.get_by_test_id("hours-problem")).to_contain_text(
        f"Saturday: 17:00{DASH}09:00 ends before it starts"
    )
    await expect(saturday.get_by_label("From")).to_have_attribute("aria-invalid", "true")
    await saturday.get_by_role("button", name="Remove Saturday hours 1").click()
    await expect(saturday).to_contain_text("Day off")
    await editor.get_by_label("Valid until (blank: open-ended)").fill(
        (today - timedelta(days=1)).isoformat()
    )
    await editor.get_by_role("button", name="Save weekly hours").click()
    await expect(editor.get_by_test_id("form-error")).to_have_attribute("data-field", "validUntil")
    await expect(editor.get_by_label("Valid until (blank: open-ended)")).to_have_attribute(
        "aria-invalid", "true"
    )
    assert (await web_gql(DOCTOR, variables, web_admin.token)).data["doctor"]["schedule"] is None
    await editor.get_by_label("Valid until (blank: open-ended)").fill("")
    await editor.get_by_role("button", name="Save weekly hours").click()
    await expect(editor.get_by_test_id("schedule-result").first).to_contain_text("slots added")
    saved = (await web_gql(DOCTOR, variables, web_admin.token)).data["doctor"]
    assert saved["schedule"]["slotMinutes"] == 30
    assert [d["weekday"] for d in saved["schedule"]["weekly"]] == [w.upper() for w in WEEKDAYS]
    assert saved["schedule"]["weekly"][0]["ranges"] == [
        {"start": "09:00", "end": "12:00"},
        {"start": "13:00", "end": "15:00"},
    ]
    assert [s["startTime"] for s in saved["monday"]] == [
        "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "13:00", "13:30", "14:00", "14:30"
    ]  # fmt: skip
    assert saved["off"], "Tuesday has slots before the day off"

    # A day off removes that day's slots, and is listed.
    await editor.get_by_label("Date", exact=True).fill(day_off.isoformat())
    await editor.get_by_label("Reason (optional)").fill("Conference")
    await editor.get_by_role("button", name="Mark day off").click()
    overrides = editor.get_by_test_id("override-list")
    await expect(overrides.locator(f'[data-date="{day_off}"]')).to_contain_text(
        "day off (Conference)"
    )
    saved = (await web_gql(DOCTOR, variables, web_admin.token)).data["doctor"]
    assert saved["dateOverrides"] == [
        {"date": day_off.isoformat(), "reason": "Conference", "ranges": []}
    ]
    assert saved["off"] == []
    await assert_fits_width(page)
    await shot(page, "schedule")

    # The fee changes, then the doctor is deactivated.
    await open_tab(page, "Doctors")
    row = page.locator(f'[data-testid="doctor-row"][data-doctor-id="{doctor["id"]}"]')
    await row.get_by_role("button", name=f"Edit {name}").click()
    await row.get_by_label("Consultation fee").fill("600")
    await row.get_by_role("button", name="Save").click()
    await expect(row).to_contain_text("fee 600.00")
    await row.get_by_role("button", name=f"Deactivate {name}").click()
    # Deactivating rewrites the doctor's ~400 future slots, all or nothing: on a busy 2-core
    # machine that outlasts Playwright's 5 s default wait (a bound, not a speed check: B5 times it).
    await expect(row).to_have_attribute("data-active", "false", timeout=60_000)
    saved = (await web_gql(DOCTOR, variables, web_admin.token)).data["doctor"]
    assert saved["consultationFee"] == 600 and saved["isActive"] is False
    await shot(page)
