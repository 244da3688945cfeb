"""Filter injection: add a condition to existing queries only where it restricts the tile.

A query is ``filtered`` only when it now returns what it returned before on the data
restricted to the condition (docs/rewriting.md, "The placement model"); where that cannot
be done it is ``skipped`` with a reason naming the stage, and a query whose rows come from
several pipelines (``append``) of which only some could be filtered is ``partially
filtered``. Where a filter may stand in one pipeline is :mod:`dqlbuild.rewriting.placement`;
this module applies it to a query and its execution blocks and makes the edit through the
query's editing methods, so ``to_source()`` prints the user's text with only the new stage
(or the changed ``filter:`` argument) spliced in.

A batch injects one condition into thousands of queries, so a pipeline is read only as
far as the decision needs: its filters in one pass that answers both "already filtered?"
and "a filter in the other selection form?" (:func:`_existing_filters`); its text
searched once for what then no stage holds (blocks, ``filter:`` parameters, the
condition's variables: :class:`~dqlbuild.analysis.fieldflow.QueryFlow`); and what a
stage does to the condition's fields told from its command and text where they suffice
(:meth:`~dqlbuild.analysis.fieldflow.StageFlow.fate_of`), so a stage's full rule, which
needs those of every stage before it, runs only where they do not.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from dqlbuild.analysis.fieldflow import QueryFlow, StageFlow, analyze
from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import Block, Command, Query
from dqlbuild.building.arguments import fragment
from dqlbuild.errors import DQLError, DQLSyntaxError, DQLTypeError, DQLValueError
from dqlbuild.printing.lossless import Kept, check_edit, to_source
from dqlbuild.rewriting import placement as model
from dqlbuild.rewriting.conditions import (
    FILTER_STAGES,
    Selection,
    as_condition,
    conjuncts,
    dql_text,
    fields_of,
    filter_conditions,
    merge_into_filter_parameter,
    merge_reason,
    other_selection_form,
    selection,
    variables_in,
)
from dqlbuild.rewriting.placement import names, stage_name
from dqlbuild.rewriting.subqueries import (
    blocked_after,
    match_table_reason,
    role,
)
from dqlbuild.rewriting.variables import comments_of
from dqlbuild.syntax.collector import collector_paused
from dqlbuild.syntax.parser import parse

Placement = Literal["auto", "source", "end"]
Status = Literal["filtered", "partially-filtered", "already-filtered", "skipped"]
PipelineStatus = Literal["filtered", "already-filtered", "skipped"]
PLACEMENTS: tuple[Placement, ...] = ("auto", "source", "end")
STATUSES: tuple[Status, ...] = ("filtered", "partially-filtered", "already-filtered", "skipped")

# Sources whose records are not the data a dashboard filter is about.
_NOT_FILTERABLE = {
    "data": "builds its own records",
    "describe": "lists the fields of a data object, not its records",
    "metrics": "lists metric metadata, not records",
    "fieldsSnapshot": "lists field statistics, not records",
}
# Start commands that read records of something named (the data object, a file, a type).
_RECORD_SOURCES = frozenset({"fetch", "load", "smartscapeNodes", "smartscapeEdges"})


@dataclass(frozen=True)
class InjectResult:
    """What happened to one query (or execution block) and the blocks inside it.

    ``status`` and ``reason`` are for the whole query with its execution blocks:
    ``filtered`` (it now returns its result on the restricted data), ``partially-filtered``
    (its records come from several pipelines, and only some could be filtered),
    ``already-filtered`` or ``skipped``; ``reason`` says where the condition went or why
    not. ``pipeline_status``/``pipeline_reason`` are for this pipeline alone.
    ``subqueries`` has one result per non-empty execution block, in source order.
    """

    query: Query
    status: Status
    reason: str
    subqueries: tuple[InjectResult, ...] = ()
    pipeline_status: PipelineStatus = "skipped"
    pipeline_reason: str = ""
    _text: str | None = field(default=None, repr=False, compare=False)
    # Whether the condition is about this pipeline's records, and whether they become
    # records of the enclosing query (main pipeline, `append`, outer `join`).
    _applies: bool = field(default=False, repr=False, compare=False)
    _feeds_rows: bool = field(default=True, repr=False, compare=False)

    @property
    def text(self) -> str:
        """The query as text: the user's text with only the edits spliced in when the
        query was parsed (see :func:`inject_filter_text`)."""
        return self._text if self._text is not None else self.query.to_source()

    @property
    def changed(self) -> bool:
        """Whether the condition was added here or in any execution block."""
        return any(r.pipeline_status == "filtered" for r in self.results())

    def results(self) -> Iterator[InjectResult]:
        """This result and those of all execution blocks, depth first."""
        yield self
        for sub in self.subqueries:
            yield from sub.results()


# The internal records are named tuples: quicker to make than frozen dataclasses, and a
# batch makes several per query.
class _Scope(NamedTuple):
    """Which records the condition is about."""

    data_object: str | None
    """Named by the caller: only ``fetch data_object`` pipelines carry the fields."""
    source: tuple[str, str | None] | None
    """Inferred from the query: the (command, what it reads) of its main pipeline."""

    def describe(self) -> str:
        if self.data_object is not None:
            return f"`fetch {self.data_object}`"
        if self.source is not None:
            command, source = self.source
            return f"`{command} {source}`" if source else f"`{command}`"
        return "no data object"


class _Options(NamedTuple):
    condition: Node
    fields: tuple[str, ...]
    variables: frozenset[str]
    placement: Placement
    into_subqueries: bool
    switch_selection: Selection | None
    """The selection (:func:`~dqlbuild.rewriting.conditions.selection`) of the
    condition in the other form (``f == $V`` for ``in(f, array($V))`` and back): a
    filter in that form is rewritten to the condition's form."""
    stage: Command
    """The new ``filter`` stage."""
    has_blocks: bool
    """The condition holds an execution block."""


