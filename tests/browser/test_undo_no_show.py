"""The front desk undoes a no-show marked by mistake (issue 22, item 3): the booking opened on
the admin board offers "Undo no-show" for 24 hours, puts it back to confirmed through the same
status change as the doctor's day, and says so in the panel's result; when the appointment has
moved on meanwhile, the server's refusal is shown and the panel shows what it is now."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from playwright.async_api import Route, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import NewContext
from tests.browser.staff import (
    assert_focus_on,
    board_cell,
    book,
    open_admin_board,
    until_board_follows,
)
from tests.browser.support import WebUser, clinic_day, make_patient
from tests.graphql_client import GraphQL, unique
from tests.visit_clock import Store, starts_in

Shot = Callable[..., Awaitable[Path]]

SET_STATUS = """mutation($id: ID!, $status: AppointmentStatus!) {
  updateAppointmentStatus(id: $id, status: $status) { id status }
}"""
APPOINTMENT = """query($id: ID!) {
  appointment(id: $id) { status noShowAt checkedInAt history { action actor { name } } }
}"""


async def set_status(gql: GraphQL, who: WebUser, appointment_id: str, status: str) -> None:
    reply = await gql(SET_STATUS, {"id": appointment_id, "status": status}, who.token)
    assert reply.data["updateAppointmentStatus"]["status"] == status


async def read(gql: GraphQL, who: WebUser, appointment_id: str) -> dict[str, Any]:
    return dict((await gql(APPOINTMENT, {"id": appointment_id}, who.token)).data["appointment"])


async def test_the_front_desk_undoes_a_mistaken_no_show_and_sees_a_refusal_when_it_moved_on(
    new_context: NewContext, web_gql: GraphQL, web_admin: WebUser, store: Store, shot: Shot
) -> None:
    clinic, day, slots = await clinic_day(web_gql, web_admin, 3, first="10:00")
    asha = await make_patient(web_gql, unique("Asha Rao "), "+91 98765 43210")
    vikram = await make_patient(web_gql, unique("Vikram Das "), "+91 91234 56789")
    came = await book(web_gql, asha, slots[0]["id"], reason="Follow-up")
    went_in = await book(web_gql, vikram, slots[1]["id"], reason="Fever")
    for booked in (came, went_in):
        await starts_in(store, booked["id"], -15)  # late past the no-show grace (10 min)
        await set_status(web_gql, clinic.doctor, booked["id"], "NO_SHOW")

    page = await (await new_context("desktop", web_admin)).new_page()
    await open_admin_board(page, day)
    await until_board_follows(web_gql, page, slots[2]["id"])

    # Marked a no-show, but Asha is at the desk: the panel offers the undo, not a check-in.
    await board_cell(page, slots[0]["id"]).get_by_role("button").click()
    opened = page.get_by_test_id("appointment-panel")
    await expect(opened).to_have_attribute("data-appointment-id", came["id"])
    await expect(opened).to_have_attribute("data-status", "NO_SHOW")
    await expect(opened.get_by_test_id("opened-status")).to_contain_text("No-show")
    await expect(opened.get_by_test_id("no-show-at")).to_contain_text("marked at")
    await expect(opened.get_by_role("button", name="Check in")).to_have_count(0)
    await assert_accessible(page, "a no-show opened on the board")
    await opened.get_by_role("button", name="Undo no-show").click()

    # Back to confirmed, said in the status region (the focus goes there), the panel re-read.
    await expect(opened).to_have_attribute("data-status", "CONFIRMED")
    await expect(opened.get_by_test_id("opened-status")).to_contain_text("Confirmed")
    result = opened.get_by_test_id("desk-result")
    focus = await assert_focus_on(page, result)
    assert focus["text"] == f"No-show undone: {asha.name}, 10:00, is confirmed again.", focus
    await expect(opened.get_by_role("button", name="Undo no-show")).to_have_count(0)
    await expect(opened.get_by_test_id("no-show-at")).to_have_count(0)
    await expect(opened.get_by_test_id("opened-history")).to_contain_text(
        "status changed by Administrator"
    )
    undone = await read(web_gql, web_admin, came["id"])
    assert undone["status"] == "CONFIRMED" and undone["noShowAt"] is None, undone
    await assert_accessible(page, "a no-show undone on the board")
    # She is here: checked in as any other, and the panel says when she arrived.
    await opened.get_by_role("button", name="Check in").click()
    await expect(opened.get_by_test_id("arrived")).to_contain_text("arrived")
    assert (await read(web_gql, web_admin, came["id"]))["checkedInAt"] is not None
    await shot(page, "undone")

    # Vikram's no-show is undone by his doctor (he went straight in) while the desk's undo is on
    # its way: the browser's request is held until then, and reaches the real server after.
    await board_cell(page, slots[1]["id"]).get_by_role("button").click()
    await expect(opened).to_have_attribute("data-appointment-id", went_in["id"])
    await expect(opened).to_have_attribute("data-status", "NO_SHOW")
    sent = asyncio.Event()
    release = asyncio.Event()

    async def hold_the_undo(route: Route) -> None:
        if "UpdateAppointmentStatus" in (route.request.post_data or ""):
            sent.set()
            await release.wait()
        await route.continue_()

    await page.route("**/graphql", hold_the_undo)
    try:
        await opened.get_by_role("button", name="Undo no-show").click()
        await sent.wait()
        await set_status(web_gql, clinic.doctor, went_in["id"], "IN_PROGRESS")
        await expect(opened).to_have_attribute("data-status", "IN_PROGRESS")  # heard meanwhile
    finally:
        release.set()  # never left hanging, even when the test fails here

    error = opened.get_by_test_id("form-error")
    await expect(error).to_have_text("This appointment is in progress; it cannot become confirmed.")
    await page.unroute("**/graphql", hold_the_undo)  # the held request has had its answer
    await expect(opened.get_by_role("heading", level=2)).to_be_focused()
    await expect(opened.get_by_test_id("opened-status")).to_contain_text("In progress")
    await expect(opened.get_by_test_id("arrived")).to_contain_text("arrived")
    await expect(opened.get_by_role("button", name="Undo no-show")).to_have_count(0)
    await expect(opened.get_by_test_id("desk-result")).to_have_count(0)  # nothing said done
    kept = await read(web_gql, web_admin, went_in["id"])
    assert kept["status"] == "IN_PROGRESS" and kept["checkedInAt"] is not None, kept
    assert [entry["actor"]["name"] for entry in kept["history"][1:]] == [
        clinic.doctor_name,
        clinic.doctor_name,
    ], kept  # the no-show and its undo by the doctor; nothing written by the refused undo
    await assert_accessible(page, "a refused undo on the board")
