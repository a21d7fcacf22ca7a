"""An update_many as a few SQLite transactions and one change delivery (mongoeco 4.11).

mongoeco runs an update_many as one engine update per matched document: each a hop to a
worker thread, its own SQLite transaction, and then a delivery of the change outbox to
the client's change-stream hub (a consumer lease, a heartbeat thread started and joined,
checkpoint and compaction: five more commits). Per document, not per command.

- Delivery reads the outbox from the consumer's checkpoint to its newest entry, so one
  delivery after the last document hands the hub the same events in the same order: the
  per-document deliveries skip while an update_many runs, and it delivers once at its end.
- On the SQLite engine the documents are updated on the store's loop thread, holding the
  engine's lock, BATCH_DOCUMENTS to a transaction (each document still in its own
  savepoint, through the engine's own per-document update). A document that fails
  (a duplicate key) rolls back alone and stops the update_many; those before it stay
  written, as on MongoDB. Between two batches other clients' commands run.
- Each batch refreshes the feature probes once, before it commits, not once per document
  (a fifth of a document's update). Between two documents the probes plan only the
  selection of the next one by its own `_id`, a document this batch has not written; the
  unique check, which reads the others, makes the deferred refreshes first when it runs
  (untouched_unique_keys.py).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from mongoeco.api._async import _collection_modify
from mongoeco.api._async._collection_runtime import CollectionRuntimeCoordinator
from mongoeco.core.operation_limits import enforce_deadline, operation_deadline
from mongoeco.engines.sqlite import SQLiteEngine

from app.store.engine_fixes import feature_cache

_DEFERRING: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "aayulink_deferring_change_delivery", default=False
)


class _Batch:
    """The update_many's documents in one SQLite transaction, run on the store's loop thread."""

    def __init__(self, engine: SQLiteEngine) -> None:
        self.engine = engine
        self.conn: Any = None
        self.written = 0
        self.unrefreshed: feature_cache.Written = {}

    def begin(self) -> None:
        if self.conn is None:
            self.engine._lock.acquire()
            try:
                conn = self.engine._require_connection(None)
                self.engine._begin_write(conn, None)
            except BaseException:
                self.engine._lock.release()
                raise
            self.conn = conn

    def end(self) -> None:
        if self.conn is None:
            return
        try:
            try:
                feature_cache.refresh_now(self.engine, self.unrefreshed)
                self.engine._commit_write(self.conn, None)
            except BaseException:
                self.engine._rollback_write(self.conn, None)
                raise
        finally:
            self.conn = None
            self.engine._lock.release()


# Documents per SQLite transaction: the store's loop serves no one else while one runs,
# and the engine's other connections wait for its write lock (5 s before "database is locked").
BATCH_DOCUMENTS = 100

_BATCH: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar(
    "aayulink_update_batch", default=None
)


def _inline_in_batch(update: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(update)
    async def wrapper(
        self: Any, db_name: str, coll_name: str, operation: Any, *args: Any, **kw: Any
    ) -> Any:
        batch = _BATCH.get()
        if (
            batch is None
            or batch.engine is not self
            or args
            or kw.get("upsert")
            or operation.compiled_update_plan is None
            or operation.compiled_upsert_plan is None
        ):
            return await update(self, db_name, coll_name, operation, *args, **kw)
        operation_context = kw.get("operation_context")
        context = operation_context.session if operation_context is not None else kw.get("context")
        deadline = operation_deadline(operation.max_time_ms)
        enforce_deadline(deadline)
        batch.begin()
        with feature_cache.deferred_refresh(batch.unrefreshed):
            outcome = self._update_with_operation_sync(
                db_name,
                coll_name,
                operation,
                False,
                kw.get("upsert_seed"),
                kw.get("selector_filter"),
                context,
                kw.get("dialect"),
                kw.get("bypass_document_validation", False),
                kw.get("replacement_document"),
                kw.get("on_commit"),
                operation_context,
                deadline,
            )
        batch.written += 1
        if batch.written % BATCH_DOCUMENTS == 0:
            batch.end()
            await asyncio.sleep(0)  # other clients' commands between two batches
        return outcome

    return wrapper


def _skipped_while_deferring(deliver: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(deliver)
    def wrapper(self: Any, operation_context: Any = None) -> None:
        if _DEFERRING.get():
            return
        deliver(self, operation_context)

    return wrapper


def _delivered_once(update_many: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(update_many)
    async def wrapper(collection: Any, *args: Any, **kwargs: Any) -> Any:
        session = kwargs.get("session")
        if _DEFERRING.get() or (session is not None and getattr(session, "in_transaction", True)):
            return await update_many(collection, *args, **kwargs)
        engine = getattr(collection, "_engine", None)
        batch = _Batch(engine) if isinstance(engine, SQLiteEngine) else None
        token, batch_token = _DEFERRING.set(True), _BATCH.set(batch)
        try:
            return await update_many(collection, *args, **kwargs)
        finally:
            _BATCH.reset(batch_token)
            _DEFERRING.reset(token)
            if batch is not None:
                batch.end()
            collection._runtime._dispatch_engine_changes()

    return wrapper


def apply() -> None:
    SQLiteEngine.update_with_operation = _inline_in_batch(  # type: ignore[method-assign,assignment]
        SQLiteEngine.update_with_operation
    )
    CollectionRuntimeCoordinator._dispatch_engine_changes = _skipped_while_deferring(  # type: ignore[method-assign]
        CollectionRuntimeCoordinator._dispatch_engine_changes
    )
    _collection_modify.update_many = _delivered_once(_collection_modify.update_many)
