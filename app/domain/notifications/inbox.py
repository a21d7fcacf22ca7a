"""What a user reads of their notifications, and what an admin sees of every delivery."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument, UpdateOne

from app.core.clock import utcnow
from app.core.errors import BadUserInput, NotFound
from app.domain import validation
from app.domain.auth.actor import Actor, require_actor, require_role
from app.domain.notifications import outbox
from app.domain.paging import Page, PageRequest, read_page
from app.models import DeliveryStatus, Notification, NotificationChannel, Role

MARK_MAX = 500


@dataclass
class Inbox:
    """A page of the caller's notifications, and how many of all of them are unread."""

    page: Page[Notification]
    unread: int


def _inbox(user_id: PydanticObjectId) -> dict[str, Any]:
    return {
        "recipient_id": user_id,
        "channel": NotificationChannel.IN_APP.value,
        "status": DeliveryStatus.SENT.value,
    }


async def my_notifications(actor: Actor | None, unread_only: bool, page: PageRequest) -> Inbox:
    """Newest first."""
    caller = require_actor(actor)
    page.check()
    query = _inbox(caller.user_id)
    if unread_only:
        query["read_at"] = None
    # The page and the unread count at once: two reads, one wait.
    found, unread = await asyncio.gather(
        read_page(Notification, query, "created_at", page, newest_first=True),
        Notification.get_pymongo_collection().count_documents(
            {**_inbox(caller.user_id), "read_at": None}
        ),
    )
    return Inbox(found, unread)


async def mark_read(actor: Actor | None, ids: list[str]) -> int:
    """How many of the caller's own unread ones this marked; others' ids are ignored."""
    caller = require_actor(actor)
    if len(ids) > MARK_MAX:
        raise BadUserInput(f"at most {MARK_MAX} ids at once", field="ids")
    oids = list(dict.fromkeys(validation.object_id(i, "ids") for i in ids))
    if not oids:
        return 0
    now = utcnow()
    # One update per id (a `$in` over ids scans the embedded store's collection per value).
    result = await Notification.get_pymongo_collection().bulk_write(
        [
            UpdateOne(
                {"_id": oid, **_inbox(caller.user_id), "read_at": None}, {"$set": {"read_at": now}}
            )
            for oid in oids
        ],
        ordered=False,
    )
    return int(result.modified_count)


async def deliveries(
    actor: Actor | None,
    status: DeliveryStatus | None,
    channel: NotificationChannel | None,
    page: PageRequest,
) -> Page[Notification]:
    """ADMIN: every delivery, newest first."""
    require_role(actor, Role.ADMIN)
    page.check()
    query: dict[str, Any] = {}
    if status is not None:
        query["status"] = status.value
    if channel is not None:
        query["channel"] = channel.value
    return await read_page(Notification, query, "created_at", page, newest_first=True)


async def retry(actor: Actor | None, notification_id: str) -> Notification:
    """A FAILED delivery goes back to PENDING with fresh attempts, due now."""
    require_role(actor, Role.ADMIN)
    oid = validation.object_id(notification_id, "id")
    updated = await Notification.get_pymongo_collection().find_one_and_update(
        {"_id": oid, "status": DeliveryStatus.FAILED.value},
        {
            "$set": {
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "due_at": utcnow(),
                "claim": None,
                "claim_until": None,
            }
        },
        return_document=ReturnDocument.AFTER,
    )
    if updated is None:
        current = await Notification.get(oid)
        if current is None:
            raise NotFound("Notification", field="id")
        raise BadUserInput(
            f"Only a FAILED notification can be retried; this one is {current.status.value}",
            field="id",
        )
    outbox.waiting.set()
    return Notification.model_validate(updated)
