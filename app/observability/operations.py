"""Every GraphQL operation, measured and logged once: name, outcome, caller and duration."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

from graphql import FieldNode, GraphQLError, OperationType, get_operation_ast
from strawberry.extensions import SchemaExtension

from app.core import answers
from app.core.errors import DomainError
from app.observability import metrics
from app.observability.logs import current_operation, current_user_id

log = logging.getLogger("app.operations")
MAX_NAMED_FIELDS = 3


class OperationObserver(SchemaExtension):
    """Labels an operation by its root fields, never the client's operationName.

    The schema bounds the root fields; a client can send any operationName, and each new
    one would be a new time series in Prometheus.
    """

    async def on_operation(self) -> AsyncIterator[None]:
        started = time.perf_counter()
        user_token = current_user_id.set(self._user_id())
        try:
            yield
            seconds = time.perf_counter() - started
            name, kind = self._operation()
            op_token = current_operation.set(name)
            try:
                self._record(name, kind, seconds)
            finally:
                current_operation.reset(op_token)
        finally:
            current_user_id.reset(user_token)

    def _record(self, name: str, kind: OperationType | None, seconds: float) -> None:
        codes = self._error_codes()
        outcome = codes[0] if codes else "OK"
        is_subscription = kind is OperationType.SUBSCRIPTION
        metrics.operation_finished(name, outcome, None if is_subscription else seconds, codes)
        answers.note_operation(name, kind is OperationType.QUERY and not codes)
        log.info(
            "%s %s in %.1f ms",
            name,
            outcome,
            seconds * 1000,
            extra={"outcome": outcome, "duration_ms": round(seconds * 1000, 2)},
        )

    async def on_execute(self) -> AsyncIterator[None]:
        """Lines logged while the operation runs name it too."""
        token = current_operation.set(self._operation()[0])
        try:
            yield
        finally:
            current_operation.reset(token)

    def _user_id(self) -> str | None:
        context = self.execution_context.context
        try:
            actor = getattr(context, "actor", None)
        except DomainError:
            return None  # a bad token: the operation answers UNAUTHENTICATED itself
        return str(actor.user_id) if actor is not None else None

    def _operation(self) -> tuple[str, OperationType | None]:
        document = self.execution_context.graphql_document
        if document is None:
            return "invalid", None
        operation = get_operation_ast(document, self.execution_context.operation_name)
        if operation is None:
            return "invalid", None
        root = self.execution_context.schema._schema.get_root_type(operation.operation)
        known = root.fields if root is not None else {}
        names = sorted(
            {
                selection.name.value
                for selection in operation.selection_set.selections
                if isinstance(selection, FieldNode)
                and (selection.name.value in known or selection.name.value.startswith("__"))
            }
        )
        if not names:
            return "invalid", operation.operation
        shown = ",".join(names[:MAX_NAMED_FIELDS])
        if len(names) > MAX_NAMED_FIELDS:
            shown += ",..."
        return f"{operation.operation.value}:{shown}", operation.operation

    def _error_codes(self) -> list[str]:
        result = self.execution_context.result
        errors: list[GraphQLError] = list(getattr(result, "errors", None) or [])
        errors = errors or list(self.execution_context.pre_execution_errors or [])
        return [str((error.extensions or {}).get("code", "ERROR")) for error in errors]


def record_reused(name: str, seconds: float) -> None:
    """An anonymous read answered again from app/web/answer_cache.py: measured and logged
    as the operation it repeats."""
    metrics.operation_finished(name, "OK", seconds, [])
    metrics.read_model_read(True, reused=True)
    log.info(
        "%s OK in %.1f ms (answer kept)",
        name,
        seconds * 1000,
        extra={"outcome": "OK", "duration_ms": round(seconds * 1000, 2)},
    )
