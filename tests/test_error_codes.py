"""The schema documents every error code: the contract's table, and the ones this service adds."""

from __future__ import annotations

import re
from pathlib import Path

from tests.graphql_client import GraphQL

CONTRACT = Path(__file__).resolve().parent.parent / "docs" / "API.md"
ADDED = {"SUBSCRIBER_TOO_SLOW", "QUERY_TOO_COMPLEX", "SERVICE_UNAVAILABLE", "CHANGE_NOT_APPLIED"}
ERROR_CODES = '{ __type(name: "ErrorCode") { kind enumValues { name description } } }'


def contract_codes() -> set[str]:
    """The codes of the contract's error tables: rows whose first cell is a code in backticks."""
    return set(re.findall(r"^\| `([A-Z_]+)` \|", CONTRACT.read_text(), re.MULTILINE))


async def test_the_schema_names_and_explains_every_code(gql: GraphQL) -> None:
    codes = contract_codes()
    assert {"UNAUTHENTICATED", "SLOT_LOCKED", "TOO_LATE_TO_CANCEL"} <= codes, codes
    found = (await gql(ERROR_CODES)).data["__type"]
    assert found["kind"] == "ENUM"
    described = {value["name"]: value["description"] for value in found["enumValues"]}
    assert set(described) == codes | ADDED
    assert all(len(meaning) > 20 for meaning in described.values()), described


async def test_a_refusal_carries_a_code_the_schema_lists(gql: GraphQL) -> None:
    listed = {value["name"] for value in (await gql(ERROR_CODES)).data["__type"]["enumValues"]}
    malformed = await gql("{ doctor(id: 123) { id } }")
    missing = await gql('{ doctor(id: "000000000000000000000000") { id } }')
    assert (malformed.code, missing.code) == ("BAD_USER_INPUT", "NOT_FOUND")
    assert {malformed.code, missing.code} <= listed