@collector_paused  # acyclic results: see dqlbuild.syntax.collector
def inject_filter(
    query: Query | str,
    condition: object,
    *,
    placement: Placement = "auto",
    data_object: str | None = None,
    infer_data_object: bool = True,
    into_subqueries: bool = True,
) -> InjectResult:
    """Add ``condition`` as a filter to ``query`` where it restricts what the query shows.

    ``condition`` is an expression node, a builder proxy (anything with ``.node``) or DQL
    text. ``placement``: ``"auto"`` (the model of docs/rewriting.md), ``"source"`` (right
    after the source command) or ``"end"`` (after the last stage, when the filter can
    move there). ``data_object`` names the data object whose records carry the
    condition's fields: only ``fetch data_object`` pipelines are filtered, on the
    records' own fields. Without it the data object is the one the query's main pipeline
    reads (``infer_data_object``); with ``infer_data_object=False`` only pipelines that
    show they carry the fields (they read them) are filtered. A ``timeseries`` is
    filtered when the fields are among its dimensions (``by:`` or ``filter:``).
    A pipeline that already filters on the condition, or on its variable, is left alone
    (``already-filtered``), so injecting twice changes nothing.
    """
    if placement not in PLACEMENTS:
        raise DQLValueError(f"placement must be one of {', '.join(PLACEMENTS)}, not {placement!r}")
    if isinstance(query, str):
        query = parse(query)
    if not isinstance(query, Query):
        raise DQLTypeError(f"expected a Query or DQL text, not {type(query).__name__}")
    if not query.commands:
        raise DQLValueError("the query has no stages")
    if data_object is not None and (not isinstance(data_object, str) or not data_object):
        raise DQLValueError("data_object is the name of a data object, such as 'spans'")
    node, fields, variables, switch, stage, has_blocks = _condition_facts(condition)
    options = _Options(
        condition=node,
        fields=fields,
        variables=variables,
        placement=placement,
        into_subqueries=into_subqueries,
        switch_selection=switch,
        stage=stage,
        has_blocks=has_blocks,
    )
    flow = analyze(query)
    scope = _Scope(data_object, _main_source(flow) if infer_data_object else None)
    return _inject(query, flow, options, scope, feeds_rows=True)


