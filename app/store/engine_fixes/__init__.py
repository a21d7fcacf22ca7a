"""Fixes to mongoeco's engines, applied in the embedded store's own process: the only place
that adapts the engine (docs/store.md has the figures).

Each is pinned to mongoeco 4.11's internals (pyproject pins the minor version, and
tests/test_engine_fixes.py fails if a patched function moves). No setting of mongoeco
turns these behaviours off, so a small wrapper is the least code that fixes each:

- write_path: no `_id` scan of the whole collection per write; batched wire inserts.
- feature_cache: a write no longer drops the SQLite engine's per-field probes, which the
  next operation re-ran as full scans.
- unchanged_rollbacks: nor does a refused write that changed nothing.
- unique_index: compound, numeric and null unique keys are checked through their SQLite
  index, not by reading every document.
- bulk_update: an update_many runs as a few SQLite transactions with one change delivery
  and one feature-probe refresh per batch, not a transaction, thread hop, delivery and
  refresh per document.
- field_survey: a field's cold probes (decimal, bytes and `undefined` tags, arrays,
  floats) are answered in one scan of the collection, not seven.
- membership_values: an `$in` list is prepared for matching once, not per document.
- update_fields: notes which fields the update under way writes, for the two fixes below.
- untouched_unique_keys: an update that can change no unique key skips the unique check
  (first making any probe refresh an update_many's batch deferred).
- id_lookup: filters on `_id` (`$in`, or beside other conditions) read through the
  primary key, not by decoding every document's `_id`.
- indexed_equality: an equality on an indexed field reads through its SQLite index.
- index_backfill: opening the file rebuilds the scalar index entries only when they may
  be stale, not on every start.
- unwatched_changes: no change-stream outbox rows or deliveries while nobody watches.
- shared_scalar_index: every index's scalar entries share one SQLite index, not one
  identical copy per index that every write updates (files made before are migrated at
  open; applied after index_backfill, whose mark check must follow the migration).
- durability: the clinic's choice of SQLite synchronous level (SQLITE_SYNCHRONOUS).
"""

from __future__ import annotations

from app.store.engine_fixes import (
    bulk_update,
    durability,
    feature_cache,
    field_survey,
    id_lookup,
    index_backfill,
    indexed_equality,
    membership_values,
    shared_scalar_index,
    unchanged_rollbacks,
    unique_index,
    untouched_unique_keys,
    unwatched_changes,
    update_fields,
    write_path,
)
from app.store.engine_fixes.durability import SynchronousLevel

_APPLIED = False


def apply_engine_fixes(synchronous: SynchronousLevel = "NORMAL") -> None:
    """Idempotent; call before the engine serves its first write (and opens its file)."""
    global _APPLIED
    durability.choose(synchronous)
    if _APPLIED:
        return
    write_path.apply()
    feature_cache.apply()
    unchanged_rollbacks.apply()
    unique_index.apply()
    bulk_update.apply()
    update_fields.apply()
    untouched_unique_keys.apply()
    membership_values.apply()
    field_survey.apply()
    id_lookup.apply()
    indexed_equality.apply()
    index_backfill.apply()
    unwatched_changes.apply()
    shared_scalar_index.apply()
    durability.apply()
    _APPLIED = True
