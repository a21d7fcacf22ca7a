"""The schema class every operation passes through: the limits, shared streams, error mapping.

app/api.py assembles it from the resolvers.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from datetime import date
from typing import Any

import strawberry
from graphql import GraphQLError, get_operation_ast
from graphql import OperationType as GraphQLOperationType
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.types import ExecutionContext
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType

from app.observability.operations import OperationObserver
from app.schema.context import Context
from app.schema.document_gate import DocumentGate, DocumentLimits
from app.schema.enums import ErrorCode
from app.schema.errors import to_contract_error
from app.schema.input_text import lone_surrogate_refusal
from app.schema.query_cost import query_cost_rule
from app.schema.scalars import BoundedDate
from app.schema.selection_limits import DocumentRefused
from app.schema.shared_streams import SharedStreams
from app.settings import Settings


class BookingSchema(strawberry.Schema):
    shared_streams: SharedStreams | None = None
    gate: DocumentGate | None = None

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> Any:
        """Every document passes the gate first; subscriptions then go through the shared groups,
        anything else runs as Strawberry runs it."""

        async def upstream(context: Any) -> Any:
            return await strawberry.Schema.stream(
                self,
                query,
                variable_values,
                context,
                root_value,
                operation_name,
                operation_extensions,
                allowed_operation_types,
            )

        refusal = lone_surrogate_refusal(variable_values)
        if refusal is not None:
            return refused([refusal])
        if query is None or self.gate is None:
            return await upstream(context_value)
        checked = self.gate.check(query)
        if isinstance(checked, list):
            return refused(checked)
        if self.shared_streams is not None and isinstance(context_value, Context):
            shared = await self.shared_streams.join(
                checked, query, variable_values, operation_name, context_value, upstream
            )
            if shared is not None:
                return shared
        return await upstream(context_value)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Variables with text no store can hold, and subscriptions (which need a stream), are
        refused before anything runs."""
        refusal = lone_surrogate_refusal(variable_values) or self._subscription_refusal(
            query, operation_name
        )
        if refusal is not None:
            return ExecutionResult(data=None, errors=[to_contract_error(refusal)])
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )

    def _subscription_refusal(
        self, query: str | None, operation_name: str | None
    ) -> GraphQLError | None:
        if query is None or self.gate is None:
            return None
        checked = self.gate.check(query)
        if isinstance(checked, list):
            # Refused before validation: answered here, so Strawberry never validates it.
            # Other errors Strawberry reports itself, the same, in the contract's shape.
            early = [error for error in checked if isinstance(error, DocumentRefused)]
            return early[0] if early else None
        operation = get_operation_ast(checked, operation_name)
        if operation is None or operation.operation is not GraphQLOperationType.SUBSCRIPTION:
            return None
        return GraphQLError(
            "Subscriptions are served over a WebSocket at /graphql "
            "(graphql-transport-ws or graphql-ws); use a WebSocket",
            extensions={"code": "BAD_USER_INPUT"},
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """The one hook every result's errors pass through (HTTP, WebSocket, subscriptions).

        Mapped in place; unexpected errors are logged once, with the request id.
        """
        errors[:] = [to_contract_error(error) for error in errors]


async def refused(errors: list[GraphQLError]) -> AsyncGenerator[PreExecutionError]:
    """The gate's refusal, in the contract's shape, as the first and only result."""
    yield PreExecutionError(data=None, errors=[to_contract_error(error) for error in errors])


def make_schema(
    query: type, mutation: type, subscription: type, settings: Settings
) -> BookingSchema:
    """The schema of these root types, with every limit and extension the settings ask for."""
    # The rule classes are made once: QueryDepthLimiter and MaxAliasesLimiter would make new
    # ones for every request, and ValidationCache keys on them, so it would never hit.
    rules: list[type[ASTValidationRule]] = [
        depth_rule(settings.max_query_depth, None, None),
        alias_rule(settings.max_query_aliases),
        query_cost_rule(settings.max_query_cost, settings.query_cost_list_size),
    ]
    if not settings.introspection_enabled:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Any] = [
        lambda: ParserCache(maxsize=256),
        lambda: DocumentLimits(
            max_tokens=settings.max_query_tokens, max_length=settings.max_query_length
        ),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=256),
        OperationObserver,
    ]
    schema = BookingSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        extensions=extensions,
        scalar_overrides={date: BoundedDate},
        types=[ErrorCode],  # named by no field: listed so the schema documents every code
    )
    schema.shared_streams = SharedStreams(settings.subscriber_queue_size)
    schema.gate = DocumentGate(
        schema._schema,
        rules,
        settings.max_query_tokens,
        settings.max_query_length,
        settings.max_query_selections,
        settings.max_query_field_repeats,
    )
    return schema
