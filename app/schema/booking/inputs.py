"""Booking an appointment, and asking for help now."""

from __future__ import annotations

import strawberry

from app.domain.booking.bookings import BookingRequest


@strawberry.input
class BookAppointmentInput:
    slot_id: strawberry.ID
    doctor_id: strawberry.ID | None = None
    reason_for_visit: str | None = None
    patient_id: strawberry.ID | None = None
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retrying with a key this patient already used returns that appointment.",
    )

    def request(self) -> BookingRequest:
        return BookingRequest(
            slot_id=self.slot_id,
            doctor_id=self.doctor_id,
            reason_for_visit=self.reason_for_visit,
            patient_id=self.patient_id,
            idempotency_key=self.idempotency_key,
        )


@strawberry.input
class EmergencyRequestInput:
    message: str
    specialty_id: strawberry.ID | None = None
    doctor_id: strawberry.ID | None = None
