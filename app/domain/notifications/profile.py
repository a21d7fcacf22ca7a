"""A user's own settings: name, phone, timezone, notification preferences, calendar feed."""

from __future__ import annotations

import secrets
from typing import Any

from pymongo import ReturnDocument

from app.core.clock import utcnow
from app.core.errors import NotFound
from app.domain import validation
from app.domain.auth.actor import Actor, require_actor
from app.domain.patients import directory, phones
from app.models import NotificationKind, Role, User
from app.models.patient_keys import keys_for
from app.settings import get_settings


async def _update(actor: Actor | None, changes: dict[str, Any]) -> User:
    caller = require_actor(actor)
    updated = await User.get_pymongo_collection().find_one_and_update(
        {"_id": caller.user_id},
        {"$set": {**changes, "updated_at": utcnow()}},
        return_document=ReturnDocument.AFTER,
    )
    if updated is None:
        raise NotFound("User")
    return User.model_validate(updated)


async def current_user(actor: Actor | None) -> User:
    user = await User.get(require_actor(actor).user_id)
    if user is None:
        raise NotFound("User")
    return user


async def update_my_profile(
    actor: Actor | None, name: str | None, phone: str | None, timezone: str | None
) -> User:
    """Only what is given changes; an empty phone clears it."""
    changes: dict[str, Any] = {}
    caller = require_actor(actor)
    if name is not None:
        changes["name"] = validation.text(name, "name", validation.NAME_MAX)
    if phone is not None:
        changes["phone"] = (
            phones.parse(phone) if caller.role is Role.PATIENT else validation.phone(phone)
        )
    if timezone is not None:
        changes["timezone"] = validation.timezone(timezone)
    if not changes:
        return await current_user(actor)
    if caller.role is not Role.PATIENT or not ({"name", "phone"} & changes.keys()):
        return await _update(actor, changes)
    # A patient's name and phone are what the front desk searches by: keys follow them.
    user = await current_user(actor)
    changes["search_keys"] = keys_for(
        changes.get("name", user.name), user.email, changes.get("phone", user.phone)
    )
    updated = await _update(actor, changes)
    await directory.bump()
    return updated


async def update_preferences(
    actor: Actor | None,
    email: bool | None,
    reminders: bool | None,
    kinds: list[NotificationKind] | None,
) -> User:
    changes: dict[str, Any] = {"notification_preferences.changed_at": utcnow()}
    if email is not None:
        changes["notification_preferences.email"] = email
    if reminders is not None:
        changes["notification_preferences.reminders"] = reminders
    if kinds is not None:
        changes["notification_preferences.kinds"] = sorted({k.value for k in kinds})
    return await _update(actor, changes)


def feed_url(token: str) -> str:
    return f"{get_settings().public_base_url.rstrip('/')}/calendar/{token}.ics"


async def calendar_feed_url(user: User) -> str:
    """The user's feed URL, its secret made on first asking."""
    if user.calendar_token:
        return feed_url(user.calendar_token)
    token = secrets.token_urlsafe(24)
    updated = await User.get_pymongo_collection().find_one_and_update(
        {"_id": user.id, "calendar_token": None},
        {"$set": {"calendar_token": token}},
        return_document=ReturnDocument.AFTER,
    )
    if updated is None:  # made meanwhile by another request
        current = await User.get(user.id)
        assert current is not None and current.calendar_token is not None
        return feed_url(current.calendar_token)
    return feed_url(token)


async def rotate_calendar_feed(actor: Actor | None) -> str:
    user = await _update(actor, {"calendar_token": secrets.token_urlsafe(24)})
    assert user.calendar_token is not None
    return feed_url(user.calendar_token)
