"""A refresh token, stored only as a hash, in a family that one login starts."""

from __future__ import annotations

from datetime import datetime

from beanie import PydanticObjectId
from pymongo import ASCENDING, IndexModel

from app.models._base import TimestampedDocument


class RefreshToken(TimestampedDocument):
    token_hash: str
    user_id: PydanticObjectId
    family_id: str
    expires_at: datetime
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None

    class Settings:
        name = "refresh_tokens"
        indexes = [
            IndexModel([("token_hash", ASCENDING)], unique=True, name="refresh_token_hash_unique"),
            IndexModel([("family_id", ASCENDING)]),
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=7 * 24 * 3600),
        ]
