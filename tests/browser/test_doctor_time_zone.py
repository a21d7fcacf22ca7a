"""An admin moves a busy doctor to another time zone in the UI: the save says its later slots
are being moved, and its row is tagged until the background roll has regenerated them."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import NewContext
from tests.browser.support import WebUser, make_clinic
from tests.graphql_client import GraphQL

SET_SCHEDULE = """mutation($doctorId: ID!, $input: ScheduleInput!) {
  setSchedule(doctorId: $doctorId, input: $input) { slotsAdded }
}"""
MARK = "query($id: ID!) { doctor(id: $id) { timezone slotsRegeneratingFrom } }"
WEEK = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]


async def test_admin_sees_a_busy_doctors_slots_move_to_its_new_time_zone(
    new_context: NewContext, web_gql: GraphQL, web_admin: WebUser
) -> None:
    clinic = await make_clinic(web_gql, web_admin, timezone="UTC")
    # 24 slots a day over the horizon: more than a move writes before it answers.
    hours = [{"weekday": day, "ranges": [{"start": "08:00", "end": "20:00"}]} for day in WEEK]
    made = await web_gql(
        SET_SCHEDULE,
        {"doctorId": clinic.doctor_id, "input": {"slotMinutes": 30, "weekly": hours}},
        web_admin.token,
    )
    assert made.data["setSchedule"]["slotsAdded"] > 1000

    page = await (await new_context("desktop", web_admin)).new_page()
    await page.goto("/#/admin")
    await page.get_by_role("tab", name="Doctors").click()
    row = page.locator(f'[data-testid="doctor-row"][data-doctor-id="{clinic.doctor_id}"]')
    await row.get_by_role("button", name=f"Edit {clinic.doctor_name}").click()
    await row.get_by_label("Timezone (IANA)").fill("Asia/Kolkata")
    await row.get_by_role("button", name="Save").click()

    notice = page.get_by_role("status").filter(has_text=f"{clinic.doctor_name} saved.")
    await expect(notice).to_contain_text("are being moved to Asia/Kolkata")
    shown = (await web_gql(MARK, {"id": clinic.doctor_id})).data["doctor"]
    assert shown["timezone"] == "Asia/Kolkata"
    # The roll clears the mark within seconds; the list, read again, shows no tag then.
    for _ in range(600):
        if (await web_gql(MARK, {"id": clinic.doctor_id})).data["doctor"][
            "slotsRegeneratingFrom"
        ] is None:
            break
        await page.wait_for_timeout(100)
    else:
        raise AssertionError("the move's later days were never regenerated")
    await page.reload()
    await page.get_by_role("tab", name="Doctors").click()
    await expect(row).to_contain_text("Asia/Kolkata")
    await expect(row.get_by_text("slots moving to")).to_have_count(0)
