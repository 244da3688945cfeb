"""The placement model of filter injection (docs/rewriting.md, "The placement model").

A filter at position ``p`` of a pipeline restricts the tile only when the pipeline with
the filter equals the original pipeline run on its records restricted by the condition.
Two things make that true:

* **commutation**: every stage before ``p`` handles each record on its own (it is
  row-wise), so dropping a record before it drops exactly that record's rows after it.
  ``limit``, ``dedup``, ``summarize``, ``makeTimeseries``, ``append``, an outer ``join``
  ... look at several records at once; only a grouping stage whose keys include every
  field of the condition, unchanged, lets a filter on those fields across;
* **meaning**: at ``p`` every field of the condition holds the values the condition is
  about: the records' own field, or (see :func:`origin`) the stage that gives it its
  values.

This module answers those two questions per stage; :mod:`dqlbuild.rewriting.inject`
applies them to whole queries and their execution blocks.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dqlbuild.analysis.binding import BoundValue
from dqlbuild.analysis.fieldflow import QueryFlow, StageFlow
from dqlbuild.ast.nodes import Block, FieldRef, String
from dqlbuild.rewriting.conditions import walk_outside_blocks
from dqlbuild.syntax.lexical import encode_name

# Stages that bring fields in from their execution block.
JOINING = frozenset({"lookup", "join", "joinNested"})

# Why a stage does not handle each record on its own (row-wise); stages not listed and
# known to the field flow are row-wise unless the field flow says they change records.
_NOT_ROW_WISE = {
    "limit": "keeps only the first records",
    "dedup": "keeps one record per key",
    "summarize": "merges records into groups",
    "makeTimeseries": "merges records into time series",
    "fieldsSummary": "summarizes all records",
    "append": "adds the records of its subquery",
    "traverse": "replaces the records by the ones it reaches",
    "failIf": "fails the query on any record",
    "experimentalSave": "saves the records it sees",
}
# Stages the field flow counts as changing records that still make each output record
# from one input record (and keep that record's fields unless they assign them).
_ROW_WISE_CHANGING = frozenset({"expand", "lookup", "joinNested", "join"})
# Grouping stages and the parameter that holds their keys.
_GROUP_KEYS = {"dedup": "expression", "summarize": "by", "timeseries": "by"}


def names(fields: Iterable[str]) -> str:
    return ", ".join(f"`{encode_name(n)}`" for n in fields)


def stage_name(stage: StageFlow) -> str:
    """``filter`` (stage 3): stages are numbered from 1, as a reader counts them."""
    return f"`{stage.command.name}` (stage {stage.index + 1})"


# ---------------------------------------------------------------- one stage, one field
@dataclass(frozen=True)
class FieldEffect:
    """What one stage does to one field."""

    assigns: bool = False
    """Gives the field new values, provably (``fieldsAdd f = ...``, a parse export,
    ``fieldsRename f = g``, ``expand f``, a ``lookup``/``join`` that brings it)."""
    may_assign: bool = False
    """May give it new values: a wildcard it matches (``fieldsFlatten r, prefix: ""``,
    ``lookup`` with ``prefix: ""`` of an open subquery) or exports nobody can list."""
    removes: bool = False
    """The field is gone after the stage (dropped, renamed away, not kept)."""
    brings_in: bool = False
    """``lookup``/``join``/``joinNested`` bring it from their execution block."""
    aggregates: bool = False
    """An aggregation output of that name: the value of a group, not of a record."""
    constant: bool = False
    """Assigned an expression that reads no field: the same value on every record."""


# The common effects, shared (frozen): injection asks for one per stage and field.
_NONE = FieldEffect()
_REMOVES = FieldEffect(removes=True)


def field_effect(stage: StageFlow, name: str) -> FieldEffect:
    fate = stage.fate_of(name)
    if fate is not None:  # told without the stage's rule: passed on as it was, or gone
        return _NONE if fate == "passes" else _REMOVES
    command = stage.command.name
    if command == "append":
        # Appended records bring their own fields; the records before keep theirs.
        return _NONE
    if _expands_in_place(stage, name):
        return FieldEffect(assigns=True)
    exact = name in stage.created or any(new == name for _old, new in stage.renamed)
    if exact and _passes_through(stage, name):
        exact = False
    wildcard = not exact and any(fnmatch.fnmatchcase(name, p) for p in stage.created_patterns)
    # A wildcard with a literal prefix (`lookup.*`, `rec.*`) names the stage's own
    # fields; a bare `*` (an empty prefix) proves nothing about this one.
    proven = exact or (wildcard and _prefixed_match(stage, name))
    unknown = not proven and _unknown_exports(stage)
    if proven and stage.resets and stage.row_changing:
        return FieldEffect(assigns=True, aggregates=True)
    if proven:
        return FieldEffect(
            assigns=True,
            brings_in=command in JOINING,
            constant=_assigned_constant(stage, name),
        )
    if wildcard or unknown:
        return FieldEffect(may_assign=True, removes=stage.drops(name))
    return _REMOVES if stage.drops(name) else _NONE


def _prefixed_match(stage: StageFlow, name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) and p.rstrip("*") != "" for p in stage.created_patterns)


def _unknown_exports(stage: StageFlow) -> bool:
    """The stage may create fields nobody can name from the query."""
    if not stage.known:
        return True
    command = stage.command.name
    if command == "jsonExtract":
        return True
    if command == "parse" and stage.bound is not None:
        pattern = stage.bound.first("pattern")
        return pattern is None or not isinstance(pattern.expr, String)
    if command == "fieldsFlatten":
        return not stage.created and not stage.created_patterns
    return False


def _values(stage: StageFlow) -> tuple[BoundValue, ...]:
    return stage.bound.values if stage.bound is not None else ()


def _passes_through(stage: StageFlow, name: str) -> bool:
    """``by: {name}``, ``fields name``: the stage lists the field as it is. A name for
    the other side (``lookup ..., fields: {name}``) brings a field in instead."""
    return any(
        isinstance(v.expr, FieldRef)
        and v.expr.name == name
        and v.assigned_name is None
        and not (v.parameter is not None and v.parameter.names_other_side)
        for v in _values(stage)
    )


def _expands_in_place(stage: StageFlow, name: str) -> bool:
    # `expand a` replaces the array `a` by one of its elements per record.
    if stage.command.name != "expand" or stage.bound is None:
        return False
    value = stage.bound.first("expression")
    return (
        value is not None
        and value.assigned_name is None
        and isinstance(value.expr, FieldRef)
        and value.expr.name == name
    )


def _assigned_constant(stage: StageFlow, name: str) -> bool:
    if stage.command.name not in ("fieldsAdd", "fields"):
        return False
    for value in _values(stage):
        if value.assigned_name == name:
            return not any(isinstance(n, FieldRef | Block) for n in value.expr.walk())
    return False


def reads(stage: StageFlow, name: str) -> bool:
    """Whether the stage reads the field from its input records (outside execution
    blocks; names for the other side of a join are not reads)."""
    if not stage.mentions(name):
        return False
    for value in _values(stage):
        if value.parameter is not None and value.parameter.names_other_side:
            continue
        if any(isinstance(n, FieldRef) and n.name == name for n in walk_outside_blocks(value.expr)):
            return True
    return False


# ---------------------------------------------------------------- one stage, records
def not_row_wise(stage: StageFlow) -> str | None:
    """Why the stage does not make each output record from one input record on its
    own (so a filter cannot move across it), or None when it does."""
    command = stage.command.name
    if not stage.known:
        return "is not a command dqlbuild knows"
    if stage.is_start:
        return "starts a new pipeline"
    if command in _NOT_ROW_WISE:
        return _NOT_ROW_WISE[command]
    if command == "join" and _join_kind(stage) == "outer":
        return "adds the unmatched records of its subquery"
    if stage.row_changing and command not in _ROW_WISE_CHANGING:
        return "changes which records there are"
    return None


def _join_kind(stage: StageFlow) -> str:
    kind = stage.bound.first("kind") if stage.bound is not None else None
    if kind is not None and isinstance(kind.expr, FieldRef | String):
        value = kind.expr.name if isinstance(kind.expr, FieldRef) else kind.expr.value
        return value
    return "inner"


def groups_by(stage: StageFlow, fields: Sequence[str]) -> bool:
    """A grouping stage whose keys include every one of ``fields``, unchanged: each group
    holds records of one value of them, so filtering records or groups is the same."""
    param = _GROUP_KEYS.get(stage.command.name)
    if param is None or not all(stage.mentions(f) for f in fields) or stage.bound is None:
        return False
    keys = {
        v.expr.name
        for v in stage.bound.get(param)
        if isinstance(v.expr, FieldRef) and v.assigned_name is None
    }
    return all(f in keys for f in fields)


def changes(stage: StageFlow, fields: Sequence[str]) -> str | None:
    """How the stage changes any of ``fields`` (a phrase that follows the stage's name:
    ``gives `a` other values``, ``removes `b```), or None when it leaves them alone."""
    effects = [(name, field_effect(stage, name)) for name in fields]
    assigned = [n for n, e in effects if e.assigns]
    if assigned:
        return f"gives {names(assigned)} other values"
    maybe = [n for n, e in effects if e.may_assign]
    if maybe:
        return f"may give {names(maybe)} other values"
    removed = [n for n, e in effects if e.removes]
    if removed:
        return f"removes {names(removed)}"
    return None


def commutes(stage: StageFlow, fields: Sequence[str]) -> str | None:
    """Why a filter on ``fields`` cannot move across the stage (a phrase that follows the
    stage's name), or None when it can: the stage is row-wise (or groups by the fields)
    and leaves the fields as they are."""
    changed = changes(stage, fields)
    if changed is not None:
        return changed
    if groups_by(stage, fields):
        return None
    return not_row_wise(stage)


# ---------------------------------------------------------------- where a field comes from
@dataclass(frozen=True)
class Origin:
    """Where a field of the condition gets the values the condition is about."""

    index: int
    """The stage after which the filter can stand (0: the source)."""
    reason: str = ""
    """Why the pipeline cannot be filtered, when not empty."""


def origin(flow: QueryFlow, name: str, *, own_field: bool) -> Origin:
    """The origin of ``name`` in a pipeline.

    ``own_field``: the records carry the field themselves (the data object was named,
    or the pipeline reads the field before it assigns it). Then the condition is about
    the records' own field, wherever later stages give it other values, except that a
    ``lookup``/``join`` bringing it in says the records lack it. Otherwise the
    condition is about the field as the pipeline makes it: the last stage that assigns
    it record by record (aggregation outputs name values of groups and do not count).
    """
    stages = flow.stages
    # Most stages leave the field as it was or drop it, which their command and text
    # tell (`fate_of`): only the others need the full effect.
    effects = [
        (stage, field_effect(stage, name)) for stage in stages[1:] if stage.fate_of(name) is None
    ]
    if own_field:
        for stage, effect in effects:
            if effect.brings_in:
                return Origin(
                    0,
                    f"{names([name])} is brought in by {stage_name(stage)} from its "
                    "subquery: the records before it do not carry it, and after it the "
                    "field is not the records' own",
                )
        return Origin(0)
    assigners = [(s, e) for s, e in effects if e.assigns and not e.aggregates]
    if not assigners:
        return Origin(0)
    stage, effect = assigners[-1]
    if effect.constant:
        return Origin(
            stage.index,
            f"{stage_name(stage)} sets {names([name])} to the same value on every record: "
            "a filter on it keeps all records or none",
        )
    return Origin(stage.index)


def carries(flow: QueryFlow, name: str) -> bool:
    """Whether the pipeline shows that its records carry ``name``: a stage reads it
    before (or where) the pipeline first assigns it."""
    for stage in flow.stages:
        if reads(stage, name):
            return True
        effect = field_effect(stage, name) if stage.index else FieldEffect()
        if effect.assigns or effect.removes:
            return False
    return False


__all__ = [
    "JOINING",
    "FieldEffect",
    "Origin",
    "carries",
    "changes",
    "commutes",
    "field_effect",
    "groups_by",
    "names",
    "not_row_wise",
    "origin",
    "reads",
    "stage_name",
]
