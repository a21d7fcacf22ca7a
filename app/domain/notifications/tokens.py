"""Signed one-click unsubscribe tokens (RFC 8058): the user and when the link was made.

HMAC-SHA256 under a key derived from the token signing secret (JWT_SECRET or the kept one);
hand-written: a dozen lines of the standard library, where a token library would bring a
second secret to manage. A token made before
the user's last preference change is stale: a link from an old email cannot undo a choice
made since.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from beanie import PydanticObjectId
from bson.errors import InvalidId

from app.domain.auth.signing_secret import signing_secret


def _key() -> bytes:
    return hashlib.sha256(b"aayulink-unsubscribe:" + signing_secret().encode()).digest()


def _sign(payload: bytes) -> str:
    digest = hmac.new(_key(), payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def unsubscribe_token(user_id: PydanticObjectId, issued_at: datetime) -> str:
    payload = f"{user_id}.{int(issued_at.timestamp() * 1000)}".encode()
    encoded = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    return f"{encoded}.{_sign(payload)}"


def read_unsubscribe_token(token: str) -> tuple[PydanticObjectId, datetime] | None:
    """The user and issue time of a token this server signed; None for anything else."""
    try:
        encoded, signature = token.split(".")
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        if not hmac.compare_digest(signature, _sign(payload)):
            return None
        user, millis = payload.decode().split(".")
        return PydanticObjectId(user), datetime.fromtimestamp(int(millis) / 1000, UTC)
    except (ValueError, InvalidId, UnicodeDecodeError):
        return None
