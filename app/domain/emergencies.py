"""Emergency requests: a patient's urgent message, broadcast to doctors and admins."""

from __future__ import annotations

from app.core.clock import utcnow
from app.domain import validation
from app.domain.auth.actor import Actor, require_role
from app.domain.catalog.doctors import get_doctor
from app.domain.catalog.specialties import get_specialty
from app.domain.notifications import owed
from app.events.messages import EmergencyRaised
from app.events.publisher import publish
from app.models import EmergencyRequest, NotificationKind, Role


async def send_emergency_request(
    actor: Actor | None, message: str, specialty_id: str | None, doctor_id: str | None
) -> EmergencyRequest:
    caller = require_role(actor, Role.PATIENT)
    now = utcnow()
    request = EmergencyRequest(
        patient_id=caller.user_id,
        message=validation.text(message, "message", validation.LONG_TEXT_MAX),
        specialty_id=(await get_specialty(specialty_id, "specialtyId")).id
        if specialty_id
        else None,
        doctor_id=(await get_doctor(doctor_id, "doctorId")).id if doctor_id else None,
        created_at=now,
        updated_at=now,
        # In the same write: a process killed before the admins' rows leaves them owed.
        notifications_owed=owed.first(owed.mark(NotificationKind.EMERGENCY, 0, now)),
    )
    await request.insert()
    event = EmergencyRaised(request=request, at=request.created_at)
    await publish(event)
    return request
