"""The plain HTTP endpoints of notifications: calendar feeds and one-click unsubscribe."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from app.domain.notifications.feeds import feed, unsubscribe

_DONE = "<!doctype html><title>Unsubscribed</title><p>You will get no more emails from AayuLink."
_REFUSED = "This unsubscribe link is not valid (or no longer valid). Sign in to change settings."


async def calendar_feed(request: Request) -> Response:
    """404 for an unknown or rotated token, and nothing else said."""
    body = await feed(request.path_params["token"])
    if body is None:
        return PlainTextResponse("Not Found", status_code=404)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )


async def unsubscribe_endpoint(request: Request) -> Response:
    """RFC 8058: a POST from the mail client, or the user opening the link."""
    outcome = await unsubscribe(request.query_params.get("token", ""))
    if outcome is None:
        return PlainTextResponse(_REFUSED, status_code=400)
    return HTMLResponse(_DONE)


def notification_routes() -> list[BaseRoute]:
    return [
        Route("/calendar/{token}.ics", calendar_feed, methods=["GET"]),
        Route("/notifications/unsubscribe", unsubscribe_endpoint, methods=["GET", "POST"]),
    ]
