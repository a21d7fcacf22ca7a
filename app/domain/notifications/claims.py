"""Which sender sends which rows: a pass claims its batch with one document.

Claiming each row cost one write per row (about 2.5 ms a row on the embedded store, a third
of the sender's store time in a rush of bookings). A pass now writes one SendingBatch
naming its rows, and the rows themselves are only written once, when settled. Two senders
overlap only around a lease hand-over; the rule that keeps them apart: after writing its
batch, a pass reads the other live batches and gives up every row one of them names. Of two
passes choosing the same rows, the one that wrote its batch second sees the other's (it reads
after its own write, which came after the first's), so at least one of them gives the rows
up, and when both see each other both do (the rows wait for the next pass). A pass whose
process died leaves its batch to lapse after CLAIM_SECONDS, and its rows are sent once more
(same Message-ID and delivery id).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId

from app.models import DeliveryStatus, Notification, SendingBatch
from app.settings import Settings
from app.store import lanes

CLAIM_SECONDS = 120


async def _held(now: datetime, but: str = "") -> set[PydanticObjectId]:
    """The rows named by live batches (other than `but`): a handful of small documents."""
    batches = await lanes.find(SendingBatch, {"until": {"$gt": now}, "_id": {"$ne": but}})
    return {i for batch in batches for i in batch.notification_ids}


async def claim(settings: Settings, now: datetime) -> tuple[str, list[Notification]]:
    """A batch of the due PENDING rows no live pass holds, claimed for this one.

    Found through the `status` index in the order the rows were written, not sorted by due
    time: on the embedded store a sort reads and decodes every PENDING row, and during a
    rush of bookings thousands are (200 ms a pass at 3,000). `claim_until` is what an
    earlier version claimed rows with; a row it holds is left to it until then.
    """
    held = await _held(now)
    free = {"$or": [{"claim": None}, {"claim_until": {"$lte": now}}]}
    found = await lanes.find(
        Notification,
        {"status": DeliveryStatus.PENDING.value, "due_at": {"$lte": now}, **free},
        limit=settings.notification_batch_size + len(held),
    )
    rows = [r for r in found if r.id not in held][: settings.notification_batch_size]
    if not rows:
        return "", []
    token = uuid.uuid4().hex
    await lanes.collection(SendingBatch).insert_one(
        {
            "_id": token,
            "notification_ids": [r.id for r in rows],
            "made_at": now,
            "until": now + timedelta(seconds=CLAIM_SECONDS),
        }
    )
    rivals = await _held(now, but=token)
    mine = [r for r in rows if r.id not in rivals]
    if not mine:
        await release(token, now)
        return "", []
    return token, mine


async def release(token: str, now: datetime) -> None:
    """The pass is over: its batch goes, with any other sender's that has lapsed."""
    await lanes.collection(SendingBatch).delete_many(
        {"$or": [{"_id": token}, {"until": {"$lte": now}}]}
    )


def still_pending(ids: Any) -> dict[str, Any]:
    """The filter a pass settles its rows by: those another sender has not settled."""
    return {"_id": ids, "status": DeliveryStatus.PENDING.value}
