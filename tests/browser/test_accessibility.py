"""axe-core on every page and state of the web client (issue 22): sign-in, the patient portal
with a doctor chosen and a time held, the admin board with a booking opened, the doctor's day,
and GraphiQL. Any serious or critical violation fails."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import NewContext
from tests.browser.staff import board_cell, book, open_admin_board, open_doctor_day
from tests.browser.support import WebUser, clinic_day, make_patient, open_portal_day
from tests.graphql_client import GraphQL, unique


async def test_sign_in_and_graphiql_have_no_serious_violation(
    new_context: NewContext, base_url: str
) -> None:
    page = await (await new_context("desktop")).new_page()
    await page.goto("/")
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await assert_accessible(page, "sign-in")
    await page.goto("/graphql")
    await expect(page.locator(".graphiql-container")).to_be_visible()
    await assert_accessible(page, "GraphiQL")


async def test_portal_board_and_doctor_day_have_no_serious_violation(
    new_context: NewContext, base_url: str, web_gql: GraphQL, web_admin: WebUser
) -> None:
    clinic, day, slots = await clinic_day(web_gql, web_admin, 4, first="10:00")
    patient = await make_patient(web_gql, unique("Asha "))
    booked = await book(web_gql, patient, slots[0]["id"], reason="Check-up")

    portal = await (await new_context("desktop", patient)).new_page()
    await open_portal_day(portal, base_url, clinic, day)
    await assert_accessible(portal, "patient portal, doctor chosen")
    # The fee in the clinic's currency (CLINIC_CURRENCY, INR by default), in the page's locale.
    option = portal.locator(f'[data-testid="doctor-option"][data-doctor-id="{clinic.doctor_id}"]')
    await expect(option).to_contain_text("Fee ₹500")

    board = await (await new_context("desktop", web_admin)).new_page()
    await open_admin_board(board, day)
    await assert_accessible(board, "admin board")
    await board_cell(board, slots[0]["id"]).get_by_role("button").click()
    await expect(board.get_by_test_id("appointment-panel")).to_contain_text(patient.name)
    await assert_accessible(board, "admin board, booking opened")
    await board_cell(board, slots[1]["id"]).get_by_role("button").click()
    await expect(board.get_by_test_id("patient-picker")).to_be_visible()
    await assert_accessible(board, "admin board, patient picker")

    doctor = await (await new_context("desktop", clinic.doctor)).new_page()
    await open_doctor_day(doctor, day)
    await expect(doctor.get_by_test_id("doctor-appointment")).to_have_count(1)
    assert booked["id"]
    await assert_accessible(doctor, "doctor's day")
