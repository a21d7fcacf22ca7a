"""Accounts and sessions: register, login, rotating refresh tokens, logout."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.core.clock import utcnow
from app.core.errors import Conflict, Unauthenticated
from app.domain import validation
from app.domain.audit.recorder import Change, record
from app.domain.auth import login_throttle
from app.domain.auth.access_tokens import issue_access_token
from app.domain.auth.actor import Actor
from app.domain.auth.passwords import hash_password, verify_password
from app.models import RefreshToken, Role, User
from app.settings import get_settings


@dataclass(frozen=True)
class Session:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _start_session(user: User, family_id: str | None = None) -> Session:
    settings = get_settings()
    refresh = secrets.token_urlsafe(48)
    await RefreshToken(
        token_hash=_hash_token(refresh),
        user_id=user.id,
        family_id=family_id or secrets.token_hex(16),
        expires_at=utcnow() + timedelta(seconds=settings.refresh_token_ttl_seconds),
    ).insert()
    return Session(
        access_token=issue_access_token(user),
        refresh_token=refresh,
        expires_in=settings.access_token_ttl_seconds,
        user=user,
    )


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
        phone=validation.phone(phone),
        role=role,
        doctor_id=doctor_id,
        timezone=None if timezone is None else validation.timezone(timezone),
    )
    try:
        await user.insert()
    except DuplicateKeyError as exc:
        raise Conflict("An account with this email already exists", field="email") from exc
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
    email: str, password: str, name: str, phone: str | None, timezone: str | None = None
) -> Session:
    user = await create_user(email, password, name, phone, Role.PATIENT, timezone=timezone)
    assert user.id is not None
    await record(Actor(user_id=user.id, role=user.role), user.created_at, role_granted(user))
    return await _start_session(user)


async def login(email: str, password: str) -> Session:
    """One message for every failure, so a caller cannot learn which emails exist."""
    await login_throttle.refuse_if_over(email)
    user = await User.find_one(User.email == email.strip().lower()) if len(email) <= 254 else None
    ok = await verify_password(user.password_hash if user else None, password[:1024])
    if user is None or not ok:
        await login_throttle.count_failure(email)
        raise Unauthenticated("Invalid email or password")
    return await _start_session(user)


async def refresh(refresh_token: str) -> Session:
    """Rotate: the presented token is spent; presenting a spent one revokes its family."""
    collection = RefreshToken.get_pymongo_collection()
    token_hash = _hash_token(refresh_token)
    now = utcnow()
    spent = await collection.find_one_and_update(
        {
            "token_hash": token_hash,
            "rotated_at": None,
            "revoked_at": None,
            "expires_at": {"$gt": now},
        },
        {"$set": {"rotated_at": now, "updated_at": now}},
        return_document=ReturnDocument.AFTER,
    )
    if spent is None:
        known = await collection.find_one({"token_hash": token_hash})
        if known is not None and known.get("rotated_at") is not None:
            await collection.update_many(
                {"family_id": known["family_id"], "revoked_at": None},
                {"$set": {"revoked_at": now, "updated_at": now}},
            )
        raise Unauthenticated("Refresh token is invalid, expired or revoked")
    user = await User.get(spent["user_id"])
    if user is None:
        raise Unauthenticated("Refresh token is invalid, expired or revoked")
    return await _start_session(user, family_id=spent["family_id"])


async def logout(refresh_token: str) -> bool:
    """Revokes the whole family the token belongs to: every device of that login."""
    collection = RefreshToken.get_pymongo_collection()
    known = await collection.find_one({"token_hash": _hash_token(refresh_token)})
    if known is None:
        return False
    now = utcnow()
    await collection.update_many(
        {"family_id": known["family_id"], "revoked_at": None},
        {"$set": {"revoked_at": now, "updated_at": now}},
    )
    return True


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
