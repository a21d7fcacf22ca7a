"""Every document, on every transport, passes the same limits before any work (issue 8: 1, 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.graphql_client import Api, Response, unique
from tests.servers import ApiServer
from tests.ws_raw import GRAPHQL_TRANSPORT_WS, GRAPHQL_WS, subscribe_once

PROTOCOLS = (GRAPHQL_TRANSPORT_WS, GRAPHQL_WS)

# Four nested lists: 10 x 10 x 10 x 10 assumed objects, over MAX_QUERY_COST (5000).
NESTED_LISTS = (
    "{ specialties { doctors { specialty { doctors { specialty { doctors { id } } } } } } }"
)
NESTED_THROUGH_FRAGMENTS = """
fragment Deeper on Doctor { specialty { doctors { specialty { doctors { id } } } } }
{ specialties { doctors { ...Deeper } } }"""
NESTED_THROUGH_INLINE_FRAGMENTS = """{ specialties { ... on Specialty { doctors { specialty {
  doctors { ... on Doctor { specialty { doctors { id } } } } } } } } }"""
TWO_NESTED_LISTS = "{ specialties { id name doctors { id name specialty { id name } } } }"


def codes(reply: Response) -> list[Any]:
    return [e.get("extensions", {}).get("code") for e in reply.body.get("errors", [])]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(NESTED_LISTS, id="nested-lists"),
        pytest.param(NESTED_THROUGH_FRAGMENTS, id="fragments"),
        pytest.param(NESTED_THROUGH_INLINE_FRAGMENTS, id="inline-fragments"),
    ],
)
async def test_a_query_whose_lists_multiply_past_the_cost_limit_is_refused(
    api: Api, query: str
) -> None:
    reply = await api.gql(query, token=api.admin.token)
    assert codes(reply) == ["QUERY_TOO_COMPLEX"], reply.body
    assert "complex" in reply.error["message"]
    assert reply.body.get("data") is None


async def test_a_query_with_a_moderate_cost_runs(api: Api) -> None:
    """The control: two nested lists stay under the limit."""
    reply = await api.gql(TWO_NESTED_LISTS, token=api.admin.token)
    assert isinstance(reply.data["specialties"], list)


async def test_a_too_complex_mutation_is_refused_before_it_writes(api: Api, store: Any) -> None:
    name = unique("Costly ")
    selection = "doctors { specialty { doctors { specialty { doctors { specialty { doctors { id }"
    mutation = f'mutation {{ createSpecialty(input: {{name: "{name}"}}) {{ {selection} }}'
    mutation += " } } } } } } }"
    reply = await api.gql(mutation, token=api.admin.token)
    assert codes(reply) == ["QUERY_TOO_COMPLEX"], reply.body
    assert await store["specialties"].count_documents({"name": name}) == 0


# --- WebSocket: the same limits, answered with the protocol's error message -----------------

COSTLY_SUBSCRIPTION = """subscription { slotUpdates { slot { specialty { doctors { specialty {
  doctors { specialty { doctors { specialty { doctors { id } } } } } } } } } } }"""
TOO_DEEP_SUBSCRIPTION = """subscription { slotUpdates { slot { specialty { doctors { specialty {
  doctors { specialty { doctors { specialty { doctors { specialty { id } } } } } } } } } } } }"""
ALIASED_SUBSCRIPTION = (
    "subscription { slotUpdates { " + " ".join(f"a{n}: kind" for n in range(16)) + " } }"
)
OVER_TOKENS_SUBSCRIPTION = "subscription { slotUpdates { " + "kind " * 2500 + "} }"
FIVE_MB_SUBSCRIPTION = "subscription { slotUpdates { " + "kind " * 1_000_000 + "} }"


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    ("query", "code"),
    [
        pytest.param(COSTLY_SUBSCRIPTION, "QUERY_TOO_COMPLEX", id="cost"),
        pytest.param(TOO_DEEP_SUBSCRIPTION, "BAD_USER_INPUT", id="depth"),
        pytest.param(ALIASED_SUBSCRIPTION, "BAD_USER_INPUT", id="aliases"),
        pytest.param(OVER_TOKENS_SUBSCRIPTION, "BAD_USER_INPUT", id="tokens"),
        pytest.param(FIVE_MB_SUBSCRIPTION, "BAD_USER_INPUT", id="five-megabytes"),
    ],
)
async def test_a_subscription_over_a_limit_gets_the_protocols_error_with_the_code(
    server_a: ApiServer, protocol: str, query: str, code: str
) -> None:
    exchange = await subscribe_once(server_a.ws_url, query, protocol)
    error = exchange.error_payload()
    assert error["extensions"]["code"] == code, exchange.messages
    assert exchange.types == ["error"], exchange.messages


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def test_five_megabyte_subscriptions_leave_the_server_small_and_serving(
    http: httpx.AsyncClient, server_a: ApiServer
) -> None:
    """Before the fix each one was parsed whole and kept in a parse cache (600 MB for one)."""
    assert server_a.process is not None
    await subscribe_once(server_a.ws_url, FIVE_MB_SUBSCRIPTION)
    before = rss_kib(server_a.process.pid)
    for _ in range(5):
        exchange = await subscribe_once(server_a.ws_url, FIVE_MB_SUBSCRIPTION)
        assert exchange.error_payload()["extensions"]["code"] == "BAD_USER_INPUT"
    grown_mib = (rss_kib(server_a.process.pid) - before) / 1024
    assert grown_mib < 100, f"the server grew {grown_mib:.0f} MiB"
    healthz = await http.get(server_a.url.replace("/graphql", "/healthz"))
    assert healthz.status_code == 200


# --- malformed documents over WebSocket (issue 8: 8) ----------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    "query",
    [
        pytest.param("subscription { slotUpdates { kind ", id="syntax-error"),
        pytest.param("subscription { nope }", id="unknown-field"),
        pytest.param("x" * 200_000, id="over-long"),
    ],
)
async def test_a_malformed_websocket_document_gets_an_error_message_and_no_traceback(
    server_a: ApiServer, protocol: str, query: str
) -> None:
    exchange = await subscribe_once(server_a.ws_url, query, protocol)
    assert exchange.error_payload()["extensions"]["code"] == "BAD_USER_INPUT", exchange.messages
    assert exchange.types == ["error"], exchange.messages
    assert "Traceback" not in server_a.logs()


# --- a subscription over HTTP (issue 8: 7) --------------------------------------------------


async def test_a_subscription_over_http_post_is_told_to_use_a_websocket(api: Api) -> None:
    reply = await api.gql("subscription { slotUpdates { kind } }", token=api.admin.token)
    assert codes(reply) == ["BAD_USER_INPUT"], reply.body
    assert "WebSocket" in reply.error["message"]
