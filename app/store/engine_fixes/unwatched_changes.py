"""No change-stream bookkeeping on a store nobody watches (mongoeco 4.11).

With no change stream open, mongoeco still records every write in its change outbox as a
"gap" (two inserts and a compaction inside the write's transaction), then delivers it to
the client's change-stream hub: a consumer lease, a heartbeat thread started and joined, a
checkpoint and another compaction, several commits per write command. The app never opens
a change stream (its events go through Redis), so all of it was spent for no reader.

Until a watcher first registers in this process, writes carry publication DISABLED and
deliveries are skipped. From then on the engine behaves as it did, for the rest of the
process's life, so a stream resumed later still learns of the gaps it missed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from mongoeco._change_streams.hub import ChangeStreamHub
from mongoeco.api._async.collection import AsyncCollection
from mongoeco.core.operation_context import ChangePublicationPolicy, OperationContext
from mongoeco.engines.adapter import EngineSpiAdapter

_WATCHED = {"ever": False}


def ever_watched() -> bool:
    return _WATCHED["ever"]


def _noting_watchers(register: Callable[[ChangeStreamHub], None]) -> Callable[..., None]:
    @functools.wraps(register)
    def wrapper(self: ChangeStreamHub) -> None:
        _WATCHED["ever"] = True
        register(self)

    return wrapper


def _unpublished_while_unwatched(
    new_context: Callable[..., OperationContext],
) -> Callable[..., OperationContext]:
    @functools.wraps(new_context)
    def wrapper(self: AsyncCollection, **kwargs: Any) -> OperationContext:
        if not _WATCHED["ever"] and kwargs.get("publication") is ChangePublicationPolicy.RECORD_GAP:
            kwargs["publication"] = ChangePublicationPolicy.DISABLED
        return new_context(self, **kwargs)

    return wrapper


def _undelivered_while_unwatched(dispatch: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(dispatch)
    def wrapper(self: EngineSpiAdapter, sink: object | None) -> None:
        if not _WATCHED["ever"] and not (
            isinstance(sink, ChangeStreamHub) and sink.should_publish_events()
        ):
            return
        dispatch(self, sink)

    return wrapper


def apply() -> None:
    ChangeStreamHub.register_watcher = _noting_watchers(ChangeStreamHub.register_watcher)  # type: ignore[method-assign]
    AsyncCollection._new_operation_context = _unpublished_while_unwatched(  # type: ignore[method-assign]
        AsyncCollection._new_operation_context
    )
    EngineSpiAdapter.dispatch_committed_changes = _undelivered_while_unwatched(  # type: ignore[method-assign]
        EngineSpiAdapter.dispatch_committed_changes
    )
