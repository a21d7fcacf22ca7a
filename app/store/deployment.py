"""This deployment's identity: a random id kept in its own store, made on first start.

Deployments that share one Redis tell their keys and channels apart by it: two stores never
share an id, whatever their database names, and every process of one deployment (one store)
reads the same id.
"""

from __future__ import annotations

import secrets
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from app.core.clock import utcnow

COLLECTION = "deployment"
_IDENTITY = "identity"


async def deployment_id(database: AsyncDatabase[dict[str, Any]]) -> str:
    """One round trip: the id, made by whichever process asks first."""
    for attempt in range(2):
        try:
            found = await database[COLLECTION].find_one_and_update(
                {"_id": _IDENTITY},
                {"$setOnInsert": {"id": secrets.token_hex(8), "created_at": utcnow()}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
            assert found is not None  # an upsert returning the document after it
            return str(found["id"])
        except DuplicateKeyError:  # another process's first start made it meanwhile
            if attempt:
                raise
    raise AssertionError("unreachable")
