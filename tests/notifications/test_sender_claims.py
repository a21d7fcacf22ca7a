"""A pass claims its rows with one document (app/domain/notifications/claims.py): two passes
at once never take the same row, a live pass's rows are left alone, and a pass that died is
taken over once its claim lapses.

Runs the domain in this process against the session's store, in a database of its own (no
API process's sender may take these rows).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio
from beanie import PydanticObjectId

from app.core.clock import utcnow
from app.domain.notifications import claims
from app.domain.notifications.outbox import row
from app.models import Notification, NotificationChannel, NotificationKind, SendingBatch
from app.settings import Settings, get_settings
from app.store.connection import connect_store, disconnect_store

BATCH = 200


@pytest_asyncio.fixture
async def settings(store_uri: str) -> AsyncIterator[Settings]:
    await connect_store(store_uri, f"claims_{uuid.uuid4().hex[:8]}")
    yield get_settings().model_copy(update={"notification_batch_size": BATCH})
    await disconnect_store()


async def _due_rows(count: int) -> set[PydanticObjectId]:
    at = utcnow() - timedelta(seconds=1)
    rows = [
        row(f"test:{uuid.uuid4().hex}", NotificationKind.BOOKED, NotificationChannel.EMAIL, at)
        for _ in range(count)
    ]
    result = await Notification.get_pymongo_collection().insert_many(rows)
    return {PydanticObjectId(i) for i in result.inserted_ids}


def _ids(claimed: tuple[str, list[Notification]]) -> set[PydanticObjectId]:
    return {n.id for n in claimed[1] if n.id is not None}


async def test_two_passes_at_once_never_take_the_same_row(settings: Settings) -> None:
    written = await _due_rows(300)
    for _ in range(5):
        now = utcnow()
        first, second = await asyncio.gather(
            claims.claim(settings, now), claims.claim(settings, now)
        )
        assert not _ids(first) & _ids(second)
        assert _ids(first) | _ids(second) <= written
        # Both may give their rows up (each saw the other's batch): the next pass sends them.
        await asyncio.gather(*(claims.release(c[0], now) for c in (first, second) if c[0]))
    assert await SendingBatch.get_pymongo_collection().count_documents({}) == 0


async def test_a_live_pass_keeps_its_rows_and_a_lapsed_one_is_taken_over(
    settings: Settings,
) -> None:
    written = await _due_rows(300)
    now = utcnow()
    died = await claims.claim(settings, now)
    assert len(_ids(died)) == BATCH
    other = await claims.claim(settings, now)
    assert _ids(other) == written - _ids(died)
    assert await claims.claim(settings, now) == ("", [])
    # Neither pass settles: once their claims lapse, the rows are claimed (sent) once more.
    later = now + timedelta(seconds=claims.CLAIM_SECONDS + 1)
    again = await claims.claim(settings, later)
    assert _ids(again) == _ids(died)
