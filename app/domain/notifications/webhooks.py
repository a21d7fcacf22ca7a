"""Webhooks: each notification event POSTed as JSON to the clinic's URLs, signed.

`X-AayuLink-Signature: sha256=<hex HMAC-SHA256 of the body under WEBHOOK_SECRET>` and
`X-AayuLink-Delivery: <notification id>` (the same on every retry, so a receiver drops
repeats). Only a 2xx is success; redirects are not followed (a moved endpoint is an error
the clinic should see, and following would resend a signed body elsewhere).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import httpx

from app.domain.notifications.mail import Outcome
from app.settings import Settings

CONCURRENCY = 16


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post_all(
    settings: Settings, client: httpx.AsyncClient, deliveries: list[tuple[str, str, dict[str, Any]]]
) -> list[Outcome]:
    """(delivery id, url, payload) each; their outcomes in order."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def post(delivery: str, url: str, payload: dict[str, Any]) -> Outcome:
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "AayuLink-Webhooks/1",
            "X-AayuLink-Delivery": delivery,
            "X-AayuLink-Event": str(payload.get("kind", "")),
        }
        if settings.webhook_secret:
            headers["X-AayuLink-Signature"] = signature(settings.webhook_secret, body)
        async with gate:
            try:
                response = await client.post(url, content=body, headers=headers)
            except httpx.TimeoutException:
                return Outcome(
                    error=f"webhook: no answer within {settings.webhook_timeout_seconds:g} s"
                )
            except httpx.HTTPError as exc:
                return Outcome(error=f"webhook: {type(exc).__name__}: {exc}"[:500])
        if 200 <= response.status_code < 300:
            return Outcome()
        if response.is_redirect:
            where = response.headers.get("location", "?")
            return Outcome(error=f"webhook: HTTP {response.status_code} redirect to {where}"[:500])
        return Outcome(error=f"webhook: HTTP {response.status_code}")

    return list(await asyncio.gather(*(post(*d) for d in deliveries)))


def client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=settings.webhook_timeout_seconds,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=CONCURRENCY),
    )
