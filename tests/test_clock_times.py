"""createSlot reads times as strict "HH:MM": ASCII digits, the whole string, nothing around it."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from tests.graphql_client import CREATE_SLOT, Api, future_day

Store = AsyncDatabase[dict[str, Any]]

NOT_CLOCK_TIMES = [
    "1\u0666:00",  # ARABIC-INDIC DIGIT SIX: a digit to `\d`, not to "HH:MM"
    "\u0661\u0665:\u0660\u0660",
    "15:00\n",  # `$` would let a trailing newline through
    " 15:00",
    "15:00 ",
    "15:0",
    "24:00",
    "",
]


@pytest.mark.parametrize("field", ["startTime", "endTime"])
@pytest.mark.parametrize("value", NOT_CLOCK_TIMES)
async def test_create_slot_refuses_a_time_that_is_not_strict_hh_mm(
    api: Api, store: Store, field: str, value: str
) -> None:
    clinic = await api.clinic()
    times = {"startTime": "14:00", "endTime": "16:00", field: value}
    reply = await api.gql(
        CREATE_SLOT,
        {"doctorId": clinic.doctor_id, "input": {"date": future_day(), **times}},
        api.admin.token,
    )
    assert reply.code == "BAD_USER_INPUT", reply.body
    assert reply.error["extensions"]["field"] == field
    assert reply.body["data"] is None
    assert await store["slots"].count_documents({"doctor_id": ObjectId(clinic.doctor_id)}) == 0


async def test_create_slot_accepts_the_same_times_written_strictly(api: Api) -> None:
    clinic = await api.clinic()
    slot = await api.slot(clinic, "14:00", "15:00")
    assert (slot["startTime"], slot["endTime"], slot["durationMinutes"]) == ("14:00", "15:00", 60)
