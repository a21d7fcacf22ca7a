"""The contract's NotificationPreferences, and the notification enums under their names."""

from __future__ import annotations

from typing import Self

import strawberry

from app.domain.notifications.recipients import email_kinds
from app.models import DeliveryStatus, NotificationChannel, NotificationKind
from app.models import User as UserDoc

for _enum in (NotificationKind, NotificationChannel, DeliveryStatus):
    strawberry.enum(_enum)


@strawberry.type
class NotificationPreferences:
    email: bool = strawberry.field(description="All email off or on (in-app is always on).")
    reminders: bool
    kinds: list[NotificationKind] = strawberry.field(description="The kinds sent by email.")

    @classmethod
    def from_user(cls, user: UserDoc) -> Self:
        prefs = user.notification_preferences
        return cls(email=prefs.email, reminders=prefs.reminders, kinds=email_kinds(user))
