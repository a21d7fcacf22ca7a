"""Notification, profile and calendar operations; mixed into Query, Mutation, Subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from app.domain.notifications import inbox, profile
from app.domain.paging import PageRequest
from app.domain.visibility import notification_listener
from app.events.messages import NotificationSent
from app.models import DeliveryStatus, NotificationChannel, NotificationKind
from app.resolvers.streams import events_for
from app.schema.catalog.types import User
from app.schema.context import Info
from app.schema.notifications.preferences import NotificationPreferences
from app.schema.notifications.types import Notification, NotificationConnection


@strawberry.type
class NotificationQuery:
    @strawberry.field(description="The caller's in-app notifications, newest first.")
    async def my_notifications(
        self,
        info: Info,
        unread_only: bool | None = False,
        first: int | None = 20,
        after: str | None = None,
    ) -> NotificationConnection:
        mine = await inbox.my_notifications(
            info.context.actor,
            bool(unread_only),
            PageRequest(first=20 if first is None else first, after=after),
        )
        return NotificationConnection.from_page(mine.page, mine.unread)

    @strawberry.field(description="ADMIN: every delivery, newest first; filter FAILED to act.")
    async def notification_deliveries(
        self,
        info: Info,
        status: DeliveryStatus | None = None,
        channel: NotificationChannel | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> NotificationConnection:
        page = await inbox.deliveries(
            info.context.actor,
            status,
            channel,
            PageRequest(first=50 if first is None else first, after=after),
        )
        return NotificationConnection.from_page(page)


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(description="Marks the caller's own; returns how many it marked.")
    async def mark_notifications_read(self, info: Info, ids: list[strawberry.ID]) -> int:
        return await inbox.mark_read(info.context.actor, [str(i) for i in ids])

    @strawberry.mutation
    async def update_notification_preferences(
        self,
        info: Info,
        email: bool | None = None,
        reminders: bool | None = None,
        kinds: list[NotificationKind] | None = None,
    ) -> NotificationPreferences:
        updated = await profile.update_preferences(info.context.actor, email, reminders, kinds)
        return NotificationPreferences.from_user(updated)

    @strawberry.mutation(description="Only what is given changes; an empty phone clears it.")
    async def update_my_profile(
        self,
        info: Info,
        name: str | None = None,
        phone: str | None = None,
        timezone: str | None = None,
    ) -> User:
        return User.from_doc(
            await profile.update_my_profile(info.context.actor, name, phone, timezone)
        )

    @strawberry.mutation(description="The old URL stops working at once.")
    async def rotate_calendar_feed_url(self, info: Info) -> str:
        return await profile.rotate_calendar_feed(info.context.actor)

    @strawberry.mutation(description="ADMIN: a FAILED delivery is tried again from now.")
    async def retry_notification(self, info: Info, id: strawberry.ID) -> Notification:
        return Notification.from_doc(await inbox.retry(info.context.actor, str(id)))


@strawberry.type
class NotificationSubscription:
    @strawberry.subscription(description="The caller's own in-app notifications, live.")
    async def notifications(self, info: Info) -> AsyncGenerator[Notification]:
        async for event in events_for(info, notification_listener(info.context.actor)):
            assert isinstance(event, NotificationSent)
            yield Notification.from_doc(event.notification)
