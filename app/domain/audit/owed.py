"""Audit entries written with the change they record, then moved into the audit log in batches.

The embedded store runs one command at a time, and an insert of its own for each lock's and
each booking's entries was a fifth of the rush's store commands (B12). So the write a lock or a
booking makes anyway carries its entries (`audit_owed` on the slot or the appointment, as
`notifications_owed` carries the outbox), and this process moves what its requests left owed,
a moment later, with one insert and one update a batch. Entries keep the `_id` they were made
with: a second move of the same entries inserts nothing.

Nothing saved goes unlogged: a process killed before its move leaves the entries on their
documents, found through the sparse `audit_owing` index by housekeeping (after
LEFT_BEHIND_SECONDS) and by every reader of the log (at once), which moves them first.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from beanie import Document
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from app.core.clock import utcnow
from app.domain.audit.recorder import Change, entry_documents
from app.domain.auth.actor import Actor
from app.models import Appointment, AuditEntry, Slot
from app.models.owed_audit import FIELD, OwedAudit
from app.store.chunks import CHUNK_SIZE, chunked, one_of

log = logging.getLogger(__name__)

# Long enough for requests arriving together to share a move, short enough that a reader
# in another process rarely has to move them itself.
MOVE_AFTER_SECONDS = 0.2
# Entries owed this long were left by a process that died before moving them.
LEFT_BEHIND_SECONDS = 30.0
OWING: tuple[type[Document], ...] = (Slot, Appointment)
_DUPLICATE_KEY = 11000

# This process's documents that owe entries: collection name -> what each owes.
_remembered: dict[str, list[Owing]] = {}
_mover: asyncio.Task[None] | None = None


@dataclass(frozen=True)
class Owing:
    """A document's owed entries as a mover knows them: every one up to the write `last`."""

    document_id: Any
    entries: list[dict[str, Any]]
    last: Any


def owed(actor: Actor | None, at: datetime, *changes: Change) -> OwedAudit:
    """The entries of one change, to be written on the document the change writes."""
    entries = entry_documents(actor, changes, at)
    return OwedAudit(at=at, entries=entries, last=entries[0]["_id"])


def push(audit: OwedAudit) -> dict[str, Any]:
    """The update operators that add `audit` to a document's owed entries."""
    return {
        "$push": {f"{FIELD}.entries": {"$each": audit.entries}},
        "$min": {f"{FIELD}.at": audit.at},
        "$set": {f"{FIELD}.last": audit.last, f"{FIELD}.owing": True},
    }


def stored(audit: OwedAudit) -> dict[str, Any]:
    """The field that carries `audit` on a document inserted with it."""
    return {FIELD: audit.model_dump()}


def pull(audit: OwedAudit, before: OwedAudit | None) -> dict[str, Any]:
    """The update operator that takes `audit`'s entries back (a change undone unannounced),
    on a document that owed `before` when the change was written: none, the field goes."""
    if before is None:
        return {"$unset": {FIELD: ""}}
    return {"$pull": {f"{FIELD}.entries": {"_id": one_of([e["_id"] for e in audit.entries])}}}


def remember(
    model: type[Document], document_id: Any, audit: OwedAudit, before: OwedAudit | None = None
) -> None:
    """After the write that carries `audit` stood (on top of `before`, what the document
    owed as that same write found it): move them into the log shortly."""
    global _mover
    entries = ([] if before is None else before.entries) + audit.entries
    name = model.get_pymongo_collection().name
    _remembered.setdefault(name, []).append(Owing(document_id, entries, audit.last))
    if _mover is None or _mover.done():
        # A fresh context: its store commands take no request's age (app/store/command_order.py).
        _mover = asyncio.get_running_loop().create_task(
            _move_soon(), name="audit entries", context=contextvars.Context()
        )


async def _move_soon() -> None:
    await asyncio.sleep(MOVE_AFTER_SECONDS)
    await move_remembered()


