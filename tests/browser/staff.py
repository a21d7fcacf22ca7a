"""What the admin, doctor, portal and cross-view browser tests share: the API calls a patient
or the clinic makes around the page under test, opening the staff views on a given date, and
waiting until a page follows the live events."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

from playwright.async_api import Locator, Page, expect

from tests.browser.support import WebUser, make_patient
from tests.graphql_client import GraphQL

LOCK = """mutation($slotId: ID!, $key: String) {
  lockSlot(slotId: $slotId, idempotencyKey: $key) { id state lock { expiresAt } }
}"""
UNLOCK = """mutation($slotId: ID!) { unlockSlot(slotId: $slotId) { id state } }"""
BOOK = """mutation($input: BookAppointmentInput!) {
  bookAppointment(input: $input) { id status slot { id } }
}"""
CANCEL = """mutation($id: ID!, $reason: String, $key: String) {
  cancelAppointment(id: $id, reason: $reason, idempotencyKey: $key) { id status }
}"""
APPOINTMENT = """query($id: ID!) {
  appointment(id: $id) { id status notes }
}"""
SEND_EMERGENCY = """mutation($input: EmergencyRequestInput!) {
  sendEmergencyRequest(input: $input) { id message }
}"""

# Counts the oscillators the page starts: the alarm is Web Audio, so this is how a test hears it.
COUNT_BEEPS = """
window.__beeps = 0;
const createOscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () {
  const oscillator = createOscillator.call(this);
  const start = oscillator.start.bind(oscillator);
  oscillator.start = (...args) => { window.__beeps += 1; return start(...args); };
  return oscillator;
};
"""


def key() -> str:
    return str(uuid.uuid4())


async def lock(gql: GraphQL, patient: WebUser, slot_id: str) -> dict[str, Any]:
    return dict(
        (await gql(LOCK, {"slotId": slot_id, "key": key()}, patient.token)).data["lockSlot"]
    )


async def book(
    gql: GraphQL, patient: WebUser, slot_id: str, reason: str = "Check-up"
) -> dict[str, Any]:
    reply = await gql(
        BOOK,
        {"input": {"slotId": slot_id, "reasonForVisit": reason, "idempotencyKey": key()}},
        patient.token,
    )
    return dict(reply.data["bookAppointment"])


async def cancel(gql: GraphQL, who: WebUser, appointment_id: str) -> dict[str, Any]:
    reply = await gql(
        CANCEL, {"id": appointment_id, "reason": "Feeling better", "key": key()}, who.token
    )
    return dict(reply.data["cancelAppointment"])


async def appointment(gql: GraphQL, who: WebUser, appointment_id: str) -> dict[str, Any]:
    return dict((await gql(APPOINTMENT, {"id": appointment_id}, who.token)).data["appointment"])


async def send_emergency(gql: GraphQL, patient: WebUser, message: str) -> str:
    reply = await gql(SEND_EMERGENCY, {"input": {"message": message}}, patient.token)
    return str(reply.data["sendEmergencyRequest"]["id"])


async def _open_on(page: Page, route: str, test_id: str, day: date) -> Locator:
    """A staff view on `day`, once drawn from a read made after its socket connected."""
    await page.goto(route)
    await page.get_by_label("Date", exact=True).fill(day.isoformat())
    view = page.get_by_test_id(test_id)
    await expect(view).to_have_attribute("data-date", day.isoformat())
    await expect(view).to_have_attribute("data-ready", "true")
    return view


async def open_admin_board(page: Page, day: date) -> Locator:
    return await _open_on(page, "/#/admin", "admin-board", day)


async def open_doctor_day(page: Page, day: date) -> Locator:
    """The signed-in doctor's day."""
    return await _open_on(page, "/#/doctor", "doctor-day", day)


def board_cell(page: Page, slot_id: str) -> Locator:
    return page.locator(f'[data-testid="board-cell"][data-slot-id="{slot_id}"]')


def doctor_row(page: Page, appointment_id: str) -> Locator:
    return page.locator(
        f'[data-testid="doctor-appointment"][data-appointment-id="{appointment_id}"]'
    )


# No protocol message says when a subscription is registered on the server, so a test that
# needs a page to hear the next event first makes probe events until the page shows one.
PROBE_WITHIN_S = 20.0  # a liveness bound, polled; never a speed target
PROBE_STEP_MS = 1500


async def until_cells_follow(gql: GraphQL, slot_id: str, cells: list[Locator]) -> None:
    """A probe patient locks and unlocks `slot_id` until each of `cells` (the slot on some
    page: the board, the portal) shows the hold, then until each shows it free again."""
    prober = await make_patient(gql, "Probe Patient")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PROBE_WITHIN_S
    while True:
        await gql(LOCK, {"slotId": slot_id, "key": key()}, prober.token)
        try:
            for cell in cells:
                await expect(cell).to_have_attribute("data-state", "LOCKED", timeout=PROBE_STEP_MS)
            break
        except AssertionError:
            if loop.time() > deadline:
                raise
        finally:
            await gql(UNLOCK, {"slotId": slot_id}, prober.token)
    for cell in cells:
        await expect(cell).to_have_attribute("data-state", "AVAILABLE")


async def until_board_follows(gql: GraphQL, page: Page, spare_slot_id: str) -> None:
    """The admin board hears slot events: a spare slot's hold shows on it."""
    await until_cells_follow(gql, spare_slot_id, [board_cell(page, spare_slot_id)])


async def until_doctor_day_follows(
    gql: GraphQL, page: Page, patient: WebUser, spare_slot_id: str
) -> str:
    """`patient` books the spare slot (cancelling each unseen try) until the doctor's day shows
    the booking; returns that appointment's id, still SCHEDULED."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PROBE_WITHIN_S
    while True:
        booked = await book(gql, patient, spare_slot_id, reason="Probe")
        try:
            await expect(doctor_row(page, booked["id"])).to_have_attribute(
                "data-status", "SCHEDULED", timeout=PROBE_STEP_MS
            )
            return str(booked["id"])
        except AssertionError:
            await cancel(gql, patient, booked["id"])
            if loop.time() > deadline:
                raise


FOCUSED = """() => {
  const el = document.activeElement;
  const holder = el && el.closest('[data-appointment-id]');
  return {
    tag: el ? el.tagName : null,
    testId: el ? el.getAttribute('data-testid') : null,
    text: el ? (el.textContent || '').trim().slice(0, 200) : null,
    appointmentId: holder ? holder.getAttribute('data-appointment-id') : null,
  };
}"""


async def focused(page: Page) -> dict[str, str | None]:
    """document.activeElement: its tag, test id, text, and the appointment (row or panel) it is
    in; after an action it must be the acted row or the result, never the page's top (BODY)."""
    return dict(await page.evaluate(FOCUSED))


async def assert_focus_on(page: Page, target: Locator) -> dict[str, str | None]:
    """The focus reaches `target` (waited for, as the action's reply is), and it is not BODY."""
    await expect(target).to_be_focused()
    found = await focused(page)
    assert found["tag"] not in (None, "BODY", "HTML"), found
    return found
