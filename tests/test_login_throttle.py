"""login and register are throttled, and password hashing is bounded (issue 8: 9).

Each throttle gets a server of its own with small limits and a database of its own, so the
rate-limit keys (prefixed by database) are not shared with the rest of the session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient

from tests.graphql_client import LOGIN, REGISTER, GraphQL, Response, unique
from tests.servers import ADMIN_EMAIL, ADMIN_PASSWORD, ApiServer

PASSWORD = "patient-password"
MIB = 1024 * 1024


def throttled_server(
    store_uri: str, db_name: str, log_dir: Path, suffix: str, env: dict[str, str]
) -> ApiServer:
    return ApiServer(store_uri, f"{db_name}_{suffix}", env=env).start(log_dir)


@pytest.fixture(scope="module")
def account_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    server = throttled_server(
        store_uri, db_name, log_dir, "acct", {"RATE_LIMIT_LOGIN_ACCOUNT": "3/hour"}
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def address_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    env = {"RATE_LIMIT_LOGIN_ADDRESS": "4/hour", "RATE_LIMIT_REGISTER_ADDRESS": "3/hour"}
    server = throttled_server(store_uri, db_name, log_dir, "addr", env)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def one_hash_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    server = throttled_server(
        store_uri, db_name, log_dir, "hash", {"PASSWORD_HASH_CONCURRENCY": "1"}
    )
    yield server
    server.stop()


@pytest_asyncio.fixture
async def address_db(store_uri: str, db_name: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store_uri)
    yield client[f"{db_name}_addr"]
    await client.close()


# Accounts are made from this address (uvicorn trusts X-Forwarded-For from 127.0.0.1), so the
# logins below, from 127.0.0.1, come from an address the account never signed in from: a
# known address would pass an account that is over (tests/test_security_events.py).
SIGN_UP_ADDRESS = "192.0.2.1"


async def register(gql: GraphQL, email: str) -> Response:
    reply = await gql.http.post(
        gql.url,
        json={
            "query": REGISTER,
            "variables": {"input": {"email": email, "password": PASSWORD, "name": "P"}},
        },
        headers={"X-Forwarded-For": SIGN_UP_ADDRESS},
    )
    return Response(reply.json(), reply.status_code)


async def login(gql: GraphQL, email: str, password: str) -> Response:
    return await gql(LOGIN, {"email": email, "password": password})


def assert_rate_limited(reply: Response) -> None:
    assert reply.code == "RATE_LIMITED", reply.body
    retry_after = reply.error["extensions"]["retryAfter"]
    assert isinstance(retry_after, int) and 1 <= retry_after <= 3600, reply.body
    assert reply.body.get("data") is None


async def test_after_the_failed_logins_allowed_the_right_password_from_a_new_address_is_refused(
    http: httpx.AsyncClient, account_server: ApiServer
) -> None:
    gql = GraphQL(http, account_server.url)
    email = f"{unique('guessed')}@example.com"
    assert (await register(gql, email)).data["register"]["accessToken"]
    for guess in (email, email.upper(), f"  {email}"):  # one account, however it is spelled
        assert (await login(gql, guess, "wrong-password")).code == "UNAUTHENTICATED"

    assert_rate_limited(await login(gql, email, PASSWORD))
    assert_rate_limited(await login(gql, email, "wrong-password"))


async def test_successful_logins_do_not_count_and_other_accounts_are_unaffected(
    http: httpx.AsyncClient, account_server: ApiServer
) -> None:
    gql = GraphQL(http, account_server.url)
    frequent, neighbour = (f"{unique('frequent')}@example.com" for _ in range(2))
    assert (await register(gql, frequent)).data["register"]["accessToken"]
    assert (await register(gql, neighbour)).data["register"]["accessToken"]
    for _ in range(5):
        assert (await login(gql, frequent, PASSWORD)).data["login"]["accessToken"]
    for _ in range(3):
        assert (await login(gql, neighbour, "wrong-password")).code == "UNAUTHENTICATED"
    assert_rate_limited(await login(gql, neighbour, PASSWORD))

    assert (await login(gql, frequent, PASSWORD)).data["login"]["accessToken"]


async def test_logins_from_one_address_are_limited_across_accounts(
    http: httpx.AsyncClient, address_server: ApiServer
) -> None:
    gql = GraphQL(http, address_server.url)
    for attempt in range(4):
        password = ADMIN_PASSWORD if attempt % 2 else "wrong-password"
        reply = await login(
            gql, f"{unique('anyone')}@example.com" if attempt else ADMIN_EMAIL, password
        )
        assert reply.code == "UNAUTHENTICATED", reply.body

    assert_rate_limited(await login(gql, ADMIN_EMAIL, ADMIN_PASSWORD))


async def test_registrations_from_one_address_are_limited_and_the_refused_one_writes_nothing(
    http: httpx.AsyncClient, address_server: ApiServer, address_db: Any
) -> None:
    gql = GraphQL(http, address_server.url)
    for _ in range(3):
        assert (await register(gql, f"{unique('signup')}@example.com")).data["register"][
            "accessToken"
        ]

    refused_email = f"{unique('signup')}@example.com"
    assert_rate_limited(await register(gql, refused_email))
    assert await address_db.users.count_documents({"email": refused_email}) == 0


def peak_rss(server: ApiServer) -> int:
    """The process's high-water resident memory (VmHWM), in bytes."""
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
async def test_concurrent_logins_hash_one_at_a_time_with_a_concurrency_of_one(
    http: httpx.AsyncClient, one_hash_server: ApiServer
) -> None:
    """Each argon2 hash takes 64 MiB: 24 at once would peak hundreds of MiB above one."""
    gql = GraphQL(http, one_hash_server.url)
    assert (await login(gql, ADMIN_EMAIL, ADMIN_PASSWORD)).data  # one hash's memory, once
    before = peak_rss(one_hash_server)

    replies = await asyncio.gather(
        *(login(gql, f"{unique('burst')}@example.com", "wrong-password") for _ in range(24))
    )

    assert [r.code for r in replies] == ["UNAUTHENTICATED"] * 24
    assert peak_rss(one_hash_server) - before < 2 * 64 * MIB


async def test_login_and_register_ignore_a_stale_token_the_client_still_sends(
    http: httpx.AsyncClient, account_server: ApiServer
) -> None:
    """They count per address, so they never read the (expired or garbage) Authorization."""
    gql = GraphQL(http, account_server.url)
    stale = "not-a-jwt"
    email = f"{unique('stale')}@example.com"
    variables = {"input": {"email": email, "password": PASSWORD, "name": "P"}}
    assert (await gql(REGISTER, variables, stale)).data["register"]["accessToken"]
    signed_in = await gql(LOGIN, {"email": email, "password": PASSWORD}, stale)
    assert signed_in.data["login"]["accessToken"]
