"""Accounts: register, login, logout, password changes; sessions themselves are in sessions.py."""

from __future__ import annotations

import logging

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app import rate_limits
from app.core.clock import utcnow
from app.core.errors import BadUserInput, Conflict, Unauthenticated
from app.domain import validation
from app.domain.audit.recorder import Change, record
from app.domain.auth import login_throttle, sessions
from app.domain.auth.actor import Actor
from app.domain.auth.passwords import hash_password, verify_password
from app.domain.auth.sessions import Session, start_session
from app.domain.patients import directory, phones
from app.models import Role, User
from app.models.patient_keys import keys_for

log = logging.getLogger(__name__)

__all__ = ["Session", "change_password", "login", "logout", "logout_everywhere", "refresh"]


async def create_user(
    email: str,
    password: str,
    name: str,
    phone: str | None = None,
    role: Role = Role.PATIENT,
    doctor_id: object = None,
    timezone: str | None = None,
) -> User:
    user = User(
        email=validation.email(email),
        password_hash=await hash_password(validation.password(password)),
        name=validation.text(name, "name", validation.NAME_MAX),
        # A doctor's login copies the doctor's phone, checked as the catalogue checks it.
        phone=phones.parse(phone) if role is Role.PATIENT else validation.phone(phone),
        role=role,
        doctor_id=doctor_id,
        timezone=None if timezone is None else validation.timezone(timezone),
    )
    return await insert_user(user)


async def insert_user(user: User) -> User:
    """A patient gets its search keys in the same write, and the patient directory moves."""
    if user.role is Role.PATIENT:
        user.search_keys = keys_for(user.name, user.email, user.phone)
    try:
        await user.insert()
    except DuplicateKeyError as exc:
        raise Conflict("An account with this email already exists", field="email") from exc
    if user.role is Role.PATIENT:
        await directory.bump(new_patient=user.id)
    return user


def role_granted(user: User) -> Change:
    """A new account and the role it was given: the only way a role is set."""
    assert user.id is not None
    return Change(
        "user.created",
        "user",
        user.id,
        after=user.model_dump(include={"email", "role", "doctor_id"}),
    )


async def register(
    email: str,
    password: str,
    name: str,
    phone: str | None,
    address: str = "unknown",
    timezone: str | None = None,
) -> Session:
    """A taken email is answered CONFLICT (the contract's rule), as fast as a new one, a few
    times an hour per address, and audited on the owner's account so the owner can be told."""
    try:
        user = await create_user(email, password, name, phone, Role.PATIENT, timezone=timezone)
    except Conflict:
        await rate_limits.hit("register_taken", f"ip:{address}")
        owner = await User.find_one(User.email == validation.email(email))
        await record(None, utcnow(), _security("user.register_taken", owner.id if owner else None))
        log.info("a registration named the email of account %s", owner.id if owner else "?")
        raise
    assert user.id is not None
    await record(Actor(user_id=user.id, role=user.role), user.created_at, role_granted(user))
    await login_throttle.signed_in(user.email or email, address)
    return await start_session(user)


def _security(action: str, user_id: PydanticObjectId | None, **after: object) -> Change:
    """A security event for the audit log; the recorder adds the address and request id."""
    return Change(action, "user", user_id or PydanticObjectId(), after=after or None)


async def login(email: str, password: str, address: str = "unknown") -> Session:
    """One message for every failure, so a caller cannot learn which emails exist."""
    await login_throttle.refuse_if_over(email, address)
    user = await User.find_one(User.email == email.strip().lower()) if len(email) <= 254 else None
    ok = await verify_password(user.password_hash if user else None, password[:1024])
    if user is None or not ok:
        locked = await login_throttle.count_failure(email)
        account = user.id if user else None
        changes = [_security("login.failed", account, email=email[:254])]
        if locked:
            changes.append(_security("login.locked", account, email=email[:254]))
        await record(None, utcnow(), *changes)
        raise Unauthenticated("Invalid email or password")
    await login_throttle.signed_in(email, address)
    return await start_session(user)


async def refresh(refresh_token: str) -> Session:
    """Rotate: the presented token is spent; presenting a spent one ends its session."""
    rotation = await sessions.rotate(refresh_token)
    if rotation.reused_by is not None:
        await record(None, utcnow(), _security("session.reuse_revoked", rotation.reused_by))
    if rotation.session is None:
        raise sessions.refused()
    return rotation.session


async def logout(refresh_token: str) -> bool:
    """Ends the session the token belongs to: its refresh and access tokens, everywhere."""
    known = await sessions.session_of(refresh_token)
    if known is None:
        return False
    await sessions.end_sessions([str(known["family_id"])])
    user_id = PydanticObjectId(str(known["user_id"]))
    await record(
        Actor(user_id=user_id, role=Role.PATIENT), utcnow(), _security("session.logout", user_id)
    )
    return True


async def logout_everywhere(actor: Actor) -> int:
    """Ends every session of the caller's account; the number ended."""
    ended = await sessions.sessions_of_user(actor.user_id)
    if actor.session_id and actor.session_id not in ended:
        ended.append(actor.session_id)
    await sessions.end_sessions(ended)
    await record(
        actor, utcnow(), _security("session.logout_everywhere", actor.user_id, sessions=len(ended))
    )
    return len(ended)


async def change_password(actor: Actor, current: str, new: str) -> Session:
    """Ends every session of the account (a thief's included), then signs this one in anew."""
    user = await User.get(actor.user_id)
    if user is None or not await verify_password(user.password_hash, current[:1024]):
        raise BadUserInput("The current password is wrong", field="currentPassword")
    new_hash = await hash_password(validation.password(new, field="newPassword"))
    await User.get_pymongo_collection().update_one(
        {"_id": user.id}, {"$set": {"password_hash": new_hash, "updated_at": utcnow()}}
    )
    user.password_hash = new_hash
    ended = await sessions.sessions_of_user(actor.user_id)
    if actor.session_id and actor.session_id not in ended:
        ended.append(actor.session_id)
    await sessions.end_sessions(ended)
    await record(
        actor, utcnow(), _security("user.password_changed", actor.user_id, sessions=len(ended))
    )
    return await start_session(user)


async def ensure_admin(email: str, password: str) -> bool:
    """Create the admin account if it does not exist; True when it was created."""
    normalized = validation.email(email)
    if await User.find_one(User.email == normalized) is not None:
        return False
    try:
        admin = await create_user(normalized, password, "Administrator", role=Role.ADMIN)
    except Conflict:
        return False
    await record(None, admin.created_at, role_granted(admin))
    return True
