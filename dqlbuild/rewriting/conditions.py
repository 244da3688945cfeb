"""Filter conditions: what a condition reads, the parts of an ``and`` chain, the two
selection forms of a variable filter, and merging into a ``filter:`` parameter."""

from __future__ import annotations

from collections.abc import Iterator

from dqlbuild.analysis.fieldflow import StageFlow
from dqlbuild.ast.base import Node, child_nodes
from dqlbuild.ast.nodes import (
    EXPRESSION_TYPES,
    Assign,
    Binary,
    Block,
    Brace,
    Call,
    Command,
    FieldRef,
    Named,
    String,
    Variable,
    chain,
)
from dqlbuild.errors import DQLValueError
from dqlbuild.printing.canonical import format_node
from dqlbuild.rewriting.variables import string_references, variable_filter
from dqlbuild.syntax.parser import parse_expression

# Stages that only drop records by a condition on each one.
FILTER_STAGES = frozenset({"filter", "filterOut", "search"})


def walk_outside_blocks(node: Node) -> Iterator[Node]:
    """``node`` and its descendants, except inside execution blocks (subqueries have
    their own fields and filters); iterative, so long operator chains are fine."""
    stack = [node]
    pop, push = stack.pop, stack.extend
    while stack:
        item = pop()
        yield item
        kids = child_nodes(item)  # a fresh list: reversed in place (hot in injection)
        if kids:
            kids.reverse()
            push([c for c in kids if type(c) is not Block])


def fields_of(node: Node) -> list[str]:
    """The field names a condition reads, in order, without repeats."""
    found = [n.name for n in walk_outside_blocks(node) if isinstance(n, FieldRef)]
    return list(dict.fromkeys(found))


def variables_in(node: Node) -> Iterator[str]:
    """The variables a condition uses: ``$V`` references and ``$V`` inside strings."""
    for item in walk_outside_blocks(node):
        if isinstance(item, Variable):
            yield item.name
        elif isinstance(item, String) and "$" in item.value:
            yield from string_references(item.value)


def as_condition(condition: object) -> Node:
    if isinstance(condition, str):
        node: object = parse_expression(condition)
    elif isinstance(condition, Node):
        node = condition
    elif hasattr(condition, "node"):
        node = condition.node
    else:
        raise DQLValueError(
            f"a condition is DQL text, an expression node or a builder proxy, "
            f"not {type(condition).__name__}"
        )
    if isinstance(node, Assign):
        raise DQLValueError(
            f"`{node.target} = ...` assigns a field; a filter condition compares with `==`"
        )
    if not isinstance(node, EXPRESSION_TYPES):
        raise DQLValueError(f"a filter condition is an expression, not {type(node).__name__}")
    return node


def and_(left: Node, right: Node) -> Binary:
    """``left and right``; a chain of ``and`` gets one more operand (and keeps its text)."""
    return chain("and", left, right)


def conjuncts(node: Node) -> Iterator[Node]:
    """The parts of an ``and`` chain (through single-item braces), in order."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Binary) and item.op == "and":
            stack.extend(reversed(item.operands))
        elif isinstance(item, Brace) and len(item.items) == 1:
            stack.append(item.items[0])
        else:
            yield item


Selection = tuple[Node, Variable, bool]


def selection(node: Node) -> Selection | None:
    """``(field, $V, multiple)`` for ``field == $V`` (either side) or
    ``in(field, array($V))``; None for anything else."""
    if isinstance(node, Binary) and node.op == "==":
        left, right = node.operands
        if isinstance(right, Variable) and right.modifier is None:
            return left, right, False
        if isinstance(left, Variable) and left.modifier is None:
            return right, left, False
    if isinstance(node, Call) and node.name.lower() == "in" and len(node.args) == 2:
        target, values = node.args
        if (
            isinstance(values, Call)
            and values.name.lower() == "array"
            and len(values.args) == 1
            and isinstance(values.args[0], Variable)
            and values.args[0].modifier is None
        ):
            return target, values.args[0], True
    return None


def other_selection_form(condition: Node) -> Node | None:
    found = selection(condition)
    if found is None:
        return None
    target, variable, multiple = found
    return variable_filter(target, variable.name, multiple=not multiple)


def filter_parameter(command: Command) -> Named | None:
    """The command's own ``filter:`` argument (at top level or in a brace group; a
    ``filter:`` inside a function call belongs to that aggregation)."""
    stack: list[Node] = list(reversed(command.args))
    while stack:
        node = stack.pop()
        if isinstance(node, Named) and node.name.lower() == "filter":
            return node
        if isinstance(node, Brace):
            stack.extend(reversed(node.items))
    return None


def merge_into_filter_parameter(command: Command, condition: Node) -> Command:
    named = filter_parameter(command)
    if named is None:
        new_named = Named(name="filter", value=condition)
        updated: Command = command.model_copy(update={"args": (*command.args, new_named)})
        return updated
    value = named.value
    if isinstance(value, Brace) and len(value.items) == 1:
        merged: Node = value.model_copy(update={"items": (and_(value.items[0], condition),)})
    else:
        merged = and_(value, condition)
    new = named.model_copy(update={"value": merged})
    result: Command = command.transform(lambda n: new if n is named else None)
    return result


def merge_reason(command: Command) -> str:
    if filter_parameter(command) is None:
        return f"added a `filter:` parameter to `{command.name}`"
    return f"merged into the `filter:` parameter of `{command.name}`"


def filter_conditions(stage: StageFlow, named: bool = True) -> list[Node]:
    """The conditions a stage filters on: the arguments of ``filter``, ``filterOut`` and
    ``search``, and every ``filter:`` parameter (``timeseries``, aggregations) unless
    ``named`` is False (the pipeline's text shows none)."""
    command = stage.command
    found: list[Node] = (
        [arg for arg in command.args if not isinstance(arg, Named)]
        if command.name in FILTER_STAGES
        else []
    )
    if named and stage.may_name("filter"):
        found.extend(named.value for named in stage.named if named.name.lower() == "filter")
    return found


def dql_text(node: Node) -> str:
    return format_node(node, width=10**9)


__all__ = [
    "FILTER_STAGES",
    "Selection",
    "and_",
    "as_condition",
    "conjuncts",
    "dql_text",
    "fields_of",
    "filter_conditions",
    "filter_parameter",
    "merge_into_filter_parameter",
    "merge_reason",
    "other_selection_form",
    "selection",
    "variables_in",
    "walk_outside_blocks",
]
