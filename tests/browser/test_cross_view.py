"""The three views together, each in its own browser context as its own user: a patient books
in the portal and the admin board shows the hold and the booking live; the doctor confirms in
its day and the patient's "my appointments" shows CONFIRMED without reloading; a patient's
emergency request from the portal alerts the admin board until acknowledged (the doctor's
day hears emergencies too: tests/browser/test_doctor_day.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import Page, expect

from tests.browser.conftest import NewContext
from tests.browser.staff import (
    board_cell,
    cancel,
    doctor_row,
    open_admin_board,
    open_doctor_day,
    until_cells_follow,
    until_doctor_day_follows,
)
from tests.browser.support import (
    WebUser,
    clinic_day,
    make_patient,
    open_portal_day,
    slot_cell,
)
from tests.graphql_client import GraphQL, unique

Shot = Callable[..., Awaitable[Path]]


def count_navigations(page: Page) -> list[str]:
    """Every main-frame navigation from now on: a reload would show up here."""
    seen: list[str] = []
    page.on(
        "framenavigated", lambda frame: seen.append(frame.url) if frame == page.main_frame else None
    )
    return seen


async def test_portal_booking_shows_on_the_board_and_the_doctors_confirmation_reaches_the_patient(
    new_context: NewContext, base_url: str, web_gql: GraphQL, web_admin: WebUser, shot: Shot
) -> None:
    clinic, day, slots = await clinic_day(web_gql, web_admin, 4, first="11:00")
    patient, prober = await asyncio.gather(
        make_patient(web_gql, unique("Asha ")), make_patient(web_gql, "Probe Patient")
    )
    portal = await (await new_context("desktop", patient)).new_page()
    board = await (await new_context("desktop", web_admin)).new_page()
    doctor = await (await new_context("desktop", clinic.doctor)).new_page()
    await asyncio.gather(
        open_portal_day(portal, base_url, clinic, day),
        open_admin_board(board, day),
        open_doctor_day(doctor, day),
    )
    await until_cells_follow(
        web_gql,
        slots[3]["id"],
        [slot_cell(portal, slots[3]["id"]), board_cell(board, slots[3]["id"])],
    )
    probe = await until_doctor_day_follows(web_gql, doctor, prober, slots[2]["id"])
    await cancel(web_gql, prober, probe)
    navigations = count_navigations(portal)

    # The patient holds a time in the portal: the board shows it held, and by whom.
    await slot_cell(portal, slots[0]["id"]).click()
    await expect(portal.get_by_test_id("lock-countdown")).to_be_visible()
    cell = board_cell(board, slots[0]["id"])
    await expect(cell).to_have_attribute("data-state", "LOCKED")
    await expect(cell).to_have_attribute("data-holder", patient.name)

    # ...and books it: the board shows it booked, the feed and the doctor's day list it.
    await portal.get_by_label("Reason for the visit (optional)").fill("Palpitations")
    await portal.get_by_role("button", name="Confirm booking").click()
    mine = portal.get_by_test_id("appointment-row")
    await expect(mine).to_have_attribute("data-status", "SCHEDULED")
    appointment_id = await mine.get_attribute("data-appointment-id")
    assert appointment_id
    await expect(cell).to_have_attribute("data-state", "BOOKED")
    await expect(cell).to_have_attribute("data-appointment-id", appointment_id)
    feed = board.get_by_test_id("appointment-feed")
    await expect(
        feed.locator(f'[data-kind="CREATED"][data-appointment-id="{appointment_id}"]')
    ).to_contain_text(patient.name)
    row = doctor_row(doctor, appointment_id)
    await expect(row).to_have_attribute("data-status", "SCHEDULED")
    await expect(row).to_contain_text("Palpitations")
    await shot(board, "board-booked")

    # The doctor confirms: the patient's page shows it without reloading, the board hears it.
    await row.get_by_role("button", name="Confirm").click()
    await expect(row).to_have_attribute("data-status", "CONFIRMED")
    await expect(mine).to_have_attribute("data-status", "CONFIRMED")
    await expect(mine).to_contain_text("Confirmed")
    assert navigations == [], f"the patient's page reloaded: {navigations}"
    await expect(
        feed.locator(f'[data-kind="CONFIRMED"][data-appointment-id="{appointment_id}"]')
    ).to_have_count(1)
    await expect(cell).to_contain_text("confirmed")
    await shot(portal, "patient-confirmed")
    await shot(doctor, "doctor-confirmed")
    await shot(board)


async def test_emergency_from_the_portal_alerts_the_board_until_acknowledged(
    new_context: NewContext, base_url: str, web_gql: GraphQL, web_admin: WebUser, shot: Shot
) -> None:
    clinic, day, (spare,) = await clinic_day(web_gql, web_admin, 1)
    patient = await make_patient(web_gql, unique("Vikram "))
    portal = await (await new_context("mobile", patient)).new_page()
    board = await (await new_context("desktop", web_admin)).new_page()
    await asyncio.gather(
        open_portal_day(portal, base_url, clinic, day), open_admin_board(board, day)
    )
    # Emergencies share the board's socket with the slot events this probe waits for.
    await until_cells_follow(
        web_gql, spare["id"], [slot_cell(portal, spare["id"]), board_cell(board, spare["id"])]
    )

    message = "My father collapsed in the waiting room"
    await portal.get_by_role("button", name="Send an emergency request").click()
    await portal.get_by_label("What is happening?").fill(message)
    await portal.get_by_role("button", name="Send now").click()
    await shot(portal, "sent")

    alert = board.get_by_role("alertdialog")
    await expect(alert).to_contain_text(message)
    await expect(alert).to_contain_text(patient.name)
    await expect(alert).to_contain_text(clinic.doctor_name)  # it names the doctor asked for
    await shot(board, "alert")
    await alert.get_by_role("button", name="Acknowledge").click()
    await expect(alert).to_be_hidden()
    await expect(board.get_by_test_id("emergency-log")).to_contain_text(message)
    await shot(board)
