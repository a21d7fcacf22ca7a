"""Refuses documents whose estimated result is too large, before anything runs.

Why hand-written: strawberry's QueryDepthLimiter and MaxAliasesLimiter do not estimate cost,
graphql-core ships no cost rule, and the Python cost packages found (graphql-complexity,
aforo-graphql-metering) are young, thinly used, and run per request as extensions rather than
as a validation rule, which would keep ValidationCache from hitting. The estimate is small:
every field costs 1, and a list field multiplies what it selects by an assumed list size.
"""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLOutputType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.validation import ASTValidationRule, ValidationRule

from app.core.errors import ErrorCode


def query_cost_rule(max_cost: int, list_size: int) -> type[ASTValidationRule]:
    """The rule class, made once so validation results stay cacheable."""

    class QueryCostRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragment_costs: dict[str, int] = {}
            self.fragments_in_progress: set[str] = set()

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> None:
            root = self.context.schema.get_root_type(node.operation)
            cost = self.selection_cost(node.selection_set, root)
            if cost > max_cost:
                name = f" {node.name.value}" if node.name else ""
                self.report_error(
                    GraphQLError(
                        f"Operation{name} is too complex: its estimated cost is over the limit "
                        f"of {max_cost}; ask for fewer nested lists",
                        node,
                        extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value, "limit": max_cost},
                    )
                )

        def selection_cost(
            self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None
        ) -> int:
            if selection_set is None:
                return 0
            total = 0
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    total += self.field_cost(selection, parent)
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    inner = (
                        self.context.schema.get_type(condition.name.value) if condition else None
                    )
                    total += self.selection_cost(selection.selection_set, inner or parent)
                elif isinstance(selection, FragmentSpreadNode):
                    total += self.fragment_cost(selection.name.value)
                if total > max_cost:
                    break  # already refused: no need to add up the rest
            return total

        def field_cost(self, node: FieldNode, parent: GraphQLNamedType | None) -> int:
            fields = (
                parent.fields
                if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
                else {}
            )
            definition = fields.get(node.name.value)
            field_type = definition.type if definition is not None else None
            multiplier = list_size if field_type is not None and _is_list(field_type) else 1
            child_type = get_named_type(field_type) if field_type is not None else None
            return 1 + multiplier * self.selection_cost(node.selection_set, child_type)

        def fragment_cost(self, name: str) -> int:
            """Each fragment is costed once; a cycle (refused by another rule) counts as 0."""
            if name in self.fragment_costs:
                return self.fragment_costs[name]
            fragment = self.context.get_fragment(name)
            if fragment is None or name in self.fragments_in_progress:
                return 0
            self.fragments_in_progress.add(name)
            fragment_type = self.context.schema.get_type(fragment.type_condition.name.value)
            cost = self.selection_cost(fragment.selection_set, fragment_type)
            self.fragments_in_progress.discard(name)
            self.fragment_costs[name] = cost
            return cost

    return QueryCostRule


def _is_list(field_type: GraphQLOutputType) -> bool:
    return is_list_type(get_nullable_type(field_type))
