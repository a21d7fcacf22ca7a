"""Each API process's index of patients by search key, kept current by events and a counter.

Why not a store query: on the embedded store (mongoeco 4.11, SQLite engine) neither a
multikey index nor a range on a scalar index serves a prefix search (`$gte/$lt` on an array is
planned as a whole-array comparison and finds nothing; `$elemMatch` and anchored `$regex` run
in Python over every document; measured in docs/front-desk.md). So the keys are stored on
each user (`User.search_keys`) and served here from a sorted list (bisect, not a scan).

Every write that changes a patient's keys then bumps the `patient_directory` counter and
announces it (`CacheInvalidated(patients=True)`, heard by every process). While this process
hears every event (one delivery epoch, as the read model) a search needs no store read; while
it may be missing events it reads the counter (one `_id` lookup) and reloads when it moved.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import time
from collections.abc import Iterable
from typing import Any

from beanie import PydanticObjectId
from pymongo.asynchronous.database import AsyncDatabase

from app.domain.read_model import announce_stale
from app.events.messages import CacheInvalidated, Event, Resync
from app.events.publisher import delivery_epoch
from app.models import Role, User
from app.models.patient_keys import COUNTERS, DIRECTORY_COUNTER, fold

# A bump lost to a store error half-way is caught up with after this long anyway.
MAX_AGE_SECONDS = 300.0


def _counters() -> AsyncDatabase[dict[str, Any]]:
    return User.get_pymongo_collection().database


async def bump(new_patient: PydanticObjectId | None = None) -> None:
    """After a patient's keys were written: every process reloads at its next search, or,
    for a `new_patient`, reads just that patient."""
    await _counters()[COUNTERS].update_one(
        {"_id": DIRECTORY_COUNTER}, {"$inc": {"version": 1}}, upsert=True
    )
    await announce_stale(patients=True, patient_id=new_patient)


async def _version() -> int:
    found = await _counters()[COUNTERS].find_one({"_id": DIRECTORY_COUNTER})
    return int(found["version"]) if found else 0


class PatientDirectory:
    def __init__(self) -> None:
        self.version: int | None = None
        self.loaded_at = 0.0
        self.keys: list[str] = []
        # Ranks are name order; a patient added between reloads takes a rank between its
        # neighbours', so nothing held is renumbered.
        self.owners: list[float] = []
        self.rank: dict[PydanticObjectId, float] = {}
        self.by_rank: dict[float, User] = {}
        self.sort_keys: list[tuple[str, str]] = []
        self.sort_ranks: list[float] = []
        self.arrived: list[PydanticObjectId] = []  # new patients announced, not yet read
        self._lock = asyncio.Lock()
        self.watching = False  # fed by this process's event hub (app/web/lifespan.py)
        self.generation = 0  # one more on every announced change to a patient's keys
        self.heard: tuple[int | None, int] | None = None  # (epoch, generation) when loaded

    def apply(self, event: Event) -> None:
        """A hub watcher: an announced patient change, or a resync, makes it reload."""
        if isinstance(event, CacheInvalidated) and event.patients and event.patient_id:
            self.arrived.append(event.patient_id)
        elif isinstance(event, Resync) or (isinstance(event, CacheInvalidated) and event.patients):
            self.generation += 1

    def _fresh(self, epoch: int | None) -> bool:
        young = time.monotonic() - self.loaded_at < MAX_AGE_SECONDS
        heard_all = epoch is not None and self.heard == (epoch, self.generation)
        return young and self.watching and heard_all

    async def current(self) -> PatientDirectory:
        epoch = delivery_epoch()
        if self._fresh(epoch) and not self.arrived:
            return self
        async with self._lock:
            epoch = delivery_epoch()
            if self._fresh(epoch):
                await self._add_arrived()
                return self
            # Counter and generation are read before the patients: a change after these
            # reads moves them again, so the next search reloads whatever this load missed.
            generation = self.generation
            version = await _version()
            young = time.monotonic() - self.loaded_at < MAX_AGE_SECONDS
            if version != self.version or not young or self.heard != (epoch, generation):
                self._hold(await _read_patients())
                self.version = version
                self.loaded_at = time.monotonic()
            self.heard = (epoch, generation)
            await self._add_arrived()
        return self

    async def _add_arrived(self) -> None:
        """New patients read one by one (an `_id` lookup each); one already held came in
        with a reload. (A changed patient is announced without an id: that reloads.)"""
        while self.arrived:
            patient_id = self.arrived.pop(0)
            if patient_id in self.rank:
                continue
            found = await User.get_pymongo_collection().find_one(
                {"_id": patient_id}, {"password_hash": 0}
            )
            if found is not None:
                self._add(User.model_construct(id=found.pop("_id"), **found))

    def _add(self, patient: User) -> None:
        assert patient.id is not None
        key = sort_key(patient)
        at = bisect.bisect_right(self.sort_keys, key)
        below = self.sort_ranks[at - 1] if at > 0 else None
        above = self.sort_ranks[at] if at < len(self.sort_ranks) else None
        if below is None and above is None:
            rank = 0.0
        elif below is None:
            rank = above - 1.0  # type: ignore[operator]
        elif above is None:
            rank = below + 1.0
        else:
            rank = (below + above) / 2
        self.sort_keys.insert(at, key)
        self.sort_ranks.insert(at, rank)
        self.rank[patient.id] = rank
        self.by_rank[rank] = patient
        for search_key in patient.search_keys:
            place = bisect.bisect_right(self.keys, search_key)
            self.keys.insert(place, search_key)
            self.owners.insert(place, rank)

    def _hold(self, patients: Iterable[User]) -> None:
        held = sorted(patients, key=sort_key)
        self.sort_keys = [sort_key(patient) for patient in held]
        self.sort_ranks = [float(rank) for rank in range(len(held))]
        self.rank = {}
        self.by_rank = {}
        keys: list[str] = []
        owners: list[float] = []
        for rank, patient in enumerate(held):
            assert patient.id is not None
            self.rank[patient.id] = float(rank)
            self.by_rank[float(rank)] = patient
            keys.extend(patient.search_keys)
            owners.extend([float(rank)] * len(patient.search_keys))
        # Sorted by key alone: strings compare fast.
        order = sorted(range(len(keys)), key=keys.__getitem__)
        self.keys = [keys[i] for i in order]
        self.owners = [owners[i] for i in order]

    def matching(self, term: str) -> set[float]:
        start = bisect.bisect_left(self.keys, term)
        end = bisect.bisect_left(self.keys, term + "\U0010ffff", lo=start)
        return set(self.owners[start:end])

    def search(
        self, terms: list[str], after: tuple[str, str] | None, limit: int
    ) -> tuple[list[User], bool]:
        """Up to `limit` patients matching every term, in name order after `after`, and
        whether more follow. Only the page is ordered: a short prefix can match thousands."""
        found: set[float] | None = None
        for term in sorted(terms, key=len, reverse=True):  # the longest is the most selective
            owners = self.matching(term)
            found = owners if found is None else found & owners
            if not found:
                return [], False
        ranks = list(found or ())
        if after is not None:
            at = bisect.bisect_right(self.sort_keys, after)
            if at == len(self.sort_keys):
                return [], False
            ranks = [rank for rank in ranks if rank >= self.sort_ranks[at]]
        page = heapq.nsmallest(limit + 1, ranks)
        return [self.by_rank[rank] for rank in page[:limit]], len(page) > limit


async def _read_patients() -> list[User]:
    """Every patient, without password hashes, built without validation: the store holds
    what the app wrote (10,000 validated documents cost seconds of this process's CPU)."""
    found = (
        await User.get_pymongo_collection()
        .find({"role": Role.PATIENT.value}, {"password_hash": 0})
        .to_list(None)
    )
    return [User.model_construct(id=doc.pop("_id"), **doc) for doc in found]


def sort_key(patient: User) -> tuple[str, str]:
    return (fold(patient.name), str(patient.id))


_DIRECTORY = PatientDirectory()


async def directory() -> PatientDirectory:
    return await _DIRECTORY.current()


def the_directory() -> PatientDirectory:
    """This process's directory, for the lifespan to feed from its event hub."""
    return _DIRECTORY
