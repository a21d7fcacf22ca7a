"""What each of the SQLite engine's feature probes asks of the documents a write touched
(mongoeco 4.11's probe queries, sqlite.py, restated for one document at a time).

feature_cache re-asks a cached answer of the written documents only; this module says,
per probe, whether the answer still holds without asking, or which SQL predicate over a
written `document` would change it, and to what.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mongoeco.core.codec import DocumentCodec
from mongoeco.engines.sqlite_query import json_path_for_field, path_array_prefixes

_Predicate = Callable[[str, str], str | None]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _path(field: str) -> str:
    return _literal(json_path_for_field(field))


def _tagged_type_path(field: str) -> str:
    return _literal(
        json_path_for_field(field) + f'."{DocumentCodec._MARKER}".{DocumentCodec._TYPE}'
    )


def _type_is(field: str, types: str) -> str:
    return f"json_type(document, {_path(field)}) IN ({types})"


def _traverses_array(field: str, _: str) -> str | None:
    prefixes = path_array_prefixes(field)
    return " OR ".join(_type_is(prefix, "'array'") for prefix in prefixes) or None


def _traverses_dbref(field: str, _: str) -> str | None:
    parts = field.split(".")
    prefixes = [".".join(parts[:length]) for length in range(1, len(parts))]
    return (
        " OR ".join(f"json_extract(document, {_tagged_type_path(p)}) = 'dbref'" for p in prefixes)
        or None
    )


def _tagged_type(field: str, value_type: str) -> str:
    return f"json_extract(document, {_tagged_type_path(field)}) = {_literal(value_type)}"


_EXPECTED = {"number": "'integer', 'real'", "string": "'text'", "bool": "'true', 'false'"}


def _comparison_mismatch(field: str, expected: str) -> str | None:
    allowed = _EXPECTED.get(expected)
    if allowed is None:
        return None
    path = _path(field)
    return (
        f"json_type(document, {path}) IS NOT NULL"
        f" AND json_type(document, {path}) NOT IN ({allowed})"
    )


def _scalar_or_array_mismatch(field: str, expected: str) -> str | None:
    allowed = _EXPECTED.get(expected)
    if allowed is None:
        return None
    path = _path(field)
    return (
        f"(json_type(document, {path}) IS NOT NULL"
        f" AND json_type(document, {path}) NOT IN ({allowed}, 'array'))"
        f" OR (json_type(document, {path}) = 'array' AND EXISTS ("
        f"SELECT 1 FROM json_each(document, {path}) WHERE json_each.type NOT IN ({allowed})))"
    )


# kind -> (how the rest of the key splits into field and argument, predicate of a "yes")
_EXISTS_PROBES: dict[str, tuple[bool, _Predicate]] = {
    "traverses_array": (False, _traverses_array),
    "traverses_dbref": (False, _traverses_dbref),
    "tagged_type": (True, _tagged_type),
    "top_level_array": (False, lambda field, _: _type_is(field, "'array'")),
    "contains_real_numeric": (False, lambda field, _: _type_is(field, "'real'")),
    "comparison_mismatch": (True, _comparison_mismatch),
    "scalar_or_array_comparison_mismatch": (True, _scalar_or_array_mismatch),
}
NON_ASCII = "contains_non_ascii_text"
KNOWN_PROBE_KINDS = frozenset({*_EXISTS_PROBES, "uniform_scalar_sort_type", NON_ASCII})


@dataclass(frozen=True)
class Question:
    """A written document matching `predicate` makes the answer `if_matched`; else it stays."""

    predicate: str
    if_matched: bool | str
    if_not: bool | str


@dataclass(frozen=True)
class NonAsciiText:
    """Whether a written document's text at `field` is not ASCII (asked in Python)."""

    field: str

    def selection(self) -> tuple[str, str]:
        return f"json_extract(document, {_path(self.field)})", _type_is(self.field, "'text'")


def probe_field(probe: str) -> str | None:
    """The field a probe is about, or None for a kind this module does not know."""
    kind, _, rest = probe.partition(":")
    if kind in ("uniform_scalar_sort_type", NON_ASCII):
        return rest
    known = _EXISTS_PROBES.get(kind)
    if known is None:
        return None
    return rest.rsplit(":", 1)[0] if known[0] else rest


def question_for(probe: str, cached: bool | str) -> Question | NonAsciiText | bool | str | None:
    """The answer as it stands without asking, the question to ask, or None: not known (the
    probe must be dropped and re-run by the engine)."""
    kind, _, rest = probe.partition(":")
    if kind == "uniform_scalar_sort_type":
        if cached is False:
            return False
        allowed = _EXPECTED.get(str(cached))
        if allowed is None:
            return None
        path = _path(rest)
        mixed = (
            f"json_type(document, {path}) IS NULL OR json_type(document, {path}) NOT IN ({allowed})"
        )
        return Question(mixed, False, cached)
    if cached is True:
        return True
    if cached is not False:
        return None
    if kind == NON_ASCII:
        return NonAsciiText(rest)
    known = _EXISTS_PROBES.get(kind)
    if known is None:
        return None
    has_argument, predicate_for = known
    field, argument = rest.rsplit(":", 1) if has_argument else (rest, "")
    predicate = predicate_for(field, argument)
    if predicate is None:
        return None
    return Question(predicate, True, False)