_Facts = tuple[tuple[str, ...], frozenset[str], Selection | None]


def _condition_facts(condition: object) -> tuple[Node, *_Facts, Command, bool]:
    """The condition's node and what injection derives from it. A batch injects one
    condition into many queries, so the derived facts (names, and a node used only for
    comparisons: equal for equal trees, whatever their layout) are remembered, and so
    is the new stage: nodes are immutable, so the results share it, built (validated)
    once per condition node."""
    node = _text_condition(condition) if isinstance(condition, str) else as_condition(condition)
    known = _KNOWN.get(id(node))
    if known is None or known[0] is not node:
        try:
            facts = _cached_facts(node)
        except TypeError:  # a hand-made node holding something unhashable
            facts = _facts(node)
        if len(_KNOWN) >= 16:
            _KNOWN.clear()
        has_blocks = any(isinstance(n, Block) for n in node.walk())
        stage = Command(name="filter", args=(node,))
        known = _KNOWN[id(node)] = (node, *facts, stage, has_blocks)
    return known


def _facts(node: Node) -> _Facts:
    other = other_selection_form(node)
    return (
        tuple(fields_of(node)),
        frozenset(variables_in(node)),
        selection(other) if other is not None else None,
    )


@functools.lru_cache(maxsize=16)
def _text_condition(text: str) -> Node:
    """The condition parsed from ``text``, without the positions in that text: they say
    nothing about the queries it goes into (and a node without one is known at once not
    to be a node of a query's own text, which lossless printing asks of every node)."""
    return as_condition(fragment(text))


_cached_facts = functools.lru_cache(maxsize=16)(_facts)
# By the identity of the condition node (held here, so its id is not reused meanwhile):
# no hashing of the tree for a batch that passes the same node (or text) every time.
_KNOWN: dict[int, tuple[Node, *_Facts, Command, bool]] = {}


@collector_paused  # acyclic results: see dqlbuild.syntax.collector
def inject_filter_text(
    text: str,
    condition: object,
    *,
    placement: Placement = "auto",
    data_object: str | None = None,
    infer_data_object: bool = True,
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
        infer_data_object=infer_data_object,
        into_subqueries=into_subqueries,
    )
    new_text = to_source(result.query)
    # The result is new and nobody else holds it yet: its text is filled in place.
    if new_text == text:
        object.__setattr__(result, "_text", text)
        return result
    try:
        # Parses again only the stages around the edit (the rest is the original text).
        same, kept = check_edit(result.query, new_text)
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
    if not _keeps_comments(text, new_text, kept):
        raise DQLError(
            "the edited query text lost a comment of the original",
            hint="this is a dqlbuild bug; please report the query",
        )
    object.__setattr__(result, "_text", new_text)
    return result


def _keeps_comments(old: str, new: str, kept: Kept | None) -> bool:
    """Every comment of ``old`` is still in ``new``, in order (tree equality ignores
    comments, so this is checked on the text, with the parser's own comment rules).

    ``kept``: the lengths of ``old`` that ``new`` begins and ends with, cut at stage
    boundaries (see :func:`~dqlbuild.printing.lossless.check_edit`). No string or
    comment spans such a cut, so the comments of each text are those of the part before
    it, of the edit and of the part after it, and the parts before and after are the
    same in both: the comments of the old edited part kept in order in the new one are
    enough (else the whole texts are compared, which may still find them)."""
    if "//" not in old and "/*" not in old:  # no comment to keep
        return True
    if kept is not None:
        head, tail = kept
        was = old[head : len(old) - tail]
        if ("//" not in was and "/*" not in was) or _in_order(
            comments_of(was), comments_of(new[head : len(new) - tail])
        ):
            return True
    return _in_order(comments_of(old), comments_of(new))


def _in_order(wanted: list[str], found: list[str]) -> bool:
    remaining = iter(found)
    return all(comment in remaining for comment in wanted)


# ---------------------------------------------------------------- one query
def _main_source(flow: QueryFlow) -> tuple[str, str | None] | None:
    first = flow.stages[0]
    if first.is_start and first.command.name in _RECORD_SOURCES:
        return first.command.name, first.source
    return None


