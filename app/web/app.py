"""The ASGI application: /graphql (HTTP and WebSocket), /healthz, /readyz, /metrics, and the
web client at `/`."""

from __future__ import annotations

from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from app.api import build_schema
from app.domain.audit.recorder import failed_writes
from app.observability.logs import configure_logging
from app.settings import get_settings
from app.web.client_files import client_routes
from app.web.draining import DrainingMiddleware
from app.web.graphql_view import BookingGraphQL
from app.web.http_limits import HttpHardeningMiddleware
from app.web.lifespan import lifespan
from app.web.metrics_route import metrics_endpoint
from app.web.middleware import RequestIdMiddleware
from app.web.readiness import readyz
from app.web.traffic import TrafficTracker


async def healthz(_: Request) -> JSONResponse:
    """Liveness (whether it can serve is /readyz's question), with how many audit writes this
    process failed to make: the contract counts them."""
    return JSONResponse({"status": "ok", "auditWriteFailures": failed_writes()})


def create_app() -> Starlette:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    graphql = BookingGraphQL(
        build_schema(settings),
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        connection_init_wait_timeout=timedelta(seconds=settings.ws_connection_init_timeout_seconds),
        max_subscriptions_per_connection=settings.ws_max_subscriptions,
        # Browsers skip CORS on WebSocket handshakes; the view checks Origin against the same
        # list, so dashboards on an allowed origin subscribe and other pages are refused.
        allowed_origins=settings.cors_origins,
    )
    middleware = [
        Middleware(RequestIdMiddleware),
        Middleware(DrainingMiddleware),
        Middleware(TrafficTracker),
        Middleware(HttpHardeningMiddleware, max_bytes=settings.max_request_bytes),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                expose_headers=["X-Request-ID"],
            )
        )
    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
    ]
    if settings.metrics_served:
        routes.append(Route("/metrics", metrics_endpoint))
    routes.extend(client_routes())
    return Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
    )
