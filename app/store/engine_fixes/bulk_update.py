"""One change delivery per update_many instead of one per document (mongoeco 4.11).

mongoeco runs an update_many as one engine update per matched document, and after each
one delivers the change outbox to the client's change-stream hub. On the SQLite engine a
delivery takes a consumer lease, starts and joins a heartbeat thread, checkpoints and
compacts the outbox: five SQLite commits and a thread per document, about half of the
per-document cost of an update_many (docs/store.md).

Delivery reads the outbox from the consumer's checkpoint to its newest entry, so one
delivery after the last document hands the hub the same events in the same order. The
wrapper marks the update_many in a context variable, the per-document deliveries skip
while it is set, and it delivers once when the update_many ends, however it ends.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from mongoeco.api._async import _collection_modify
from mongoeco.api._async._collection_runtime import CollectionRuntimeCoordinator

_DEFERRING: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "aayulink_deferring_change_delivery", default=False
)


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
        token = _DEFERRING.set(True)
        try:
            return await update_many(collection, *args, **kwargs)
        finally:
            _DEFERRING.reset(token)
            collection._runtime._dispatch_engine_changes()

    return wrapper


def apply() -> None:
    CollectionRuntimeCoordinator._dispatch_engine_changes = _skipped_while_deferring(  # type: ignore[method-assign]
        CollectionRuntimeCoordinator._dispatch_engine_changes
    )
    _collection_modify.update_many = _delivered_once(_collection_modify.update_many)
