"""An appointment's wall-clock end, as the doctor's patients read it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from app.domain.validation import END_OF_DAY
from app.models import Appointment


def end_time_in_zone(appointment: Appointment, zone: str) -> str:
    """ "HH:MM" of `ends_at` in `zone`, for appointments stored before `end_time` was kept.

    An appointment that ends at the midnight after its day ends at "24:00", as a slot would.
    """
    local = appointment.ends_at.astimezone(ZoneInfo(zone))
    past_midnight = local.date().isoformat() > appointment.appointment_date
    if past_midnight and local.hour == 0 and local.minute == 0:
        return END_OF_DAY
    return local.strftime("%H:%M")
