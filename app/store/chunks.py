"""Every list that goes into a store filter goes through here, a bounded piece at a time.

mongoeco's SQLite engine turns each `$in` value into its own clause, and SQLite refuses an
expression deeper than 1,000 levels: past about 492 values the query fails, and fewer when
the filter has other conditions (a regeneration's removal of 500 slot ids failed). 200
leaves room for them. A real MongoDB takes longer lists, but one filter per 200 values
costs it little, so every store runs the same chunked path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any

CHUNK_SIZE = 200


def chunked[T](values: Iterable[T], size: int = CHUNK_SIZE) -> Iterator[list[T]]:
    """`values` in order, at most `size` at a time, duplicates dropped."""
    piece: list[T] = []
    for value in dict.fromkeys(values):
        piece.append(value)
        if len(piece) == size:
            yield piece
            piece = []
    if piece:
        yield piece


def one_of[T](values: Sequence[T]) -> Any:
    """The filter value matching any of `values`: the value itself when there is one.

    Only for a chunk (at most CHUNK_SIZE values): a longer list is a bug in the caller.
    """
    if not values or len(values) > CHUNK_SIZE:
        raise ValueError(f"one_of takes 1 to {CHUNK_SIZE} values, not {len(values)}")
    return values[0] if len(values) == 1 else {"$in": list(values)}


async def gather_in[T, R](
    values: Iterable[T], read: Callable[[Any], Awaitable[list[R]]]
) -> list[R]:
    """`read(filter value)` for each chunk of `values`, one after the other, results joined."""
    found: list[R] = []
    for piece in chunked(values):
        found.extend(await read(one_of(piece)))
    return found


async def count_in[T](values: Iterable[T], write: Callable[[Any], Awaitable[int]]) -> int:
    """`write(filter value)` for each chunk of `values`; the sum of what each wrote."""
    total = 0
    for piece in chunked(values):
        total += await write(one_of(piece))
    return total
