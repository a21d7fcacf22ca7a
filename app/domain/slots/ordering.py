"""Stable orders kept in Python: the embedded store sorts slowly, and equal keys tie by id."""

from __future__ import annotations

from collections.abc import Iterable

from app.models import Slot


def by_start(slots: Iterable[Slot]) -> list[Slot]:
    """Earliest first; two slots starting together keep the order of their ids."""
    return sorted(slots, key=lambda slot: (slot.starts_at, str(slot.id)))
