"""Accounts and sign-in: who is calling, registering, logging in and out, token rotation."""

from __future__ import annotations

import strawberry

from app.domain.auth import accounts as auth
from app.domain.auth.actor import require_actor
from app.models import User as UserDoc
from app.schema.auth.inputs import RegisterInput
from app.schema.auth.types import AuthPayload
from app.schema.catalog.types import User
from app.schema.context import Info
from app.schema.rate_limited import RateLimited


def _auth_payload(session: auth.Session) -> AuthPayload:
    return AuthPayload(
        access_token=session.access_token,
        refresh_token=session.refresh_token,
        token_type="Bearer",
        expires_in=session.expires_in,
        user=User.from_doc(session.user),
    )


@strawberry.type
class AuthQuery:
    @strawberry.field
    async def me(self, info: Info) -> User | None:
        actor = info.context.actor
        if actor is None:
            return None
        user = await UserDoc.get(actor.user_id)
        return User.from_doc(user) if user else None


@strawberry.type
class AuthMutation:
    @strawberry.mutation(
        description="Creates a PATIENT account and signs it in.",
        extensions=[RateLimited("register_address", by_address=True)],
    )
    async def register(self, info: Info, input: RegisterInput) -> AuthPayload:
        return _auth_payload(
            await auth.register(
                input.email,
                input.password,
                input.name,
                input.phone,
                info.context.client_key,
                timezone=input.timezone,
            )
        )

    @strawberry.mutation(extensions=[RateLimited("login_address", by_address=True)])
    async def login(self, info: Info, email: str, password: str) -> AuthPayload:
        return _auth_payload(await auth.login(email, password, info.context.client_key))

    @strawberry.mutation(description="Rotates: the old refresh token stops working.")
    async def refresh_token(self, refresh_token: str) -> AuthPayload:
        return _auth_payload(await auth.refresh(refresh_token))

    @strawberry.mutation
    async def logout(self, refresh_token: str) -> bool:
        return await auth.logout(refresh_token)

    @strawberry.mutation(
        description="Signed in: ends every session of your account (its refresh and access "
        "tokens and live subscriptions, on every device); the number of sessions ended."
    )
    async def logout_everywhere(self, info: Info) -> int:
        return await auth.logout_everywhere(require_actor(info.context.actor))

    @strawberry.mutation(
        description="Signed in: ends every session of your account, then signs you in anew.",
        extensions=[RateLimited("login_address", by_address=True)],
    )
    async def change_password(
        self, info: Info, current_password: str, new_password: str
    ) -> AuthPayload:
        actor = require_actor(info.context.actor)
        return _auth_payload(await auth.change_password(actor, current_password, new_password))
