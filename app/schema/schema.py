"""The assembled schema, with the limits and error mapping every operation passes through."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.types import ExecutionContext

from app.resolvers.mutations import Mutation
from app.resolvers.queries import Query
from app.resolvers.subscriptions import Subscription
from app.schema.errors import ContractErrors, to_contract_error
from app.settings import Settings, get_settings


class BookingSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Map in place: subscription streams reach clients through this hook, not ContractErrors.

        Unexpected errors are logged once, with the request id, by `to_contract_error`.
        """
        errors[:] = [to_contract_error(error) for error in errors]


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or get_settings()
    extensions: list[Any] = [
        ContractErrors,
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxTokensLimiter(max_token_count=settings.max_query_tokens),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_query_aliases),
    ]
    if not settings.introspection:
        from graphql.validation import NoSchemaIntrospectionCustomRule

        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return BookingSchema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )
