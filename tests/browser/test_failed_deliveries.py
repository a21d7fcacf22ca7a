"""The admin board's failed deliveries (issue 21, item 9) in a real browser: a booking's email
that the clinic's SMTP server (a real aiosmtpd sink) refuses becomes FAILED, and so does its
webhook, which a real receiver answers with an error every time; the admin sees both listed
with recipient, kind, channel, attempts, last error and time, retries the email once the mail
server takes it, and the row says so. The page passes axe in those states.

This module runs an API process of its own: the session's web server has no SMTP_HOST (mail
is written to files, which never fails), so its pages are served from one that sends mail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import expect

from tests import notification_sinks
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import NewContext
from tests.browser.staff import book
from tests.browser.support import (
    WebUser,
    day_times,
    login_admin,
    make_clinic,
    make_patient,
    make_slots,
    today_in,
)
from tests.graphql_client import GraphQL, unique
from tests.notification_sinks import (
    MailSink,
    WebhookReceiver,
    eventually,
    until,
)
from tests.notifications.conftest import NOTIFY_ENV
from tests.servers import ApiServer

Shot = Callable[..., Awaitable[Path]]

DELIVERIES = """query($channel: NotificationChannel) {
  notificationDeliveries(status: FAILED, channel: $channel, first: 100) {
    edges { node { id status attempts lastError createdAt recipient } }
  }
}"""
MINE = "query { myNotifications(first: 20) { edges { node { channel recipient } } } }"
# The receiver's token in the URL must never be shown: a webhook's recipient is its host.
HOOK_PATH = "/fail?key=receiver-token"


# The mail sink and webhook receiver fixtures, written once in tests/notification_sinks.py.
mail = notification_sinks.mail
hooks = notification_sinks.hooks


@pytest.fixture(scope="module")
def mailing_server(
    store_uri: str, log_dir: Path, mail: tuple[MailSink, int], hooks: WebhookReceiver
) -> Iterator[ApiServer]:
    env = {**NOTIFY_ENV, "SMTP_PORT": str(mail[1]), "WEBHOOK_URLS": hooks.url(HOOK_PATH)}
    server = ApiServer(store_uri, unique("aayulink_deliveries_"), env=env).start(log_dir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def base_url(mailing_server: ApiServer) -> str:
    """The pages of this module come from the server that sends mail."""
    return f"http://127.0.0.1:{mailing_server.port}"


@pytest.fixture(scope="module")
def mail_gql(http: httpx.AsyncClient, mailing_server: ApiServer) -> GraphQL:
    return GraphQL(http, mailing_server.url)


@pytest_asyncio.fixture(scope="module")
async def mail_admin(mail_gql: GraphQL) -> WebUser:
    return await login_admin(mail_gql)


async def test_admin_sees_a_refused_email_and_retries_it(
    new_context: NewContext,
    mail_gql: GraphQL,
    mail_admin: WebUser,
    mail: tuple[MailSink, int],
    hooks: WebhookReceiver,
    shot: Shot,
) -> None:
    sink, _ = mail
    clinic = await make_clinic(mail_gql, mail_admin)
    day = today_in(clinic.timezone) + timedelta(days=1)
    slots = await make_slots(mail_gql, mail_admin, clinic, day, day_times(1, first="10:00"))
    patient = await make_patient(mail_gql, unique("Meera "))
    # A permanent refusal: FAILED on the first attempt, with the server's reply as its reason.
    sink.refusals[patient.email] = "550 5.1.1 No such mailbox"
    await book(mail_gql, patient, slots[0]["id"], reason="Check-up")

    async def failed(channel: str) -> list[dict[str, object]]:
        reply = await mail_gql(DELIVERIES, {"channel": channel}, mail_admin.token)
        return [e["node"] for e in reply.data["notificationDeliveries"]["edges"]]

    [delivery] = await until(lambda: failed("EMAIL"))
    assert (delivery["status"], delivery["attempts"]) == ("FAILED", 1)
    # The webhook answers an error each time: retried up to NOTIFICATION_MAX_ATTEMPTS (3).
    [hook] = await until(lambda: failed("WEBHOOK"))
    assert hook["attempts"] == 3 and len(hooks.at(HOOK_PATH)) == 3
    assert hook["recipient"] == f"127.0.0.1:{hooks.port}"
    # Who a delivery is for is the admin's to know; the patient reads null.
    mine = await mail_gql(MINE, {}, patient.token)
    assert {e["node"]["recipient"] for e in mine.data["myNotifications"]["edges"]} == {None}

    page = await (await new_context("desktop", mail_admin)).new_page()
    await page.goto("/#/admin")
    await page.get_by_role("tab", name="Failed deliveries").click()
    listing = page.get_by_test_id("failed-deliveries")
    await expect(listing).to_have_attribute("data-ready", "true")
    row = listing.locator(f'[data-delivery-id="{delivery["id"]}"]')
    await expect(row.get_by_test_id("delivery-recipient")).to_have_text(
        f"{patient.name} <{patient.email}>"
    )
    await expect(row).to_contain_text("Booked")
    await expect(row).to_contain_text("Email")
    await expect(row.get_by_test_id("delivery-attempts")).to_have_text("1")
    await expect(row.get_by_test_id("delivery-error")).to_contain_text("550")
    await expect(row.locator("time")).to_have_attribute("datetime", str(delivery["createdAt"]))
    await expect(row.get_by_test_id("delivery-status")).to_have_text("Failed")
    webhook = listing.locator(f'[data-delivery-id="{hook["id"]}"]')
    await expect(webhook.get_by_test_id("delivery-recipient")).to_have_text(
        f"127.0.0.1:{hooks.port}"
    )
    await expect(webhook).to_contain_text("Webhook")
    await expect(webhook.get_by_test_id("delivery-attempts")).to_have_text("3")
    await expect(webhook.get_by_test_id("delivery-error")).not_to_be_empty()
    await expect(webhook).not_to_contain_text("receiver-token")
    await assert_accessible(page, "admin board, failed deliveries")
    await shot(page, "failed")

    # The mailbox exists now: the retry is queued, the row says so, and the mail arrives once.
    del sink.refusals[patient.email]
    await row.get_by_role("button", name="Retry").click()
    await expect(row).to_have_attribute("data-status", "PENDING")
    await expect(row.get_by_test_id("delivery-status")).to_have_text("Retry queued")
    await expect(row.get_by_role("button", name="Retry")).to_have_count(0)
    await expect(row).to_be_focused()  # the button pressed is gone; the focus stays on the row
    [message] = await eventually(lambda: sink.to(patient.email))
    assert message["Subject"].startswith("Appointment booked")
    await assert_accessible(page, "admin board, a delivery retried")

    # Read again, the list no longer holds what was delivered; the webhook still failing stays.
    await page.get_by_role("button", name="Refresh").click()
    await expect(row).to_have_count(0)
    await expect(webhook).to_have_attribute("data-status", "FAILED")
    assert await failed("EMAIL") == []
