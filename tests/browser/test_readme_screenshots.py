"""The README's picture of the front desk (issue 22): the admin board with a booking opened, from
a real run. `make screenshots` (UPDATE_SCREENSHOTS=1) writes docs/screenshots/; otherwise the
same picture goes to test-results/browser/ with the others, so this runs, and fails, either way."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from playwright.async_api import expect

from tests.browser.conftest import NewContext
from tests.browser.staff import board_cell, book, open_admin_board
from tests.browser.support import (
    ROOT,
    WebUser,
    day_times,
    make_clinic,
    make_patient,
    make_slots,
    screenshot_path,
    today_in,
)
from tests.graphql_client import GraphQL

README_SCREENSHOTS = ROOT / "docs" / "screenshots"


def destination(name: str) -> Path:
    """docs/screenshots/<name>.png when asked to update them, else beside the test results."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        return README_SCREENSHOTS / f"{name}.png"
    return screenshot_path(f"readme-{name}")


async def test_readme_screenshot_of_the_board_with_a_booking_opened(
    new_context: NewContext, web_gql: GraphQL, web_admin: WebUser
) -> None:
    clinic = await make_clinic(web_gql, web_admin)
    day = today_in(clinic.timezone) + timedelta(days=1)
    slots = await make_slots(web_gql, web_admin, clinic, day, day_times(8, first="09:00"))
    people = [
        ("Ravi Kumar", "+91 98765 43210", "Chest pain on climbing stairs"),
        ("Meena Iyer", "+91 91234 56789", "Follow-up on blood test"),
        ("Arjun Nair", "+91 99887 76655", "Blood pressure review"),
    ]
    booked = []
    for (name, phone, reason), slot in zip(people, (slots[0], slots[2], slots[3]), strict=True):
        patient = await make_patient(web_gql, name, phone)
        booked.append(await book(web_gql, patient, slot["id"], reason=reason))

    page = await (await new_context("desktop", web_admin)).new_page()
    await open_admin_board(page, day)
    await board_cell(page, slots[2]["id"]).get_by_role("button").click()
    opened = page.get_by_test_id("appointment-panel")
    await expect(opened).to_have_attribute("data-appointment-id", booked[1]["id"])
    await expect(opened.get_by_test_id("opened-phone")).to_have_text("+91 91234 56789")
    await expect(opened.get_by_test_id("opened-history")).to_contain_text("booked by")

    path = destination("board-booking-opened")
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path))  # the viewport: the board and the opened booking
    assert path.stat().st_size > 10_000, path
