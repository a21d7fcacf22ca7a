"""Short-lived JWT access tokens: issued on login, checked on every request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from beanie import PydanticObjectId
from bson import ObjectId

from app.core.clock import utcnow
from app.core.errors import Unauthenticated
from app.domain.auth import revocations
from app.domain.auth.actor import Actor
from app.domain.auth.signing_secret import signing_secret
from app.models import Role, User
from app.settings import get_settings


def issue_access_token(user: User, session_id: str) -> str:
    """`sid`: the session (refresh-token family), so ending the session ends this token."""
    settings = get_settings()
    now = utcnow()
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user.id),
        "role": user.role.value,
        "sid": session_id,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=settings.access_token_ttl_seconds),
    }
    if user.doctor_id:
        claims["doctorId"] = str(user.doctor_id)
    return jwt.encode(claims, signing_secret(), algorithm=settings.jwt_algorithm)


def actor_from_access_token(token: str) -> Actor:
    """Decode with the algorithm pinned and iss/aud/exp/sub/role required."""
    settings = get_settings()
    try:
        claims = jwt.decode(
            token,
            signing_secret(),
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iss", "aud", "sub", "role"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("Access token expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("Invalid access token") from exc
    sub, role, doctor = str(claims["sub"]), str(claims["role"]), claims.get("doctorId")
    if not ObjectId.is_valid(sub) or role not in Role.__members__:
        raise Unauthenticated("Invalid access token")
    session_id = claims.get("sid")
    if revocations.ended(session_id):
        raise Unauthenticated("This session has ended; sign in again")
    return Actor(
        user_id=PydanticObjectId(sub),
        role=Role(role),
        doctor_id=PydanticObjectId(doctor) if doctor and ObjectId.is_valid(doctor) else None,
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        session_id=session_id if isinstance(session_id, str) else None,
    )


def actor_from_authorization(header: str | None) -> Actor | None:
    """None without a header; UNAUTHENTICATED for a header that is present but bad."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization must be 'Bearer <token>'")
    return actor_from_access_token(token.strip())
