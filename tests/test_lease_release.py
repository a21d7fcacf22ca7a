"""A patient's lease that the store refuses to release: the guarded block's own outcome, a
saved booking or the error that stopped it, is what the caller gets (issue 10).

The refusal is the store's own: a collection whose validator wants every lease to keep an
end time, so the release's write fails with a real DocumentValidationFailure."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import WriteError

from app.core.errors import SlotAlreadyBooked
from app.store.guards import guarded

Leases = AsyncCollection[dict[str, Any]]


@pytest_asyncio.fixture
async def leases(store_uri: str) -> AsyncIterator[Leases]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(store_uri, tz_aware=True)
    database = client[f"aayulink_leases_{uuid.uuid4().hex[:8]}"]
    collection = await database.create_collection(
        "leases", validator={"guard_until": {"$type": "date"}}
    )
    yield collection
    await client.drop_database(database.name)
    await client.close()


async def _held(leases: Leases) -> Any:
    inserted = await leases.insert_one({"guard_until": datetime(2000, 1, 1, tzinfo=UTC)})
    return inserted.inserted_id


async def _book(leases: Leases, owner: Any) -> str:
    async with guarded(leases, owner, "patient's bookings", wait_seconds=0):
        return "appointment saved"


async def test_a_release_the_store_refuses_leaves_the_saved_result(leases: Leases) -> None:
    owner = await _held(leases)
    assert await _book(leases, owner) == "appointment saved"
    # The release was tried and refused: the lease is still there, to expire by itself.
    left = await leases.find_one({"_id": owner})
    assert left is not None and left["guard_token"] is not None


async def test_a_release_the_store_refuses_leaves_the_original_error(leases: Leases) -> None:
    owner = await _held(leases)
    with pytest.raises(SlotAlreadyBooked):
        async with guarded(leases, owner, "patient's bookings", wait_seconds=0):
            raise SlotAlreadyBooked()
    left = await leases.find_one({"_id": owner})
    assert left is not None and left["guard_token"] is not None


async def test_the_store_really_refuses_that_release(leases: Leases) -> None:
    """Without this, the two tests above could pass against a store that ignores validators."""
    owner = await _held(leases)
    with pytest.raises(WriteError):
        await leases.update_one({"_id": owner}, {"$set": {"guard_until": None}})