class _Pipeline(NamedTuple):
    """The decision for one pipeline, before its blocks."""

    status: PipelineStatus
    reason: str
    query: Query
    applies: bool = False
    position: int | None = None
    """Where the new filter acts: the index of the stage it precedes (0 for a merge into
    the source's own ``filter:``)."""
    inserted: bool = False
    """A new stage was inserted at ``position`` (later stages moved by one)."""
    rewritten: bool = False
    """An existing filter was rewritten to the condition's selection form."""


def _inject(
    query: Query, flow: QueryFlow, options: _Options, scope: _Scope, *, feeds_rows: bool
) -> InjectResult:
    decision = _decide(query, flow, options, scope)
    edited, subresults = _inject_subqueries(decision, flow, options, scope)
    status, reason = _overall(decision, subresults)
    return InjectResult(
        edited,
        status,
        reason,
        subresults,
        decision.status,
        decision.reason,
        _applies=decision.applies,
        _feeds_rows=feeds_rows,
    )


@dataclass(frozen=True)
class _Part:
    """A pipeline whose records become records of the query, and the condition is about."""

    label: str  # "" for the query's own pipeline, else the subquery's number ("1.2")
    status: PipelineStatus
    reason: str

    @property
    def said(self) -> str:
        return f"subquery {self.label}: {self.reason}" if self.label else self.reason

    @property
    def name(self) -> str:
        return f"subquery {self.label}" if self.label else "the main pipeline"


def _row_parts(subs: Sequence[InjectResult], prefix: str) -> Iterator[_Part]:
    for number, sub in enumerate(subs, 1):
        if not sub._feeds_rows:
            continue
        label = f"{prefix}{number}"
        if sub._applies:
            yield _Part(label, sub.pipeline_status, sub.pipeline_reason)
        yield from _row_parts(sub.subqueries, f"{label}.")


def _overall(decision: _Pipeline, subs: Sequence[InjectResult]) -> tuple[Status, str]:
    """The status of a query from its pipeline and its blocks: every pipeline whose
    records become the query's records and that the condition is about must be filtered
    for the query to be; filtered match tables only add to the reason."""
    if not subs:  # the pipeline alone (what the rules below come to without blocks)
        return (decision.status if decision.applies else "skipped"), decision.reason
    own = [_Part("", decision.status, decision.reason)] if decision.applies else []
    parts = own + list(_row_parts(subs, ""))
    labels = {part.label for part in parts}
    filtered = [p for p in parts if p.status == "filtered"]
    skipped = [p for p in parts if p.status == "skipped"]
    tables = [
        _Part(label, sub.pipeline_status, sub.pipeline_reason)
        for label, sub in _numbered(subs, "")
        if sub.pipeline_status == "filtered" and label not in labels
    ]
    if filtered or tables:
        first, *rest = filtered + tables
        more = f"; and in {_count(len(rest), 'subquery', 'subqueries')}" if rest else ""
        if filtered and skipped:
            gap = skipped[0]
            return "partially-filtered", f"{first.said}{more}; but not {gap.name}: {gap.reason}"
        return "filtered", first.said + more
    already = [p for p in parts if p.status == "already-filtered"]
    if already:
        return "already-filtered", already[0].said
    if skipped and skipped[0].label:
        return "skipped", f"{decision.reason}; {skipped[0].said}"
    return "skipped", decision.reason


def _numbered(results: Sequence[InjectResult], prefix: str) -> Iterator[tuple[str, InjectResult]]:
    for number, sub in enumerate(results, 1):
        label = f"{prefix}{number}"
        yield label, sub
        yield from _numbered(sub.subqueries, f"{label}.")


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


