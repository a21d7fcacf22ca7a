"""The front desk on the admin board in a real browser (issue 22): find a patient as you type
or register a walk-in inline, hold and book a free time for them, then open the booking (name,
phone, reason, status, history) and act on it: check in, reschedule, cancel with a reason."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import Page, expect

from tests.browser.conftest import NewContext
from tests.browser.staff import (
    assert_focus_on,
    board_cell,
    open_admin_board,
    until_board_follows,
)
from tests.browser.support import (
    WebUser,
    clinic_day,
    make_patient,
)
from tests.graphql_client import GraphQL
from tests.visit_clock import Store, starts_in

Shot = Callable[..., Awaitable[Path]]

APPOINTMENT = """query($id: ID!) {
  appointment(id: $id) {
    status reasonForVisit checkedInAt cancellationReason slot { id } patient { id name phone }
  }
}"""
PATIENTS = """query($search: String!) { patients(search: $search) { edges { node { id } } } }"""


def surname() -> str:
    """Letters only, unique: a search for it finds this test's patient alone."""
    return "".join(chr(97 + int(c, 16) % 26) for c in uuid.uuid4().hex[:10]).capitalize()


async def choose_cell(page: Page, slot_id: str) -> None:
    await board_cell(page, slot_id).get_by_role("button").click()


async def test_front_desk_finds_or_registers_a_walk_in_books_them_and_opens_the_booking(
    new_context: NewContext, web_gql: GraphQL, web_admin: WebUser, store: Store, shot: Shot
) -> None:
    _, day, slots = await clinic_day(web_gql, web_admin, 4, first="10:00")
    known_name = f"Ravi {surname()}"
    known = await make_patient(web_gql, name=known_name)
    page = await (await new_context("desktop", web_admin)).new_page()
    await open_admin_board(page, day)
    await until_board_follows(web_gql, page, slots[3]["id"])

    # A caller already known: found by typing part of the surname, held, then booked.
    await choose_cell(page, slots[0]["id"])
    panel = page.get_by_test_id("book-for-panel")
    await expect(panel).to_contain_text("Book 10:00")
    await panel.get_by_label("Find a patient").fill(known_name.split()[1][:6].lower())
    hit = panel.locator(f'[data-testid="patient-hit"][data-patient-id="{known.id}"]')
    await hit.click()
    await expect(panel.get_by_test_id("held-until")).to_contain_text("Held for them until")
    await expect(board_cell(page, slots[0]["id"])).to_have_attribute("data-holder", known_name)
    await panel.get_by_label("Reason for the visit").fill("Chest pain")
    await panel.get_by_role("button", name=f"Book for {known_name}").click()
    opened = page.get_by_test_id("appointment-panel")
    await expect(opened).to_contain_text(known_name)
    # After each action the focus is on its result, never back at the top of the page.
    result = opened.get_by_test_id("desk-result")
    focus = await assert_focus_on(page, result)
    assert focus["text"] == f"Booked 10:00 for {known_name}.", focus
    await expect(opened.get_by_test_id("opened-reason")).to_have_text("Chest pain")
    first_id = await opened.get_attribute("data-appointment-id")
    assert first_id
    await expect(board_cell(page, slots[0]["id"])).to_have_attribute(
        "data-appointment-id", first_id
    )
    booked = (await web_gql(APPOINTMENT, {"id": first_id}, web_admin.token)).data["appointment"]
    assert booked["patient"]["id"] == known.id
    assert booked["status"] == "SCHEDULED"

    # A walk-in: nobody matches, so the desk registers them inline; a bad phone is refused first.
    walk_in = f"Meena {surname()}"
    await choose_cell(page, slots[1]["id"])
    panel = page.get_by_test_id("book-for-panel")
    await panel.get_by_label("Find a patient").fill(walk_in.split()[1].lower())
    await expect(panel).to_contain_text("No patient matches")
    await panel.get_by_role("button", name="New patient").click()
    form = panel.get_by_test_id("new-patient-form")
    await form.get_by_label("Name", exact=True).fill(walk_in)
    await form.get_by_label("Phone").fill("12345")
    await form.get_by_role("button", name="Register patient").click()
    await expect(form.get_by_test_id("form-error")).to_have_attribute("data-field", "phone")
    found = await web_gql(PATIENTS, {"search": walk_in.split()[1]}, web_admin.token)
    assert found.data["patients"]["edges"] == []  # nothing written
    await form.get_by_label("Phone").fill("098765 43210")
    await form.get_by_role("button", name="Register patient").click()
    await expect(panel.get_by_test_id("chosen-patient")).to_contain_text("+91 98765 43210")
    await panel.get_by_role("button", name=f"Book for {walk_in}").click()
    await expect(opened.get_by_test_id("opened-patient")).to_have_text(walk_in)
    await expect(opened.get_by_test_id("opened-phone")).to_have_text("+91 98765 43210")
    second_id = await opened.get_attribute("data-appointment-id")
    assert second_id and second_id != first_id
    await expect(board_cell(page, slots[1]["id"])).to_have_attribute("data-holder", walk_in)

    # The first booking, opened from its cell: it arrives (check-in opens 2 h before its time).
    await starts_in(store, first_id, 30)
    await choose_cell(page, slots[0]["id"])
    await expect(opened).to_have_attribute("data-appointment-id", first_id)
    await expect(opened.get_by_test_id("opened-history")).to_contain_text("booked by Administrator")
    await opened.get_by_role("button", name="Check in").click()
    await expect(opened.get_by_test_id("arrived")).to_contain_text("arrived")
    focus = await assert_focus_on(page, result)
    assert focus["appointmentId"] == first_id and "checked in at" in str(focus["text"]), focus
    checked = (await web_gql(APPOINTMENT, {"id": first_id}, web_admin.token)).data["appointment"]
    assert checked["checkedInAt"] is not None
    await shot(page, "opened")

    # The walk-in moves to the last free time, then cancels with a reason the patient is told.
    await choose_cell(page, slots[1]["id"])
    await expect(opened).to_have_attribute("data-appointment-id", second_id)
    await opened.get_by_role("button", name="Reschedule").click()
    await choose_cell(page, slots[2]["id"])
    await expect(board_cell(page, slots[2]["id"])).to_have_attribute(
        "data-appointment-id", second_id
    )
    await expect(board_cell(page, slots[1]["id"])).to_have_attribute("data-state", "AVAILABLE")
    focus = await assert_focus_on(page, result)
    assert str(focus["text"]).startswith(f"Moved to {day.isoformat()} 11:00"), focus
    await opened.get_by_role("button", name="Cancel appointment").click()
    await opened.get_by_label("Reason (told to the patient)").fill("Doctor called away")
    await opened.get_by_role("button", name="Confirm cancellation").click()
    await expect(opened).to_have_attribute("data-status", "CANCELLED")
    await expect(opened).to_contain_text("Doctor called away")
    focus = await assert_focus_on(page, result)
    assert focus["text"] == f"Cancelled 11:00; {walk_in} is notified.", focus
    await expect(board_cell(page, slots[2]["id"])).to_have_attribute("data-state", "AVAILABLE")
    moved = (await web_gql(APPOINTMENT, {"id": second_id}, web_admin.token)).data["appointment"]
    assert moved["slot"]["id"] == slots[2]["id"]
    assert moved["status"] == "CANCELLED"
    assert moved["cancellationReason"] == "Doctor called away"
