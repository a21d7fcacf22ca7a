"""The GraphQL API: every domain's queries, mutations and subscriptions in one schema."""

from __future__ import annotations

from app.resolvers.mutations import Mutation
from app.resolvers.queries import Query
from app.resolvers.subscriptions import Subscription
from app.schema.schema import BookingSchema, make_schema
from app.settings import Settings, get_settings


def build_schema(settings: Settings | None = None) -> BookingSchema:
    return make_schema(Query, Mutation, Subscription, settings or get_settings())