async def move_remembered() -> None:
    """Move every entry this process's requests left owed; never raises (what it cannot move
    stays owed, for housekeeping or the next reader)."""
    while _remembered:
        name = next(iter(_remembered))
        owing = _remembered[name][:CHUNK_SIZE]
        del _remembered[name][: len(owing)]
        if not _remembered[name]:
            del _remembered[name]
        model = next(m for m in OWING if m.get_pymongo_collection().name == name)
        try:
            await _move(model.get_pymongo_collection(), owing)
        except Exception:
            log.exception("could not move %d audit entries yet; housekeeping will", len(owing))


async def move_left_behind(older_than: float = LEFT_BEHIND_SECONDS) -> int:
    """Move the entries owed for more than `older_than` seconds (0: all of them, before the
    log is read), whichever process wrote them. How many documents owed them."""
    cutoff = utcnow() - timedelta(seconds=older_than)
    moved = 0
    for model in OWING:
        collection = model.get_pymongo_collection()
        while True:
            found = await collection.find(
                {f"{FIELD}.owing": True}, {FIELD: 1}, limit=CHUNK_SIZE
            ).to_list()
            owing = [
                Owing(doc["_id"], doc[FIELD].get("entries", []), doc[FIELD].get("last"))
                for doc in found
                if doc[FIELD]["at"] <= cutoff
            ]
            if owing:
                await _move(collection, owing)
            moved += len(owing)
            # A full page of entries still their writers' to move: the rest waits a pass.
            if len(found) < CHUNK_SIZE or not owing:
                break
    return moved


async def _move(collection: AsyncCollection[Any], owing: Sequence[Owing]) -> None:
    """Insert the entries, then let go of them on their documents: at most CHUNK_SIZE.

    A document whose `last` is still the one known here took no entry since: its field is
    unset in one update for the batch (an equality the store plans through `_id`; a
    condition on the entries themselves cost 76 ms for 16 slots of 3,000, against 10)."""
    entries = [entry for item in owing for entry in item.entries]
    if entries:
        await _insert_new(entries)
    done = await collection.update_many(
        {
            "_id": one_of([o.document_id for o in owing]),
            f"{FIELD}.last": one_of([o.last for o in owing]),
        },
        {"$unset": {FIELD: ""}},
    )
    if done.matched_count < len(owing):
        for item in owing:
            await _let_go_of(collection, item)


async def _let_go_of(collection: AsyncCollection[Any], item: Owing) -> None:
    """One document, after its unset missed (another write pushed entries meanwhile, or it
    was let go of already): pull the moved entries, and unset the field if none is left."""
    exists = {"_id": item.document_id, FIELD: {"$exists": True}}
    after: dict[str, Any] | None = None
    for piece in chunked(entry["_id"] for entry in item.entries):
        after = await collection.find_one_and_update(
            exists,
            {"$pull": {f"{FIELD}.entries": {"_id": {"$in": piece}}}},
            projection={FIELD: 1},
            return_document=ReturnDocument.AFTER,
        )
        if after is None:
            return
    if after is None:  # it owed no entries at all
        after = await collection.find_one(exists, {FIELD: 1})
    if after is not None and not after[FIELD].get("entries"):
        await collection.update_one(
            {"_id": item.document_id, f"{FIELD}.last": after[FIELD].get("last")},
            {"$unset": {FIELD: ""}},
        )


async def _insert_new(entries: list[dict[str, Any]]) -> None:
    """Insert what the log lacks; an entry already there (a move repeated) is no error."""
    try:
        await AuditEntry.get_pymongo_collection().insert_many(entries, ordered=False)
    except BulkWriteError as exc:
        details = exc.details or {}
        if details.get("writeConcernErrors") or any(
            error.get("code") != _DUPLICATE_KEY for error in details.get("writeErrors", [])
        ):
            raise


async def finish() -> None:
    """At shutdown: move what this process still remembers instead of leaving it to others."""
    if _mover is not None and not _mover.done():
        _mover.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await _mover
    await move_remembered()
