"""Subscribers that asked the same thing and may see the same data share one execution.

Strawberry runs every subscription on its own: with a thousand dashboards on one slot
feed, each event would be resolved and serialized a thousand times. Here subscriptions
with the same document, variables and audience join one group: the group runs the
operation once (as a representative of the audience whose token never lapses), and
each member gets the same result objects through a bounded queue of its own. Each
member still ends on its own when its own token expires or it falls behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError

from app import rate_limits
from app.core.clock import utcnow
from app.core.errors import DomainError, SubscriberTooSlow, Unauthenticated
from app.core.request_id import current_request_id
from app.domain.auth import revocations
from app.domain.auth.actor import Actor
from app.models import Role
from app.schema.context import Context
from app.schema.errors import to_contract_error
from app.schema.rate_limited import caller_key

log = logging.getLogger(__name__)

Upstream = Callable[[Context], Awaitable[AsyncGenerator[Any]]]
VIEWER_FIELDS = ("lockedByMe",)  # fields whose value differs between two patients
IDLE_CHECK_SECONDS = 5.0
_END = object()
_SESSION_ENDED = object()


def _subscription_fields(
    document: DocumentNode, operation_name: str | None
) -> tuple[str, ...] | None:
    """The root fields of the subscription the document runs, or None if it runs none.

    Fields inside fragments and inline fragments count too, so no shape of the operation
    slips past the per-member checks.
    """
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        op
        for op in operations
        if operation_name is None or (op.name is not None and op.name.value == operation_name)
    ]
    if len(chosen) != 1 or chosen[0].operation is not OperationType.SUBSCRIPTION:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return tuple(_root_field_names(chosen[0].selection_set, fragments, set()))


def _root_field_names(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[str],
) -> list[str]:
    names: list[str] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            names.append(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names.extend(_root_field_names(selection.selection_set, fragments, seen))
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                names.extend(_root_field_names(fragment.selection_set, fragments, seen))
    return names


def audience(actor: Actor | None, fields: tuple[str, ...], query: str) -> tuple[str, ...]:
    """Who sees the same thing: one group per role, narrowed where the data is personal."""
    if actor is None:
        return ("anonymous",)
    if "notifications" in fields:
        return (actor.role.value, str(actor.user_id))  # each user's own inbox
    if actor.role is Role.ADMIN:
        return ("ADMIN",)
    if actor.role is Role.DOCTOR:
        return ("DOCTOR", str(actor.doctor_id))
    if fields == ("slotUpdates",) and not any(name in query for name in VIEWER_FIELDS):
        return ("PATIENT",)
    return ("PATIENT", str(actor.user_id))


@dataclass(eq=False)
class Member:
    actor: Actor | None
    queue: asyncio.Queue[Any]
    overflowed: bool = False
    session_ended: bool = False


@dataclass(eq=False)
class Group:
    key: tuple[Any, ...]
    members: set[Member] = field(default_factory=set)
    pump: asyncio.Task[None] | None = None

    def broadcast(self, item: Any) -> None:
        for member in list(self.members):
            if member.overflowed:
                continue
            try:
                member.queue.put_nowait(item)
            except asyncio.QueueFull:
                member.overflowed = True


class SharedStreams:
    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self.groups: dict[tuple[Any, ...], Group] = {}
        revocations.listen(self.end_sessions)

    def end_sessions(self, session_ids: frozenset[str]) -> None:
        """Members whose session ended stop at once, not at their token's expiry."""
        for group in list(self.groups.values()):
            for member in list(group.members):
                if member.actor is not None and member.actor.session_id in session_ids:
                    member.session_ended = True
                    with contextlib.suppress(asyncio.QueueFull):
                        member.queue.put_nowait(_SESSION_ENDED)

    async def join(
        self,
        document: DocumentNode,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        context: Context,
        upstream: Upstream,
    ) -> AsyncGenerator[Any] | None:
        """A member's result stream, or None when this is not a subscription to share."""
        fields = _subscription_fields(document, operation_name)
        if not fields:
            return None
        try:
            actor = context.actor
            await rate_limits.hit("ws", caller_key(context))
        except DomainError as exc:
            return _single_error(exc)
        key = (
            query,
            operation_name,
            json.dumps(variables or {}, sort_keys=True, default=str),
            audience(actor, fields, query),
        )
        group = self.groups.get(key)
        if group is None or group.pump is None or group.pump.done():
            group = Group(key)
            self.groups[key] = group
            member = self._add(group, actor)
            representative = Context(
                headers_authorization=None,
                request_id=current_request_id.get(),
                client_key=context.client_key,
                _actor=replace(actor, expires_at=None, session_id=None) if actor else None,
                _resolved=True,
            )
            group.pump = asyncio.create_task(self._pump(group, upstream, representative))
        else:
            member = self._add(group, actor)
        return self._member_stream(group, member)

    def _add(self, group: Group, actor: Actor | None) -> Member:
        member = Member(actor=actor, queue=asyncio.Queue(self.queue_size))
        group.members.add(member)
        return member

    async def _pump(self, group: Group, upstream: Upstream, context: Context) -> None:
        try:
            source = await upstream(context)
            async with contextlib.aclosing(source):
                async for result in source:
                    group.broadcast(result)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("shared subscription failed")
            group.broadcast(_error_result(RuntimeError("shared subscription failed")))
        finally:
            if self.groups.get(group.key) is group:
                del self.groups[group.key]
            group.broadcast(_END)

    async def _member_stream(self, group: Group, member: Member) -> AsyncGenerator[Any]:
        try:
            while True:
                wait = IDLE_CHECK_SECONDS
                expires_at = member.actor.expires_at if member.actor else None
                if expires_at is not None:
                    wait = max(0.05, min(wait, (expires_at - utcnow()).total_seconds()))
                try:
                    item = await asyncio.wait_for(member.queue.get(), wait)
                except TimeoutError:
                    item = None
                if member.session_ended:
                    yield _error_result(Unauthenticated("This session has ended; sign in again"))
                    return
                if expires_at is not None and expires_at <= utcnow():
                    yield _error_result(
                        Unauthenticated("Access token expired; reconnect with a fresh token")
                    )
                    return
                if member.overflowed and member.queue.empty():
                    yield _error_result(SubscriberTooSlow())
                    return
                if item is _END:
                    return
                if item is not None:
                    yield item
        finally:
            group.members.discard(member)
            if not group.members:
                # Forget the group before it winds down, so a newcomer starts a fresh one.
                if self.groups.get(group.key) is group:
                    del self.groups[group.key]
                if group.pump is not None:
                    group.pump.cancel()


def _graphql_error(exc: Exception) -> GraphQLError:
    return to_contract_error(GraphQLError(str(exc), original_error=exc))


def _error_result(exc: Exception) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[_graphql_error(exc)])


async def _single_error(exc: Exception) -> AsyncGenerator[Any]:
    yield PreExecutionError(data=None, errors=[_graphql_error(exc)])
