"""The header's inbox (issue 21 in the client): a booking made elsewhere reaches the patient's
unread count live; opening the list shows it and marks it read, through the API."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import NewContext
from tests.browser.staff import book
from tests.browser.support import (
    WebUser,
    clinic_day,
    make_patient,
)
from tests.graphql_client import GraphQL, unique

UNREAD = "{ myNotifications(unreadOnly: true) { unread } }"


async def test_a_booking_reaches_the_inbox_live_and_opening_it_marks_it_read(
    new_context: NewContext, web_gql: GraphQL, web_admin: WebUser
) -> None:
    clinic, _, (slot,) = await clinic_day(web_gql, web_admin, 1, first="10:00")
    patient = await make_patient(web_gql, unique("Nila "))
    page = await (await new_context("desktop", patient)).new_page()
    await page.goto("/#/patient")
    inbox = page.get_by_test_id("inbox")
    await expect(inbox).to_have_attribute("data-unread", "0")

    await book(web_gql, patient, slot["id"], reason="Check-up")
    await expect(inbox).to_have_attribute("data-unread", "1", timeout=20_000)
    await expect(inbox.get_by_role("button")).to_contain_text("1 unread")
    await inbox.get_by_role("button", name="Notifications").click()
    item = inbox.get_by_test_id("inbox-item").first
    await expect(item).to_contain_text(clinic.doctor_name)
    await expect(inbox).to_have_attribute("data-unread", "0")
    reply = await web_gql(UNREAD, {}, patient.token)
    assert reply.data["myNotifications"]["unread"] == 0
