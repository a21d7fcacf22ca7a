"""The doctor's day in a real browser, at 375 px: the signed-in doctor's appointments in its own
timezone, confirm -> start -> complete (with notes) and no-show, each saved through the API;
bookings and cancellations made elsewhere appear without reloading; an emergency alerts it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from playwright.async_api import expect

from tests.browser.conftest import NewContext
from tests.browser.staff import (
    appointment,
    book,
    cancel,
    doctor_row,
    open_doctor_day,
    send_emergency,
    until_doctor_day_follows,
)
from tests.browser.support import (
    WebUser,
    day_times,
    make_clinic,
    make_patient,
    make_slots,
    today_in,
)
from tests.graphql_client import GraphQL, unique
from tests.visit_clock import Store, starts_in

Shot = Callable[..., Awaitable[Path]]


async def test_doctor_confirms_starts_completes_and_sees_its_day_change_live(
    new_context: NewContext, web_gql: GraphQL, web_admin: WebUser, store: Store, shot: Shot
) -> None:
    clinic = await make_clinic(web_gql, web_admin, timezone="America/New_York")
    day = today_in(clinic.timezone) + timedelta(days=1)
    slots = await make_slots(web_gql, web_admin, clinic, day, day_times(4, first="09:00"))
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
    await expect(row).to_have_attribute("data-status", "COMPLETED")
    await expect(row.get_by_role("button")).to_have_count(0)  # final: nothing more to do
    done = await appointment(web_gql, clinic.doctor, seen["id"])
    assert done == {
        "id": seen["id"],
        "status": "COMPLETED",
        "notes": "Iron low; recheck in 3 months",
    }

    await starts_in(store, walk_in["id"], -11)  # a no-show only once the patient is late
    await doctor_row(page, walk_in["id"]).get_by_role("button", name="No-show").click()
    await expect(doctor_row(page, walk_in["id"])).to_have_attribute("data-status", "NO_SHOW")
    assert (await appointment(web_gql, clinic.doctor, walk_in["id"]))["status"] == "NO_SHOW"

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
    await shot(page)