# ---------------------------------------------------------------- one pipeline
def _decide(query: Query, flow: QueryFlow, options: _Options, scope: _Scope) -> _Pipeline:
    stages = flow.stages
    source = stages[0]
    name = source.command.name
    if not source.is_start:
        return _Pipeline(
            "skipped", f"the query does not begin with a source command (`{name}`)", query
        )
    switch, already = _existing_filters(flow, options)
    if switch is not None:
        return _switched(query, *switch, options)
    if (
        scope.data_object is not None
        and name != "timeseries"
        and (name != "fetch" or source.source != scope.data_object)
    ):
        return _Pipeline(
            "skipped", f"it reads {_describe(source)}, not `fetch {scope.data_object}`", query
        )
    if already is not None:
        return _Pipeline("already-filtered", already, query, applies=True)
    if name in _NOT_FILTERABLE:
        return _Pipeline("skipped", f"`{name}` {_NOT_FILTERABLE[name]}", query)
    if name == "timeseries":
        return _decide_timeseries(query, flow, options)
    # Named data object: the records carry the fields, and the condition is about
    # their own values. Inferred one (the query's main source): the condition is about
    # the fields as the query makes them. Neither: only pipelines that read the fields
    # show that their records carry them.
    if scope.data_object is not None:
        return _place(query, flow, options, own_field=True)
    if scope.source is not None:
        if (name, source.source) != scope.source:
            return _Pipeline(
                "skipped",
                f"it reads {_describe(source)}; the condition is about {scope.describe()}, "
                "what the query reads (name the data object to choose another)",
                query,
            )
        return _place(query, flow, options, own_field=False)
    if not all(model.carries(flow, f) for f in options.fields):
        return _Pipeline(
            "skipped",
            f"nothing in it shows that the records of {_describe(source)} carry "
            f"{names(options.fields)}, and no data object was named",
            query,
        )
    return _place(query, flow, options, own_field=True)


def _describe(source: StageFlow) -> str:
    name = source.command.name
    return f"`{name} {source.source}`" if source.source else f"`{name}`"


def _place(query: Query, flow: QueryFlow, options: _Options, own_field: bool) -> _Pipeline:
    stages = flow.stages
    fields = options.fields
    # `source` filters the records' own fields, before any stage: no origin to find.
    origins = dict.fromkeys(fields, 0)
    for name in fields if options.placement != "source" else ():
        found = model.origin(flow, name, own_field=own_field)
        if found.reason:
            return _Pipeline("skipped", found.reason, query, applies=True)
        origins[name] = found.index
    lead = 1
    while lead < len(stages) and stages[lead].command.name in FILTER_STAGES:
        lead += 1
    if options.placement == "source":
        position, reason = 1, f"inserted after {_describe(stages[0])}"
    elif options.placement == "end":
        position = len(stages)
        reason = f"appended after `{stages[-1].command.name}` (the end)"
    else:
        last = max(origins.values(), default=0)
        position = max(lead, last + 1)
        if last >= lead:
            stage = stages[last]
            owned = [n for n in fields if origins[n] == last]
            reason = (
                f"inserted after {stage_name(stage)}, which gives {names(owned)} "
                f"{'its' if len(owned) == 1 else 'their'} values"
            )
        elif lead > 1:
            reason = f"inserted after the filters that follow {_describe(stages[0])}"
        else:
            reason = f"inserted after {_describe(stages[0])}"
    if options.placement != "source":
        blocked = _blocked(flow, fields, origins, position)
        if blocked is not None:
            return _Pipeline("skipped", blocked, query, applies=True)
    missing = [f for f in fields if not flow.may_contain_before(position, f)]
    if missing:
        previous = stages[position - 1]
        verb = "does" if len(missing) == 1 else "do"
        return _Pipeline(
            "skipped",
            f"{names(missing)} {verb} not exist after {stage_name(previous)}",
            query,
            applies=True,
        )
    return _Pipeline(
        "filtered", reason, query.insert(position, options.stage), True, position, True
    )


