"""What every resolver gets: the caller, the request id, and this request's loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from strawberry.types import Info as StrawberryInfo

from app.core.clock import utcnow
from app.core.errors import Unauthenticated
from app.domain.auth import revocations
from app.domain.auth.access_tokens import actor_from_authorization
from app.domain.auth.actor import Actor, still_valid
from app.schema.loaders import Loaders


@dataclass
class Context:
    headers_authorization: str | None
    request_id: str
    client_key: str = "anonymous"
    loaders: Loaders = field(default_factory=Loaders)
    started_at: datetime = field(default_factory=utcnow)
    connection_params: dict[str, Any] | None = None  # set by the WebSocket connection_init
    _actor: Actor | None = None
    _auth_error: Unauthenticated | None = None
    _resolved: bool = False

    @property
    def now(self) -> datetime:
        """One instant per HTTP request; a WebSocket connection lives on, so it reads the clock."""
        return utcnow() if self.connection_params is not None else self.started_at

    @property
    def authorization(self) -> str | None:
        """The HTTP header, or on WebSocket the connection_init payload's Authorization."""
        params = self.connection_params
        if isinstance(params, dict):
            value = params.get("Authorization") or params.get("authorization")
            return value if isinstance(value, str) else None
        return self.headers_authorization

    @property
    def actor(self) -> Actor | None:
        """The caller, or None; a token that is present but bad is refused, never ignored."""
        if not self._resolved:
            try:
                self._actor = actor_from_authorization(self.authorization)
            except Unauthenticated as exc:
                self._auth_error = exc
            self._resolved = True
        if self._auth_error is not None:
            raise self._auth_error
        if not still_valid(self._actor):
            # A WebSocket connection outlives its token: each later use re-checks it.
            if self._actor is not None and revocations.ended(self._actor.session_id):
                raise Unauthenticated("This session has ended; sign in again")
            raise Unauthenticated("Access token expired; reconnect with a fresh token")
        return self._actor


Info = StrawberryInfo[Context, None]
