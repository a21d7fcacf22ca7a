"""A change made of several store writes that either all stand or are all undone.

The project runs one write path on every store, without multi-document transactions (see
docs/scheduling.md): each step is a bulk write whose own filter marks what it wrote (the
change's `updated_at` stamp, or the ids it inserted), and each has an undo that reverses
exactly that. Steps run in order; when one fails, the steps begun so far, the failing one
included (a bulk write may stop half-way), are undone in reverse order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from app.core.errors import ChangeNotApplied, DomainError
from app.models import Doctor
from app.settings import get_settings

log = logging.getLogger(__name__)
# Seconds between tries of an undo that met a store error; about 3.5 s in all.
UNDO_RETRY_PAUSES = (0.25, 0.5, 1.0, 2.0)


@dataclass(frozen=True)
class Step:
    name: str
    do: Callable[[], Awaitable[object]]
    undo: Callable[[], Awaitable[object]]


async def run_all_or_nothing(what: str, steps: Sequence[Step]) -> None:
    """Every step, or none: raises ChangeNotApplied once what was written is undone.

    A DomainError from a step (a rule refusing) is raised as it is, after the undo. When the
    undo fails too (the store went away) the original error is raised and the log names
    the change left half-made.
    """
    begun: list[Step] = []
    try:
        for step in steps:
            begun.append(step)
            await step.do()
            await fault_after(step.name)
    except Exception as exc:
        if not await _undo(what, begun):
            raise
        if isinstance(exc, DomainError):
            raise
        log.warning("%s failed at %s and was undone: %r", what, begun[-1].name, exc)
        raise ChangeNotApplied(what) from exc


async def _undo(what: str, begun: list[Step]) -> bool:
    """Each undo is tried again after a store error: a step often fails because the client's
    connections were just interrupted (a late heartbeat), and the next try gets fresh ones.
    Undos reverse exactly what their step marked, so trying one twice changes nothing."""
    for step in reversed(begun):
        for pause in (*UNDO_RETRY_PAUSES, None):
            try:
                await step.undo()
                break
            except Exception as exc:
                if pause is None or not isinstance(exc, PyMongoError):
                    log.exception(
                        "could not undo %s of a %s: the change is left half-made", step.name, what
                    )
                    return False
                await asyncio.sleep(pause)
    return True


async def fault_after(step: str) -> None:
    """Tests only (FAULT_AFTER_STEP, refused outside APP_ENV=test): a real store refusal.

    Inserting a document whose `_id` is already taken makes the store answer E11000, as a
    unique index would: the same error path a production failure takes, with no mock.
    """
    steps = get_settings().fault_after_step
    if steps is None or step not in steps.split(","):
        return
    collection = Doctor.get_pymongo_collection().database["fault_probes"]
    taken = ObjectId()
    await collection.insert_one({"_id": taken, "step": step})
    await collection.insert_one({"_id": taken})


def fields_step(
    name: str,
    collection: AsyncCollection[dict[str, Any]],
    document_id: Any,
    before: Mapping[str, Any],
    changes: Mapping[str, Any],
) -> Step:
    """Set `changes` on one document; the undo puts back each field as `before` held it
    (a field it did not have is removed again)."""
    restore: dict[str, Any] = {"$set": {k: before[k] for k in changes if k in before}}
    missing = {k: "" for k in changes if k not in before}
    if missing:
        restore["$unset"] = missing
    if not restore["$set"]:
        del restore["$set"]

    async def do() -> None:
        await collection.update_one({"_id": document_id}, {"$set": dict(changes)})

    async def undo() -> None:
        await collection.update_one({"_id": document_id}, restore)

    return Step(name, do, undo)
