"""A per-process read model of bookable slots and the doctor/specialty catalogue.

Reads of bookable slots (availableSlots, doctors(date) and a doctor's availableSlots) and
of doctors and specialties are answered from memory when this process has heard every
event since it read them (app/events: in-process, or through Redis from every process);
otherwise, and whenever READ_MODEL_ENABLED is false, from the store. See docs/architecture.md
(Read model) for how stale an answer can be.
"""

from __future__ import annotations

from collections.abc import Iterable

from beanie import PydanticObjectId

from app.core.clock import utcnow
from app.domain.read_model.model import ReadModel
from app.events.messages import CacheInvalidated
from app.events.publisher import publish
from app.observability import metrics

_model: ReadModel | None = None


def set_read_model(model: ReadModel | None) -> None:
    global _model
    _model = model


def current_model() -> ReadModel | None:
    """The process's read model, serving or not (None when switched off or not started)."""
    return _model


def serving_model() -> ReadModel | None:
    """The read model when it may answer now, or None: read the store."""
    model = _model
    serving = model if model is not None and model.serving() else None
    metrics.read_model_read(serving is not None)
    return serving


async def announce_stale(
    *,
    catalog: bool = False,
    doctor_id: PydanticObjectId | None = None,
    dates: Iterable[str] | None = None,
    patients: bool = False,
    patient_id: PydanticObjectId | None = None,
) -> None:
    """After a committed change no per-document event describes (a doctor or specialty
    edit, slots written in bulk): every process's read model drops what it held of it."""
    await publish(
        CacheInvalidated(
            at=utcnow(),
            catalog=catalog,
            doctor_id=doctor_id,
            dates=None if dates is None else sorted(set(dates)),
            patients=patients,
            patient_id=patient_id,
        )
    )


__all__ = ["ReadModel", "announce_stale", "current_model", "serving_model", "set_read_model"]
