"""Deliveries that fail: SMTP refusing, hanging or dropping, webhooks answering 500, hanging
or redirecting, a malformed address. Each is retried or FAILED with its reason, none blocks
a booking, and an admin sees and retries them (notificationDeliveries, retryNotification,
/metrics)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from bson import ObjectId

from tests.graphql_client import Api
from tests.metrics_scrape import scrape, total
from tests.notification_sinks import BadSmtp, MailSink, WebhookReceiver, eventually, until
from tests.notifications.conftest import NOTIFY_ENV, Store, booked, patient
from tests.separate_server import separate_server
from tests.servers import ApiServer, free_port

DELIVERIES = """query($status: DeliveryStatus, $channel: NotificationChannel, $after: String) {
  notificationDeliveries(status: $status, channel: $channel, first: 100, after: $after) {
    edges { node { id kind channel status attempts lastError appointment { id } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
RETRY = """mutation($id: ID!) { retryNotification(id: $id) { id status attempts } }"""


async def rows_of(store: Store, appointment: str) -> list[dict[str, Any]]:
    """The appointment's notifications once none is PENDING any more."""
    rows = (
        await store["notifications"].find({"appointment_id": ObjectId(appointment)}).to_list(None)
    )
    return rows if rows and all(r["status"] != "PENDING" for r in rows) else []


async def test_a_permanent_refusal_fails_at_once_and_a_temporary_one_after_retries(
    napi: Api, mail: tuple[MailSink, int], nstore: Store
) -> None:
    sink, _ = mail
    refused = await patient(napi)
    busy = await patient(napi)
    sink.refusals[refused.email] = "550 5.1.1 No such mailbox"
    sink.refusals[busy.email] = "451 4.3.0 Try again later"
    first = await booked(napi, refused)
    second = await booked(napi, busy)
    [bounced] = [
        r
        for r in await until(lambda: rows_of(nstore, first))
        if r["channel"] == "EMAIL" and r["recipient_id"] == ObjectId(refused.id)
    ]
    assert (bounced["status"], bounced["attempts"]) == ("FAILED", 1)
    assert "550" in bounced["last_error"]
    [deferred] = [
        r
        for r in await until(lambda: rows_of(nstore, second))
        if r["channel"] == "EMAIL" and r["recipient_id"] == ObjectId(busy.id)
    ]
    assert (deferred["status"], deferred["attempts"]) == ("FAILED", 3)  # NOTIFICATION_MAX_ATTEMPTS
    assert "451" in deferred["last_error"]
    assert sink.to(busy.email) == [] and sink.to(refused.email) == []

    # The admin sees it, with its reason; the patient never sees the reason.
    failed = await napi.gql(DELIVERIES, {"status": "FAILED", "channel": "EMAIL"}, napi.admin.token)
    nodes = {e["node"]["id"]: e["node"] for e in failed.data["notificationDeliveries"]["edges"]}
    assert "451" in nodes[str(deferred["_id"])]["lastError"]
    assert (await napi.gql(DELIVERIES, {}, busy.token)).code == "FORBIDDEN"

    # Retried once the server takes mail again: it arrives, once.
    del sink.refusals[busy.email]
    retried = await napi.gql(RETRY, {"id": str(deferred["_id"])}, napi.admin.token)
    assert retried.data["retryNotification"]["status"] == "PENDING"
    [message] = await eventually(lambda: sink.to(busy.email))
    assert message["Subject"].startswith("Appointment booked")
    again = await napi.gql(RETRY, {"id": str(deferred["_id"])}, napi.admin.token)
    assert again.code == "BAD_USER_INPUT" and again.error["extensions"]["field"] == "id"


async def test_retry_refuses_what_it_cannot_retry(napi: Api) -> None:
    who = await patient(napi)
    missing = await napi.gql(RETRY, {"id": str(ObjectId())}, napi.admin.token)
    assert missing.code == "NOT_FOUND"
    malformed = await napi.gql(RETRY, {"id": "nope"}, napi.admin.token)
    assert malformed.code == "BAD_USER_INPUT" and malformed.error["extensions"]["field"] == "id"
    assert (await napi.gql(RETRY, {"id": str(ObjectId())}, who.token)).code == "FORBIDDEN"
    paged = await napi.gql(DELIVERIES, {"after": "garbage"}, napi.admin.token)
    assert paged.code == "BAD_USER_INPUT" and paged.error["extensions"]["field"] == "after"


async def test_a_malformed_address_fails_with_its_reason(
    napi: Api, nstore: Store, mail: tuple[MailSink, int]
) -> None:
    who = await patient(napi)
    # Accounts are validated at registration; this one predates that (written in the store).
    await nstore["users"].update_one(
        {"_id": ObjectId(who.id)}, {"$set": {"email": "broken-address@"}}
    )
    appointment = await booked(napi, who)
    rows = await until(lambda: rows_of(nstore, appointment))
    [email] = [r for r in rows if r["channel"] == "EMAIL" and r["recipient_id"] == ObjectId(who.id)]
    assert (email["status"], email["attempts"]) == ("FAILED", 1)
    assert "malformed recipient address" in email["last_error"]
    [in_app] = [
        r for r in rows if r["channel"] == "IN_APP" and r["recipient_id"] == ObjectId(who.id)
    ]
    assert in_app["status"] == "SENT"


def test_metrics_count_deliveries_by_channel_and_status(notify_server: ApiServer) -> None:
    samples = scrape(notify_server.url.removesuffix("/graphql"))
    assert total(samples, "aayulink_notifications_total", channel="EMAIL", status="FAILED") >= 1
    assert total(samples, "aayulink_notifications_total", channel="IN_APP", status="SENT") >= 1


# --- a server whose SMTP server and webhooks misbehave -----------------------------------


@pytest_asyncio.fixture(scope="module")
async def bad_smtp() -> AsyncIterator[BadSmtp]:
    server = await BadSmtp(free_port()).start()
    yield server
    await server.stop()


@pytest_asyncio.fixture(scope="module")
async def faulty(
    http: httpx.AsyncClient,
    store_uri: str,
    log_dir: Path,
    bad_smtp: BadSmtp,
    hooks: WebhookReceiver,
) -> AsyncIterator[Api]:
    """A process delivering to a misbehaving SMTP server and to webhooks that fail."""
    env = {
        **NOTIFY_ENV,
        "SMTP_PORT": str(bad_smtp.port),
        "SMTP_TIMEOUT_SECONDS": "1",
        "NOTIFICATION_MAX_ATTEMPTS": "2",
        "WEBHOOK_URLS": ",".join(hooks.url(p) for p in ("/fail", "/hang", "/moved")),
        "WEBHOOK_TIMEOUT_SECONDS": "1",
    }
    async with separate_server(http, store_uri, log_dir, "faulty", env) as separate:
        yield separate.api


async def failed_deliveries(api: Api, appointment: str) -> dict[str, list[dict[str, Any]]]:
    """FAILED deliveries of the appointment by channel, once all its deliveries are FAILED or
    SENT (in-app)."""
    reply = await api.gql(DELIVERIES, {}, api.admin.token)
    nodes = [
        e["node"]
        for e in reply.data["notificationDeliveries"]["edges"]
        if (e["node"]["appointment"] or {}).get("id") == appointment
    ]
    if not nodes or any(n["status"] == "PENDING" for n in nodes):
        return {}
    found: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:
        if node["status"] == "FAILED":
            found.setdefault(node["channel"], []).append(node)
    return found


@pytest.mark.parametrize("mode", ["hang", "drop"])
async def test_smtp_hanging_or_dropping_and_webhooks_failing_are_retried_then_failed(
    faulty: Api, bad_smtp: BadSmtp, hooks: WebhookReceiver, mode: str
) -> None:
    bad_smtp.mode = mode
    who = await patient(faulty)
    appointment = await booked(faulty, who)  # the booking itself is not held up
    failed = await until(lambda: failed_deliveries(faulty, appointment), within=60)
    [email] = failed["EMAIL"]
    assert email["attempts"] == 2 and email["lastError"].startswith("SMTP")
    reasons = sorted(n["lastError"] for n in failed["WEBHOOK"])
    assert len(reasons) == 3
    assert any("HTTP 500" in r for r in reasons)
    assert any("no answer within 1 s" in r for r in reasons)
    assert any("HTTP 302 redirect" in r for r in reasons)
    # Each failing endpoint saw the same delivery id on each attempt, and no more attempts.
    for path in ("/fail", "/moved", "/hang"):
        ids = [
            d.delivery_id
            for d in hooks.at(path)
            if (d.payload.get("appointment") or {}).get("id") == appointment
        ]
        assert len(ids) == 2 and len(set(ids)) == 1, (path, ids)
    # The redirect was not followed: /ok heard nothing of this appointment.
    assert not [
        d for d in hooks.at("/ok") if (d.payload.get("appointment") or {}).get("id") == appointment
    ]
