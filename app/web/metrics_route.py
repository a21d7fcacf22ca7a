"""/metrics for Prometheus; behind a bearer token when METRICS_TOKEN is set."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from app.observability import metrics
from app.settings import get_settings


async def metrics_endpoint(request: Request) -> Response:
    token = get_settings().metrics_token
    if token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return PlainTextResponse(
                "Unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)
