"""The sender writes a pass's notification rows ROWS_PER_WRITE at a time
(app/domain/notifications/outbox.py), and a repeated write adds nothing.

Runs the domain in this process against the session's store, in a database of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from app.core.clock import utcnow
from app.domain.notifications.outbox import ROWS_PER_WRITE, row, write_rows
from app.models import Notification, NotificationChannel, NotificationKind
from tests.sent_commands import SentCommands, domain_counting


@pytest_asyncio.fixture
async def inserts(store_uri: str) -> AsyncIterator[SentCommands]:
    async with domain_counting(store_uri, "insert", "notifications", "row_writes") as listener:
        yield listener


def _rows(count: int) -> list[dict[str, Any]]:
    at = utcnow()
    kind, channel = NotificationKind.BOOKED, NotificationChannel.EMAIL
    return [row(f"test:{uuid.uuid4().hex}", kind, channel, at) for _ in range(count)]


async def test_a_large_pass_is_written_in_bounded_inserts_once(inserts: SentCommands) -> None:
    rows = _rows(2 * ROWS_PER_WRITE + 50)
    assert len(await write_rows(rows)) == len(rows)
    assert [len(c["documents"]) for c in inserts.sent] == [ROWS_PER_WRITE, ROWS_PER_WRITE, 50]
    # Written again with ten new ones: only those are added.
    more = _rows(10)
    again = [{k: v for k, v in r.items() if k != "_id"} for r in rows] + more
    assert await write_rows(again) == more
    assert await Notification.find_all().count() == len(rows) + 10
