"""Cursor paging, written once for every paged list (appointments, the audit log, notifications).

A cursor is an instant and an id, opaque to clients and refused when not ours; a page is the
first `first` documents after it, sorted in the store by (instant, _id), oldest or newest first.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from beanie import Document, PydanticObjectId
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


PAGE_MAX = 100


@dataclass(frozen=True)
class PageRequest:
    """`first` items after the cursor `after` (none: from the start)."""

    first: int = 50
    after: str | None = None

    def check(self) -> None:
        if not 1 <= self.first <= PAGE_MAX:
            raise BadUserInput(f"first must be between 1 and {PAGE_MAX}", field="first")


@dataclass
class Page[D: Document]:
    items: list[D]
    cursors: list[str]
    has_next_page: bool


async def read_page[D: Document](
    model: type[D],
    query: dict[str, Any],
    instant: str,
    page: PageRequest,
    newest_first: bool = False,
) -> Page[D]:
    """The page, sorted in the store: ordering in Python would read every match, and on
    MongoDB an (instant, _id) index serves it."""
    beyond, order = ("$lt", "-") if newest_first else ("$gt", "+")
    if page.after is not None:
        at, oid = decode(page.after)
        query = {**query, "$or": [{instant: {beyond: at}}, {instant: at, "_id": {beyond: oid}}]}
    ordered = model.find(query).sort(f"{order}{instant}", f"{order}_id")
    found = await ordered.limit(page.first + 1).to_list()
    items = found[: page.first]
    return Page(
        items=items,
        cursors=[encode(getattr(item, instant), item.id) for item in items],
        has_next_page=len(found) > page.first,
    )
