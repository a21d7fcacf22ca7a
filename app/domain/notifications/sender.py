"""Delivers the outbox: claims due notifications, sends them by channel, records outcomes.

A pass is prepared (claim, render, compose), then finished (send, record); the loop
(loop.py) prepares the next while the previous one finishes. A pass claims its rows with
one document (claims.py), so two passes never take the same row. A sender that dies
mid-send leaves its claim to lapse, and the row is sent once more (same Message-ID and
delivery id). Failures retry with exponential backoff up to NOTIFICATION_MAX_ATTEMPTS,
then the row is FAILED with its reason; a permanent refusal is FAILED at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from beanie import PydanticObjectId
from pymongo import UpdateOne

from app.core.clock import utcnow
from app.domain.notifications import claims, mail, webhooks
from app.domain.notifications.calendar import Visit, calendar
from app.domain.notifications.facts import gather_facts
from app.domain.notifications.payloads import webhook_payload
from app.domain.notifications.recipients import wants_email, wants_in_app
from app.domain.notifications.reminders import still_due
from app.domain.notifications.rendering import Facts, render
from app.events.messages import Event, NotificationSent
from app.events.publisher import publish
from app.models import DeliveryStatus, Notification, NotificationChannel, NotificationKind
from app.observability import metrics
from app.settings import Settings
from app.store import lanes
from app.store.chunks import count_in

BACKOFF_CAP_SECONDS = 3600


@dataclass
class _Result:
    status: DeliveryStatus
    subject: str = ""
    body: str = ""
    error: str | None = None
    permanent: bool = False


@dataclass
class _Batch:
    now: datetime
    results: dict[PydanticObjectId, _Result] = field(default_factory=dict)
    mails: list[tuple[PydanticObjectId, EmailMessage]] = field(default_factory=list)
    hooks: list[tuple[PydanticObjectId, str, dict[str, Any]]] = field(default_factory=list)


@dataclass
class Pass:
    """A pass's claimed rows, made ready to send: its claim token and the messages built."""

    token: str
    claimed: list[Notification]
    batch: _Batch


async def prepare_pass(settings: Settings) -> Pass | None:
    """The first half of a pass, mostly this process's work: claim, read, render, compose.
    None when nothing is due. The loop runs it while the previous pass sends (loop.py)."""
    now = utcnow()
    token, claimed = await claims.claim(settings, now)
    if not claimed:
        return None
    batch = _Batch(now)
    facts = await gather_facts(claimed)
    for note in claimed:
        assert note.id is not None
        _prepare(settings, batch, note, facts[note.id])
    return Pass(token, claimed, batch)


async def finish_pass(settings: Settings, client: httpx.AsyncClient, ready: Pass) -> None:
    """The second half, mostly the SMTP server's, the webhooks' and the store's work: send,
    record each outcome, let the claim go."""
    batch = ready.batch
    mail_outcomes, hook_outcomes = await asyncio.gather(
        mail.send_all(settings, [m for _, m in batch.mails]),
        webhooks.post_all(settings, client, [(str(i), url, body) for i, url, body in batch.hooks]),
    )
    for (note_id, _), outcome in zip(batch.mails, mail_outcomes, strict=True):
        _settle(batch, note_id, outcome)
    for (note_id, _, _), outcome in zip(batch.hooks, hook_outcomes, strict=True):
        _settle(batch, note_id, outcome)
    await _record(settings, batch, ready.claimed)
    await claims.release(ready.token, batch.now)


