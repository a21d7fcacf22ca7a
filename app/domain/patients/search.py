"""`patients(search:)`: the front desk finds a patient by any word of the name, the email, or
any run of the phone's digits, served from the patient directory."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from app.core.errors import BadUserInput
from app.domain.auth.actor import Actor, require_role
from app.domain.patients.directory import directory, sort_key
from app.domain.patients.search_keys import terms_of
from app.models import Role, User

PAGE_MAX = 100


@dataclass
class PatientPage:
    items: list[User]
    cursors: list[str]
    has_next_page: bool


def _cursor(user: User) -> str:
    name, user_id = sort_key(user)
    return base64.urlsafe_b64encode(f"{user_id}|{name}".encode()).decode()


def _after(cursor: str) -> tuple[str, str]:
    try:
        user_id, _, name = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadUserInput("after is not a valid cursor", field="after") from exc
    if len(user_id) != 24 or not all(ch in "0123456789abcdef" for ch in user_id):
        raise BadUserInput("after is not a valid cursor", field="after")
    return (name, user_id)


async def search_patients(
    actor: Actor | None, search: str, first: int, after: str | None
) -> PatientPage:
    require_role(actor, Role.ADMIN)
    if not 1 <= first <= PAGE_MAX:
        raise BadUserInput(f"first must be between 1 and {PAGE_MAX}", field="first")
    terms = terms_of(search)
    position = _after(after) if after is not None else None
    items, more = (await directory()).search(terms, position, first)
    return PatientPage(items=items, cursors=[_cursor(u) for u in items], has_next_page=more)
