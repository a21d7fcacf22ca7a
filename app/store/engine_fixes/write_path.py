"""Two fixes to mongoeco's write path (both engines).

1. mongoeco checks every inserted or updated document against the `_id` of every
document in the collection ("legacy payload guard" for numeric ids such as 1 and 1.0,
which MongoDB treats as equal). That makes each write cost grow with the collection:
inserting 250 slots took 0.4 s into an empty collection and 11 s at 1,000 documents.
For an id that is not numeric (our ids are all ObjectIds) the engine's exact storage-key
lookup already decides uniqueness, so the scan can only repeat it: the wrapper skips it
for non-numeric ids and keeps it for numeric ones.

2. The wire `insert` command inserts its documents one `insert_one` (one SQLite
transaction) at a time, although the engine has a batch path eight times faster per
document. The wrapper sends a batch through the collection's `insert_many` with the
command's `ordered` flag and reports write errors in the command's own shape.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from mongoeco.api._async import _database_admin_write_commands as write_commands
from mongoeco.api._async._write_command_validation import write_command_acknowledged
from mongoeco.core.identity import id_contains_numeric_value
from mongoeco.engines.memory import MemoryEngine
from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.types import WriteCommandResult, WriteErrorEntry
from pymongo.errors import BulkWriteError


def _without_redundant_id_scan(check: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(check)
    def wrapper(self: Any, db_name: str, coll_name: str, document: Any, **options: Any) -> None:
        if options.get("scan_payload_id") and not id_contains_numeric_value(document.get("_id")):
            options["scan_payload_id"] = False
            if "check_id_storage" in options:
                options["check_id_storage"] = True  # the exact lookup that decides instead
        check(self, db_name, coll_name, document, **options)

    return wrapper


def _batched_insert(command_insert: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command_insert)
    async def wrapper(self: Any, spec: dict[str, object], *, session: Any = None) -> object:
        documents = spec.get("documents")
        in_transaction = session is not None and getattr(session, "in_transaction", True)
        if in_transaction or not isinstance(documents, list) or len(documents) < 2:
            return await command_insert(self, spec, session=session)
        admin = self._admin
        name = admin._require_collection_name(spec.get("insert"), "insert")
        documents = admin._normalize_insert_documents(documents)
        ordered = admin._normalize_ordered_from_command(spec.get("ordered"))
        bypass = bool(spec.get("bypassDocumentValidation", False))
        acknowledged = write_command_acknowledged(spec, dialect=admin._mongodb_dialect.key)
        collection = admin._database.get_collection(name)
        errors: list[WriteErrorEntry] = []
        try:
            await collection.insert_many(
                documents, ordered=ordered, bypass_document_validation=bypass, session=session
            )
            inserted = len(documents)
        except BulkWriteError as exc:
            details = exc.details or {}
            inserted = int(details.get("nInserted", 0))
            for error in details.get("writeErrors", []):
                errors.append(
                    WriteErrorEntry(
                        index=int(error["index"]),
                        code=error.get("code"),
                        errmsg=str(error.get("errmsg", "")),
                        details={k: error[k] for k in ("keyPattern", "keyValue") if k in error},
                    )
                )
        return write_commands._write_command_result(
            WriteCommandResult(count=inserted, write_errors=errors or None),
            acknowledged=acknowledged,
        )

    return wrapper


def apply() -> None:
    MemoryEngine._ensure_unique_indexes = _without_redundant_id_scan(  # type: ignore[method-assign]
        MemoryEngine._ensure_unique_indexes
    )
    SQLiteEngine._validate_document_against_unique_indexes = _without_redundant_id_scan(  # type: ignore[method-assign]
        SQLiteEngine._validate_document_against_unique_indexes
    )
    service = write_commands.DatabaseAdminWriteCommandService
    service.command_insert = _batched_insert(service.command_insert)  # type: ignore[method-assign]
