"""Sessions end when they should: a reused refresh token ends its whole family, whatever the
interleaving (issue 20: 1), and logout ends the session's access tokens and subscriptions at
once, in every process (issue 20: 4)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.graphql_client import LOGIN, REGISTER, Api, GraphQL, unique
from tests.servers import ApiServer
from tests.subscriptions_client import connect, error_codes, until_ready
from tests.test_subscriptions import SLOT_UPDATES, SlotProbe

PASSWORD = "correct-horse-battery"
REFRESH = """mutation($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) { accessToken refreshToken }
}"""
ME = "query { me { id } }"
PAUSE_SECONDS = 1.5


@pytest.fixture(scope="module")
def paused_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    """Every rotation waits between spending the old token and writing the new one."""
    env = {"TEST_REFRESH_PAUSE_SECONDS": str(PAUSE_SECONDS)}
    server = ApiServer(store_uri, f"{db_name}_pause", env=env).start(log_dir)
    yield server
    server.stop()


async def test_a_replay_during_a_rotation_ends_the_family(
    http: httpx.AsyncClient, paused_server: ApiServer
) -> None:
    gql = GraphQL(http, paused_server.url)
    email = f"{unique('family')}@example.com"
    registered = await gql(
        REGISTER, {"input": {"email": email, "password": PASSWORD, "name": "Fa"}}
    )
    r1 = registered.data["register"]["refreshToken"]
    r2 = (await gql(REFRESH, {"refreshToken": r1})).data["refreshToken"]["refreshToken"]

    # The rotation of R2 spends it, then pauses; the replay of R1 lands inside that pause.
    rotation = asyncio.create_task(gql(REFRESH, {"refreshToken": r2}))
    await asyncio.sleep(PAUSE_SECONDS / 3)
    assert not rotation.done()
    replay = await gql(REFRESH, {"refreshToken": r1})
    assert replay.code == "UNAUTHENTICATED"
    rotated = await rotation

    if rotated.body.get("errors"):
        assert rotated.code == "UNAUTHENTICATED"
        return
    # Had the rotation answered, neither of its tokens may work.
    r3 = rotated.data["refreshToken"]["refreshToken"]
    access = rotated.data["refreshToken"]["accessToken"]
    assert (await gql(REFRESH, {"refreshToken": r3})).code == "UNAUTHENTICATED"
    assert (await gql(ME, token=access)).code == "UNAUTHENTICATED"


LOGOUT = "mutation($refreshToken: String!) { logout(refreshToken: $refreshToken) }"
LOGOUT_EVERYWHERE = "mutation { logoutEverywhere }"
CHANGE_PASSWORD = """mutation($current: String!, $new: String!) {
  changePassword(currentPassword: $current, newPassword: $new) { accessToken refreshToken }
}"""
# How long an ended session's token may still be heard of elsewhere: Redis pub/sub is
# milliseconds; generous for loaded machines.
ANNOUNCE_BOUND_SECONDS = 10.0


async def refused_within(gql: GraphQL, token: str, within: float = ANNOUNCE_BOUND_SECONDS) -> str:
    """Asks `me` until the token is refused; the refusal's message."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        reply = await gql(ME, token=token)
        if reply.body.get("errors"):
            assert reply.code == "UNAUTHENTICATED", reply.body
            return str(reply.error["message"])
        assert loop.time() < deadline, "the ended session's access token still works"
        await asyncio.sleep(0.05)


async def signed_in(gql: GraphQL) -> tuple[str, str, str]:
    """(email, access token, refresh token) of a new patient."""
    email = f"{unique('session')}@example.com"
    reply = await gql(REGISTER, {"input": {"email": email, "password": PASSWORD, "name": "Se"}})
    data = reply.data["register"]
    return email, data["accessToken"], data["refreshToken"]


async def test_logout_in_one_process_ends_the_access_token_in_the_other(
    gql: GraphQL, gql_b: GraphQL
) -> None:
    _, access, refresh = await signed_in(gql)
    assert (await gql(ME, token=access)).data["me"]["id"]
    assert (await gql_b(LOGOUT, {"refreshToken": refresh})).data["logout"] is True
    assert "ended" in await refused_within(gql, access)
    assert (await gql_b(ME, token=access)).code == "UNAUTHENTICATED"
    assert (await gql(REFRESH, {"refreshToken": refresh})).code == "UNAUTHENTICATED"


