"""Text a request carries must be encodable: a lone UTF-16 surrogate ("\\ud800" in JSON) is not.

JSON allows such escapes and Python decodes them, but nothing downstream (BSON, logs,
argon2) can encode the result; refusing them where variables arrive keeps every resolver
from ever seeing one. Literals in the document are refused by the GraphQL parser already.
"""

from __future__ import annotations

from graphql import GraphQLError


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _field_with_lone_surrogate(value: object, name: str) -> str | None:
    """The innermost input name holding a lone surrogate, or None."""
    if isinstance(value, str):
        return name if _has_lone_surrogate(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and _has_lone_surrogate(key):
                return name
            found = _field_with_lone_surrogate(item, str(key))
            if found is not None:
                return found
    if isinstance(value, list):
        for item in value:
            found = _field_with_lone_surrogate(item, name)
            if found is not None:
                return found
    return None


def lone_surrogate_refusal(variables: dict[str, object] | None) -> GraphQLError | None:
    """BAD_USER_INPUT naming the input, when any variable's text holds a lone surrogate."""
    if not variables:
        return None
    field = _field_with_lone_surrogate(variables, "variables")
    if field is None:
        return None
    return GraphQLError(
        f"{field} contains an invalid character (a lone UTF-16 surrogate)",
        extensions={"code": "BAD_USER_INPUT", "field": field},
    )
