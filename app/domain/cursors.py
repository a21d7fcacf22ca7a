"""Page cursors: an instant and an id, opaque to clients, refused when not ours."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from beanie import PydanticObjectId
from bson import ObjectId

from app.core.errors import BadUserInput
from app.domain import validation


def encode(at: datetime, item_id: PydanticObjectId | None) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{item_id}".encode()).decode()


def decode(cursor: str, field: str = "after") -> tuple[datetime, PydanticObjectId]:
    """Only a cursor this service made: zoned, and on a date no conversion can overflow."""
    try:
        at_text, _, oid = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        if not ObjectId.is_valid(oid):
            raise ValueError(oid)
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None:
            raise ValueError(at_text)
        validation.calendar_date(at.date(), field)
        return at.astimezone(UTC), PydanticObjectId(oid)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError, BadUserInput) as exc:
        raise BadUserInput(f"{field} is not a valid cursor", field=field) from exc
