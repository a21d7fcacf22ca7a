"""Values by key, loaded on demand in batches, kept until dropped or too old.

Hand-written: the caching libraries (cachetools, aiocache, async-lru) expire entries by age
or size but none can mark a load that is still in flight as overtaken by a change, which
is what keeps a read started before an event from being kept after it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field

from app.core import answers

# An aged entry is kept this long as a hint of what to re-read together (its group's
# siblings), then forgotten: what nobody asks for again does not stay in memory.
FORGET_AFTER_MAX_AGES = 10
FORGET_AFTER_SECONDS = 300.0


@dataclass(eq=False)
class _Load[K: Hashable, V]:
    """One batch read in flight; a key changed meanwhile is served from it but not kept."""

    task: asyncio.Task[dict[K, V]]
    started: float  # time.monotonic() when the read began: what it returns is aged from then
    stale: set[K] = field(default_factory=set)
    all_stale: bool = False

    def overtaken(self, key: K) -> bool:
        return self.all_stale or key in self.stale


class KeyedCache[K: Hashable, V]:
    """`get_many` answers from memory what is fresh, joins the loads in flight for the keys
    still being read (unless a change overtook them), and reads the rest in one call of
    `load`; `drop`, `change` and `clear` are for the event feed."""

    def __init__(
        self,
        load: Callable[[list[K]], Awaitable[dict[K, V]]],
        max_age_seconds: float,
        empty: Callable[[], V],
        group: Callable[[K], Hashable] | None = None,
    ) -> None:
        self.load = load
        self.max_age = max_age_seconds
        self.empty = empty  # the value of a key the store has nothing for
        # Keys of one group are read again together: when one has aged out, so have its
        # siblings (read in the same batch), and one read beats one per key.
        self.group = group
        self.entries: dict[K, tuple[float, V]] = {}
        self.loading: dict[K, _Load[K, V]] = {}
        self.loads = 0  # batch reads started, for the tests' and metrics' sake

    def fresh(self, key: K) -> V | None:
        entry = self.entries.get(key)
        if entry is None or time.monotonic() - entry[0] >= self.max_age:
            return None
        # An answer made of this entry is not given again once the entry ages out.
        answers.note_fresh_until(entry[0] + self.max_age)
        return entry[1]

    async def get_many(self, keys: Iterable[K]) -> dict[K, V]:
        found: dict[K, V] = {}
        joined: dict[K, _Load[K, V]] = {}
        missing: list[K] = []
        for key in dict.fromkeys(keys):
            value = self.fresh(key)
            if value is not None:
                found[key] = value
                continue
            load = self.loading.get(key)
            if load is not None and not load.overtaken(key):
                joined[key] = load
            else:
                missing.append(key)
        if missing:
            load = self._start(missing + self._aged_siblings(missing))
            for key in missing:
                joined[key] = load
        for key, load in joined.items():
            # Shielded: a cancelled request must not cancel the read others wait for.
            values = await asyncio.shield(load.task)
            answers.note_fresh_until(load.started + self.max_age)
            found[key] = values.get(key, self.empty())
        return found

    def _aged_siblings(self, missing: list[K]) -> list[K]:
        """Held keys of the missing keys' groups that have aged out too (long-aged ones are
        forgotten here)."""
        if self.group is None:
            return []
        now = time.monotonic()
        forget_after = max(FORGET_AFTER_MAX_AGES * self.max_age, FORGET_AFTER_SECONDS)
        for key in [k for k, (t, _) in self.entries.items() if now - t >= forget_after]:
            del self.entries[key]
        groups = {self.group(key) for key in missing}
        asked = set(missing)
        return [
            key
            for key, (started, _) in self.entries.items()
            if now - started >= self.max_age
            and key not in asked
            and key not in self.loading
            and self.group(key) in groups
        ]

    def _start(self, keys: list[K]) -> _Load[K, V]:
        started = time.monotonic()
        self.loads += 1
        load: _Load[K, V] = _Load(asyncio.ensure_future(self.load(keys)), started)
        for key in keys:
            self.loading[key] = load

        def settle(task: asyncio.Task[dict[K, V]]) -> None:
            for key in keys:
                if self.loading.get(key) is load:
                    del self.loading[key]
            if task.cancelled() or task.exception() is not None:
                return
            values = task.result()
            for key in keys:
                if not load.overtaken(key):
                    # Aged from when the read started: the store may have changed since.
                    self.entries[key] = (started, values.get(key, self.empty()))

        load.task.add_done_callback(settle)
        return load

    def drop(self, key: K) -> None:
        """Forget `key`, and keep no read of it that is in flight."""
        self.entries.pop(key, None)
        load = self.loading.get(key)
        if load is not None:
            load.stale.add(key)

    def change(self, key: K, apply: Callable[[V], V]) -> None:
        """Apply a change to the value held for `key` (if any); a read in flight is not kept."""
        entry = self.entries.get(key)
        if entry is not None:
            self.entries[key] = (entry[0], apply(entry[1]))
        load = self.loading.get(key)
        if load is not None:
            load.stale.add(key)

    def held(self) -> list[K]:
        """Keys held or being read."""
        return list(self.entries) + [k for k in self.loading if k not in self.entries]

    def clear(self) -> None:
        self.entries.clear()
        for load in self.loading.values():
            load.all_stale = True
        self.loading.clear()
