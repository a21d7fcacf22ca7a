"""Sessions this process knows to have ended, kept as long as an access token of theirs lives.

Access tokens carry their session (the refresh-token family); checking them needs no store
round trip, so an ended session's ids are held here, fed by `SessionsRevoked` events from
every process (app/web/lifespan.py hands `apply` to the hub), and loaded from the store at
start-up. Whoever holds a long-lived connection (subscriptions) registers to hear of an end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from app.events.messages import Event, SessionsRevoked
from app.settings import get_settings

log = logging.getLogger(__name__)

Listener = Callable[[frozenset[str]], None]

# The decoder's leeway (app/domain/auth/access_tokens.py) plus a margin.
_LEEWAY_SECONDS = 10.0
_ended: dict[str, float] = {}  # session id -> monotonic time it may be forgotten
_listeners: list[Listener] = []


def _keep_seconds() -> float:
    return get_settings().access_token_ttl_seconds + _LEEWAY_SECONDS


def _forget_old(now: float) -> None:
    for session_id in [s for s, until in _ended.items() if until <= now]:
        del _ended[session_id]


def ended(session_id: str | None) -> bool:
    return session_id is not None and session_id in _ended


def mark_ended(session_ids: Iterable[str], keep_seconds: float | None = None) -> None:
    """Refuse these sessions' tokens from now on, and tell the listeners."""
    now = time.monotonic()
    keep = _keep_seconds() if keep_seconds is None else keep_seconds
    fresh = frozenset(s for s in session_ids if s not in _ended)
    for session_id in fresh:
        _ended[session_id] = now + keep
    _forget_old(now)
    if not fresh:
        return
    for listener in list(_listeners):
        try:
            listener(fresh)
        except Exception:
            log.exception("a session-end listener failed")


def apply(event: Event) -> None:
    """The hub's watcher: sessions ended in any process."""
    if isinstance(event, SessionsRevoked):
        mark_ended(event.session_ids)


def listen(listener: Listener) -> None:
    _listeners.append(listener)


def unlisten(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)