async def test_logout_leaves_the_accounts_other_sessions(gql: GraphQL, gql_b: GraphQL) -> None:
    email, access, refresh = await signed_in(gql)
    other = (await gql(LOGIN, {"email": email, "password": PASSWORD})).data["login"]
    await gql_b(LOGOUT, {"refreshToken": refresh})
    await refused_within(gql, access)
    assert (await gql(ME, token=other["accessToken"])).data["me"]["id"]


async def test_a_reused_refresh_token_ends_the_access_tokens_too(
    gql: GraphQL, gql_b: GraphQL
) -> None:
    _, _, r1 = await signed_in(gql)
    rotated = (await gql(REFRESH, {"refreshToken": r1})).data["refreshToken"]
    assert (await gql_b(REFRESH, {"refreshToken": r1})).code == "UNAUTHENTICATED"
    await refused_within(gql, rotated["accessToken"])


async def test_logout_everywhere_ends_every_session(gql: GraphQL, gql_b: GraphQL) -> None:
    email, first, _ = await signed_in(gql)
    second = (await gql(LOGIN, {"email": email, "password": PASSWORD})).data["login"]
    assert (await gql_b(LOGOUT_EVERYWHERE, token=second["accessToken"])).data[
        "logoutEverywhere"
    ] == 2
    await refused_within(gql, first)
    await refused_within(gql, second["accessToken"])
    assert (await gql(REFRESH, {"refreshToken": second["refreshToken"]})).code == (
        "UNAUTHENTICATED"
    )
    assert (await gql(LOGOUT_EVERYWHERE)).code == "UNAUTHENTICATED"


async def test_change_password_ends_the_other_sessions_and_starts_a_new_one(
    gql: GraphQL, gql_b: GraphQL
) -> None:
    email, thief, _ = await signed_in(gql)
    mine = (await gql(LOGIN, {"email": email, "password": PASSWORD})).data["login"]
    new_password = "a-brand-new-password"
    wrong = await gql_b(
        CHANGE_PASSWORD, {"current": "not-it-at-all", "new": new_password}, mine["accessToken"]
    )
    assert (
        wrong.code == "BAD_USER_INPUT" and wrong.error["extensions"]["field"] == "currentPassword"
    )
    assert (await gql(ME, token=thief)).data["me"]["id"]  # nothing changed
    changed = await gql_b(
        CHANGE_PASSWORD, {"current": PASSWORD, "new": new_password}, mine["accessToken"]
    )
    fresh = changed.data["changePassword"]
    await refused_within(gql, thief)
    await refused_within(gql, mine["accessToken"])
    assert (await gql(ME, token=fresh["accessToken"])).data["me"]["id"]
    assert (await gql(LOGIN, {"email": email, "password": PASSWORD})).code == "UNAUTHENTICATED"
    assert (await gql(LOGIN, {"email": email, "password": new_password})).data["login"]


async def test_change_password_refuses_a_short_new_password(gql: GraphQL) -> None:
    email, access, _ = await signed_in(gql)
    short = await gql(CHANGE_PASSWORD, {"current": PASSWORD, "new": "short"}, access)
    assert short.code == "BAD_USER_INPUT" and short.error["extensions"]["field"] == "newPassword"
    assert (await gql(ME, token=access)).data["me"]["id"]
    assert (await gql(LOGIN, {"email": email, "password": PASSWORD})).data["login"]


async def test_logout_ends_a_live_subscription_in_the_other_process(
    api: Api, gql: GraphQL, gql_b: GraphQL, server_a: ApiServer
) -> None:
    clinic = await api.clinic()
    probe = await SlotProbe.create(api, clinic)
    _, access, refresh = await signed_in(gql)
    async with connect(server_a.ws_url, access) as connection:
        events = connection.subscribe(SLOT_UPDATES, {"doctorId": clinic.doctor_id}, skip=probe.skip)
        await until_ready([events], probe)
        await gql_b(LOGOUT, {"refreshToken": refresh})
        ended = await events.failure(within=ANNOUNCE_BOUND_SECONDS)
        assert error_codes(ended) == ["UNAUTHENTICATED"]


async def test_a_process_started_after_a_logout_refuses_the_sessions_tokens(
    http: httpx.AsyncClient, gql: GraphQL, store_uri: str, db_name: str, log_dir: Path
) -> None:
    """It heard no announcement: it reads the recent ends from the store as it starts."""
    _, access, refresh = await signed_in(gql)
    await gql(LOGOUT, {"refreshToken": refresh})
    late = ApiServer(store_uri, db_name).start(log_dir)
    try:
        reply = await GraphQL(http, late.url)(ME, token=access)
        assert reply.code == "UNAUTHENTICATED"
        assert "ended" in reply.error["message"]
    finally:
        late.stop()
