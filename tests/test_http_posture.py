"""Production posture of the HTTP layer (issue 8: 14)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query

from tests.graphql_client import CREATE_SPECIALTY, Api, GraphQL, unique
from tests.servers import ApiServer

INTROSPECTION = "{ __schema { types { name } } }"


async def test_api_responses_say_nosniff_and_no_store(
    http: httpx.AsyncClient, server_a: ApiServer
) -> None:
    replies = [
        await http.post(server_a.url, json={"query": "{ me { id } }"}),
        await http.post(server_a.url, content="{bad", headers={"Content-Type": "application/json"}),
    ]
    for reply in replies:
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["cache-control"] == "no-store"


async def test_a_body_over_the_limit_is_refused_with_413_and_writes_nothing(
    http: httpx.AsyncClient, api: Api, store: Any
) -> None:
    name = unique("Huge ")
    padding = " " * (1024 * 1024 + 1)
    body = (
        '{"query": "mutation($input: SpecialtyInput!) { createSpecialty(input: $input) { id } }",'
        f'"variables": {{"input": {{"name": "{name}"}}}}{padding}}}'
    )
    reply = await http.post(
        api.gql.url,
        content=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {api.admin.token}"},
    )
    assert reply.status_code == 413
    assert reply.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await store["specialties"].count_documents({"name": name}) == 0


async def test_a_body_within_the_limit_runs(api: Api) -> None:
    reply = await api.gql(CREATE_SPECIALTY, {"input": {"name": unique("Fits ")}}, api.admin.token)
    assert reply.data["createSpecialty"]["id"]


@pytest.fixture(scope="module")
def production_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    server = ApiServer(store_uri, db_name, env={"APP_ENV": "production"}).start(log_dir)
    yield server
    server.stop()


async def test_introspection_is_off_by_default_in_production(
    http: httpx.AsyncClient, production_server: ApiServer
) -> None:
    reply = await GraphQL(http, production_server.url)(INTROSPECTION)
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.body.get("data") is None


async def test_full_introspection_answers_without_errors(gql: GraphQL) -> None:
    """GraphiQL's and code generators' introspection query, defaults included: a required
    input field that inherited a None default made every `defaultValue` of DoctorInput an
    INTERNAL_SERVER_ERROR."""
    reply = await gql(get_introspection_query(input_value_deprecation=True))
    assert not reply.body.get("errors"), reply.body.get("errors")
    types = {t["name"]: t for t in reply.data["__schema"]["types"]}
    required = {
        f["name"]: f["defaultValue"]
        for f in types["DoctorInput"]["inputFields"]
        if f["type"]["kind"] == "NON_NULL"
    }
    assert required == dict.fromkeys(["name", "email", "specialtyId", "licenseNumber"])
