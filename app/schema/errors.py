"""The one place errors become the contract's `extensions.code`; the unexpected are masked."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from graphql import ArgumentNode, GraphQLError, Node, ObjectFieldNode, Visitor, parse, visit
from pymongo.errors import PyMongoError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from app.core.errors import DomainError, ErrorCode, ServiceUnavailable
from app.core.request_id import current_request_id
from app.settings import get_settings
from app.store import outage

log = logging.getLogger("app.errors")

_FIELD_PATTERNS = (
    re.compile(r"Variable '\$(\w+)'"),
    re.compile(r"[Aa]rgument '(\w+)'"),
    re.compile(r"[Ff]ield '\w+\.(\w+)'"),
    re.compile(r"at 'value\.(\w+)'"),
    re.compile(r"In field \"(\w+)\""),
    re.compile(r"invalid value at '?(?:value)?\.?(?:[\w\[\]]+\.)*(\w+)"),
)


def _field_of(message: str) -> str | None:
    """Names the input at fault in graphql-core's messages; the last name is the innermost."""
    found: str | None = None
    for pattern in _FIELD_PATTERNS:
        matches = pattern.findall(message)
        if matches:
            found = matches[-1]
    return found


def _field_at(error: GraphQLError) -> str | None:
    """The argument or input field whose literal value the error points at, from the document.

    A scalar refusing a literal (`date: "0001-01-01"`) says what is wrong but not where.
    """
    if not error.nodes or error.source is None:
        return None
    target = error.nodes[0].loc
    if target is None:
        return None
    start, end = target.start, target.end
    found = [name for (s, e, name) in _value_spans(error.source.body) if s <= start and end <= e]
    return found[-1] if found else None


@lru_cache(maxsize=32)
def _value_spans(body: str) -> tuple[tuple[int, int, str], ...]:
    """Where each argument's and input field's value lies, outer first; parsed once per
    document, not once per error (a document with 100 errors would be parsed 100 times)."""
    spans: list[tuple[int, int, str]] = []

    class _Finder(Visitor):
        def enter(self, node: Node, *_: object) -> None:
            if isinstance(node, ArgumentNode | ObjectFieldNode):
                where = node.value.loc
                if where is not None:
                    spans.append((where.start, where.end, node.name.value))

    try:
        visit(parse(body), _Finder())
    except GraphQLError:
        return ()
    return tuple(spans)


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def _without_suggestions(message: str) -> str:
    """With introspection off, "Did you mean 'auditLog'?" would map the schema all the same."""
    if get_settings().introspection_enabled:
        return message
    return _SUGGESTION.sub("", message)


def to_contract_error(error: GraphQLError) -> GraphQLError:
    if error.extensions and "code" in error.extensions:
        return error  # already mapped (errors made by shared subscription streams, the gate)
    original = error.original_error
    if isinstance(original, DomainError):
        extensions = {"code": original.code.value, **original.extensions}
        if isinstance(original, ServiceUnavailable):
            extensions["requestId"] = current_request_id.get()
        message = original.message
    elif original is None or isinstance(
        original, GraphQLError | InvalidOperationTypeError | CannotGetOperationTypeError
    ):
        # Parsing, validation and variable coercion: the request itself is malformed.
        field = _field_of(error.message) or _field_at(error)
        extensions = {"code": ErrorCode.BAD_USER_INPUT.value, **({"field": field} if field else {})}
        message = error.message
    elif isinstance(original, PyMongoError) and outage.noticed(original):
        # The store is down, restarting, or refuses writes (disk full): nothing is wrong with
        # the request and a retry may succeed, so say so instead of masking it as a bug.
        # Logged once per episode by `outage`, not once per request.
        extensions = {
            "code": ErrorCode.SERVICE_UNAVAILABLE.value,
            "retryAfter": get_settings().store_retry_after_seconds,
            "requestId": current_request_id.get(),
        }
        message = "The service is temporarily unavailable; try again shortly"
    else:
        request_id = current_request_id.get()
        log.error("unexpected error in %s", error.path, exc_info=original)
        extensions = {"code": ErrorCode.INTERNAL_SERVER_ERROR.value, "requestId": request_id}
        message = "Internal server error"
    return GraphQLError(
        _without_suggestions(message),
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )
