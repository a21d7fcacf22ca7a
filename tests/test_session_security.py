"""Sessions end when they should: a reused refresh token ends its whole family, whatever the
interleaving (issue 20: 1), and logout ends the session's access tokens and subscriptions at
once, in every process (issue 20: 4)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.graphql_client import REGISTER, GraphQL, unique
from tests.servers import ApiServer

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
