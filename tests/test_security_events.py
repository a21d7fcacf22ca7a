"""Security events are audited with the address and request id, for admins only (issue 20: 5);
a taken email and a typo teach a stranger little (7); strangers cannot lock an owner out (8).

One server of its own: introspection off (as in production), small per-account and
taken-email limits, and a database of its own so its rate-limit keys are its own. Client
addresses are set with X-Forwarded-For, which uvicorn trusts from 127.0.0.1 (its default).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.graphql_client import LOGIN, REGISTER, unique
from tests.servers import ADMIN_EMAIL, ADMIN_PASSWORD, ApiServer

PASSWORD = "owner-password-1"
ENV = {
    "INTROSPECTION": "false",
    "RATE_LIMIT_LOGIN_ACCOUNT": "3/hour",
    "RATE_LIMIT_REGISTER_TAKEN": "2/hour",
}
AUDIT = """query($entityId: ID) {
  auditLog(entityId: $entityId, first: 100) {
    edges { node { action entityId address requestId after actor { id } } }
  }
}"""
LOGOUT = "mutation($refreshToken: String!) { logout(refreshToken: $refreshToken) }"
REFRESH = """mutation($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) { accessToken refreshToken }
}"""


@pytest.fixture(scope="module")
def server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    started = ApiServer(store_uri, f"{db_name}_secev", env=ENV).start(log_dir)
    yield started
    started.stop()


class Client:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http, self.url = http, url

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        address: str = "127.0.0.1",
        request_id: str | None = None,
    ) -> dict[str, Any]:
        headers = {"X-Forwarded-For": address}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if request_id:
            headers["X-Request-ID"] = request_id
        reply = await self.http.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=headers
        )
        body: dict[str, Any] = reply.json()
        return body


def code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0].get("extensions", {}).get("code") if errors else None


@pytest.fixture
def gql(http: httpx.AsyncClient, server: ApiServer) -> Client:
    return Client(http, server.url)


async def admin_token(gql: Client) -> str:
    body = await gql(LOGIN, {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    return str(body["data"]["login"]["accessToken"])


async def new_owner(gql: Client) -> tuple[str, str, dict[str, Any]]:
    email = f"{unique('owner')}@example.com"
    body = await gql(REGISTER, {"input": {"email": email, "password": PASSWORD, "name": "Ow"}})
    data = body["data"]["register"]
    return email, data["user"]["id"], data


async def entries(gql: Client, entity_id: str) -> list[dict[str, Any]]:
    body = await gql(AUDIT, {"entityId": entity_id}, await admin_token(gql))
    return [edge["node"] for edge in body["data"]["auditLog"]["edges"]]


async def test_security_events_are_audited_with_address_and_request_id(gql: Client) -> None:
    email, user_id, session = await new_owner(gql)
    wrong = {"email": email, "password": "not-the-password"}
    await gql(LOGIN, wrong, address="203.0.113.5", request_id="failedlogin1")
    rotated = await gql(REFRESH, {"refreshToken": session["refreshToken"]})
    assert code(await gql(REFRESH, {"refreshToken": session["refreshToken"]})) == (
        "UNAUTHENTICATED"
    )
    other = (await gql(LOGIN, {"email": email, "password": PASSWORD}))["data"]["login"]
    await gql(LOGOUT, {"refreshToken": other["refreshToken"]}, address="198.51.100.2")
    assert rotated["data"]

    found = {entry["action"]: entry for entry in await entries(gql, user_id)}
    assert found["user.created"]["after"]["role"] == "PATIENT"  # the role granted
    failed = found["login.failed"]
    assert (failed["address"], failed["requestId"]) == ("203.0.113.5", "failedlogin1")
    assert failed["actor"] is None
    assert "session.reuse_revoked" in found
    assert found["session.logout"]["address"] == "198.51.100.2"
    assert found["session.logout"]["actor"] == {"id": user_id}


async def test_the_audit_log_and_its_addresses_are_for_admins_only(gql: Client) -> None:
    _, user_id, session = await new_owner(gql)
    refused = await gql(AUDIT, {"entityId": user_id}, session["accessToken"])
    assert code(refused) == "FORBIDDEN"
    assert code(await gql(AUDIT, {"entityId": user_id})) == "UNAUTHENTICATED"


async def test_strangers_lock_an_account_out_but_not_its_owner_at_a_known_address(
    gql: Client,
) -> None:
    email, user_id, _ = await new_owner(gql)
    home = "198.51.100.77"
    assert (await gql(LOGIN, {"email": email, "password": PASSWORD}, address=home))["data"]
    wrong = {"email": email, "password": "a-guess-at-it"}
    for n in range(3):
        assert code(await gql(LOGIN, wrong, address=f"203.0.113.{n + 10}")) == ("UNAUTHENTICATED")
    right = {"email": email, "password": PASSWORD}
    stranger = await gql(LOGIN, right, address="203.0.113.99")
    assert code(stranger) == "RATE_LIMITED"
    assert stranger["errors"][0]["extensions"]["retryAfter"] >= 1
    assert code(await gql(LOGIN, wrong, address="203.0.113.98")) == "RATE_LIMITED"
    owner = await gql(LOGIN, right, address=home)
    assert owner["data"]["login"]["user"]["id"] == user_id
    actions = [entry["action"] for entry in await entries(gql, user_id)]
    assert actions.count("login.failed") == 3
    assert actions.count("login.locked") == 1


async def test_a_taken_email_is_answered_a_few_times_an_hour_per_address(gql: Client) -> None:
    email, user_id, _ = await new_owner(gql)
    again = {"input": {"email": email, "password": "another-password", "name": "Mallory"}}
    probe = "203.0.113.200"
    for _ in range(2):
        assert code(await gql(REGISTER, again, address=probe)) == "CONFLICT"
    assert code(await gql(REGISTER, again, address=probe)) == "RATE_LIMITED"
    fresh = {"input": {"email": f"{unique('new')}@example.com", "password": PASSWORD, "name": "N"}}
    assert (await gql(REGISTER, fresh, address=probe))["data"]["register"]
    actions = [entry["action"] for entry in await entries(gql, user_id)]
    assert actions.count("user.register_taken") == 2


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ auditLogg { edges { node { id } } } }", {}),
        ("{ doctors { nam } }", {}),
        (
            "query($s: [AppointmentStatus!]) { myAppointments(status: $s) { id } }",
            {"s": ["CONFIRMD"]},
        ),
    ],
)
async def test_no_suggestions_when_introspection_is_off(
    gql: Client, query: str, variables: dict[str, Any]
) -> None:
    _, _, session = await new_owner(gql)
    body = await gql(query, variables, session["accessToken"])
    assert code(body) == "BAD_USER_INPUT"
    assert all("Did you mean" not in error["message"] for error in body["errors"]), body
