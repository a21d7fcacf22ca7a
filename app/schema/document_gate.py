"""The limits every document passes before any work, whatever the transport.

The selection counts (app/schema/selection_limits.py) come first, before any validation
rule: a refusal there is answered as it is, on HTTP too, so no rule ever runs on it.

HTTP documents pass them inside Strawberry's pipeline (the extension and rules below); a
WebSocket subscription is looked at by app/schema/shared_streams.py before Strawberry runs
it, so it passes `DocumentGate.check` first, with the very same parse options and rules.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any, cast

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse
from graphql.validation import ASTValidationRule, specified_rules
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from app.schema.selection_limits import DocumentRefused, raw_refusal, selection_refusal


def parse_options(max_tokens: int, max_length: int) -> dict[str, Any]:
    """graphql-core stops reading at these limits, so a huge document costs little."""
    return {"max_tokens": max_tokens, "max_source_length": max_length}


class DocumentLimits(SchemaExtension):
    """Strawberry's MaxTokensLimiter, plus a cap on the document's length in characters."""

    def __init__(self, *, max_tokens: int, max_length: int) -> None:
        self.options = parse_options(max_tokens, max_length)

    def on_operation(self) -> Iterator[None]:
        options = cast(dict[str, Any], self.execution_context.parse_options)
        options.update(self.options)
        yield


class DocumentGate:
    """Parses and validates a document as Strawberry would, remembering the good ones."""

    def __init__(
        self,
        schema: GraphQLSchema,
        rules: Sequence[type[ASTValidationRule]],
        max_tokens: int,
        max_length: int,
        max_selections: int = 500,
        max_field_repeats: int = 5,
        cache_size: int = 128,
    ) -> None:
        self.schema = schema
        self.max_selections = max_selections
        self.max_field_repeats = max_field_repeats
        self.rules = (*specified_rules, *rules)
        self.options = parse_options(max_tokens, max_length)
        self.cache_size = cache_size
        self.passed: OrderedDict[str, DocumentNode] = OrderedDict()

    def check(self, query: str) -> DocumentNode | list[GraphQLError]:
        """The parsed document, or the errors that refuse it (nothing refused is cached)."""
        document = self.passed.get(query)
        if document is not None:
            self.passed.move_to_end(query)
            return document
        if len(query) > self.options["max_source_length"]:
            return [
                DocumentRefused(
                    f"Syntax Error: Source contains more than {self.options['max_source_length']} "
                    "code points. Parsing aborted.",
                    extensions={"code": "BAD_USER_INPUT"},
                )
            ]
        early = raw_refusal(query, self.options["max_tokens"], self.max_field_repeats)
        if early is not None:
            return [early]
        try:
            document = parse(query, **self.options)
        except GraphQLError as error:
            return [error]
        refusal = selection_refusal(document, self.max_selections, self.max_field_repeats)
        if refusal is not None:
            return [refusal]
        errors = validate_document(self.schema, document, self.rules)
        if errors:
            return errors
        self.passed[query] = document
        if len(self.passed) > self.cache_size:
            self.passed.popitem(last=False)
        return document
