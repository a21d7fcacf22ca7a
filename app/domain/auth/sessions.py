"""Sign-in sessions: a family of rotating refresh tokens that one login starts.

A session ends (logout, a reused refresh token, a password change) for every token of its
family, in every process at once: its refresh tokens are revoked in the store, and the end
is announced so each process refuses the session's access tokens and ends its subscriptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import ConnectionFailure, PyMongoError

from app.core.clock import utcnow
from app.core.errors import Unauthenticated
from app.domain.auth import revocations
from app.domain.auth.access_tokens import issue_access_token
from app.events.messages import Event, EventsMissedReason, Resync, SessionsRevoked
from app.events.publisher import publish
from app.models import RefreshToken, User
from app.settings import get_settings

log = logging.getLogger(__name__)
# `$in` lists go to the store in pieces this size (the SQLite engine fails past ~492 values).
_CHUNK = 400
_REFUSED = "Refresh token is invalid, expired or revoked"


@dataclass(frozen=True)
class Session:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User
    session_id: str = ""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(user: User, session_id: str | None = None) -> Session:
    settings = get_settings()
    refresh = secrets.token_urlsafe(48)
    family = session_id or secrets.token_hex(16)
    await RefreshToken(
        token_hash=hash_token(refresh),
        user_id=user.id,
        family_id=family,
        expires_at=utcnow() + timedelta(seconds=settings.refresh_token_ttl_seconds),
    ).insert()
    return Session(
        access_token=issue_access_token(user, family),
        refresh_token=refresh,
        expires_in=settings.access_token_ttl_seconds,
        user=user,
        session_id=family,
    )


async def end_sessions(session_ids: Sequence[str]) -> None:
    """Revoke every refresh token of these families and tell every process."""
    if not session_ids:
        return
    collection = RefreshToken.get_pymongo_collection()
    now = utcnow()
    revocations.mark_ended(session_ids)
    for start in range(0, len(session_ids), _CHUNK):
        await collection.update_many(
            {"family_id": {"$in": list(session_ids[start : start + _CHUNK])}, "revoked_at": None},
            {"$set": {"revoked_at": now, "updated_at": now}},
        )
    await publish(SessionsRevoked(at=now, session_ids=list(session_ids)))


@dataclass(frozen=True)
class Rotation:
    """A refresh's outcome: the new session, or the session a reused token ended."""

    session: Session | None = None
    reused_by: PydanticObjectId | None = None  # the owner of a family ended for reuse


async def rotate(refresh_token: str) -> Rotation:
    """Spend the presented token and issue the next; presenting a spent one ends its family.

    The new token is written, then the family is checked again: a replay that ended the
    family between the spend and the write would otherwise miss the new token.
    """
    collection = RefreshToken.get_pymongo_collection()
    token_hash = hash_token(refresh_token)
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
            await end_sessions([known["family_id"]])
            return Rotation(reused_by=known["user_id"])
        return Rotation()
    user = await User.get(spent["user_id"])
    if user is None:
        return Rotation()
    if pause := get_settings().refresh_pause:
        await asyncio.sleep(pause)
    try:
        session = await start_session(user, spent["family_id"])
    except ConnectionFailure:
        raise  # the next token may have been saved: unspending this one could fork the family
    except PyMongoError:
        # The store refused the next token (a full disk): unspend this one, or the client's
        # retry would look like a reuse and end the family. Should this write fail too, the
        # session ends: the client signs in again.
        with contextlib.suppress(PyMongoError):
            await collection.update_one(
                {"_id": spent["_id"], "rotated_at": now}, {"$set": {"rotated_at": None}}
            )
        raise
    ended = await collection.find_one(
        {"family_id": spent["family_id"], "revoked_at": {"$ne": None}}, {"_id": 1}
    )
    if ended is not None:
        await end_sessions([spent["family_id"]])
        return Rotation()
    return Rotation(session=session)


async def session_of(refresh_token: str) -> dict[str, object] | None:
    """The stored token (its family and owner), spent or not."""
    collection = RefreshToken.get_pymongo_collection()
    found: dict[str, object] | None = await collection.find_one(
        {"token_hash": hash_token(refresh_token)}, {"family_id": 1, "user_id": 1}
    )
    return found


async def sessions_of_user(user_id: PydanticObjectId) -> list[str]:
    """The families of the user's tokens still open (not revoked, not expired)."""
    collection = RefreshToken.get_pymongo_collection()
    cursor = collection.find(
        {"user_id": user_id, "revoked_at": None, "expires_at": {"$gt": utcnow()}},
        {"family_id": 1, "_id": 0},
    )
    return sorted({str(doc["family_id"]) async for doc in cursor})


async def load_recent_ends() -> None:
    """At start-up: sessions ended while this process was not listening, whose access tokens
    may still be alive."""
    keep = get_settings().access_token_ttl_seconds + 10
    since = utcnow() - timedelta(seconds=keep)
    collection = RefreshToken.get_pymongo_collection()
    cursor = collection.find({"revoked_at": {"$gt": since}}, {"family_id": 1, "_id": 0})
    families = {str(doc["family_id"]) async for doc in cursor}
    revocations.mark_ended(families)


_reloads: set[asyncio.Task[None]] = set()


def reload_after_resync(event: Event) -> None:
    """The hub's watcher: after a `Resync` an end announced meanwhile may have been missed,
    so the recent ends are read from the store again. A bulk slot change's notice lost
    nothing, so it costs no read."""
    if not isinstance(event, Resync) or event.reason == EventsMissedReason.SLOTS_CHANGED_IN_BULK:
        return
    task = asyncio.get_running_loop().create_task(_reload_quietly())
    _reloads.add(task)
    task.add_done_callback(_reloads.discard)


async def _reload_quietly() -> None:
    try:
        await load_recent_ends()
    except Exception:  # the store is away too: the next resync or start tries again
        log.warning("could not re-read ended sessions after a resync", exc_info=True)


def refused() -> Unauthenticated:
    return Unauthenticated(_REFUSED)
