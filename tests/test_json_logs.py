"""LOG_FORMAT=json: every line of a real server's output is one JSON object, and the line
for each operation carries the request id, the operation, the user id and the duration."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.graphql_client import LOGIN, REGISTER, GraphQL
from tests.servers import ApiServer

PASSWORD = "json-logs-password-9"


@pytest.fixture(scope="module")
def json_server(store_uri: str, log_dir: Path) -> Iterator[ApiServer]:
    server = ApiServer(
        store_uri,
        f"aayulink_logs_{uuid.uuid4().hex[:8]}",
        env={"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"},
        log_level="info",
    ).start(log_dir)
    yield server
    server.stop()


def _lines(server: ApiServer) -> list[dict[str, Any]]:
    lines = [line for line in server.logs().splitlines() if line.strip()]
    assert lines
    parsed = []
    for line in lines:
        record = json.loads(line)  # fails the test on any line that is not JSON
        assert isinstance(record, dict), line
        parsed.append(record)
    return parsed


async def test_operation_lines_say_who_what_and_how_long(
    json_server: ApiServer, http: httpx.AsyncClient
) -> None:
    gql = GraphQL(http, json_server.url)
    email = f"json-logs-{uuid.uuid4().hex[:8]}@example.com"
    registered = await gql(
        REGISTER, {"input": {"email": email, "password": PASSWORD, "name": "Json Logs"}}
    )
    user_id = registered.data["register"]["user"]["id"]
    token = (await gql(LOGIN, {"email": email, "password": PASSWORD})).data["login"]["accessToken"]
    request_id = uuid.uuid4().hex
    reply = await http.post(
        json_server.url,
        json={"query": "query Mine { myAppointments { id } }"},
        headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id},
    )
    assert reply.status_code == 200 and reply.json()["data"] == {"myAppointments": []}
    json_server.stop()  # flushes everything it had to say

    records = _lines(json_server)
    mine = [r for r in records if r.get("request_id") == request_id]
    operation = [r for r in mine if r.get("logger") == "app.operations"]
    assert len(operation) == 1, mine
    line = operation[0]
    assert line["operation"] == "query:myAppointments"
    assert line["user_id"] == user_id
    assert line["outcome"] == "OK"
    assert isinstance(line["duration_ms"], int | float) and line["duration_ms"] >= 0
    assert {"asctime", "level", "message"} <= line.keys()
    assert any(r.get("logger") == "uvicorn.access" for r in mine), "access lines are JSON too"
    login_lines = [r for r in records if r.get("operation") == "mutation:login"]
    assert login_lines and all("user_id" not in r for r in login_lines)

    text = json_server.logs()
    assert PASSWORD not in text
    assert token not in text
