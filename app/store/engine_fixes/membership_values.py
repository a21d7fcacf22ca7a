"""An `$in` list is prepared for matching once, not once per document (mongoeco 4.11).

To test a document against `{field: {$in: [...]}}` in Python the engine first turns the
list into a lookup set, item by item, and it did so for every document it tested. An
update_many re-tests its filter on each document it writes (the regeneration removes slots
200 ids at a time; the sender settles its rows the same way), so a 200-id list was prepared
200 times per command: a tenth of each document's update. Prepared lists are kept by their
items and the items' types (1, 1.0 and True are equal in Python, not in MongoDB), a few
dozen at most; a list with an unhashable item (a document, an array) is prepared as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from mongoeco.core._filtering_matching import FilteringMatchingMixin

KEPT = 64
_prepared: dict[tuple[Any, ...], Any] = {}


def _kept(prepare: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(prepare)
    def wrapper(
        cls: type, values: tuple[Any, ...], *, null_matches_undefined: bool, collation: Any = None
    ) -> Any:
        if collation is not None or not isinstance(values, tuple):
            return prepare(
                cls, values, null_matches_undefined=null_matches_undefined, collation=collation
            )
        key = (null_matches_undefined, tuple(map(type, values)), values)
        try:
            found = _prepared.get(key)
        except TypeError:  # an unhashable item
            return prepare(cls, values, null_matches_undefined=null_matches_undefined)
        if found is None:
            if len(_prepared) >= KEPT:
                _prepared.clear()
            found = _prepared[key] = prepare(
                cls, values, null_matches_undefined=null_matches_undefined
            )
        return found

    return wrapper


def apply() -> None:
    prepare = FilteringMatchingMixin._prepare_membership_values.__func__  # type: ignore[attr-defined]
    FilteringMatchingMixin._prepare_membership_values = classmethod(_kept(prepare))  # type: ignore[method-assign,assignment]
