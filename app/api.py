"""The GraphQL API: every domain's queries, mutations and subscriptions in one schema.

Each domain's resolvers live in app/resolvers/<domain>.py; the order below is the order of
their fields in schema.graphql.
"""

from __future__ import annotations

from strawberry.tools import merge_types

from app.resolvers.audit import AuditQuery
from app.resolvers.auth import AuthMutation, AuthQuery
from app.resolvers.booking import BookingMutation, BookingQuery, BookingSubscription
from app.resolvers.catalog import CatalogMutation, CatalogQuery
from app.resolvers.front_desk import FrontDeskMutation, FrontDeskQuery
from app.resolvers.notifications import (
    NotificationMutation,
    NotificationQuery,
    NotificationSubscription,
)
from app.resolvers.scheduling import SchedulingMutation, SchedulingQuery, SchedulingSubscription
from app.schema.schema import BookingSchema, make_schema
from app.settings import Settings, get_settings

Query = merge_types(
    "Query",
    (
        AuthQuery,
        CatalogQuery,
        SchedulingQuery,
        BookingQuery,
        AuditQuery,
        FrontDeskQuery,
        NotificationQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        AuthMutation,
        BookingMutation,
        CatalogMutation,
        SchedulingMutation,
        FrontDeskMutation,
        NotificationMutation,
    ),
)
Subscription = merge_types(
    "Subscription", (SchedulingSubscription, BookingSubscription, NotificationSubscription)
)


def build_schema(settings: Settings | None = None) -> BookingSchema:
    return make_schema(Query, Mutation, Subscription, settings or get_settings())
