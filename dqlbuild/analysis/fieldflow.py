"""Field flow: which fields exist before and after every stage of a query.

DQL is schema-on-read, so a field set is a set of known names plus an ``open`` flag
(after ``fetch`` any field may exist) and wildcard ``patterns`` for families of names
whose members are unknown (``lookup.*`` after a lookup of an open subquery). The rules
per command follow DQL_SPEC §3.5; names of unassigned expressions are their canonical
text (§2.14). Names a query lists explicitly (``fieldsKeep a``, ``fields a``) count as
present: they are the fields the rest of the query can refer to.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from dqlbuild.analysis.binding import (
    BoundArguments,
    BoundValue,
    bind_arguments,
    leading_value,
    output_name,
)
from dqlbuild.analysis.dpl import dpl_exports
from dqlbuild.ast.base import Node, child_nodes, get_private
from dqlbuild.ast.nodes import Assign, Block, Brace, Call, Command, FieldRef, Named, Query, String
from dqlbuild.catalog import Command as CatalogCommand
from dqlbuild.catalog import Parameter, get_catalog
from dqlbuild.errors import DQLTypeError, DQLValueError
from dqlbuild.syntax.collector import collector_paused
from dqlbuild.syntax.lexical import KEYWORDS, NAME_RE
from dqlbuild.syntax.source import SourceContext


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


class _Timeline:
    """The names of a run of field sets each derived from the one before (the stages of
    a pipeline), shared by all of them: per name, the versions at which it entered or
    left. A stage costs what it changes, not a copy of every name before it."""

    __slots__ = ("latest", "toggles")

    def __init__(self, names: Iterable[str]) -> None:
        self.toggles: dict[str, list[int]] = {name: [0] for name in names}
        self.latest = 0

    def has(self, name: str, version: int) -> bool:
        toggles = self.toggles.get(name)
        return toggles is not None and bisect_right(toggles, version) % 2 == 1

    def derive(self, version: int, added: Iterable[str], removed: Iterable[str]) -> int:
        new = self.latest = self.latest + 1
        for name in removed:
            if self.has(name, version):
                self.toggles[name].append(new)
        for name in added:
            if not self.has(name, new):
                self.toggles.setdefault(name, []).append(new)
        return new

    def names(self, version: int) -> frozenset[str]:
        return frozenset(n for n, t in self.toggles.items() if bisect_right(t, version) % 2)


class FieldSet:
    """Fields known to exist at one point of a query (immutable)."""

    __slots__ = ("_names", "_timeline", "_version", "open", "patterns")

    # Either the names themselves, or a version of a timeline (materialised on demand).
    _names: frozenset[str] | None
    _timeline: _Timeline | None
    _version: int
    open: bool
    """Schema-on-read: any other field may exist too."""
    patterns: frozenset[str]
    """Wildcard patterns (``*``) of further names that may exist."""

    def __init__(
        self,
        names: Iterable[str] = frozenset(),
        open: bool = False,
        patterns: Iterable[str] = frozenset(),
    ) -> None:
        _set(self, _names=frozenset(names), _timeline=None, _version=0)
        _set(self, open=open, patterns=frozenset(patterns))

    @classmethod
    def _at(
        cls, timeline: _Timeline, version: int, open: bool, patterns: frozenset[str]
    ) -> FieldSet:
        new = cls.__new__(cls)
        _set(new, _names=None, _timeline=timeline, _version=version)
        _set(new, open=open, patterns=patterns)
        return new

    @property
    def names(self) -> frozenset[str]:
        """The names known to exist."""
        if self._names is None:
            assert self._timeline is not None
            _set(self, _names=self._timeline.names(self._version))
        assert self._names is not None
        return self._names

    def _has(self, name: str) -> bool:
        if self._names is not None:
            return name in self._names
        assert self._timeline is not None
        return self._timeline.has(name, self._version)

    def may_contain(self, name: str) -> bool:
        return self.open or self._has(name) or _matches(name, self.patterns)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.may_contain(name)

    def with_names(self, added: Iterable[str] = (), removed: Iterable[str] = ()) -> FieldSet:
        return self._derived(added, removed, self.open, self.patterns)

    def union(self, other: FieldSet) -> FieldSet:
        return self._derived(
            other.names, (), self.open or other.open, self.patterns | other.patterns
        )

    def _derived(
        self, added: Iterable[str], removed: Iterable[str], open: bool, patterns: frozenset[str]
    ) -> FieldSet:
        timeline, version = self._timeline, self._version
        if timeline is None or version != timeline.latest:
            # The first derivation from this set, or a second one from the same set (a
            # branch): start a timeline of its own.
            timeline, version = _Timeline(self.names), 0
            if self._timeline is None:
                _set(self, _timeline=timeline, _version=0)
        return FieldSet._at(timeline, timeline.derive(version, added, removed), open, patterns)

    def _with_patterns(self, patterns: frozenset[str]) -> FieldSet:
        return self._derived((), (), self.open, patterns)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a FieldSet is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSet):
            return NotImplemented
        return (self.names, self.open, self.patterns) == (other.names, other.open, other.patterns)

    def __hash__(self) -> int:
        return hash((self.names, self.open, self.patterns))

    def __repr__(self) -> str:
        return f"FieldSet(names={self.names!r}, open={self.open!r}, patterns={self.patterns!r})"


def _set(field_set: FieldSet, **values: object) -> None:
    for name, value in values.items():
        object.__setattr__(field_set, name, value)


EMPTY = FieldSet()
ANY = FieldSet(open=True)

Fate = Literal["passes", "dropped"]


class _StageSlots:
    """The slots of :class:`StageFlow`, without its guard against assignment: a stage
    flow is filled in as this class (plain assignments, several times quicker than
    ``object.__setattr__``; an analysis makes one per stage), then made a StageFlow."""

    __slots__ = (
        "_block_flows", "_bound", "_effect", "_input", "_named", "_previous", "_rule",
        "_source", "_spec", "_text", "command", "index", "is_start", "known",
        "row_changing",
    )  # fmt: skip

    index: int
    command: Command
    is_start: bool
    known: bool
    row_changing: bool
    _rule: Callable[[_Context], _Effect] | None
    _spec: CatalogCommand | None
    _previous: StageFlow | None
    _input: FieldSet
    _text: str | None
    _effect: _Effect | None
    _named: tuple[Named, ...] | None
    _block_flows: dict[int, QueryFlow] | None
    _bound: BoundArguments | None
    _source: tuple[str | None] | None  # `source`, told before the rule ran


class StageFlow(_StageSlots):
    """The effect of one command on the fields.

    Worked out on first use, part by part (the record's parts are read-only): the
    ``name: value`` arguments and execution blocks by one walk of the arguments, the rest
    by the command's rule, which binds the arguments and needs the fields before the
    stage (so those of the stages before it). A filter injection asks about one or two
    fields at a few places, and most stages answer that from their command and text
    alone (:meth:`fate_of`)."""

    __slots__ = ()

    index: int
    command: Command
    is_start: bool
    known: bool
    """The command is in the catalog (unknown commands make the field set open)."""
    row_changing: bool
    """The stage adds, drops or merges records, so a filter moved across it would
    change the result (``summarize``, ``limit``, ``dedup``, ``join``, ``expand`` ...)."""
    # The private parts are declared on _StageSlots; the public ones again here, for
    # their documentation.

    def __init__(
        self,
        index: int,
        command: Command,
        previous: StageFlow | None,
        input: FieldSet,
        text: str | None,
    ) -> None:
        """``previous``: the stage before (None for the first, whose fields before are
        ``input``); ``text``: the source text ``command`` was parsed from, when it is a
        parsed node."""
        kind = _KINDS.get(command.name)
        if kind is None:
            kind = _kind(command.name)
        cls = type(self)
        object.__setattr__(self, "__class__", _StageSlots)
        fill: _StageSlots = self
        fill.index = index
        fill.command = command
        fill.is_start, fill.known, fill.row_changing, fill._rule, fill._spec = kind
        fill._previous = previous
        fill._input = input
        fill._text = text
        fill._effect = fill._named = fill._block_flows = fill._bound = fill._source = None
        fill.__class__ = cls

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a StageFlow is immutable")

    def _parts(self) -> tuple[object, ...]:
        return (
            self.index, self.command, self.source, self.fields_before, self.fields_after,
            self.created, self.removed, self.renamed, self.resets, self.row_changing,
            self.subqueries, self.removed_patterns, self.created_patterns, self.is_start,
            self.known, self.named,
        )  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StageFlow):
            return NotImplemented
        return self._parts() == other._parts()

    def __hash__(self) -> int:
        return hash(self._parts())

    def __repr__(self) -> str:
        return f"StageFlow(index={self.index!r}, command={self.command!r}, ...)"

    # ------------------------------------------------------------ walked arguments
    def _scanned(self) -> tuple[tuple[Named, ...], dict[int, QueryFlow]]:
        if self._named is None or self._block_flows is None:
            # Each block is written with `[`, each `name: value` argument with `:` (a
            # node's span covers its tokens): without either, the walk finds nothing.
            if self.written_without(":", "["):
                found: list[Block] = []
                named: list[Named] = []
            else:
                found, named = _scan(self.command.args)
            # The blocks come from a valid command, so their stages make a valid query.
            text = self._text
            flows = {id(b): _analyze(_make_query(commands=b.commands), b, text) for b in found}
            object.__setattr__(self, "_named", tuple(named))
            object.__setattr__(self, "_block_flows", flows)
        assert self._named is not None and self._block_flows is not None
        return self._named, self._block_flows

    @property
    def named(self) -> tuple[Named, ...]:
        """Every ``name: value`` argument of the stage, also inside brace groups and
        function calls (``countIf(..., filter: ...)``) but not inside execution blocks,
        in source order."""
        return self._scanned()[0]

    @property
    def subqueries(self) -> tuple[QueryFlow, ...]:
        """Flows of the execution blocks in this stage's arguments, in source order."""
        if self._block_flows is None and self.written_without("["):  # a block has a `[`
            return ()
        return tuple(self._scanned()[1].values())

    def _may_write(self, parameter: str) -> bool:
        """Whether the stage's text may show a ``parameter:`` argument (True when not
        known): False proves that binding gives ``parameter`` no ``name:`` argument."""
        span = self._span()
        return span is None or _written_parameter(*span, parameter)

    def may_name(self, parameter: str) -> bool:
        """Whether the stage may have a ``parameter:`` argument among :attr:`named`
        (any case): False when it has none, or its text shows none (the name is
        written as it reads, and only blanks stand before its colon)."""
        if self._named is None and not self._may_write(parameter):
            return False
        lowered = parameter.lower()
        return any(named.name.lower() == lowered for named in self.named)

    @property
    def bound(self) -> BoundArguments | None:
        """The command's arguments bound to its parameters (bound on first use: many
        stages, ``filter`` or ``sort``, never need it)."""
        if self._bound is None:
            object.__setattr__(self, "_bound", bind_arguments(self.command))
        return self._bound

    # ------------------------------------------------------------ the rule's effect
    @property
    def fields_before(self) -> FieldSet:
        previous = self._previous
        if previous is None:
            return self._input
        if previous._effect is None:
            # Every stage before that is not worked out yet, first to last: each one
            # then finds the fields before it ready (no recursion along the pipeline).
            pending = [previous]
            while (earlier := pending[-1]._previous) is not None and earlier._effect is None:
                pending.append(earlier)
            for stage in reversed(pending):
                stage._evaluated()
        return previous._evaluated().after

    def _evaluated(self) -> _Effect:
        effect = self._effect
        if effect is None:
            rule = self._rule
            if rule is None:
                # Unknown effect: keep what we knew, but anything may exist now.
                effect = _Effect(self.fields_before.union(ANY))
            else:
                effect = rule(_Context(self))
                if not self.is_start:
                    effect.source = None
            object.__setattr__(self, "_effect", effect)
        return effect

    @property
    def source(self) -> str | None:
        """For a start command: the data object (``logs``, ``dt.entity.host``), the
        first metric key of ``timeseries``, the node/edge type of smartscape commands,
        the file of ``load``; ``None`` otherwise (and for ``data`` and ``metrics``)."""
        effect = self._effect
        if effect is not None:
            return effect.source
        if not self.is_start:
            return None
        told = self._source
        if told is None:
            find = _SOURCES.get(self._rule) if self._rule is not None else None
            if find is None:
                return self._evaluated().source
            told = (find(_Context(self)),)
            object.__setattr__(self, "_source", told)
        return told[0]

    @property
    def fields_after(self) -> FieldSet:
        return self._evaluated().after

    @property
    def created(self) -> frozenset[str]:
        """Fields this stage creates or overwrites (``fieldsAdd x = ...``, parse
        exports, summarize outputs, ``right.*`` of a join ...)."""
        return self._evaluated().created

    @property
    def removed(self) -> frozenset[str]:
        """Fields it drops explicitly (``fieldsRemove``, the prefix cleanup of
        ``lookup``)."""
        return self._evaluated().removed

    @property
    def renamed(self) -> tuple[tuple[str, str], ...]:
        """``(old, new)`` pairs."""
        return self._evaluated().renamed

    @property
    def resets(self) -> bool:
        """Only the fields named in ``fields_after`` survive (``summarize``, ``fields``,
        ``fieldsKeep``, ``traverse``, the timeseries commands ...)."""
        return self._evaluated().resets

    @property
    def removed_patterns(self) -> tuple[str, ...]:
        """Wildcard patterns of dropped fields (``fieldsRemove "tmp.*"``)."""
        return self._evaluated().removed_patterns

    @property
    def created_patterns(self) -> tuple[str, ...]:
        """Wildcard patterns of fields that may be created (``lookup.*``, ``r.*``)."""
        return self._evaluated().created_patterns

    def drops(self, name: str) -> bool:
        """Whether a field ``name`` that existed before this stage is gone (or replaced
        by another field of the same name) after it."""
        effect = self._evaluated()
        if name in effect.removed or _matches(name, effect.removed_patterns):
            return True
        if any(old == name for old, _new in effect.renamed):
            return True
        if effect.resets:
            after = effect.after
            return not after._has(name) and not _matches(name, after.patterns)
        return False

    def creates(self, name: str) -> bool:
        """Whether this stage creates or overwrites ``name``."""
        effect = self._evaluated()
        if name in effect.created or _matches(name, effect.created_patterns):
            return True
        return any(new == name for _old, new in effect.renamed)

    # ------------------------------------------------------------ one field, cheaply
    def written_without(self, *fragments: str) -> bool:
        """Whether the stage's source text is known and holds none of ``fragments``."""
        span = self._span()
        return span is not None and _holds_none(*span, fragments)

    def mentions(self, name: str) -> bool:
        """Whether the stage's text may name the field ``name`` anywhere: False only
        when that text is known and proves it does not.

        Proof for a plain name (``a.b_1``, no keyword) and a stage text without a
        backslash: any name, output name, alias, string or pattern in the stage that
        equals ``name`` shows it in the text as written, as a whole token or string (so
        not right after a letter, ``_`` or ``.``, nor right before a letter, digit or
        ``_``): names and strings are written as they read when there is no escape. An
        unassigned expression is named after its canonical text, which for anything but
        a field reference or a ``true``/``false``/``null`` literal (keywords, excluded)
        holds punctuation, a digit first, or a space, so it is never a plain name."""
        span = self._span()
        return span is None or _may_mention(*span, name)

    def _span(self) -> tuple[str, int, int] | None:
        """The stage's source text and where the stage stands in it, when known."""
        text, span = self._text, self.command.span
        return None if text is None or span is None else (text, span.start, span.end)

    def _brings(self, name: str, default: str | None) -> bool:
        """Whether ``name`` may be among the fields a joining stage brings in, or
        ``fieldsFlatten`` adds, by pattern: their names all start with the stage's
        prefix (``prefix:``, else ``default``, else the flattened record's name and a
        dot), which is then known. True when the prefix is not known, or is itself a
        pattern."""
        context = _Context(self)
        prefix = context.text("prefix") if self._may_write("prefix") else None
        if prefix is None:
            if default is None:
                record = context.text("expression")
                if record is None:
                    return True
                default = record + "."
            prefix = default
        return name.startswith(prefix) or any(c in prefix for c in "*?[")

    def fate_of(self, name: str) -> Fate | None:
        """What the stage does to the field ``name``, when known without applying its
        rule: ``"passes"`` when the stage neither creates, changes nor drops it, and
        whether the set is open, and any pattern it adds, leave it as it was: it is in
        the fields after the stage exactly when it was before; ``"dropped"`` when it is
        gone after the stage, which keeps only the fields it lists and creates none by
        pattern. None when the rule must tell."""
        rule = self._rule
        if rule is _unchanged:
            return "passes"
        if rule is _fields_keep:
            # Without a `*` (a pattern is a string holding one) it keeps exactly the
            # names it lists.
            return None if self.mentions(name) or not self.written_without("*") else "dropped"
        if rule is _fields_flatten:
            # It adds the names it lists (`fields:`), else names under one prefix.
            return None if self.mentions(name) or self._brings(name, None) else "passes"
        unmentioned = _UNMENTIONED.get(rule) if rule is not None else None
        if unmentioned is None or name in _SERIES_NAMES:
            return None
        prefix = _JOINED.get(rule) if rule is not None else None
        if prefix is not None:
            # Every field it brings in or drops starts with its prefix (the default one
            # unless `prefix:` names another), or is listed in `fields:` (never
            # positional), mentioned or not: a name the subquery has is not in this text.
            if self._brings(name, prefix) or (self.may_name("fields") and self.mentions(name)):
                return None
            return unmentioned
        if self.mentions(name):
            return None
        if rule is _parse:
            # Its exports are names in its pattern, when that is a string.
            pattern = self.bound.first("pattern") if self.bound is not None else None
            if pattern is None or not isinstance(pattern.expr, String):
                return None
        if rule is _fields_remove and not self.written_without("*"):
            return None  # without a `*`, it removes exactly the names it lists
        return unmentioned


@dataclass(frozen=True)
class QueryFlow:
    """Field flow of a query or subquery."""

    query: Query
    stages: tuple[StageFlow, ...]
    input: FieldSet = EMPTY
    """Fields before the first stage: none for a query that begins with a start command,
    unknown (open) for a pipeline fragment."""
    block: Block | None = None
    """For a subquery: the execution block it was read from (``query`` holds the same
    commands); ``None`` for the analysed query itself."""
    _text: str | None = field(default=None, repr=False, compare=False)
    # The source text every stage was parsed from, in order, when they all were: what
    # the stages' texts show is then shown by one search from the first to the last.

    def _span(self) -> tuple[str, int, int] | None:
        text, stages = self._text, self.stages
        if text is None or not stages:
            return None
        first, last = stages[0].command.span, stages[-1].command.span
        if first is None or last is None:
            return None
        return text, first.start, last.end

    def written_without(self, *fragments: str) -> bool:
        """:meth:`StageFlow.written_without` for every stage at once: one search of the
        pipeline's text (False when it holds a fragment, maybe between stages, or when
        not every stage is a parsed one)."""
        span = self._span()
        return span is not None and _holds_none(*span, fragments)

    def mentions(self, name: str) -> bool:
        """:meth:`StageFlow.mentions` for every stage at once: one search of the
        pipeline's text (True when not every stage is a parsed one)."""
        span = self._span()
        return span is None or _may_mention(*span, name)

    def may_name(self, parameter: str) -> bool:
        """Whether any stage may have a ``parameter:`` argument: False when the
        pipeline's text shows none (then no :meth:`StageFlow.may_name` of it is True)."""
        span = self._span()
        return span is None or _written_parameter(*span, parameter)

    def fields_before(self, index: int) -> FieldSet:
        """The fields known to exist before stage ``index`` (``len(stages)`` = the end)."""
        if not 0 <= index <= len(self.stages):
            raise DQLValueError(f"stage index {index} is out of range for {len(self.stages)}")
        return self.input if index == 0 else self.stages[index - 1].fields_after

    @property
    def fields_after(self) -> FieldSet:
        """The output fields of the whole query."""
        return self.fields_before(len(self.stages))

    def may_contain_before(self, index: int, name: str) -> bool:
        """``fields_before(index).may_contain(name)``, asking the stages before
        ``index`` about ``name`` alone, from the last one back to the first that tells
        (:meth:`StageFlow.fate_of`)."""
        if not 0 <= index <= len(self.stages):
            raise DQLValueError(f"stage index {index} is out of range for {len(self.stages)}")
        for stage in reversed(self.stages[:index]):
            if stage._effect is None and stage._rule in _OPEN_SOURCES:
                return True
            fate = stage.fate_of(name) if stage._effect is None else None
            if fate == "passes":
                continue
            if fate == "dropped":
                return False
            return stage.fields_after.may_contain(name)
        return self.input.may_contain(name)

    def flows(self) -> Iterator[QueryFlow]:
        """This flow and every subquery flow, depth first, in source order."""
        yield self
        for stage in self.stages:
            for sub in stage.subqueries:
                yield from sub.flows()


# ---------------------------------------------------------------------- the rules


class _Context:
    """What a rule reads of its stage."""

    __slots__ = ("_stage", "command")

    def __init__(self, stage: StageFlow) -> None:
        self._stage = stage
        self.command = stage.command

    @property
    def before(self) -> FieldSet:
        return self._stage.fields_before

    @property
    def bound(self) -> BoundArguments:
        bound = self._stage.bound
        assert bound is not None
        return bound

    def values(self, param: str) -> tuple[BoundValue, ...]:
        return self.bound.get(param)

    def names(self, param: str) -> list[str]:
        return [v.name for v in self.values(param)]

    def text(self, param: str) -> str | None:
        """The value of a name-or-string parameter (``fetch logs``, ``prefix: "x."``)."""
        stage = self._stage
        if stage._bound is None and stage._spec is not None:
            # `fetch logs, from: ...`: no need to bind it all to read `logs`.
            leading = leading_value(self.command, stage._spec, param)
            if leading is not None:
                return _text(leading)
            given = _given_by_name(self.command.args, stage._spec, param)
            if given is None:
                return None
            if isinstance(given, Node):
                return _text(given)
        value = self.bound.first(param)
        return _text(value.expr) if value is not None else None

    def leading_unnamed(self, param: str) -> Node | None:
        """The first argument (the first item of brace groups, which binding flattens),
        when binding gives it to ``param`` first, without binding: it is an unnamed
        value, ``param`` is the command's one positional parameter (unnamed values fill
        it in source order), and the text shows no ``name:`` for it and no ``alias:``
        (which would take its place). None when only binding can tell."""
        stage, command = self._stage, self.command
        spec, text, span, args = stage._spec, stage._text, command.span, command.args
        if stage._bound is not None or spec is None or text is None or span is None or not args:
            return None
        first = args[0]
        while isinstance(first, Brace) and first.items:
            first = first.items[0]
        if isinstance(first, Named | Brace):
            return None
        positional = _POSITIONAL.get(spec.name)
        if positional is None:
            positional = _POSITIONAL[spec.name] = [
                p for p in spec.parameters if p.is_positional and not p.hidden
            ]
        if len(positional) != 1 or positional[0].name.lower() != param.lower():
            return None
        for name in (*positional[0].names, "alias"):
            if _written_parameter(text, span.start, span.end, name):
                return None
        return first.value if isinstance(first, Assign) else first

    def sub(self) -> FieldSet:
        """Output of the command's own execution block (its first subquery)."""
        block_flows = self._stage._scanned()[1]
        for value in self.bound.values:
            flow = block_flows.get(id(value.expr))
            if flow is not None:
                return flow.fields_after
        return ANY


# The visible positional parameters of each catalog command, by its name.
_POSITIONAL: dict[str, list[Parameter]] = {}
# For a catalog command and a parameter of it that only a `name:` argument fills: the
# names (lowered) binding gives that parameter; None for any other parameter.
_NAMES_OF: dict[tuple[str, str], frozenset[str] | None] = {}
_UNKNOWN = object()  # stands for "only binding can tell" (a node made here costs every query)


def _given_by_name(args: Sequence[Node], spec: CatalogCommand, param: str) -> object:
    """The value binding gives ``param`` (a parameter no unnamed value fills) first, without
    binding: the value of its one ``name:`` argument, or None when there is none, for an
    argument list without brace groups (which binding flattens); ``_UNKNOWN`` when only
    binding can tell."""
    key = (spec.name, param.lower())
    if key in _NAMES_OF:
        names = _NAMES_OF[key]
    else:
        names = _NAMES_OF[key] = _names_of(spec, key[1])
    if names is None:
        return _UNKNOWN
    found: Node | None = None
    for arg in args:
        if isinstance(arg, Brace):
            return _UNKNOWN
        if isinstance(arg, Named):
            if isinstance(arg.value, Brace):
                return _UNKNOWN
            if arg.name.lower() in names:
                if found is not None:
                    return _UNKNOWN
                found = arg.value
    return found


def _names_of(spec: CatalogCommand, lowered: str) -> frozenset[str] | None:
    by_name: dict[str, Parameter] = {}
    for each in spec.parameters:
        for name in each.names:
            by_name.setdefault(name.lower(), each)
    target = next((p for p in spec.parameters if p.name.lower() == lowered), None)
    if target is None or target.is_positional or any(p.accepts_pairs for p in spec.parameters):
        return None
    return frozenset(name for name, each in by_name.items() if each is target)


def _text(node: Node) -> str | None:
    if isinstance(node, FieldRef):
        return node.name
    if isinstance(node, String):
        return node.value
    return None


class _Effect:
    """What a rule says a stage does (the parts of :class:`StageFlow` it fills in)."""

    __slots__ = (
        "after", "created", "created_patterns", "removed", "removed_patterns", "renamed",
        "resets", "source",
    )  # fmt: skip

    def __init__(
        self,
        after: FieldSet,
        created: Iterable[str] = (),
        removed: Iterable[str] = (),
        renamed: tuple[tuple[str, str], ...] = (),
        resets: bool = False,
        source: str | None = None,
        removed_patterns: tuple[str, ...] = (),
        created_patterns: tuple[str, ...] = (),
    ) -> None:
        self.after = after
        self.created = frozenset(created)
        self.removed = frozenset(removed)
        self.renamed = renamed
        self.resets = resets
        self.source = source
        self.removed_patterns = removed_patterns
        self.created_patterns = created_patterns


def _new_names(values: Iterable[BoundValue]) -> list[str]:
    """Names a list of output expressions defines, except bare field references, which
    keep an existing field rather than create one."""
    return [
        v.name for v in values if v.assigned_name is not None or not isinstance(v.expr, FieldRef)
    ]


def _unchanged(ctx: _Context) -> _Effect:
    return _Effect(ctx.before)


def _opaque_source(param: str | None) -> Callable[[_Context], _Effect]:
    def source(ctx: _Context) -> str | None:
        return ctx.text(param) if param else None

    def rule(ctx: _Context) -> _Effect:
        return _Effect(ANY, resets=True, source=source(ctx))

    _SOURCES[rule] = source
    _OPEN_SOURCES.add(rule)
    return rule


# What a start command's rule says it reads, without the rest of its effect (which may
# need its arguments bound, or the fields before it).
_SOURCES: dict[Callable[[_Context], _Effect], Callable[[_Context], str | None]] = {}
# Start commands after which any field may exist (what they read is not known).
_OPEN_SOURCES: set[Callable[[_Context], _Effect]] = set()


def _data(ctx: _Context) -> _Effect:
    names: list[str] = []
    known = True
    for value in ctx.values("record"):
        record = value.expr
        if isinstance(record, Call) and record.name.lower() == "record":
            for arg in record.args:
                if isinstance(arg, Assign):
                    names.append(arg.target)
                elif isinstance(arg, Brace | Block | Named):
                    known = False
                else:
                    names.append(output_name(arg))
        else:
            known = False
    json_value = ctx.bound.first("json")
    if json_value is not None:
        keys = _json_keys(json_value.expr)
        known = known and keys is not None
        names.extend(keys or ())
    return _Effect(FieldSet(frozenset(names), open=not known), created=names, resets=True)


def _json_keys(node: Node) -> list[str] | None:
    if not isinstance(node, String):
        return None
    try:
        loaded = json.loads(node.value)
    except ValueError:
        return None
    rows = loaded if isinstance(loaded, list) else [loaded]
    if not all(isinstance(row, dict) for row in rows):
        return None
    return [key for row in rows for key in row]


def _timeseries_source(ctx: _Context) -> str | None:
    first = ctx.leading_unnamed("metric")
    if isinstance(first, Call) and first.args:
        return _text(first.args[0])
    for value in ctx.values("metric"):
        if isinstance(value.expr, Call) and value.expr.args:
            return _text(value.expr.args[0])
    return None


# Fields every time series has, besides its keys and aggregates.
_SERIES_NAMES = ("timeframe", "interval")


def _aggregating(aggregation: str, *, series: bool) -> Callable[[_Context], _Effect]:
    def rule(ctx: _Context) -> _Effect:
        names = ctx.names("by") + ctx.names(aggregation)
        if series:
            names += _SERIES_NAMES
        source = _timeseries_source(ctx) if aggregation == "metric" else None
        return _Effect(FieldSet(frozenset(names)), created=names, resets=True, source=source)

    return rule


def _fields(ctx: _Context) -> _Effect:
    values = ctx.values("expression")
    names = [v.name for v in values]
    return _Effect(FieldSet(frozenset(names)), created=_new_names(values), resets=True)


def _fields_add(ctx: _Context) -> _Effect:
    values = ctx.values("expression")
    added = [v.name for v in values]
    return _Effect(ctx.before.with_names(added), created=_new_names(values))


def _patterns(ctx: _Context, param: str) -> tuple[list[str], list[str]]:
    """Exact names and wildcard patterns of a fieldPattern parameter."""
    exact: list[str] = []
    wild: list[str] = []
    for value in ctx.values(param):
        text = _text(value.expr)
        if text is None:
            continue
        (wild if isinstance(value.expr, String) and "*" in text else exact).append(text)
    return exact, wild


def _fields_keep(ctx: _Context) -> _Effect:
    exact, wild = _patterns(ctx, "field")
    before = ctx.before
    kept = {n for n in exact if before.may_contain(n)}
    if wild:
        kept |= {n for n in before.names if _matches(n, wild)}
    unknown_members = before.open or bool(before.patterns)
    patterns = frozenset(wild) if unknown_members else frozenset()
    return _Effect(FieldSet(frozenset(kept), False, patterns), resets=True)


def _fields_remove(ctx: _Context) -> _Effect:
    exact, wild = _patterns(ctx, "field")
    gone = set(exact)
    if wild:
        gone |= {n for n in ctx.before.names if _matches(n, wild)}
    return _Effect(ctx.before.with_names(removed=gone), removed=gone, removed_patterns=tuple(wild))


def _fields_rename(ctx: _Context) -> _Effect:
    pairs: list[tuple[str, str]] = []
    for value in ctx.values("field"):
        old = _text(value.expr)
        new = value.assigned_name
        if old is not None and new is not None:
            pairs.append((old, new))
    after = ctx.before.with_names(
        added=[new for _, new in pairs], removed=[old for old, _ in pairs]
    )
    return _Effect(after, renamed=tuple(pairs))


def _listed_fields(ctx: _Context) -> _Effect | None:
    """The effect of a ``fields:`` list (fieldsFlatten, join, lookup): exactly the listed
    names are added, unprefixed (DQL_SPEC §6 #18 / Q11); None without the parameter."""
    names = [v.name for v in ctx.values("fields")]
    return _Effect(ctx.before.with_names(names), created=names) if names else None


def _fields_flatten(ctx: _Context) -> _Effect:
    listed = _listed_fields(ctx)
    if listed is not None:
        return listed
    record = ctx.text("expression")
    prefix = ctx.text("prefix")
    if prefix is None:
        if record is None:
            return _Effect(ANY.union(ctx.before))
        prefix = record + "."
    pattern = prefix + "*"
    after = ctx.before._with_patterns(ctx.before.patterns | {pattern})
    return _Effect(after, created_patterns=(pattern,))


def _fields_summary(ctx: _Context) -> _Effect:
    names = ["field", "rawCount", "count", "values"]
    return _Effect(FieldSet(frozenset(names)), created=names, resets=True)


def _expand(ctx: _Context) -> _Effect:
    value = ctx.bound.first("expression")
    if value is None:
        return _unchanged(ctx)
    created = _new_names([value])
    return _Effect(ctx.before.with_names([value.name]), created=created)


def _parse(ctx: _Context) -> _Effect:
    pattern = ctx.bound.first("pattern")
    if pattern is None or not isinstance(pattern.expr, String):
        return _Effect(ctx.before.union(ANY))
    names = dpl_exports(pattern.expr.value)
    return _Effect(ctx.before.with_names(names), created=names)


def _json_extract(ctx: _Context) -> _Effect:
    conflicts = ctx.text("conflicts")
    created = [conflicts] if conflicts else []
    return _Effect(ctx.before.union(ANY).with_names(created), created=created)


def _append(ctx: _Context) -> _Effect:
    sub = ctx.sub()
    created = [n for n in sub.names if not ctx.before._has(n)]
    return _Effect(ctx.before.union(sub), created=created)


def _prefixed(sub: FieldSet, prefix: str) -> tuple[set[str], tuple[str, ...]]:
    names = {prefix + n for n in sub.names}
    patterns = {prefix + p for p in sub.patterns}
    if sub.open:
        patterns.add(prefix + "*")
    return names, tuple(sorted(patterns))


def _joining(default_prefix: str, *, cleanup: bool) -> Callable[[_Context], _Effect]:
    def rule(ctx: _Context) -> _Effect:
        listed = _listed_fields(ctx)
        if listed is not None:
            return listed
        prefix = ctx.text("prefix")
        prefix = default_prefix if prefix is None else prefix
        names, patterns = _prefixed(ctx.sub(), prefix)
        removed: set[str] = set()
        removed_patterns: tuple[str, ...] = ()
        if cleanup:
            removed = {n for n in ctx.before.names if n.startswith(prefix)}
            removed_patterns = (prefix + "*",)
        before = ctx.before.with_names(removed=removed)
        after = before.with_names(names)._with_patterns(before.patterns | set(patterns))
        return _Effect(
            after,
            created=names,
            removed=removed,
            removed_patterns=removed_patterns,
            created_patterns=patterns,
        )

    return rule


def _join_nested(ctx: _Context) -> _Effect:
    table = ctx.bound.first("joinTable")
    name = table.assigned_name if table is not None else None
    created = [name] if name else []
    return _Effect(ctx.before.with_names(created), created=created)


def _traverse(ctx: _Context) -> _Effect:
    exact, wild = _patterns(ctx, "fieldsKeep")
    names = frozenset(["dt.traverse.history", *exact])
    return _Effect(FieldSet(names, True, frozenset(wild)), resets=True)


# The default `prefix:` of the fields a join brings in from its subquery.
_JOIN_PREFIXES = {"join": "right.", "lookup": "lookup."}

_RULES: dict[str, Callable[[_Context], _Effect]] = {
    "append": _append,
    "data": _data,
    "dedup": _unchanged,
    "describe": _opaque_source("dataObject"),
    "expand": _expand,
    "experimentalSave": _unchanged,
    "failIf": _unchanged,
    "fetch": _opaque_source("dataObject"),
    "fields": _fields,
    "fieldsAdd": _fields_add,
    "fieldsFlatten": _fields_flatten,
    "fieldsKeep": _fields_keep,
    "fieldsRemove": _fields_remove,
    "fieldsRename": _fields_rename,
    "fieldsSnapshot": _opaque_source("dataObject"),
    "fieldsSummary": _fields_summary,
    "filter": _unchanged,
    "filterOut": _unchanged,
    "join": _joining(_JOIN_PREFIXES["join"], cleanup=False),
    "joinNested": _join_nested,
    "jsonExtract": _json_extract,
    "limit": _unchanged,
    "load": _opaque_source("tabularFile"),
    "lookup": _joining(_JOIN_PREFIXES["lookup"], cleanup=True),
    "makeTimeseries": _aggregating("aggregation", series=True),
    "metrics": _opaque_source(None),
    "parse": _parse,
    "search": _unchanged,
    "smartscapeEdges": _opaque_source("type"),
    "smartscapeNodes": _opaque_source("type"),
    "sort": _unchanged,
    "summarize": _aggregating("aggregation", series=False),
    "timeseries": _aggregating("metric", series=True),
    "traverse": _traverse,
}

_SOURCES[_RULES["timeseries"]] = _timeseries_source

# Stages that add, drop or merge records: a filter cannot be moved across them.
ROW_CHANGING = frozenset(
    {
        "append", "dedup", "expand", "fieldsSummary", "join", "limit", "lookup",
        "makeTimeseries", "summarize", "traverse",
    }
)  # fmt: skip

# What a rule does to a field its stage does not mention (StageFlow.fate_of): these
# add, rename, remove or keep only the fields the command lists (and a time series
# the fields of every series).
_UNMENTIONED: dict[Callable[[_Context], _Effect], Fate] = {
    _fields_add: "passes",
    _fields_rename: "passes",
    _expand: "passes",
    _parse: "passes",
    _fields_remove: "passes",
    _fields: "dropped",
    _RULES["summarize"]: "dropped",
    _RULES["makeTimeseries"]: "dropped",
    _RULES["timeseries"]: "dropped",
    _RULES["join"]: "passes",
    _RULES["lookup"]: "passes",
}
_JOINED = {_RULES[name]: prefix for name, prefix in _JOIN_PREFIXES.items()}


_Kind = tuple[bool, bool, bool, Callable[[_Context], _Effect] | None, CatalogCommand | None]
# What a stage's command name says (is_start, known, row_changing, its rule, its catalog
# entry), by the name as written: an analysis makes a stage flow per stage.
_KINDS: dict[str, _Kind] = {}


def _kind(name: str) -> _Kind:
    spec = get_catalog().command(name)
    rule = _RULES.get(spec.name) if spec is not None else None
    known = rule is not None
    is_start = known and spec is not None and spec.is_start
    row_changing = not known or (spec is not None and spec.name in ROW_CHANGING)
    kind = (is_start, known, row_changing, rule, spec)
    if len(_KINDS) < 1024:  # command names are few; made-up ones must not grow it
        _KINDS[name] = kind
    return kind


def blocks(nodes: Iterable[Node]) -> Iterator[Block]:
    """Execution blocks among ``nodes`` and their descendants, not inside other blocks,
    in source order (the order of ``StageFlow.subqueries``)."""
    return iter(_scan(nodes)[0])


def _scan(nodes: Iterable[Node]) -> tuple[list[Block], list[Named]]:
    """The execution blocks and the ``name: value`` arguments among ``nodes`` and their
    descendants, not inside blocks, in source order: one walk gives what a stage's
    analysis and filter injection need."""
    found: list[Block] = []
    named: list[Named] = []
    stack = list(nodes)
    stack.reverse()
    pop, push = stack.pop, stack.extend
    while stack:
        node = pop()
        kind = type(node)
        if kind is Block:
            found.append(node)  # type: ignore[arg-type]
            continue
        if kind is Named:
            named.append(node)  # type: ignore[arg-type]
        kids = child_nodes(node)
        if kids:
            kids.reverse()
            push(kids)
    return found, named


_make_query = Query.maker()


def _written_parameter(text: str, start: int, end: int, parameter: str) -> bool:
    """Whether ``text[start:end]`` holds ``parameter`` (any case) followed by blanks and a
    colon, as a ``parameter:`` argument is written: from each colon back (a text has a
    few colons; a case-blind search for the name is several times slower)."""
    size, lowered = len(parameter), parameter.lower()
    at = text.find(":", start, end)
    while at >= 0:
        name_end = at
        while name_end > start and text[name_end - 1] in " \t\f\r\n":
            name_end -= 1
        if name_end - size >= start and text[name_end - size : name_end].lower() == lowered:
            return True
        at = text.find(":", at + 1, end)
    return False


def _holds_none(text: str, start: int, end: int, fragments: tuple[str, ...]) -> bool:
    return all(text.find(fragment, start, end) < 0 for fragment in fragments)


def _may_mention(text: str, start: int, end: int, name: str) -> bool:
    """Whether ``text[start:end]`` may name the field ``name`` (the proof is in
    :meth:`StageFlow.mentions`)."""
    word = _word(name)
    if word is None or text.find("\\", start, end) >= 0:
        return True
    return text.find(name, start, end) >= 0 and word.search(text, start, end) is not None


@functools.lru_cache(maxsize=64)
def _word(name: str) -> re.Pattern[str] | None:
    """``name`` as a whole word of a stage's text (see :meth:`StageFlow.mentions`); None
    for a name that is not plain."""
    if NAME_RE.match(name) is None or name.lower() in KEYWORDS:
        return None
    # The name first, then the look back: a pattern that begins with text is searched
    # for that text (quick), one that begins with a look-behind is tried at every offset.
    escaped = re.escape(name)
    return re.compile(rf"{escaped}(?<![A-Za-z_.]{escaped})(?![A-Za-z0-9_])")


def _analyze(query: Query, block: Block | None = None, text: str | None = None) -> QueryFlow:
    """``text``: the source text of ``block``, when it is a parsed node (a block inside a
    parsed stage)."""
    first = None
    if query.commands:
        name = query.commands[0].name
        first = (_KINDS.get(name) or _kind(name))[4]
    start = EMPTY if first is not None and first.is_start else ANY
    stages: list[StageFlow] = []
    previous: StageFlow | None = None
    source: SourceContext | None = get_private(query, "source") if block is None else None
    if source is not None and source.is_root(query):
        text, source = source.text, None  # the parsed query: every stage is a parsed one
    # A block of a parsed stage, or the parsed query: one text for all the stages.
    whole = text if source is None else None
    for index, command in enumerate(query.commands):
        if source is not None:
            text = source.text if source.stage_index(command) is not None else None
        previous = StageFlow(index, command, previous, start, text)
        stages.append(previous)
    return QueryFlow(query, tuple(stages), start, block, whole)


@collector_paused  # acyclic results: see dqlbuild.syntax.collector
def analyze(query: Query | str) -> QueryFlow:
    """The field flow of ``query`` (a Query, or DQL text to parse) and of every subquery
    in it."""
    return _analyze(as_query(query))


def source_of(command: Command) -> str | None:
    """What ``command`` reads when it begins a query (the ``source`` of its stage),
    without analysing the rest of the query."""
    return StageFlow(0, command, None, EMPTY, None).source


def as_query(query: Query | str, *, fragment: bool = False) -> Query:
    """``query`` itself, or the query parsed from DQL text (a pipeline fragment with
    ``fragment``), as the analysis functions take either."""
    if isinstance(query, Query):
        return query
    if isinstance(query, str):
        from dqlbuild.syntax.parser import parse, parse_pipeline

        return parse_pipeline(query) if fragment else parse(query)
    raise DQLTypeError(f"expected a Query or DQL text, not {type(query).__name__}")


__all__ = [
    "ANY",
    "EMPTY",
    "FieldSet",
    "QueryFlow",
    "StageFlow",
    "analyze",
    "as_query",
    "blocks",
    "source_of",
]
