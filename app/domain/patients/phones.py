"""Phone numbers: parsed with `phonenumbers`, stored in E.164, shown in international format."""

from __future__ import annotations

import phonenumbers

from app.core.errors import BadUserInput
from app.settings import get_settings

PHONE_MAX = 40  # longer than any real number written with spaces; refused before parsing


def parse(value: str | None, field: str = "phone") -> str | None:
    """E.164 ("+919876543210"), or None for no phone; a number without a country code is read
    in DEFAULT_PHONE_REGION. A number that is not possible for its region is refused."""
    if value is None or not value.strip():
        return None
    if len(value) > PHONE_MAX:
        raise BadUserInput(f"{field} is too long", field=field)
    try:
        number = phonenumbers.parse(value.strip(), get_settings().default_phone_region)
    except phonenumbers.NumberParseException as exc:
        raise BadUserInput(f"{field} is not a phone number", field=field) from exc
    if not phonenumbers.is_valid_number(number):
        raise BadUserInput(f"{field} is not a valid phone number", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def shown(stored: str | None) -> str | None:
    """International format ("+91 98765 43210"); a number stored before parsing, as stored."""
    if stored is None:
        return None
    try:
        number = phonenumbers.parse(stored, None)
    except phonenumbers.NumberParseException:
        return stored
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
