"""The patient portal in a real browser (web/src/patient/): two patients watching one day, the
hold countdown, booking, rescheduling and cancelling from "my appointments", a phone-width run,
refusals explained, and an emergency request reaching the clinic.

The API process, the store and Redis are real (tests/browser/conftest.py); each test makes its
own specialty, doctor and slots, so tests never share a day grid.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, Locator, Page, expect

from tests.browser.conftest import NewContext
from tests.browser.staff import until_cells_follow
from tests.browser.support import (
    WebUser,
    clinic_day,
    make_patient,
    open_portal_day,
    slot_cell,
    storage_state,
)
from tests.graphql_client import GraphQL, unique
from tests.servers import ApiServer
from tests.subscriptions_client import connect, until_ready

Shot = Callable[..., Awaitable[Path]]
SHORT_LOCK_SECONDS = 8

LOCK = "mutation($slotId: ID!) { lockSlot(slotId: $slotId) { id state } }"
BOOK = """mutation($slotId: ID!) {
  bookAppointment(input: {slotId: $slotId, reasonForVisit: "Follow-up"}) { id status }
}"""
MY_APPOINTMENTS = """{ myAppointments {
  id status reasonForVisit cancellationReason appointmentTime slot { id }
} }"""
SEND_EMERGENCY = """mutation($input: EmergencyRequestInput!) {
  sendEmergencyRequest(input: $input) { id }
}"""
EMERGENCIES = "subscription { emergencyRequests { message patient { id } doctor { id } } }"


async def local_patient(gql: GraphQL, name: str = "Asha Patient") -> WebUser:
    """A patient in the doctor's zone (make_clinic's), so the portal shows the slots' own times
    (tests/browser/test_patient_own_time.py covers a patient elsewhere)."""
    return await make_patient(gql, name, timezone="Asia/Kolkata")


def cell(page: Page, slot: dict[str, Any]) -> Locator:
    return slot_cell(page, slot["id"])


async def test_two_patients_see_a_hold_greyed_within_a_second_and_then_booked(
    new_context: NewContext, base_url: str, web_gql: GraphQL, web_admin: WebUser, shot: Shot
) -> None:
    clinic, day, slots = await clinic_day(web_gql, web_admin)
    patient_a, patient_b = await asyncio.gather(
        local_patient(web_gql, "Asha A"), local_patient(web_gql, "Bala B")
    )
    page_a = await (await new_context("desktop", patient_a)).new_page()
    page_b = await (await new_context("desktop", patient_b)).new_page()
    await asyncio.gather(
        open_portal_day(page_a, base_url, clinic, day),
        open_portal_day(page_b, base_url, clinic, day),
    )
    await until_cells_follow(
        web_gql, slots[3]["id"], [cell(page_a, slots[3]), cell(page_b, slots[3])]
    )

    # A holds the first time: A's own view shows it as A's, with the countdown to expiresAt.
    await cell(page_a, slots[0]).click()
    countdown = page_a.get_by_test_id("lock-countdown")
    await expect(countdown).to_be_visible()
    # The bound: from A's lock taking effect to B seeing it greyed, within 1 s.
    await expect(cell(page_b, slots[0])).to_have_attribute("data-state", "LOCKED", timeout=1000)
    await expect(cell(page_b, slots[0])).to_have_attribute("aria-disabled", "true")
    # Not by colour alone: its name says so, and B's live region announces the change.
    # Named by what it shows first (axe's label-content-name-mismatch), then the whole of it.
    await expect(cell(page_b, slots[0])).to_have_accessible_name(
        re.compile(
            rf"^{slots[0]['startTime']} Held\s*, {slots[0]['startTime']} to"
            rf" {slots[0]['endTime']}, held by another patient$"
        )
    )
    await expect(page_b.get_by_test_id("announcer-polite")).to_contain_text(
        f"{slots[0]['startTime']} is now held by another patient"
    )
    await expect(cell(page_a, slots[0])).to_have_attribute("data-state", "MINE")
    await expect(countdown).to_have_text(re.compile(r"^[45]:[0-5]\d$"))
    first = await countdown.text_content()
    await expect(countdown).not_to_have_text(first or "", timeout=3000)  # it counts down
    await shot(page_a, "a-holds")
    await shot(page_b, "b-sees-greyed")

    # B cannot take it: the greyed cell (aria-disabled, so clicked by force) does nothing.
    await cell(page_b, slots[0]).click(force=True)
    await expect(page_b.get_by_test_id("lock-countdown")).to_have_count(0)

    # A books with a reason; B sees the time taken, A sees the appointment.
    await page_a.get_by_label("Reason for the visit (optional)").fill("Chest pain on stairs")
    await page_a.get_by_role("button", name="Confirm booking").click()
    row = page_a.get_by_test_id("appointment-row")
    await expect(row).to_have_attribute("data-status", "SCHEDULED")
    await expect(row).to_contain_text(slots[0]["startTime"])
    await expect(row).to_contain_text(clinic.timezone)
    await expect(cell(page_b, slots[0])).to_have_attribute("data-state", "BOOKED")
    await expect(cell(page_a, slots[0])).to_have_attribute("data-state", "YOURS")
    await expect(page_a.get_by_test_id("lock-countdown")).to_have_count(0)
    await shot(page_a, "a-booked")
    await shot(page_b, "b-sees-taken")

    booked = (await web_gql(MY_APPOINTMENTS, token=patient_a.token)).data["myAppointments"]
    assert [(a["slot"]["id"], a["status"], a["reasonForVisit"]) for a in booked] == [
        (slots[0]["id"], "SCHEDULED", "Chest pain on stairs")
    ]
    assert (await web_gql(MY_APPOINTMENTS, token=patient_b.token)).data["myAppointments"] == []


async def test_reschedule_and_cancel_from_my_appointments(
    new_context: NewContext, base_url: str, web_gql: GraphQL, web_admin: WebUser, shot: Shot
) -> None:
    clinic, day, slots = await clinic_day(web_gql, web_admin)
    patient = await local_patient(web_gql)
    booked = await web_gql(BOOK, {"slotId": slots[0]["id"]}, patient.token)
    appointment_id = booked.data["bookAppointment"]["id"]
    page = await (await new_context("desktop", patient)).new_page()
    await open_portal_day(page, base_url, clinic, day)
    row = page.locator(f'[data-testid="appointment-row"][data-appointment-id="{appointment_id}"]')
    await expect(row).to_have_attribute("data-status", "SCHEDULED")
    await expect(cell(page, slots[0])).to_have_attribute("data-state", "YOURS")

    # Reschedule: pick another time in the grid, confirm the move.
    await row.get_by_role("button", name="Reschedule").click()
    await expect(page.get_by_test_id("reschedule-banner")).to_contain_text(slots[0]["startTime"])
    await cell(page, slots[2]).click()
    await expect(page.get_by_test_id("reschedule-banner")).to_contain_text(slots[2]["startTime"])
    await page.get_by_role("button", name="Move it here").click()
    await expect(page.get_by_test_id("reschedule-banner")).to_have_count(0)
    await expect(row).to_contain_text(slots[2]["startTime"])
    await expect(row).to_have_attribute("data-status", "SCHEDULED")
    await expect(cell(page, slots[0])).to_have_attribute("data-state", "AVAILABLE")
    await expect(cell(page, slots[2])).to_have_attribute("data-state", "YOURS")
    await shot(page, "rescheduled")
    moved = (await web_gql(MY_APPOINTMENTS, token=patient.token)).data["myAppointments"]
    assert [(a["id"], a["slot"]["id"], a["status"]) for a in moved] == [
        (appointment_id, slots[2]["id"], "SCHEDULED")
    ]

    # Cancel, with a reason: the row says so and the time is free again.
    await row.get_by_role("button", name="Cancel…").click()
    await row.get_by_label("Why are you cancelling? (optional)").fill("Feeling better")
    await row.get_by_role("button", name=re.compile("^Cancel the")).click()
    cancelled = page.locator(
        f'[data-testid="appointment-row"][data-appointment-id="{appointment_id}"]'
    )
    await expect(cancelled).to_have_attribute("data-status", "CANCELLED")
    await expect(cell(page, slots[2])).to_have_attribute("data-state", "AVAILABLE")
    await page.get_by_text(re.compile(r"^Past and cancelled")).click()
    await shot(page, "cancelled")
    after = (await web_gql(MY_APPOINTMENTS, token=patient.token)).data["myAppointments"]
    assert [(a["status"], a["cancellationReason"]) for a in after] == [
        ("CANCELLED", "Feeling better")
    ]


async def test_patient_flow_at_375px_from_specialty_to_booking(
    new_context: NewContext, base_url: str, web_gql: GraphQL, web_admin: WebUser, shot: Shot
) -> None:
    clinic, day, slots = await clinic_day(web_gql, web_admin)
    patient = await local_patient(web_gql)
    page = await (await new_context("mobile", patient)).new_page()
    await page.goto(f"{base_url}/#/patient")

    # Specialty, then the doctor: its fee and time zone are shown before choosing.
    await page.get_by_label("Specialty", exact=True).select_option(label=clinic.specialty_name)
    doctor = page.locator(f'[data-testid="doctor-option"][data-doctor-id="{clinic.doctor_id}"]')
    await expect(doctor).to_contain_text(clinic.doctor_name)
    # The fee in the clinic's currency, formatted by the browser ("Fee ₹500").
    await expect(doctor).to_contain_text(re.compile(rf"Fee \D*{clinic.fee:g}"))
    await expect(doctor).to_contain_text(clinic.timezone)
    await doctor.click()

    # The calendar counts tomorrow's bookable times; choosing it draws that day's grid.
    tomorrow = page.locator(f'[data-testid="calendar-day"][data-date="{day.isoformat()}"]')
    await expect(tomorrow).to_have_attribute("data-bookable", str(len(slots)))
    await tomorrow.click()
    await expect(page.get_by_test_id("day-grid")).to_have_attribute("data-ready", "true")
    assert f"doctor={clinic.doctor_id}" in page.url and f"date={day.isoformat()}" in page.url
    await expect(page.get_by_test_id("slot-cell")).to_have_count(len(slots))

    await cell(page, slots[1]).click()
    await expect(page.get_by_test_id("lock-countdown")).to_be_visible()
    # After a reload the hold is still there (myLocks), with its countdown.
    await page.reload()
    await expect(page.get_by_test_id("lock-countdown")).to_be_visible()
    await expect(cell(page, slots[1])).to_have_attribute("data-state", "MINE")
    await shot(page, "held")

    await page.get_by_role("button", name="Confirm booking").click()
    row = page.get_by_test_id("appointment-row")
    await expect(row).to_have_attribute("data-status", "SCHEDULED")
    await expect(row).to_contain_text(slots[1]["startTime"])
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways at 375 px ({width} px wide)"
    await shot(page, "booked")


async def test_a_refusal_is_explained_lock_limit_reached(
    new_context: NewContext, base_url: str, web_gql: GraphQL, web_admin: WebUser, shot: Shot
) -> None:
    clinic, day, slots = await clinic_day(web_gql, web_admin)
    patient = await local_patient(web_gql)
    # Two holds already (the limit), taken elsewhere: the portal restores both from myLocks.
    for slot in slots[:2]:
        await web_gql(LOCK, {"slotId": slot["id"]}, patient.token)
    page = await (await new_context("desktop", patient)).new_page()
    await open_portal_day(page, base_url, clinic, day)
    await expect(page.get_by_test_id("lock-countdown")).to_have_count(2)

    await cell(page, slots[2]).click()
    notice = page.get_by_test_id("patient-notice")
    await expect(notice).to_have_attribute("data-code", "LOCK_LIMIT_REACHED")
    await expect(notice).to_have_attribute("role", "alert")
    await expect(notice).to_contain_text("already holding 2 times")
    await expect(cell(page, slots[2])).to_have_attribute("data-state", "AVAILABLE")
    await shot(page, "lock-limit")

    # Releasing one hold makes room: the same time can then be held.
    await page.get_by_test_id("hold").first.get_by_role("button", name="Release").click()
    await expect(page.get_by_test_id("lock-countdown")).to_have_count(1)
    # By keyboard this time: the cells are buttons in the tab order.
    await cell(page, slots[2]).focus()
    await page.keyboard.press("Enter")
    await expect(cell(page, slots[2])).to_have_attribute("data-state", "MINE")
    await expect(page.get_by_test_id("lock-countdown")).to_have_count(2)


async def test_an_emergency_request_from_the_portal_reaches_the_clinic(
    new_context: NewContext,
    base_url: str,
    web_server: ApiServer,
    web_gql: GraphQL,
    web_admin: WebUser,
    shot: Shot,
) -> None:
    clinic, day, _ = await clinic_day(web_gql, web_admin, count=1)
    patient = await local_patient(web_gql)
    message = unique("Severe bleeding after a fall ")
    async with connect(web_server.ws_url, web_admin.token) as admin_socket:
        requests = admin_socket.subscribe(
            EMERGENCIES, skip=lambda data: data["emergencyRequests"]["message"].startswith("probe")
        )

        async def probe() -> None:  # each probe from a new patient: 5 a minute per patient
            prober = await make_patient(web_gql, "Probe Patient")
            await web_gql(SEND_EMERGENCY, {"input": {"message": unique("probe ")}}, prober.token)

        await until_ready([requests], probe)
        page = await (await new_context("desktop", patient)).new_page()
        await open_portal_day(page, base_url, clinic, day)
        await page.get_by_role("button", name="Send an emergency request").click()
        # A deep link draws the grid before the doctor's profile: wait until the form names it.
        await expect(page.locator(".pp-emergency")).to_contain_text(
            f"This goes to {clinic.doctor_name}"
        )
        await page.get_by_label("What is happening?").fill(message)
        await page.get_by_role("button", name="Send now").click()
        await expect(page.get_by_test_id("patient-notice")).to_contain_text(
            f"Emergency request sent to {clinic.doctor_name}"
        )
        received = await requests.next()
    assert received["emergencyRequests"] == {
        "message": message,
        "patient": {"id": patient.id},
        "doctor": {"id": clinic.doctor_id},
    }
    await shot(page, "sent")


def record_console_error(message: ConsoleMessage, problems: list[str]) -> None:
    if message.type == "error":
        problems.append(message.text)


@pytest.fixture(scope="module")
def short_lock_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    """A second API process on the same store and Redis whose holds last seconds, not minutes."""
    server = ApiServer(
        store_uri, db_name, env={"SLOT_LOCK_TTL_SECONDS": str(SHORT_LOCK_SECONDS)}
    ).start(log_dir)
    yield server
    server.stop()


async def test_a_hold_left_to_expire_frees_the_time_for_everyone(
    browser: Browser,
    short_lock_server: ApiServer,
    web_gql: GraphQL,
    web_admin: WebUser,
    shot: Shot,
) -> None:
    base_url = f"http://127.0.0.1:{short_lock_server.port}"
    clinic, day, slots = await clinic_day(web_gql, web_admin, count=2)
    patient_a, patient_b = await asyncio.gather(local_patient(web_gql), local_patient(web_gql))
    problems: list[str] = []
    contexts = [
        await browser.new_context(
            base_url=base_url,
            storage_state=storage_state(base_url, user),  # type: ignore[arg-type]
        )
        for user in (patient_a, patient_b)
    ]
    try:
        page_a, page_b = [await context.new_page() for context in contexts]
        for page in (page_a, page_b):  # as the shared new_context fixture does
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("console", lambda message: record_console_error(message, problems))
        await asyncio.gather(
            open_portal_day(page_a, base_url, clinic, day),
            open_portal_day(page_b, base_url, clinic, day),
        )
        gql = GraphQL(web_gql.http, short_lock_server.url)
        await until_cells_follow(
            gql, slots[1]["id"], [cell(page_a, slots[1]), cell(page_b, slots[1])]
        )

        await cell(page_a, slots[0]).click()
        await expect(page_a.get_by_test_id("lock-countdown")).to_have_text(re.compile(r"^0:0\d$"))
        await expect(cell(page_b, slots[0])).to_have_attribute("data-state", "LOCKED")
        await shot(page_a, "held")
        # Nobody books: the countdown runs out, the portal says so, and the server's release
        # reaches the other patient too.
        notice = page_a.get_by_test_id("patient-notice")
        await expect(notice).to_contain_text("ran out", timeout=SHORT_LOCK_SECONDS * 1000 + 5000)
        await expect(page_a.get_by_test_id("lock-countdown")).to_have_count(0)
        await expect(cell(page_a, slots[0])).to_have_attribute("data-state", "AVAILABLE")
        await expect(cell(page_b, slots[0])).to_have_attribute("data-state", "AVAILABLE")
        await shot(page_a, "expired")
        assert not problems, problems
    finally:
        for context in contexts:
            await context.close()
