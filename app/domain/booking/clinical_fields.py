"""Notes and the meeting link belong to the clinic: only the doctor or an admin writes them."""

from __future__ import annotations

from typing import Any

from app.core.errors import Forbidden
from app.domain import validation
from app.models import Role

MEETING_LINK_MAX = 2048


def clinical_field_changes(
    role: Role, notes: str | None, virtual_meeting_link: str | None
) -> dict[str, Any]:
    """The fields to set, checked; a patient sending either is refused before anything is written.

    A patient could otherwise send the other party a `javascript:` or phishing link that the
    clinic's own app shows as the consultation room.
    """
    if notes is None and virtual_meeting_link is None:
        return {}
    if role is Role.PATIENT:
        raise Forbidden("Only the doctor or an admin may set notes or the meeting link")
    changes: dict[str, Any] = {}
    if notes is not None:
        changes["notes"] = validation.optional_text(notes, "notes", validation.LONG_TEXT_MAX)
    if virtual_meeting_link is not None:
        link = validation.optional_text(
            virtual_meeting_link, "virtualMeetingLink", MEETING_LINK_MAX
        )
        changes["virtual_meeting_link"] = (
            None if link is None else validation.https_url(link, "virtualMeetingLink")
        )
    return changes
