"""An in-app notification is delivered by being written: the pass that writes a change's rows
renders its in-app ones and writes them already SENT, so the sender never claims or settles
them (two writes a row fewer; in-app was half of a booking's rows), and the inbox shows
them as soon as they stand."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId

from app.domain.notifications.facts import gather_facts
from app.domain.notifications.recipients import wants_in_app
from app.domain.notifications.rendering import render
from app.events.messages import NotificationSent
from app.models import DeliveryStatus, Notification, NotificationChannel
from app.observability import metrics

_IN_APP = NotificationChannel.IN_APP.value


async def render_on_write(rows: list[dict[str, Any]], now: datetime) -> None:
    """The in-app rows among `rows`, in place: SENT with their text, or SKIPPED by the
    recipient's preferences. One whose recipient or subject is gone stays PENDING, for the
    sender to record why it fails."""
    in_app = [r for r in rows if r["channel"] == _IN_APP]
    if not in_app:
        return
    for row in in_app:
        row.setdefault("_id", ObjectId())
    notes = [Notification.model_validate(row) for row in in_app]
    facts = await gather_facts(notes)
    for row, note in zip(in_app, notes, strict=True):
        assert note.id is not None
        found = facts[note.id]
        if found.recipient is None or (found.appointment is None and found.emergency is None):
            continue
        if not wants_in_app(found.recipient, note.kind):
            row["status"] = DeliveryStatus.SKIPPED.value
            continue
        rendered = render(found)
        row.update(
            subject=rendered.subject,
            body=rendered.text,
            status=DeliveryStatus.SENT.value,
            sent_at=now,
            attempts=1,
        )


def sent(inserted: list[dict[str, Any]], now: datetime) -> list[NotificationSent]:
    """The live events of the in-app rows just written as delivered (not of rows a repeated
    write found already there: those were announced when they were written)."""
    events = []
    for row in inserted:
        if row["channel"] != _IN_APP or row["status"] == DeliveryStatus.PENDING.value:
            continue
        metrics.notification_settled(_IN_APP, row["status"])
        if row["status"] == DeliveryStatus.SENT.value:
            events.append(NotificationSent(notification=Notification.model_validate(row), at=now))
    return events