def _prepare(settings: Settings, batch: _Batch, note: Notification, facts: Facts) -> None:
    assert note.id is not None
    if note.recipient_id is not None and facts.recipient is None:
        batch.results[note.id] = _Result(
            DeliveryStatus.FAILED, error="the recipient no longer exists", permanent=True
        )
        return
    if facts.appointment is None and facts.emergency is None:
        batch.results[note.id] = _Result(
            DeliveryStatus.FAILED, error="what it announces no longer exists", permanent=True
        )
        return
    if (
        note.kind is NotificationKind.REMINDER
        and facts.appointment is not None
        and not still_due(facts.appointment, note.sequence, batch.now)
    ):
        batch.results[note.id] = _Result(DeliveryStatus.SKIPPED)
        return
    rendered = render(facts)
    result = _Result(DeliveryStatus.SENT, subject=rendered.subject, body=rendered.text)
    batch.results[note.id] = result
    if note.channel is NotificationChannel.WEBHOOK:
        assert note.target is not None
        batch.hooks.append((note.id, note.target, webhook_payload(facts, rendered)))
        return
    assert facts.recipient is not None
    if note.channel is NotificationChannel.IN_APP:
        if not wants_in_app(facts.recipient, note.kind):
            result.status = DeliveryStatus.SKIPPED
        return
    if not wants_email(facts.recipient, note.kind):
        result.status = DeliveryStatus.SKIPPED
        return
    invite = None
    if note.kind in mail.INVITE_METHODS and facts.appointment is not None:
        invite = calendar(
            [Visit(facts.appointment, facts.doctor, facts.patient, facts.specialty)],
            facts.recipient_zone,
            batch.now,
            mail.INVITE_METHODS[note.kind],
            cancelled=note.kind.value == "CANCELLED",
            organizer=settings.mail_from,
            attendee=facts.recipient.email,
        )
    try:
        message = mail.compose(settings, note, facts.recipient, rendered, invite)
    except mail.Undeliverable as exc:
        result.status, result.error, result.permanent = DeliveryStatus.FAILED, str(exc), True
        return
    batch.mails.append((note.id, message))


def _settle(batch: _Batch, note_id: PydanticObjectId, outcome: mail.Outcome) -> None:
    if outcome.error is not None:
        result = batch.results[note_id]
        result.status, result.error, result.permanent = (
            DeliveryStatus.FAILED,
            outcome.error,
            outcome.permanent,
        )


def backoff(settings: Settings, attempts: int) -> timedelta:
    seconds = settings.notification_retry_base_seconds * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, BACKOFF_CAP_SECONDS))


async def _record(settings: Settings, batch: _Batch, claimed: list[Notification]) -> None:
    """Each row only while no other sender has settled it. In-app rows (their text is what
    the inbox shows) and every row that did not simply go out are written one by one; the
    emails and webhooks sent are then settled together, by id, per channel."""
    collection = lanes.collection(Notification)
    one_by_one = []
    sent_in_bulk: dict[NotificationChannel, list[PydanticObjectId]] = {}
    in_app: list[Event] = []
    now = utcnow()
    for note in claimed:
        assert note.id is not None
        result = batch.results[note.id]
        status = result.status
        metrics_status = status
        if status is DeliveryStatus.SENT and note.channel is not NotificationChannel.IN_APP:
            sent_in_bulk.setdefault(note.channel, []).append(note.id)
            metrics.notification_settled(note.channel.value, status.value)
            continue
        attempts = note.attempts + (0 if status is DeliveryStatus.SKIPPED else 1)
        changes: dict[str, Any] = {
            "subject": result.subject,
            "body": result.body,
            "attempts": attempts,
            "claim": None,
            "claim_until": None,
            "last_error": result.error,
        }
        if (
            status is DeliveryStatus.FAILED
            and not result.permanent
            and attempts < settings.notification_max_attempts
        ):
            status = DeliveryStatus.PENDING
            metrics_status = status
            changes["due_at"] = now + backoff(settings, attempts)
        changes["status"] = status.value
        if status is DeliveryStatus.SENT:
            changes["sent_at"] = now
        one_by_one.append(UpdateOne(claims.still_pending(note.id), {"$set": changes}))
        metrics.notification_settled(note.channel.value, metrics_status.value)
        if status is DeliveryStatus.SENT and note.channel is NotificationChannel.IN_APP:
            shown = note.model_copy(update={**changes, "status": status, "sent_at": now})
            in_app.append(NotificationSent(notification=shown, at=now))
    if one_by_one:
        await collection.bulk_write(one_by_one, ordered=False)
    sent = {
        "$set": {
            "status": DeliveryStatus.SENT.value,
            "sent_at": now,
            "claim": None,
            "claim_until": None,
            "last_error": None,
        },
        "$inc": {"attempts": 1},
    }

    async def settle(some: Any) -> int:
        return (await collection.update_many(claims.still_pending(some), sent)).modified_count

    for ids in sent_in_bulk.values():
        await count_in(ids, settle)
    await publish(*in_app)
