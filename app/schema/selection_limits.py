"""Refuses documents with too many selections before validation, reading the parser's output.

Why: graphql-core's OverlappingFieldsCanBeMerged rule compares every pair of fields that
share a response name, so a 7 KB document repeating one field 495 times costs seconds of
CPU, and the cost rule (a validation rule too) runs only alongside it. These counts are one
walk over the parsed document, linear in its size: a field repeated beyond `max_repeats`
in one selection set (inline fragments and fragment spreads merged in, as the overlap rule
merges them), or more than `max_selections` fields in all with every fragment spread
expanded, is refused before any rule runs. Hand-written: no library found counts these.
"""

from __future__ import annotations

import re
from collections import Counter

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
# GraphQL's tokens, roughly: comments are dropped, a string is one token, as the lexer has it.
_COMMENT = re.compile(r"#[^\n\r]*")
_TOKEN = re.compile(
    r'"""(?:\\"""|[^"]|"(?!""))*"""|"(?:\\.|[^"\\\n\r])*"'
    r"|\.\.\.|[_A-Za-z][_0-9A-Za-z]*|-?[0-9][0-9.eE+-]*|[!$&()\[\]{}:=@|]"
)
# Before parsing: a name written this many times or more in one document (in any selection
# set, string or comment) is not an honest client's. graphql-core's parser is pure Python
# and costs ~1 ms per 200 tokens; the scan is C and costs ~1 ms per 100 KB.
RAW_REPEAT_FACTOR = 20
RAW_REPEAT_FLOOR = 100


class DocumentRefused(GraphQLError):
    """Refused before validation: the caller gets it as it is, without a validation run."""


class _TooMany(Exception):
    def __init__(self, error: GraphQLError) -> None:
        self.error = error


class SelectionCounter:
    def __init__(self, document: DocumentNode, max_selections: int, max_repeats: int) -> None:
        self.max_selections = max_selections
        self.max_repeats = max_repeats
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.expanded: dict[str, int] = {}  # fields a fragment brings, its spreads expanded
        self.names: dict[str, Counter[str]] = {}  # a fragment's top-level response names
        self.in_progress: set[str] = set()
        self.names_in_progress: set[str] = set()

    def refusal(self, document: DocumentNode) -> GraphQLError | None:
        try:
            total = 0
            for definition in document.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    total += self.count(definition.selection_set)
                    self.check_total(total)
                elif isinstance(definition, FragmentDefinitionNode):
                    self.count(definition.selection_set)
        except _TooMany as too_many:
            return too_many.error
        return None

    def check_total(self, total: int) -> None:
        if total > self.max_selections:
            raise _TooMany(
                DocumentRefused(
                    f"The document selects more than {self.max_selections} fields "
                    "(fragments counted where they are spread); ask for less",
                    extensions={"code": QUERY_TOO_COMPLEX, "limit": self.max_selections},
                )
            )

    def count(self, selection_set: SelectionSetNode | None) -> int:
        """Fields under this selection set, spreads expanded; checks each set's repeats."""
        if selection_set is None:
            return 0
        repeats = self.response_names(selection_set)
        name, times = repeats.most_common(1)[0] if repeats else ("", 0)
        if times > self.max_repeats:
            raise _TooMany(
                DocumentRefused(
                    f"The field '{name}' is selected {times} times in one selection set; "
                    f"at most {self.max_repeats} are allowed",
                    extensions={"code": QUERY_TOO_COMPLEX, "limit": self.max_repeats},
                )
            )
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += 1 + self.count(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += self.count(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment_count(selection.name.value)
            self.check_total(total)
        return total

    def fragment_count(self, name: str) -> int:
        """Counted once per fragment; a cycle (refused by a rule later) counts 0."""
        if name in self.expanded:
            return self.expanded[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.in_progress:
            return 0
        self.in_progress.add(name)
        found = self.count(fragment.selection_set)
        self.in_progress.discard(name)
        self.expanded[name] = found
        return found

    def response_names(self, selection_set: SelectionSetNode) -> Counter[str]:
        """Response names as the overlap rule sees them: inline fragments and spreads merged."""
        names: Counter[str] = Counter()
        spread: set[str] = set()  # the rule compares a fragment spread twice only once
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names[(selection.alias or selection.name).value] += 1
            elif isinstance(selection, InlineFragmentNode):
                names.update(self.response_names(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in spread:
                spread.add(selection.name.value)
                names.update(self.fragment_names(selection.name.value))
        return names

    def fragment_names(self, name: str) -> Counter[str]:
        if name in self.names:
            return self.names[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.names_in_progress:
            return Counter()
        self.names_in_progress.add(name)
        found = self.response_names(fragment.selection_set)
        self.names_in_progress.discard(name)
        self.names[name] = found
        return found


def raw_refusal(query: str, max_tokens: int, max_repeats: int) -> GraphQLError | None:
    """The document's text, before the parser: too many tokens, or one name written past the
    limit, is refused at the cost of a regex scan, not of a parse (which would stop at the
    token cap only after lexing that many tokens).

    Each selection writes its field's name, so the documents the overlap rule is slow on
    (one field selected hundreds of times, whatever the aliases or fragments) end here.
    """
    if len(_TOKEN.findall(_COMMENT.sub("", query))) > max_tokens:
        return DocumentRefused(
            f"Syntax Error: Document contains more than {max_tokens} tokens. Parsing aborted.",
            extensions={"code": "BAD_USER_INPUT"},
        )
    limit = max(RAW_REPEAT_FLOOR, RAW_REPEAT_FACTOR * max_repeats)
    found = Counter(_NAME.findall(query)).most_common(1)
    if found and found[0][1] > limit:
        name, times = found[0]
        return DocumentRefused(
            f"The name '{name}' is written {times} times in the document; "
            f"a field may be selected at most {max_repeats} times in one selection set",
            extensions={"code": QUERY_TOO_COMPLEX, "limit": max_repeats},
        )
    return None


def selection_refusal(
    document: DocumentNode, max_selections: int, max_repeats: int
) -> GraphQLError | None:
    """The refusal of a document over either limit, or None."""
    return SelectionCounter(document, max_selections, max_repeats).refusal(document)
