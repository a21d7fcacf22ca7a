"""The doctor's day in a real browser, at 375 px: the signed-in doctor's appointments in its own
timezone, confirm -> start -> complete (with notes), no-show and its undo, each saved through
the API; bookings and cancellations made elsewhere appear without reloading; an emergency
alerts it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import expect

from tests.browser.conftest import NewContext
from tests.browser.staff import (
    appointment,
    assert_focus_on,
    book,
    cancel,
    doctor_row,
    open_doctor_day,
    send_emergency,
    until_doctor_day_follows,
)
from tests.browser.support import (
    WebUser,
    clinic_day,
    make_patient,
)
from tests.graphql_client import GraphQL, unique
from tests.visit_clock import Store, starts_in

Shot = Callable[..., Awaitable[Path]]


async def test_doctor_confirms_starts_completes_and_sees_its_day_change_live(
    new_context: NewContext, web_gql: GraphQL, web_admin: WebUser, store: Store, shot: Shot
) -> None:
    clinic, day, slots = await clinic_day(
        web_gql, web_admin, 4, first="09:00", timezone="America/New_York"
    )
    first, second_patient, third_patient = [
        await make_patient(web_gql, unique("Kiran ")) for _ in range(3)
    ]
    seen = await book(web_gql, first, slots[0]["id"], reason="Follow-up on blood test")

    page = await (await new_context("mobile", clinic.doctor)).new_page()
    day_list = await open_doctor_day(page, day)
    await expect(day_list).to_contain_text("America/New_York")  # the doctor's zone, named
    row = doctor_row(page, seen["id"])
    await expect(row).to_have_attribute("data-status", "SCHEDULED")
    await expect(row).to_contain_text("09:00\u201309:30")  # an en dash
    await expect(row).to_contain_text("Follow-up on blood test")
    probe = await until_doctor_day_follows(web_gql, page, third_patient, slots[3]["id"])

    # Booked elsewhere: it appears without a reload, in time order.
    walk_in = await book(web_gql, second_patient, slots[2]["id"], reason="Cough")
    await expect(doctor_row(page, walk_in["id"])).to_have_attribute("data-status", "SCHEDULED")
    rows = page.get_by_test_id("doctor-appointment")
    await expect(rows.first).to_have_attribute("data-appointment-id", seen["id"])  # by time

    await row.get_by_role("button", name="Confirm").click()
    await expect(row).to_have_attribute("data-status", "CONFIRMED")
    assert (await appointment(web_gql, clinic.doctor, seen["id"]))["status"] == "CONFIRMED"
    await starts_in(store, seen["id"], -5)  # a visit starts only near its time
    await row.get_by_role("button", name="Start").click()
    await expect(row).to_have_attribute("data-status", "IN_PROGRESS")
    await row.get_by_label("Notes (optional)").fill("Iron low; recheck in 3 months")
    await row.get_by_role("button", name="Complete").click()
    await row.get_by_role("button", name="Yes, complete").click()  # asked first
    await expect(row).to_have_attribute("data-status", "COMPLETED")
    await expect(row).to_be_focused()  # the focus stays on the row acted on
    await expect(row.get_by_role("button")).to_have_count(0)  # final: nothing more to do
    done = await appointment(web_gql, clinic.doctor, seen["id"])
    assert done == {
        "id": seen["id"],
        "status": "COMPLETED",
        "notes": "Iron low; recheck in 3 months",
    }

    # Cancelled by its patient elsewhere: it shows up live, with nothing left to do.
    await cancel(web_gql, third_patient, probe)
    await expect(doctor_row(page, probe)).to_have_attribute("data-status", "CANCELLED")
    await expect(doctor_row(page, probe).get_by_role("button")).to_have_count(0)
    await shot(page, "day")

    # Doctors get emergency requests too.
    message = "Allergic reaction in room 4"
    emergency = await send_emergency(web_gql, third_patient, message)
    alert = page.get_by_role("alertdialog")
    await expect(alert).to_have_attribute("data-emergency-id", emergency)
    await expect(alert).to_contain_text(message)
    await shot(page, "emergency")
    await alert.get_by_role("button", name="Acknowledge").click()
    await expect(alert).to_be_hidden()

    # A no-show only once the patient is late: the page reads the moved start again.
    await starts_in(store, walk_in["id"], -11)
    await page.reload()
    await open_doctor_day(page, day)
    late = doctor_row(page, walk_in["id"])
    await late.get_by_role("button", name="No-show").click()
    await late.get_by_role("button", name="Yes, no-show").click()
    await expect(late).to_have_attribute("data-status", "NO_SHOW")
    assert (await assert_focus_on(page, late))["appointmentId"] == walk_in["id"]
    assert (await appointment(web_gql, clinic.doctor, walk_in["id"]))["status"] == "NO_SHOW"
    await shot(page)

    # Marked by mistake: the patient is in the waiting room. The undo (within 24 hours) puts it
    # back to confirmed, the focus still on the row, and the visit starts as any other.
    await late.get_by_role("button", name="Undo no-show").click()
    await expect(late).to_have_attribute("data-status", "CONFIRMED")
    assert (await assert_focus_on(page, late))["appointmentId"] == walk_in["id"]
    assert (await appointment(web_gql, clinic.doctor, walk_in["id"]))["status"] == "CONFIRMED"
    await expect(late.get_by_role("button", name="Undo no-show")).to_have_count(0)
    await late.get_by_role("button", name="Start").click()
    await expect(late).to_have_attribute("data-status", "IN_PROGRESS")
    await assert_focus_on(page, late)


async def test_doctor_checks_in_starts_completes_and_cannot_mark_a_no_show_early(
    new_context: NewContext, web_gql: GraphQL, web_admin: WebUser, store: Store, shot: Shot
) -> None:
    clinic, day, slots = await clinic_day(web_gql, web_admin, 2, first="09:00")
    anil, usha = [await make_patient(web_gql, unique(n)) for n in ("Anil ", "Usha ")]
    visit = await book(web_gql, anil, slots[0]["id"], reason="Knee pain")
    late = await book(web_gql, usha, slots[1]["id"], reason="Fever")
    await starts_in(store, visit["id"], 30)  # check-in opens 2 h before, a start 15 min before
    await starts_in(store, late["id"], -3)  # started, but inside the no-show grace

    page = await (await new_context("desktop", clinic.doctor)).new_page()
    await open_doctor_day(page, day)
    row = doctor_row(page, visit["id"])
    # Not yet its time: a no-show is not offered at all.
    await expect(row.get_by_role("button", name="No-show")).to_have_count(0)
    await row.get_by_role("button", name="Check in").click()
    await expect(row.get_by_test_id("arrived")).to_contain_text("Arrived")
    await expect(row).to_have_attribute("data-arrived", "true")
    # After every action the focus is on the row acted on, never the page's top.
    assert (await assert_focus_on(page, row))["appointmentId"] == visit["id"]
    await expect(page.get_by_test_id("waiting-count")).to_have_text("1 arrived and waiting")
    await row.get_by_role("button", name="Confirm").click()
    await expect(row).to_have_attribute("data-status", "CONFIRMED")
    await assert_focus_on(page, row)
    # Too early to start: the server's refusal says from when it is possible.
    await row.get_by_role("button", name="Start").click()
    await expect(row.get_by_role("alert")).to_contain_text("Too early")
    await expect(row.get_by_role("alert")).to_contain_text("possible from")
    await expect(row).to_have_attribute("data-status", "CONFIRMED")
    await starts_in(store, visit["id"], -5)
    await row.get_by_role("button", name="Start").click()
    await expect(row).to_have_attribute("data-status", "IN_PROGRESS")
    await assert_focus_on(page, row)
    await row.get_by_role("button", name="Complete").click()
    await row.get_by_role("button", name="Back").click()  # changed their mind
    await assert_focus_on(page, row)
    await expect(row).to_have_attribute("data-status", "IN_PROGRESS")
    await row.get_by_role("button", name="Complete").click()
    await row.get_by_role("button", name="Yes, complete").click()
    await expect(row).to_have_attribute("data-status", "COMPLETED")
    await assert_focus_on(page, row)
    assert (await appointment(web_gql, clinic.doctor, visit["id"]))["status"] == "COMPLETED"

    # Started 3 minutes ago: offered, but the server refuses inside the grace and says until when.
    waiting = doctor_row(page, late["id"])
    await waiting.get_by_role("button", name="No-show").click()
    await waiting.get_by_role("button", name="Yes, no-show").click()
    await expect(waiting.get_by_role("alert")).to_contain_text("Too early to mark it no show")
    await expect(waiting).to_have_attribute("data-status", "SCHEDULED")
    assert (await appointment(web_gql, clinic.doctor, late["id"]))["status"] == "SCHEDULED"
    await shot(page)
