"""Bad requests get the contract's errors, limits hold, and the edges of the HTTP layer behave."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLError

from app.api import build_schema
from app.core.request_id import current_request_id
from app.schema.errors import to_contract_error
from tests.graphql_client import CREATE_SPECIALTY, Api, GraphQL, Response, unique
from tests.servers import ROOT, ApiServer

UNKNOWN_ID = "0123456789abcdef01234567"
INTROSPECTION = "{ __schema { types { name } } }"
AVAILABLE_SLOTS_ON = (
    f'query($d: Date!) {{ availableSlots(doctorId: "{UNKNOWN_ID}", date: $d) {{ id }} }}'
)


async def post_raw(http: httpx.AsyncClient, url: str, content: str | bytes) -> httpx.Response:
    return await http.post(url, content=content, headers={"Content-Type": "application/json"})


def assert_bad_input(reply: Response, field: str | None = None) -> None:
    """BAD_USER_INPUT on the first error, and no error at all that is INTERNAL_SERVER_ERROR."""
    codes = [e.get("extensions", {}).get("code") for e in reply.body.get("errors", [])]
    assert "INTERNAL_SERVER_ERROR" not in codes, reply.body
    assert reply.code == "BAD_USER_INPUT", reply.body
    if field is not None:
        assert reply.error["extensions"].get("field") == field, reply.body


# --- malformed bodies and variables ---------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("{not json", id="not-json"),
        pytest.param("", id="empty"),
        pytest.param("[1, 2", id="truncated"),
        pytest.param('"just a string"', id="bare-string"),
        pytest.param("42", id="bare-number"),
        pytest.param("null", id="null"),
        pytest.param("[1, 2]", id="batch-of-non-objects"),
        pytest.param(b'{"query": "\xff\xfe"}', id="invalid-utf8"),
        pytest.param("[" * 100_000 + "]" * 100_000, id="deeply-nested"),
        pytest.param('{"query": 42}', id="query-not-a-string"),
        pytest.param('{"query": "{ me { id } }", "variables": [1]}', id="variables-not-an-object"),
        pytest.param('{"variables": {}}', id="no-query"),
    ],
)
async def test_a_malformed_body_is_a_400_with_a_graphql_shaped_error(
    http: httpx.AsyncClient, server_a: ApiServer, content: str
) -> None:
    reply = await post_raw(http, server_a.url, content)
    assert reply.status_code == 400
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        pytest.param(
            "query($id: ID!) { specialty(id: $id) { id } }",
            {"id": {"not": "an id"}},
            "id",
            id="id-as-object",
        ),
        pytest.param(
            "query($id: ID!) { specialty(id: $id) { id } }", {"id": None}, "id", id="id-null"
        ),
        pytest.param("query($id: ID!) { specialty(id: $id) { id } }", {}, "id", id="id-missing"),
        pytest.param(
            AVAILABLE_SLOTS_ON,
            {"d": "2026-13-45"},
            "d",
            id="impossible-date",
        ),
        pytest.param(
            AVAILABLE_SLOTS_ON,
            {"d": 20260120},
            "d",
            id="date-as-number",
        ),
        pytest.param(
            "query($first: Int) { appointments(first: $first) { edges { cursor } } }",
            {"first": "ten"},
            "first",
            id="int-as-string",
        ),
        pytest.param(
            "query($first: Int) { appointments(first: $first) { edges { cursor } } }",
            {"first": 2**40},
            "first",
            id="int-overflow",
        ),
        pytest.param(
            "query($all: Boolean) { specialties(includeInactive: $all) { id } }",
            {"all": "yes"},
            "all",
            id="boolean-as-string",
        ),
        pytest.param(
            "query($s: [AppointmentStatus!]) { myAppointments(status: $s) { id } }",
            {"s": ["BOGUS"]},
            "s",
            id="unknown-enum",
        ),
    ],
)
async def test_wrong_variable_types_are_bad_user_input(
    api: Api, query: str, variables: dict[str, Any], field: str
) -> None:
    assert_bad_input(await api.gql(query, variables, api.admin.token), field)


async def test_an_impossible_date_literal_is_bad_user_input(api: Api) -> None:
    query = f'{{ availableSlots(doctorId: "{UNKNOWN_ID}", date: "2026-02-30") {{ id }} }}'
    assert_bad_input(await api.gql(query, token=api.admin.token))


async def test_a_wrong_input_object_field_is_bad_user_input(api: Api, store: Any) -> None:
    name = unique("Typo ")
    reply = await api.gql(
        CREATE_SPECIALTY, {"input": {"name": name, "colour": "red"}}, api.admin.token
    )
    assert_bad_input(reply)
    assert await store["specialties"].count_documents({"name": name}) == 0


# --- ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        '{ specialty(id: "nope") { id } }',
        '{ doctor(id: "nope") { id } }',
        '{ slot(id: "nope") { id } }',
        '{ appointment(id: "nope") { id } }',
        '{ specialty(id: "0123456789abcdef0123456z") { id } }',
        '{ specialty(id: "") { id } }',
    ],
)
async def test_a_malformed_id_is_bad_user_input_naming_the_field(api: Api, query: str) -> None:
    assert_bad_input(await api.gql(query, token=api.admin.token), "id")


@pytest.mark.parametrize("name", ["specialty", "doctor", "slot", "appointment"])
async def test_an_unknown_well_formed_id_is_not_found(api: Api, name: str) -> None:
    reply = await api.gql(f'{{ {name}(id: "{UNKNOWN_ID}") {{ id }} }}', token=api.admin.token)
    assert reply.code == "NOT_FOUND", reply.body


async def test_a_malformed_id_in_a_mutation_changes_nothing(api: Api, store: Any) -> None:
    before = await store["specialties"].count_documents({})
    reply = await api.gql(
        'mutation { updateSpecialty(id: "nope", input: {isActive: false}) { id } }',
        token=api.admin.token,
    )
    assert_bad_input(reply, "id")
    assert await store["specialties"].count_documents({}) == before


# --- limits ---------------------------------------------------------------------------------


def nested_specialty_selection(depth: int) -> str:
    """doctors -> specialty -> doctors -> ..., `depth` levels below a Specialty."""
    selection = "id"
    for level in reversed(range(depth)):
        selection = f"{'doctors' if level % 2 == 0 else 'specialty'} {{ id {selection} }}"
    return selection


def create_specialty_selecting(name: str, selection: str) -> str:
    return f'mutation {{ createSpecialty(input: {{name: "{name}"}}) {{ {selection} }} }}'


async def test_a_query_deeper_than_the_limit_is_refused_before_execution(
    api: Api, store: Any
) -> None:
    """MAX_QUERY_DEPTH is 10; 10 levels below the root field is one too many."""
    name = unique("Deep ")
    mutation = create_specialty_selecting(name, nested_specialty_selection(10))
    reply = await api.gql(mutation, token=api.admin.token)
    assert_bad_input(reply)
    assert "depth" in reply.error["message"]
    assert reply.body.get("data") is None
    assert await store["specialties"].count_documents({"name": name}) == 0


async def test_a_query_at_the_depth_limit_runs(
    api: Api, http: httpx.AsyncClient, ide_server: ApiServer
) -> None:
    """The control for the refusal above: the same shape, one level shallower, executes.

    Its five nested lists are over the default MAX_QUERY_COST, so it runs where that is high.
    """
    name = unique("AtLimit ")
    mutation = create_specialty_selecting(name, nested_specialty_selection(9))
    reply = await GraphQL(http, ide_server.url)(mutation, token=api.admin.token)
    assert reply.data["createSpecialty"] == {"doctors": []}


def aliased_creates(prefix: str, count: int) -> str:
    fields = " ".join(
        f'a{n}: createSpecialty(input: {{name: "{prefix}-{n}"}}) {{ id }}' for n in range(count)
    )
    return f"mutation {{ {fields} }}"


async def test_too_many_aliases_are_refused_before_execution(api: Api, store: Any) -> None:
    prefix = unique("Alias ")
    reply = await api.gql(aliased_creates(prefix, 16), token=api.admin.token)
    assert_bad_input(reply)
    assert "alias" in reply.error["message"].lower()
    assert reply.body.get("data") is None
    found = await store["specialties"].count_documents({"name": {"$regex": f"^{prefix}-"}})
    assert found == 0


async def test_aliases_up_to_the_limit_run(api: Api) -> None:
    """The control for the refusal above: MAX_QUERY_ALIASES is 15."""
    reply = await api.gql(aliased_creates(unique("Alias "), 15), token=api.admin.token)
    assert len(reply.data) == 15


async def test_an_oversized_query_is_refused(api: Api) -> None:
    fields = " ".join(["id"] * 2500)
    reply = await api.gql(f"{{ specialties {{ {fields} }} }}", token=api.admin.token)
    assert_bad_input(reply)
    assert reply.body.get("data") is None


# --- GraphiQL and introspection -------------------------------------------------------------


@pytest.fixture(scope="module")
def ide_server(store_uri: str, db_name: str, log_dir: Path) -> Iterator[ApiServer]:
    """A third API process with GraphiQL on, introspection off and a very high cost limit."""
    env = {"GRAPHIQL": "true", "INTROSPECTION": "false", "MAX_QUERY_COST": "10000000"}
    server = ApiServer(store_uri, db_name, env=env)
    server.start(log_dir)
    yield server
    server.stop()


async def get_html(http: httpx.AsyncClient, url: str) -> httpx.Response:
    return await http.get(url, headers={"Accept": "text/html"})


async def test_graphiql_is_off_by_default_in_the_test_environment(
    http: httpx.AsyncClient, server_a: ApiServer
) -> None:
    reply = await get_html(http, server_a.url)
    assert reply.status_code == 404
    assert not reply.headers["content-type"].startswith("text/html")
    assert "graphiql" not in reply.text.lower()


async def test_graphiql_is_served_when_enabled(
    http: httpx.AsyncClient, ide_server: ApiServer
) -> None:
    reply = await get_html(http, ide_server.url)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert "graphiql" in reply.text.lower()


async def test_introspection_is_refused_when_switched_off(
    http: httpx.AsyncClient, ide_server: ApiServer
) -> None:
    reply = await GraphQL(http, ide_server.url)(INTROSPECTION)
    assert_bad_input(reply)
    assert reply.body.get("data") is None
    # Ordinary queries on that server still work.
    assert (await GraphQL(http, ide_server.url)("{ specialties { id } }")).data is not None


async def test_introspection_works_where_enabled(gql: GraphQL) -> None:
    names = {t["name"] for t in (await gql(INTROSPECTION)).data["__schema"]["types"]}
    assert {"Query", "Mutation", "Slot", "Appointment"} <= names


async def test_get_runs_a_query(http: httpx.AsyncClient, server_a: ApiServer) -> None:
    reply = await http.get(server_a.url, params={"query": "{ me { id } }"})
    assert reply.status_code == 200
    assert reply.json() == {"data": {"me": None}}


async def test_get_with_malformed_variables_is_a_400(
    http: httpx.AsyncClient, server_a: ApiServer
) -> None:
    query = "query($id: ID!) { specialty(id: $id) { id } }"
    reply = await http.get(server_a.url, params={"query": query, "variables": "{bad"})
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_get_refuses_a_mutation(http: httpx.AsyncClient, server_a: ApiServer) -> None:
    """A GET must never change state (it can be triggered by a link or a prefetch)."""
    query = 'mutation { logout(refreshToken: "x") }'
    reply = await http.get(server_a.url, params={"query": query})
    assert reply.status_code in (400, 405)
    assert "data" not in reply.json() or reply.json()["data"] is None


# --- request ids ----------------------------------------------------------------------------


async def test_every_response_carries_a_request_id(
    http: httpx.AsyncClient, server_a: ApiServer
) -> None:
    replies = [
        await http.post(server_a.url, json={"query": "{ me { id } }"}),
        await post_raw(http, server_a.url, "{not json"),
        await get_html(http, server_a.url),
        await http.get(server_a.url.replace("/graphql", "/healthz")),
    ]
    ids = [reply.headers.get("x-request-id") for reply in replies]
    assert all(ids), ids
    assert len(set(ids)) == len(ids), "each request gets its own id"


async def test_a_sane_caller_request_id_is_echoed(
    http: httpx.AsyncClient, server_a: ApiServer
) -> None:
    given = "trace-0123-abcd"
    reply = await http.post(
        server_a.url, json={"query": "{ me { id } }"}, headers={"X-Request-ID": given}
    )
    assert reply.headers["x-request-id"] == given


@pytest.mark.parametrize("given", ["has spaces in it", "x" * 65, "semi;colon", "new\\nline"])
async def test_an_unsafe_caller_request_id_is_replaced(
    http: httpx.AsyncClient, server_a: ApiServer, given: str
) -> None:
    reply = await http.post(
        server_a.url, json={"query": "{ me { id } }"}, headers={"X-Request-ID": given}
    )
    echoed = reply.headers["x-request-id"]
    assert echoed and echoed != given


# --- schema file and error masking ----------------------------------------------------------


def test_schema_graphql_is_not_stale() -> None:
    exported = build_schema().as_str() + "\n"
    on_disk = (ROOT / "schema.graphql").read_text()
    assert on_disk == exported, "schema.graphql is stale: run `python -m app export-schema`"


def test_unexpected_errors_are_masked() -> None:
    token = current_request_id.set("req-under-test")
    try:
        error = GraphQLError(
            "secret detail", path=["me"], original_error=RuntimeError("secret detail")
        )
        mapped = to_contract_error(error)
    finally:
        current_request_id.reset(token)
    formatted = mapped.formatted
    assert "secret detail" not in mapped.message
    assert "secret detail" not in str(formatted)
    assert formatted["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert formatted["extensions"]["requestId"] == "req-under-test"
    assert mapped.original_error is None
    assert formatted["path"] == ["me"]