def _blocked(
    flow: QueryFlow, fields: Sequence[str], origins: dict[str, int], position: int
) -> str | None:
    """Why a filter at ``position`` would not restrict the pipeline's records: a stage
    before it that does not commute with it; None when every one does."""
    for stage in flow.stages[1:position]:
        if stage.known and stage.command.name in FILTER_STAGES:
            continue  # drops records one by one, changes no field
        live = [f for f in fields if origins[f] < stage.index]
        why = model.changes(stage, live)
        if why is None and not (len(live) == len(fields) and model.groups_by(stage, fields)):
            why = model.not_row_wise(stage)
        if why is not None:
            later = [f for f in fields if origins[f] > stage.index]
            if later:
                origin = flow.stages[origins[later[0]]]
                owned = [f for f in later if origins[f] == origin.index]
                its = "its" if len(owned) == 1 else "their"
                return (
                    f"{stage_name(stage)} {why} before {stage_name(origin)} gives "
                    f"{names(owned)} {its} values, so a filter there would not restrict "
                    "the records the query reads"
                )
            return (
                f"{stage_name(stage)} {why}, so a filter after it would not restrict the "
                "records the query reads"
            )
    return None


# ---------------------------------------------------------------- timeseries
def _decide_timeseries(query: Query, flow: QueryFlow, options: _Options) -> _Pipeline:
    source = flow.stages[0]
    unknown = [f for f in options.fields if not model.reads(source, f)]
    if unknown:
        metric = f" `{source.source}`" if source.source else ""
        return _Pipeline(
            "skipped",
            f"the dimensions of the metric{metric} are unknown: {names(unknown)} "
            f"{'is' if len(unknown) == 1 else 'are'} not among the `by:` keys or in the "
            "`filter:` of `timeseries`",
            query,
        )
    if options.placement != "end":
        new = query.replace(0, merge_into_filter_parameter(query.commands[0], options.condition))
        # Position 0: the condition acts within the source stage itself.
        return _Pipeline("filtered", merge_reason(source.command), new, True, 0)
    # A pipe filter after `timeseries` sees only its `by:` keys (and the aggregates).
    keys = [f for f in options.fields if model.groups_by(source, [f])]
    origins = dict.fromkeys(options.fields, 0)
    blocked = _blocked(flow, options.fields, origins, len(flow.stages))
    if len(keys) < len(options.fields) or blocked is not None:
        why = blocked or (
            f"{names([f for f in options.fields if f not in keys])} is not a `by:` key of "
            "`timeseries`: after it, only the keys are left"
        )
        return _Pipeline("skipped", why, query, applies=True)
    reason = f"appended after `{flow.stages[-1].command.name}` (the end)"
    position = len(flow.stages)
    return _Pipeline(
        "filtered", reason, query.insert(position, options.stage), True, position, True
    )


# ---------------------------------------------------------------- already filtered?
def _existing_filters(
    flow: QueryFlow, options: _Options
) -> tuple[tuple[StageFlow, Node] | None, str | None]:
    """What the pipeline's own filters say, in one pass over its conditions (each
    split into its conjuncts once): the first part in the condition's other selection
    form, unless a filter before it (or the same one) holds the condition itself
    (:func:`_switched`); and why the pipeline is already filtered, or None.

    One search of the pipeline's text tells whether any stage may have a ``filter:``
    parameter (else only filter stages are read), another whether any may use a
    variable (written with ``$``, also in a string, else with an escape), and one per
    field whether any may name the condition's fields (else only the variables count)."""
    condition, wanted = options.condition, options.switch_selection
    variables = options.variables
    # Without an escape, a use of a variable shows its name (and, in its stage, a `$`).
    dollar = bool(variables) and not flow.written_without("\\", *variables)
    # The condition, and its other form, name each of its fields (a selection's
    # target holds them all): a pipeline that names one of them nowhere holds neither.
    if not dollar and not all(map(flow.mentions, options.fields)):
        return None, None
    named = flow.may_name("filter")
    kind = type(condition)
    already: str | None = None
    searching = wanted is not None  # for a filter in the other selection form
    for stage in flow.stages:
        if not named and stage.command.name not in FILTER_STAGES:
            continue
        for found in filter_conditions(stage, named):
            parts = list(conjuncts(found))
            if any(type(part) is kind and part == condition for part in parts):
                return None, already or f"{stage_name(stage)} already filters on the condition"
            if searching:
                for part in parts:
                    if selection(part) == wanted:
                        return (stage, part), None  # the rewrite comes first
            if already is None and dollar and not stage.written_without("$", "\\"):
                used = variables & frozenset(variables_in(found))
                if used:
                    listed = ", ".join(f"${v}" for v in sorted(used))
                    already = f"{stage_name(stage)} already filters on {listed}"
                    if not searching:
                        return None, already
    return None, already


