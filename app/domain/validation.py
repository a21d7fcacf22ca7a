"""Input checks shared by every rule: ids, text lengths, emails, times and time zones."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from beanie import PydanticObjectId
from bson import ObjectId
from email_validator import EmailNotValidError, validate_email

from app.core.errors import BadUserInput

NAME_MAX = 120
SHORT_TEXT_MAX = 200
LONG_TEXT_MAX = 2000
PASSWORD_MIN = 8
PASSWORD_MAX = 128
# ASCII digits only, whole string: `\d` takes any Unicode digit and `$` a trailing newline.
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
END_OF_DAY = "24:00"
MINUTES_PER_DAY = 24 * 60
_PHONE = re.compile(r"^\+?[0-9 ()\-]{5,25}$")
# Every date a request carries lies here: no clinic means another, and no zone conversion or
# day arithmetic on one can leave what datetime can hold.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)
DATE_RANGE_RULE = f"Dates must be from {EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}."


def object_id(value: str, field: str) -> PydanticObjectId:
    if not isinstance(value, str) or not ObjectId.is_valid(value):
        raise BadUserInput(f"{field} is not a valid id", field=field)
    return PydanticObjectId(value)


def optional_object_id(value: str | None, field: str) -> PydanticObjectId | None:
    return None if value is None else object_id(value, field)


def text(value: str, field: str, max_length: int = SHORT_TEXT_MAX, required: bool = True) -> str:
    cleaned = value.strip()
    if not cleaned.isascii():
        try:
            cleaned.encode()
        except UnicodeEncodeError as exc:  # a lone surrogate: the store could not write it
            raise BadUserInput(f"{field} is not valid text", field=field) from exc
    if required and not cleaned:
        raise BadUserInput(f"{field} must not be empty", field=field)
    if len(cleaned) > max_length:
        raise BadUserInput(f"{field} must be at most {max_length} characters", field=field)
    return cleaned


def optional_text(value: str | None, field: str, max_length: int = SHORT_TEXT_MAX) -> str | None:
    if value is None:
        return None
    cleaned = text(value, field, max_length, required=False)
    return cleaned or None


def email(value: str, field: str = "email") -> str:
    if len(value) > 254:
        raise BadUserInput("email is too long", field=field)
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadUserInput(f"{field} is not a valid email address", field=field) from exc
    return checked.normalized.lower()


def phone(value: str | None, field: str = "phone") -> str | None:
    if value is None or not value.strip():
        return None
    if not _PHONE.match(value.strip()):
        raise BadUserInput("phone is not a valid phone number", field=field)
    return value.strip()


def password(value: str, field: str = "password") -> str:
    if not PASSWORD_MIN <= len(value) <= PASSWORD_MAX:
        raise BadUserInput(
            f"password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters", field=field
        )
    return value


def clock_time(value: str, field: str) -> time:
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise BadUserInput(f'{field} must be "HH:MM", 24-hour, 00:00 to 23:59', field=field)
    return time(int(match.group(1)), int(match.group(2)))


def minute_of_day(value: str, field: str, end_of_day_allowed: bool = False) -> int:
    """Minutes since midnight of "HH:MM"; a range's end may be "24:00" (midnight after)."""
    if end_of_day_allowed and value == END_OF_DAY:
        return MINUTES_PER_DAY
    at = clock_time(value, field)
    return at.hour * 60 + at.minute


def timezone(value: str, field: str = "timezone") -> str:
    if value not in _known_zones():
        raise BadUserInput(f"{field} is not a known IANA time zone", field=field)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadUserInput(f"{field} is not a known IANA time zone", field=field) from exc
    return value


_ZONES: set[str] = set()


def _known_zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
        _ZONES.add("UTC")
    return _ZONES


def local_instant(day: date, at: time, zone: str, field: str) -> datetime:
    """The UTC instant of a wall-clock time in `zone`; refuses times a DST change skips."""
    tz = ZoneInfo(zone)
    local = datetime.combine(day, at, tzinfo=tz)
    round_trip = local.astimezone(ZoneInfo("UTC")).astimezone(tz)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise BadUserInput(f"{field} does not exist in {zone} on {day.isoformat()}", field=field)
    return local.astimezone(ZoneInfo("UTC"))


def non_negative_fee(value: float, field: str = "consultationFee") -> float:
    if value != value or value < 0 or value > 1_000_000:  # NaN, negative or absurd
        raise BadUserInput(f"{field} must be between 0 and 1000000", field=field)
    return float(value)


def calendar_date(value: date, field: str) -> date:
    """A date decoded from anything but the Date scalar (which checks the same): a cursor, say."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise BadUserInput(f"{field}: {DATE_RANGE_RULE}", field=field)
    return value


def date_range(start: date, end: date, field: str = "to", max_days: int = 92) -> None:
    if end < start:
        raise BadUserInput("to must not be before from", field=field)
    if end - start > timedelta(days=max_days):
        raise BadUserInput(f"the range may span at most {max_days} days", field=field)


def bounded_int(value: int, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadUserInput(f"{field} must be a whole number from {low} to {high}", field=field)
    return value


def https_url(value: str, field: str) -> str:
    """An absolute https: URL with a host; no other scheme (javascript:, data:, http:) passes."""
    try:
        parts = urlsplit(value)
        valid = parts.scheme.lower() == "https" and bool(parts.hostname) and value.isprintable()
    except ValueError:  # an unclosed IPv6 bracket, a port that is not a number
        valid = False
    if not valid or " " in value:
        raise BadUserInput(f"{field} must be an https:// URL", field=field)
    return value


def printable_key(value: str, field: str, max_length: int = 128) -> str:
    """A client-chosen token: 1..max_length printable characters, no control or lone surrogate."""
    if not isinstance(value, str) or not 1 <= len(value) <= max_length or not value.isprintable():
        raise BadUserInput(f"{field} must be 1 to {max_length} printable characters", field=field)
    return value
