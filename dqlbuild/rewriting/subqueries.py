"""Execution blocks: whose records a block holds, and when filtering a match table
keeps the query's result (docs/rewriting.md, "Subqueries").

A block's records either become records of the query (``append``, the unmatched side
of an outer ``join``) or are matched against the query's records (``lookup``, ``join``,
``joinNested``, ``x in [...]``). Filtering a match table changes which records find a
match (an anti-join gains records, a semi-join loses them) unless the query's records
are already filtered before the match and the key compares every field of the
condition with the same field of the table: then the records the filter removes from
the table could never have matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from dqlbuild.analysis.fieldflow import QueryFlow, StageFlow
from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import Access, Binary, Block, FieldRef, In
from dqlbuild.rewriting.conditions import conjuncts, walk_outside_blocks
from dqlbuild.rewriting.placement import JOINING, commutes, names, not_row_wise, stage_name

Role = Literal["rows", "match", "rows-and-match"]


def role(stage: StageFlow) -> Role:
    """``rows``: the block's records become records of the query (``append``);
    ``match``: they are matched against the query's records (``lookup``, ``join``,
    ``joinNested``, ``in``); ``rows-and-match``: both (an outer ``join``)."""
    name = stage.command.name
    if name == "append":
        return "rows"
    if name == "join" and not_row_wise(stage) is not None:
        return "rows-and-match"
    return "match"


def blocked_after(flow: QueryFlow, fields: Sequence[str], position: int) -> str | None:
    """Why the block's output would not hold its records' fields, filtered at
    ``position``, or None."""
    for stage in flow.stages[position:]:
        why = commutes(stage, fields)
        if why is not None:
            return f"{stage_name(stage)} {why}"
    return None


def match_table_reason(
    block: Block,
    flow: QueryFlow,
    stage: StageFlow,
    parent_flow: QueryFlow,
    parent_position: int | None,
    fields: Sequence[str],
) -> str | None:
    """Why filtering a match table would change the query's result, or None when it
    cannot: the query's records are filtered before the stage, keep the fields up to it,
    and the match key equates every field of the condition on both sides, so records
    the filter removes from the table could never match."""
    what = f"the records of {stage_name(stage)}"
    if parent_position is None:
        return (
            f"it is matched against {what}, which are not filtered here: filtering it "
            "would change which of them match, not restrict them"
        )
    key = equated(stage, block, flow)
    missing = [f for f in fields if f not in key]
    if missing:
        if stage.command.name in JOINING:
            how = f"{stage_name(stage)} does not match on {names(missing)}"
        else:
            how = f"`in [...]` in {stage_name(stage)} does not compare {names(missing)} with it"
        return f"{how}: filtering it would change which records find a match"
    if parent_position > stage.index:
        return (
            f"it is matched against {what}, which are filtered only after that stage: "
            "filtering it would change which of them match"
        )
    for between in parent_flow.stages[parent_position : stage.index]:
        why = commutes(between, fields)
        if why is not None and not_row_wise(between) is None:
            return (
                f"{stage_name(between)} {why} before {stage_name(stage)} matches: filtering "
                "the subquery would change which records match"
            )
    return None


def equated(stage: StageFlow, block: Block, flow: QueryFlow) -> set[str]:
    """The fields the stage's match key compares with the same field on both sides."""
    bound = stage.bound
    if bound is None:
        return set()
    name = stage.command.name
    if name == "lookup":
        source, lookup = bound.first("sourceField"), bound.first("lookupField")
        if source is None or lookup is None:
            return set()
        left, right = _field_name(source.expr), _field_name(lookup.expr)
        return {left} if left is not None and left == right else set()
    if name in ("join", "joinNested"):
        equated: set[str] = set()
        for value in bound.get("on"):
            for part in conjuncts(value.expr):
                plain = _field_name(part)
                if plain is not None:
                    equated.add(plain)
                    continue
                if isinstance(part, Binary) and part.op == "==":
                    sides = {_side(operand) for operand in part.operands}
                    if len(sides) == 2 and {s[0] for s in sides if s} == {"left", "right"}:
                        fields = {s[1] for s in sides if s}
                        if len(fields) == 1:
                            equated |= fields
        return equated
    # `x in [...]`: the block's one field is compared with the operand.
    for node in walk_outside_blocks(stage.command):
        if isinstance(node, In) and node.block is block:
            operand = _field_name(node.operand)
            after = flow.fields_after
            if (
                operand is not None
                and not after.open
                and not after.patterns
                and after.names == {operand}
            ):
                return {operand}
    return set()


def _field_name(node: Node) -> str | None:
    return node.name if isinstance(node, FieldRef) else None


def _side(node: Node) -> tuple[str, str] | None:
    if (
        isinstance(node, Access)
        and isinstance(node.base, FieldRef)
        and isinstance(node.key, str)
        and node.base.name in ("left", "right")
    ):
        return node.base.name, node.key
    return None


__all__ = ["Role", "blocked_after", "equated", "match_table_reason", "role"]
