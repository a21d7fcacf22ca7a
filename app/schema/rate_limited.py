"""Rate limits a field per caller: `@strawberry.mutation(extensions=[RateLimited("lock")])`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.extensions import FieldExtension

from app import rate_limits
from app.schema.context import Context, Info


def caller_key(context: Context) -> str:
    """The user when signed in, otherwise the client address."""
    actor = context.actor
    return f"user:{actor.user_id}" if actor is not None else f"ip:{context.client_key}"


def address_key(context: Context) -> str:
    return f"ip:{context.client_key}"


class RateLimited(FieldExtension):
    """`by_address`: count per client address even with a token, which login and register
    ignore (an expired token a client still sends must not stand in their way)."""

    def __init__(self, bucket: str, by_address: bool = False) -> None:
        self.bucket = bucket
        self.key = address_key if by_address else caller_key

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        raise NotImplementedError("rate-limited fields are async")

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        await rate_limits.hit(self.bucket, self.key(info.context))
        return await next_(source, info, **kwargs)
