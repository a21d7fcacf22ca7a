"""What the pass that writes a change's rows settles as it writes them, so the sender never
claims or settles those rows (two writes a row fewer): an in-app row is delivered by being
written, already SENT with its text, and an email the recipient's preferences refuse is
written SKIPPED. The inbox shows in-app rows as soon as they stand."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId

from app.domain.notifications.facts import gather_facts
from app.domain.notifications.recipients import wants_email, wants_in_app
from app.domain.notifications.rendering import render
from app.events.messages import NotificationSent
from app.models import DeliveryStatus, Notification, NotificationChannel
from app.observability import metrics

_PEOPLE = {NotificationChannel.IN_APP.value, NotificationChannel.EMAIL.value}
_PENDING = DeliveryStatus.PENDING.value


async def settle_on_write(rows: list[dict[str, Any]], now: datetime) -> None:
    """The in-app and email rows among `rows`, in place: in-app SENT with its text, email
    SKIPPED when refused (or SKIPPED in-app); other emails stay PENDING for the sender, and
    so does a row whose recipient or subject is gone, for the sender to record why."""
    mine = [r for r in rows if r["channel"] in _PEOPLE]
    if not mine:
        return
    for row in mine:
        row.setdefault("_id", ObjectId())
    notes = [Notification.model_validate(row) for row in mine]
    facts = await gather_facts(notes)
    for row, note in zip(mine, notes, strict=True):
        assert note.id is not None
        found = facts[note.id]
        if found.recipient is None or (found.appointment is None and found.emergency is None):
            continue
        if note.channel is NotificationChannel.EMAIL:
            if not wants_email(found.recipient, note.kind):
                row["status"] = DeliveryStatus.SKIPPED.value
            continue
        rendered = render(found)
        row.update(subject=rendered.subject, body=rendered.text)
        if not wants_in_app(found.recipient, note.kind):
            row["status"] = DeliveryStatus.SKIPPED.value
            continue
        row.update(status=DeliveryStatus.SENT.value, sent_at=now, attempts=1)


def announced(inserted: list[dict[str, Any]], now: datetime) -> list[NotificationSent]:
    """Counts the rows just written settled, and the live events of those delivered in-app
    (not of rows a repeated write found already there: announced when first written)."""
    events = []
    for row in inserted:
        if row["status"] == _PENDING:
            continue
        metrics.notification_settled(row["channel"], row["status"])
        if row["status"] == DeliveryStatus.SENT.value:
            events.append(NotificationSent(notification=Notification.model_validate(row), at=now))
    return events
