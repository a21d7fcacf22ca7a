"""Text no store can hold (a lone UTF-16 surrogate) is refused before any resolver.

Issue 8: defects 3 and 4.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from bson import ObjectId

from tests.graphql_client import BOOK, CREATE_SPECIALTY, LOGIN, REGISTER, Api, Response, unique
from tests.servers import ADMIN_EMAIL, ApiServer
from tests.ws_raw import GRAPHQL_TRANSPORT_WS, subscribe_once

LONE = "\ud800"


async def post_escaped(
    http: httpx.AsyncClient,
    url: str,
    query: str,
    variables: dict[str, Any],
    token: str | None = None,
) -> Response:
    """JSON with the surrogate escaped ("\\ud800"), as a browser or attacker would send it."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables}, ensure_ascii=True)
    reply = await http.post(url, content=body, headers=headers)
    return Response(reply.json(), reply.status_code)


def assert_refused(reply: Response, field: str) -> None:
    codes = [e.get("extensions", {}).get("code") for e in reply.body.get("errors", [])]
    assert codes == ["BAD_USER_INPUT"], reply.body
    assert reply.error["extensions"]["field"] == field, reply.body
    assert reply.body.get("data") is None


async def test_a_login_password_with_a_lone_surrogate_is_bad_user_input(
    http: httpx.AsyncClient, server_a: ApiServer
) -> None:
    variables = {"email": ADMIN_EMAIL, "password": f"pass{LONE}word"}
    assert_refused(await post_escaped(http, server_a.url, LOGIN, variables), "password")


async def test_a_register_name_with_a_lone_surrogate_writes_no_user(
    http: httpx.AsyncClient, server_a: ApiServer, store: Any
) -> None:
    email = f"{unique('surrogate')}@example.com"
    variables = {"input": {"email": email, "password": "long-enough-pw", "name": LONE}}
    assert_refused(await post_escaped(http, server_a.url, REGISTER, variables), "name")
    assert await store["users"].count_documents({"email": email}) == 0


async def test_a_specialty_name_with_a_lone_surrogate_is_bad_user_input(
    http: httpx.AsyncClient, api: Api
) -> None:
    reply = await post_escaped(
        http, api.gql.url, CREATE_SPECIALTY, {"input": {"name": f"X{LONE}"}}, api.admin.token
    )
    assert_refused(reply, "name")


async def test_an_emergency_message_with_a_lone_surrogate_is_bad_user_input(
    http: httpx.AsyncClient, api: Api
) -> None:
    patient = await api.patient()
    mutation = """mutation($input: EmergencyRequestInput!) {
      sendEmergencyRequest(input: $input) { id } }"""
    reply = await post_escaped(
        http, api.gql.url, mutation, {"input": {"message": f"help {LONE}"}}, patient.token
    )
    assert_refused(reply, "message")


async def test_a_booking_with_a_lone_surrogate_reason_leaves_the_slot_available(
    http: httpx.AsyncClient, api: Api, store: Any
) -> None:
    """Issue 8 defect 3: the claim used to happen first and the slot stayed BOOKED."""
    clinic = await api.clinic()
    slot = await api.slot(clinic)
    patient = await api.patient()
    variables = {"input": {"slotId": slot["id"], "reasonForVisit": f"pain {LONE}"}}
    reply = await post_escaped(http, api.gql.url, BOOK, variables, patient.token)
    assert_refused(reply, "reasonForVisit")
    stored = await store["slots"].find_one({"_id": ObjectId(slot["id"])})
    assert stored["is_booked"] is False
    assert await store["appointments"].count_documents({"slot_id": ObjectId(slot["id"])}) == 0
    state = await api.gql(
        "query($id: ID!) { slot(id: $id) { state } }", {"id": slot["id"]}, api.admin.token
    )
    assert state.data["slot"]["state"] == "AVAILABLE"


async def test_a_lone_surrogate_in_a_string_literal_is_bad_user_input(api: Api) -> None:
    query = '{ specialty(id: "\\ud800") { id } }'
    reply = await api.gql(query, token=api.admin.token)
    codes = [e.get("extensions", {}).get("code") for e in reply.body.get("errors", [])]
    assert codes == ["BAD_USER_INPUT"], reply.body


async def test_a_subscription_variable_with_a_lone_surrogate_is_refused(
    server_a: ApiServer,
) -> None:
    query = "subscription($d: ID) { slotUpdates(doctorId: $d) { kind } }"
    exchange = await subscribe_once(
        server_a.ws_url, query, GRAPHQL_TRANSPORT_WS, variables={"d": LONE}
    )
    error = exchange.error_payload()
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "d"}, exchange.messages