def _switched(query: Query, stage: StageFlow, part: Node, options: _Options) -> _Pipeline:
    """A filter on the condition's field and variable in the other selection form
    (``f == $V`` where the variable is now multi-select, or back) is rewritten to the
    condition's form: the old form breaks, or stops matching, with the new variable."""
    command = query.commands[stage.index]
    new = _replace_node(command, part, options.condition)
    return _Pipeline(
        "filtered",
        f"{stage_name(stage)} filtered on `{dql_text(part)}`; rewritten to "
        f"`{dql_text(options.condition)}`, the form of the variable's selection",
        query.replace(stage.index, new),
        applies=True,
        rewritten=True,
    )


# ---------------------------------------------------------------- execution blocks
def _inject_subqueries(
    decision: _Pipeline, flow: QueryFlow, options: _Options, scope: _Scope
) -> tuple[Query, tuple[InjectResult, ...]]:
    query = decision.query
    if not options.into_subqueries or flow.written_without("["):  # a block has a `[`
        return query, ()
    results: list[InjectResult] = []
    # Blocks inside an earlier copy of the condition are the condition's own subquery:
    # filtering them would make the copy differ from the condition (and injection repeat).
    own = options.condition if options.has_blocks else None
    for stage in flow.stages:
        inside = _blocks_inside(stage.command, own) if own is not None else set()
        changed: dict[int, Block] = {}
        for sub_flow in stage.subqueries:
            block = sub_flow.block
            assert block is not None  # the flow of a block records it
            if not block.commands or id(block) in inside:
                continue
            result = _inject_block(block, sub_flow, stage, flow, decision, options, scope)
            results.append(result)
            if _any_identity_change(result.query.commands, block.commands):
                changed[id(block)] = block.model_copy(update={"commands": result.query.commands})
        if changed:
            index = stage.index
            if decision.inserted and decision.position is not None and index >= decision.position:
                index += 1
            current = query.commands[index]
            query = query.replace(index, _replace_blocks(current, changed))
    return query, tuple(results)


def _inject_block(
    block: Block,
    flow: QueryFlow,
    stage: StageFlow,
    parent_flow: QueryFlow,
    parent: _Pipeline,
    options: _Options,
    scope: _Scope,
) -> InjectResult:
    sub = flow.query  # the block's stages
    kind = role(stage)
    if kind == "rows":
        return _inject(sub, flow, options, scope, feeds_rows=True)
    feeds = kind == "rows-and-match"
    decision = _decide(sub, flow, options, scope)
    if decision.status == "filtered" and not decision.rewritten:
        filtered_at = parent.position if parent.status == "filtered" else None
        why = match_table_reason(block, flow, stage, parent_flow, filtered_at, options.fields)
        if why is None:
            later = blocked_after(flow, options.fields, decision.position or 1)
            if later is not None:
                why = f"{later} after the filter's place, so filtering it would change the matches"
        if why is not None:
            return InjectResult(
                sub,
                "skipped",
                why,
                (),
                "skipped",
                why,
                _applies=decision.applies,
                _feeds_rows=feeds,
            )
    # Blocks inside a match table are part of it: left as they are.
    status, reason = _overall(decision, ())
    return InjectResult(
        decision.query,
        status,
        reason,
        (),
        decision.status,
        decision.reason,
        _applies=decision.applies,
        _feeds_rows=feeds,
    )


def _replace_node(command: Command, old: Node, new: Node) -> Command:
    result: Command = command.transform(lambda n: new if n is old else None)
    return result


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


__all__ = [
    "PLACEMENTS",
    "STATUSES",
    "InjectResult",
    "PipelineStatus",
    "Placement",
    "Status",
    "conjuncts",
    "inject_filter",
    "inject_filter_text",
]
