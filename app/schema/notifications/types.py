"""The contract's Notification and its connection."""

from __future__ import annotations

from datetime import datetime
from typing import Self
from urllib.parse import urlsplit

import strawberry

from app.domain.booking.appointments import can_see
from app.domain.paging import Page
from app.models import DeliveryStatus, NotificationChannel, NotificationKind
from app.models import Notification as NotificationDoc
from app.schema.booking.types import Appointment
from app.schema.context import Info
from app.schema.paging import PageInfo, page_info


@strawberry.type(description="One message to one recipient on one channel.")
class Notification:
    id: strawberry.ID
    kind: NotificationKind
    channel: NotificationChannel
    status: DeliveryStatus
    subject: str
    body: str = strawberry.field(description="Plain text; times in the recipient's timezone.")
    created_at: datetime
    sent_at: datetime | None
    read_at: datetime | None
    attempts: int
    doc: strawberry.Private[NotificationDoc]

    @classmethod
    def from_doc(cls, doc: NotificationDoc) -> Self:
        return cls(
            id=strawberry.ID(str(doc.id)),
            kind=doc.kind,
            channel=doc.channel,
            status=doc.status,
            subject=doc.subject,
            body=doc.body,
            created_at=doc.created_at,
            sent_at=doc.sent_at,
            read_at=doc.read_at,
            attempts=doc.attempts,
            doc=doc,
        )

    @strawberry.field(description="ADMIN only: why the last attempt failed.")
    def last_error(self, info: Info) -> str | None:
        actor = info.context.actor
        return self.doc.last_error if actor is not None and actor.is_admin else None

    @strawberry.field(
        description="ADMIN only: who it is for: the user's name (with the address, for email), "
        "or the webhook's host."
    )
    async def recipient(self, info: Info) -> str | None:
        actor = info.context.actor
        if actor is None or not actor.is_admin:
            return None
        if self.doc.recipient_id is None:
            # Host only: a webhook URL's path or query may carry the receiver's token.
            return urlsplit(self.doc.target or "").netloc or None
        user = await info.context.loaders.user.load(self.doc.recipient_id)
        if user is None:
            return None
        if self.doc.channel is NotificationChannel.EMAIL and user.email:
            return f"{user.name} <{user.email}>"
        return user.name

    @strawberry.field
    async def appointment(self, info: Info) -> Appointment | None:
        if self.doc.appointment_id is None:
            return None
        found = await info.context.loaders.appointment.load(self.doc.appointment_id)
        actor = info.context.actor
        if found is None or actor is None or not can_see(actor, found):
            return None
        return Appointment.from_doc(found)


@strawberry.type
class NotificationEdge:
    cursor: str
    node: Notification


@strawberry.type
class NotificationConnection:
    edges: list[NotificationEdge]
    page_info: PageInfo
    unread: int

    @classmethod
    def from_page(cls, page: Page[NotificationDoc], unread: int = 0) -> Self:
        edges = [
            NotificationEdge(cursor=c, node=Notification.from_doc(n))
            for n, c in zip(page.items, page.cursors, strict=True)
        ]
        return cls(edges=edges, page_info=page_info(page), unread=unread)
