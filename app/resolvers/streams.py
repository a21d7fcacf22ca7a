"""The event stream every subscription reads, filtered to what its caller may see."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable

from app.events.messages import Event
from app.events.publisher import get_hub
from app.schema.context import Info
from app.schema.loaders import Loaders


async def events_for(info: Info, wants: Callable[[Event], bool]) -> AsyncGenerator[Event]:
    """The events this listener may receive.

    Rate limits and token expiry are enforced per subscriber in app/schema/shared_streams.py.
    """
    async with get_hub().subscribe(wants) as subscriber:
        while True:
            event = await subscriber.next()
            if event is not None:
                # Each event reads related records afresh, not from the connection's first look.
                info.context.loaders = Loaders()
                yield event
