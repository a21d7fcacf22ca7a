"""A date's count of bookable slots, for calendar views."""

from __future__ import annotations

from datetime import date

import strawberry


@strawberry.type(description="For calendar views: how many slots a patient could book that date.")
class DayAvailability:
    date: date
    bookable: int
