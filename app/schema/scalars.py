"""The Date scalar, bounded where every date enters: no input reaches calendar arithmetic that
could overflow (year 1 in Tokyo, 9999-12-31 in New York) and none a clinic could mean."""

from __future__ import annotations

from datetime import date
from typing import Any

from graphql import StringValueNode, ValueNode
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.types.scalar import ScalarDefinition

from app.domain import validation


def parse_date(value: object, nodes: list[ValueNode] | None = None) -> date:
    """An ISO date (YYYY-MM-DD) from validation.EARLIEST_DATE to validation.LATEST_DATE."""
    problem = "Expected a string."
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            problem = "Expected YYYY-MM-DD."
        else:
            if validation.EARLIEST_DATE <= day <= validation.LATEST_DATE:
                return day
            problem = validation.DATE_RANGE_RULE
    raise StrawberryInputCoercionError(
        f'Value cannot represent a Date: "{value}". {problem}', nodes=nodes
    )


def parse_date_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> date:
    """A literal in the document: the error carries the node, so the field can be named."""
    value = node.value if isinstance(node, StringValueNode) else None
    return parse_date(value, [node])


BoundedDate = ScalarDefinition(
    name="Date",
    description="Date (isoformat)",
    specified_by_url=None,
    serialize=date.isoformat,
    parse_value=parse_date,
    parse_literal=parse_date_literal,
    origin=date,
)
