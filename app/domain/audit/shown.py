"""What one reader is shown of an appointment's history: another user's account (its id in
`before`/`after`, or as the entry's actor) only where the contract already shows it to that
reader; see `visibility.may_see_account`. Admins' `auditLog` shows every entry in full."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId

from app.domain.auth.actor import Actor
from app.domain.visibility import may_see_account
from app.models import Appointment, AuditEntry

# Keys of `before` / `after` (named as the API names them) whose values are user ids.
USER_ID_KEYS = frozenset({"patientId", "cancelledBy"})


@dataclass(frozen=True)
class ShownEntry:
    entry: AuditEntry
    shows_actor: bool  # False: the reader learns the actor's role, not its account
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    shows_address: bool = False  # the client's address: admins only


def in_full(entry: AuditEntry) -> ShownEntry:
    """For admins, who see every account."""
    return ShownEntry(entry, True, entry.before, entry.after, shows_address=True)


def history_shown_to(
    reader: Actor | None, appointment: Appointment, entries: Sequence[AuditEntry]
) -> list[ShownEntry]:
    """The appointment's entries as this reader (one allowed to see the appointment) sees
    them: a user id it may not see is left out of `before` / `after`, as if unchanged."""

    def sees(user_id: PydanticObjectId) -> bool:
        return may_see_account(reader, user_id, appointment)

    def hidden(value: str) -> bool:
        return not ObjectId.is_valid(value) or not sees(PydanticObjectId(value))

    return [
        ShownEntry(
            entry,
            entry.actor_id is None or sees(entry.actor_id),
            _without_hidden(entry.before, hidden),
            _without_hidden(entry.after, hidden),
        )
        for entry in entries
    ]


def _without_hidden(value: Any, hidden: Callable[[str], bool]) -> Any:
    if isinstance(value, dict):
        return {
            key: _without_hidden(item, hidden)
            for key, item in value.items()
            if not (key in USER_ID_KEYS and isinstance(item, str) and hidden(item))
        }
    if isinstance(value, list):
        return [_without_hidden(item, hidden) for item in value]
    return value
