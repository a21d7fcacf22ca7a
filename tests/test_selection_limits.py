"""Documents that would cost seconds of validation are refused from the parsed document
before any validation rule runs (issue 20: 2). The CPU figure is bench B13's."""

from __future__ import annotations

import pytest

from tests.graphql_client import Api
from tests.servers import ApiServer
from tests.ws_raw import GRAPHQL_TRANSPORT_WS, GRAPHQL_WS, subscribe_once

# 200 repeats: under the cost limit, so before the fix it ran, after ~1 s of validation.
REPEATED = "{ doctors { " + "specialty { id } " * 200 + "} }"
REPEATED_A_FEW_DOZEN = "{ doctors { " + "specialty { id } " * 50 + "} }"
REPEATED_ISSUE = "{ doctors { " + "specialty { id } " * 495 + "} }"
IN_INLINE_FRAGMENTS = "{ doctors { " + "... on Doctor { specialty { id } } " * 200 + "} }"
IN_FRAGMENTS = "{ doctors { ...A ...B ...C } }\n" + "".join(
    f"fragment {n} on Doctor {{ {'specialty { id } ' * 2} }}\n" for n in "ABC"
)
DOCTOR_FIELDS = (
    "id name email phone licenseNumber consultationFee isActive profileImage timezone "
    "createdAt updatedAt minNoticeMinutes maxDaysAhead"
)
# Small to send, 15 x 35 fields once its fragments are expanded.
EXPANDING = (
    "{ "
    + " ".join(f"a{n}: doctors {{ ...D }}" for n in range(15))
    + " }\n"
    + f"fragment D0 on Doctor {{ {DOCTOR_FIELDS} }}\n"
    + "fragment S on Specialty { id name description isActive createdAt updatedAt "
    + "doctors { ...D0 } }\n"
    + f"fragment D on Doctor {{ {DOCTOR_FIELDS} specialty {{ ...S }} }}"
)
SUBSCRIPTION = "subscription { slotUpdates { " + "kind " * 40 + "} }"


@pytest.mark.parametrize(
    ("query", "limit"),
    [
        pytest.param(REPEATED, 5, id="repeated-field"),
        pytest.param(REPEATED_ISSUE, 5, id="issue-document"),
        pytest.param(REPEATED_A_FEW_DOZEN, 5, id="a-few-dozen-repeats"),
        pytest.param(IN_INLINE_FRAGMENTS, 5, id="inline-fragments"),
        pytest.param(IN_FRAGMENTS, 5, id="fragment-spreads"),
        pytest.param(EXPANDING, 500, id="expanding-fragments"),
    ],
)
async def test_a_document_with_too_many_selections_is_refused_before_validation(
    api: Api, query: str, limit: int
) -> None:
    reply = await api.gql(query)
    error = reply.error
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": limit}, reply.body
    assert reply.body.get("data") is None
    assert len(reply.body["errors"]) == 1  # no validation rule ran to add its own


async def test_a_few_repeats_as_fragments_make_them_are_served(api: Api) -> None:
    query = (
        "{ doctors { id specialty { id } ...A ...B } }\n"
        "fragment A on Doctor { id specialty { name } }\n"
        "fragment B on Doctor { id specialty { id } }"
    )
    assert isinstance((await api.gql(query)).data["doctors"], list)


@pytest.mark.parametrize("protocol", [GRAPHQL_TRANSPORT_WS, GRAPHQL_WS])
async def test_a_subscription_with_too_many_selections_is_refused(
    server_a: ApiServer, protocol: str
) -> None:
    exchange = await subscribe_once(server_a.ws_url, SUBSCRIPTION, protocol)
    error = exchange.error_payload()
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": 5}, exchange.messages
    assert exchange.types == ["error"], exchange.messages
