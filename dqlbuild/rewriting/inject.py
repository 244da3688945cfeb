"""Filter injection: add a condition to existing queries where it is correct.

The position follows the field flow (:mod:`dqlbuild.analysis.fieldflow`): as close to
the source as the condition's fields allow, never across a stage that drops, renames or
aggregates one of them. ``timeseries`` takes the condition in its own ``filter:``
parameter, because after it only the ``by:`` keys are left. Every execution block
(``append``, ``join``, ``joinNested``, ``lookup``, ``in``) is treated the same way, by
its own source. The edit goes through the query's editing methods, so
``to_source()`` prints the user's text with only the new stage (or the changed
``filter:`` argument) spliced in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from dqlbuild.analysis.fieldflow import QueryFlow, StageFlow, analyze
from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import (
    EXPRESSION_TYPES,
    Assign,
    Binary,
    Block,
    Brace,
    Command,
    FieldRef,
    Named,
    Query,
    String,
    Variable,
    chain,
)
from dqlbuild.errors import DQLError, DQLSyntaxError, DQLValueError
from dqlbuild.printing.lossless import reads_back
from dqlbuild.syntax.lexical import encode_name
from dqlbuild.syntax.parser import parse, parse_expression

Placement = Literal["auto", "source", "end"]
Status = Literal["filtered", "already-filtered", "skipped"]
PLACEMENTS: tuple[Placement, ...] = ("auto", "source", "end")

# Stages that keep the fields and can stand between the source and a new filter.
_FILTER_STAGES = frozenset({"filter", "filterOut", "search"})
# Sources whose records are not the data a dashboard filter is about.
_NOT_FILTERABLE = {
    "data": "builds its own records",
    "describe": "lists the fields of a data object, not its records",
    "metrics": "lists metric metadata, not records",
    "fieldsSnapshot": "lists field statistics, not records",
}
_COMMENT_RE = re.compile(
    r'"""[\s\S]*?"""|"[^"\\]*+(?:\\[\s\S][^"\\]*+)*+"|`[^`\\]*+(?:\\[\s\S][^`\\]*+)*+`'
    r"|(//[^\n]*|/\*[\s\S]*?(?:\*/|\Z))"
)
_IN_STRING_REFERENCE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class InjectResult:
    """What happened to one query (or execution block).

    ``status`` is ``"filtered"``, ``"already-filtered"`` or ``"skipped"`` for this
    pipeline alone; ``reason`` says where the condition went or why not.
    ``subqueries`` has one result per execution block of this pipeline, in source
    order (each with its own ``subqueries``).
    """

    query: Query
    status: Status
    reason: str
    subqueries: tuple[InjectResult, ...] = ()
    _text: str | None = field(default=None, repr=False, compare=False)

    @property
    def text(self) -> str:
        """The query as text: the user's text with only the edits spliced in when the
        query was parsed (see :func:`inject_filter_text`)."""
        return self._text if self._text is not None else self.query.to_source()

    @property
    def changed(self) -> bool:
        """Whether the condition was added here or in any execution block."""
        return any(r.status == "filtered" for r in self.results())

    def results(self) -> Iterator[InjectResult]:
        """This result and those of all execution blocks, depth first."""
        yield self
        for sub in self.subqueries:
            yield from sub.results()


@dataclass(frozen=True)
class _Options:
    condition: Node
    fields: tuple[str, ...]
    variables: frozenset[str]
    placement: Placement
    data_object: str | None
    into_subqueries: bool


def inject_filter(
    query: Query | str,
    condition: object,
    *,
    placement: Placement = "auto",
    data_object: str | None = None,
    into_subqueries: bool = True,
) -> InjectResult:
    """Add ``condition`` as a filter to ``query`` (and to its execution blocks).

    ``condition`` is an expression node, a builder proxy (anything with ``.node``) or DQL
    text. ``placement``: ``"auto"`` (the position the field flow allows, see
    docs/rewriting.md), ``"source"`` (right after the source command) or ``"end"``.
    With ``data_object``, only pipelines that ``fetch`` that data object change.
    A pipeline that already filters on the condition, or on its variable, is left
    alone (``"already-filtered"``), so injecting twice changes nothing.
    """
    if placement not in PLACEMENTS:
        raise DQLValueError(f"placement must be one of {', '.join(PLACEMENTS)}, not {placement!r}")
    if isinstance(query, str):
        query = parse(query)
    if not isinstance(query, Query):
        raise DQLValueError(f"expected a Query or DQL text, not {type(query).__name__}")
    if not query.commands:
        raise DQLValueError("the query has no stages")
    node = _condition(condition)
    options = _Options(
        condition=node,
        fields=tuple(dict.fromkeys(_fields_of(node))),
        variables=frozenset(_variables_of(node)),
        placement=placement,
        data_object=data_object,
        into_subqueries=into_subqueries,
    )
    return _inject(query, analyze(query), options)


def inject_filter_text(
    text: str,
    condition: object,
    *,
    placement: Placement = "auto",
    data_object: str | None = None,
    into_subqueries: bool = True,
) -> InjectResult:
    """:func:`inject_filter` on DQL text. The result's ``.text`` is ``text`` with only the
    new stage (or the changed ``filter:`` argument) spliced in; every other byte,
    comments and spacing included, is unchanged. The new text is parsed again (the stages
    around the edit) and must give the same tree as the AST-level result, else
    :class:`~dqlbuild.DQLError`."""
    if not isinstance(text, str):
        raise DQLValueError(f"expected DQL text, not {type(text).__name__}")
    result = inject_filter(
        parse(text),
        condition,
        placement=placement,
        data_object=data_object,
        into_subqueries=into_subqueries,
    )
    new_text = result.query.to_source()
    try:
        # Parses again only the stages around the edit (the rest is the original text).
        same = reads_back(result.query, new_text)
    except DQLSyntaxError as exc:
        raise DQLError(
            f"the edited query text does not parse: {exc.message}",
            line=exc.line,
            column=exc.column,
            hint="this is a dqlbuild bug; please report the query",
        ) from None
    if not same:
        raise DQLError(
            "the edited query text does not mean what the edit made",
            hint="this is a dqlbuild bug; please report the query",
        )
    if not _keeps_comments(text, new_text):
        raise DQLError(
            "the edited query text lost a comment of the original",
            hint="this is a dqlbuild bug; please report the query",
        )
    return replace(result, _text=new_text)


def _comments(text: str) -> list[str]:
    return [m.group(1) for m in _COMMENT_RE.finditer(text) if m.group(1) is not None]


def _keeps_comments(old: str, new: str) -> bool:
    """Every comment of ``old`` is still in ``new``, in order (tree equality ignores
    comments, so this is checked on the text)."""
    remaining = iter(_comments(new))
    return all(comment in remaining for comment in _comments(old))


# ---------------------------------------------------------------- the condition
def _condition(condition: object) -> Node:
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


def _walk_outside_blocks(node: Node) -> Iterator[Node]:
    """``node`` and its descendants, except inside execution blocks (subqueries have
    their own fields and filters)."""
    yield node
    for child in node.children():
        if not isinstance(child, Block):
            yield from _walk_outside_blocks(child)


def _fields_of(node: Node) -> Iterator[str]:
    for item in _walk_outside_blocks(node):
        if isinstance(item, FieldRef):
            yield item.name


def _variables_of(node: Node) -> Iterator[str]:
    for item in _walk_outside_blocks(node):
        if isinstance(item, Variable):
            yield item.name
        elif isinstance(item, String) and "$" in item.value:
            yield from _IN_STRING_REFERENCE.findall(item.value)


def _conjuncts(node: Node) -> Iterator[Node]:
    if isinstance(node, Binary) and node.op == "and":
        for operand in node.operands:
            yield from _conjuncts(operand)
    elif isinstance(node, Brace) and len(node.items) == 1:
        yield from _conjuncts(node.items[0])
    else:
        yield node


# ---------------------------------------------------------------- one pipeline
def _inject(query: Query, flow: QueryFlow, options: _Options) -> InjectResult:
    query, subresults = _inject_subqueries(query, flow, options)
    status, reason, query = _inject_pipeline(query, flow, options)
    return InjectResult(query, status, reason, subresults)


def _inject_subqueries(
    query: Query, flow: QueryFlow, options: _Options
) -> tuple[Query, tuple[InjectResult, ...]]:
    if not options.into_subqueries:
        return query, ()
    results: list[InjectResult] = []
    # Blocks inside an earlier copy of the condition are the condition's own subquery:
    # filtering them would make the copy differ from the condition (and injection repeat).
    own = options.condition if any(isinstance(n, Block) for n in options.condition.walk()) else None
    for index, stage in enumerate(flow.stages):
        blocks = list(_blocks(stage.command.args))
        if len(blocks) != len(stage.subqueries):
            raise DQLError(
                f"field flow and query disagree about the subqueries of stage {index + 1}"
            )
        inside = _blocks_inside(stage.command, own) if own is not None else set()
        changed: dict[int, Block] = {}
        for block, sub_flow in zip(blocks, stage.subqueries, strict=True):
            if not block.commands or id(block) in inside:
                continue
            unrelated = _unrelated_subquery(stage, options)
            if unrelated is not None:
                results.append(InjectResult(Query(commands=block.commands), "skipped", unrelated))
                continue
            result = _inject(Query(commands=block.commands), sub_flow, options)
            results.append(result)
            if _any_identity_change(result.query.commands, block.commands):
                changed[id(block)] = block.model_copy(update={"commands": result.query.commands})
        if changed:
            query = query.replace(index, _replace_blocks(query.commands[index], changed))
    return query, tuple(results)


def _unrelated_subquery(stage: StageFlow, options: _Options) -> str | None:
    """Why a subquery cannot hold the condition, or None: the stage renames the
    subquery's result into the fields the condition names (`lookup.entity.name`,
    `right.x`), so filtering the subquery on them would empty the lookup or join
    instead of filtering the query."""
    # `append` passes its records through unchanged: nothing of them is renamed.
    if stage.command.name == "append":
        return None
    created = [f for f in options.fields if stage.creates(f)]
    if not created:
        return None
    verb = "is" if len(created) == 1 else "are"
    return f"{_names(created)} {verb} created by `{stage.command.name}` from this subquery's result"


def _blocks_inside(command: Command, condition: Node) -> set[int]:
    return {
        id(block)
        for node in command.walk()
        if node == condition
        for block in node.walk()
        if isinstance(block, Block)
    }


def _replace_blocks(command: Command, blocks: dict[int, Block]) -> Command:
    result: Command = command.transform(lambda node: blocks.get(id(node)))
    return result


def _any_identity_change(new: tuple[Command, ...], old: tuple[Command, ...]) -> bool:
    return len(new) != len(old) or any(a is not b for a, b in zip(new, old, strict=True))


def _blocks(nodes: Iterable[Node]) -> Iterator[Block]:
    """Execution blocks among ``nodes`` and their descendants, not inside other blocks,
    in source order (the order of ``StageFlow.subqueries``)."""
    for node in nodes:
        if isinstance(node, Block):
            yield node
        else:
            yield from _blocks(node.children())


def _inject_pipeline(query: Query, flow: QueryFlow, options: _Options) -> tuple[Status, str, Query]:
    stages = flow.stages
    source = stages[0]
    name = source.command.name
    if not source.is_start:
        return "skipped", f"the query does not begin with a source command (`{name}`)", query
    if options.data_object is not None and (
        name != "fetch" or source.source != options.data_object
    ):
        return "skipped", f"it reads {_describe(source)}, not `fetch {options.data_object}`", query
    already = _already_filtered(stages, options)
    if already is not None:
        return "already-filtered", already, query
    if name in _NOT_FILTERABLE:
        return "skipped", f"`{name}` {_NOT_FILTERABLE[name]}", query
    if name == "timeseries" and options.placement != "end":
        return (
            "filtered",
            _merge_reason(source.command),
            query.replace(0, _merge_into_filter_parameter(query.commands[0], options.condition)),
        )
    if options.placement == "source":
        position, reason = 1, f"inserted after {_describe(source)}"
    elif options.placement == "end":
        position, reason = len(stages), f"appended after `{stages[-1].command.name}` (the end)"
    else:
        found = _auto_position(flow, options)
        if isinstance(found, str):
            return "skipped", found, query
        position, reason = found
    missing = [f for f in options.fields if not flow.fields_before(position).may_contain(f)]
    if missing:
        previous = stages[position - 1]
        return (
            "skipped",
            (
                f"{_names(missing)} {'does' if len(missing) == 1 else 'do'} not exist after "
                f"`{previous.command.name}` "
                f"(stage {position})"
            ),
            query,
        )
    stage = Command(name="filter", args=(options.condition,))
    return "filtered", reason, query.insert(position, stage)


def _describe(source: StageFlow) -> str:
    name = source.command.name
    return f"`{name} {source.source}`" if name == "fetch" and source.source else f"`{name}`"


def _names(names: Iterable[str]) -> str:
    return ", ".join(f"`{encode_name(n)}`" for n in names)


# ---------------------------------------------------------------- already filtered?
def _already_filtered(stages: tuple[StageFlow, ...], options: _Options) -> str | None:
    for stage in stages:
        for condition in _filter_conditions(stage.command):
            where = f"`{stage.command.name}` (stage {stage.index + 1})"
            if any(part == options.condition for part in _conjuncts(condition)):
                return f"{where} already filters on the condition"
            used = options.variables & frozenset(_variables_of(condition))
            if used:
                names = ", ".join(f"${v}" for v in sorted(used))
                return f"{where} already filters on {names}"
    return None


def _filter_conditions(command: Command) -> Iterator[Node]:
    """The conditions a stage filters on: the arguments of ``filter``, ``filterOut`` and
    ``search``, and every ``filter:`` parameter (``timeseries``, aggregations)."""
    if command.name in _FILTER_STAGES:
        yield from (arg for arg in command.args if not isinstance(arg, Named))
    for arg in command.args:
        for node in _walk_outside_blocks(arg):
            if isinstance(node, Named) and node.name.lower() == "filter":
                yield node.value


# ---------------------------------------------------------------- timeseries
def _filter_parameter(command: Command) -> Named | None:
    """The command's own ``filter:`` argument (at top level or in a brace group; a
    ``filter:`` inside a function call belongs to that aggregation)."""

    def search(nodes: Iterable[Node]) -> Named | None:
        for node in nodes:
            if isinstance(node, Named) and node.name.lower() == "filter":
                return node
            if isinstance(node, Brace):
                found = search(node.items)
                if found is not None:
                    return found
        return None

    return search(command.args)


def _merge_into_filter_parameter(command: Command, condition: Node) -> Command:
    named = _filter_parameter(command)
    if named is None:
        new_named = Named(name="filter", value=condition)
        updated: Command = command.model_copy(update={"args": (*command.args, new_named)})
        return updated
    value = named.value
    if isinstance(value, Brace) and len(value.items) == 1:
        merged: Node = value.model_copy(
            update={"items": (chain("and", value.items[0], condition),)}
        )
    else:
        merged = chain("and", value, condition)
    new = named.model_copy(update={"value": merged})
    result: Command = command.transform(lambda n: new if n is named else None)
    return result


def _merge_reason(command: Command) -> str:
    if _filter_parameter(command) is None:
        return f"added a `filter:` parameter to `{command.name}`"
    return f"merged into the `filter:` parameter of `{command.name}`"


# ---------------------------------------------------------------- auto placement
def _auto_position(flow: QueryFlow, options: _Options) -> tuple[int, str] | str:
    """Where the filter goes: after the filters that follow the source, and after the
    last stage that creates a field of the condition; or why there is no such place."""
    stages = flow.stages
    start = 1
    while start < len(stages) and stages[start].command.name in _FILTER_STAGES:
        start += 1
    position = start
    reason = (
        f"inserted after the filters that follow {_describe(stages[0])}"
        if start > 1
        else f"inserted after {_describe(stages[0])}"
    )
    defined: dict[str, int] = {}
    for name in options.fields:
        creators = [s.index for s in stages[1:] if _creates(s, name)]
        defined[name] = creators[-1] if creators else 0
        if creators and creators[-1] + 1 > position:
            position = creators[-1] + 1
            stage = stages[creators[-1]]
            reason = (
                f"inserted after `{stage.command.name}` (stage {stage.index + 1}), "
                f"which creates {_names([name])}"
            )
    for name in options.fields:
        for stage in stages[defined[name] + 1 : position]:
            if _blocks_field(stage, name):
                return (
                    f"{_names([name])} is needed after `{stages[position - 1].command.name}` "
                    f"(stage {position}), but `{stage.command.name}` (stage {stage.index + 1}) "
                    f"{_how_it_blocks(stage, name)} it before that"
                )
    return position, reason


def _aggregates(stage: StageFlow) -> bool:
    return stage.resets and stage.row_changing


def _passes_through(stage: StageFlow, name: str) -> bool:
    """The stage lists ``name`` as a bare field (``by: {name}``, ``fields name``): the
    field keeps its values."""
    if stage.bound is None:
        return False
    return any(
        isinstance(v.expr, FieldRef) and v.expr.name == name and v.assigned_name is None
        for v in stage.bound.values
    )


def _expands_in_place(stage: StageFlow, name: str) -> bool:
    # `expand a` replaces the array `a` by one element per record: a new meaning.
    if stage.command.name != "expand" or stage.bound is None:
        return False
    value = stage.bound.first("expression")
    return (
        value is not None
        and value.assigned_name is None
        and isinstance(value.expr, FieldRef)
        and value.expr.name == name
    )


def _creates(stage: StageFlow, name: str) -> bool:
    """Whether ``name`` gets (new) values in this stage that a filter must see. Fields an
    aggregation outputs are not: filtering them would filter aggregates. An ``append``
    adds the records of its subquery, which gets the filter itself."""
    if _expands_in_place(stage, name):
        return True
    if _aggregates(stage) or stage.command.name == "append":
        return False
    return stage.creates(name) and not _passes_through(stage, name)


def _blocks_field(stage: StageFlow, name: str) -> bool:
    if stage.drops(name):
        return True
    return _aggregates(stage) and stage.creates(name) and not _passes_through(stage, name)


def _how_it_blocks(stage: StageFlow, name: str) -> str:
    if any(old == name for old, _ in stage.renamed):
        return "renames"
    if _aggregates(stage):
        return "aggregates"
    return "drops"


__all__ = [
    "PLACEMENTS",
    "InjectResult",
    "Placement",
    "Status",
    "inject_filter",
    "inject_filter_text",
]
