"""Specialties: created and edited by admins, listed for everyone."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound
from app.domain import validation
from app.domain.audit.recorder import Change, changed_fields, record
from app.domain.auth.actor import Actor, require_role
from app.domain.read_model import announce_stale
from app.models import Role, Specialty

AUDITED = {"name", "description", "is_active"}


async def list_specialties(include_inactive: bool) -> list[Specialty]:
    query = {} if include_inactive else {"is_active": True}
    found = await Specialty.find(query).to_list()
    return sorted(found, key=lambda s: (s.name_key, str(s.id)))


async def get_specialty(specialty_id: str, field: str = "id") -> Specialty:
    found = await Specialty.get(validation.object_id(specialty_id, field))
    if found is None:
        raise NotFound("Specialty", field=field)
    return found


async def create_specialty(actor: Actor | None, name: str, description: str | None) -> Specialty:
    caller = require_role(actor, Role.ADMIN)
    clean = validation.text(name, "name", validation.NAME_MAX)
    now = utcnow()
    specialty = Specialty(
        name=clean,
        name_key=clean.casefold(),
        description=validation.optional_text(description, "description", validation.LONG_TEXT_MAX),
        created_at=now,
        updated_at=now,
    )
    try:
        await specialty.insert()
    except DuplicateKeyError as exc:
        raise Conflict("A specialty with this name already exists", field="name") from exc
    assert specialty.id is not None
    created = specialty.model_dump(include=AUDITED)
    await record(caller, now, Change("specialty.created", "specialty", specialty.id, after=created))
    await announce_stale(catalog=True)
    return specialty


async def update_specialty(
    actor: Actor | None,
    specialty_id: str,
    name: str | None,
    description: str | None,
    is_active: bool | None,
) -> Specialty:
    caller = require_role(actor, Role.ADMIN)
    specialty = await get_specialty(specialty_id)
    was = specialty.model_dump(include=AUDITED)
    if name is not None:
        specialty.name = validation.text(name, "name", validation.NAME_MAX)
        specialty.name_key = specialty.name.casefold()
    if description is not None:
        specialty.description = validation.optional_text(
            description, "description", validation.LONG_TEXT_MAX
        )
    if is_active is not None:
        specialty.is_active = is_active
    specialty.updated_at = utcnow()
    try:
        await specialty.save_changes()
    except DuplicateKeyError as exc:
        raise Conflict("A specialty with this name already exists", field="name") from exc
    before, after = changed_fields(was, specialty.model_dump(include=AUDITED))
    if after:
        assert specialty.id is not None
        change = Change("specialty.updated", "specialty", specialty.id, before, after)
        await record(caller, specialty.updated_at, change)
    await announce_stale(catalog=True)
    return specialty
