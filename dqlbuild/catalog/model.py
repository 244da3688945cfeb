"""Typed, immutable view of the generated DQL catalog (``catalog.json``)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dqlbuild.errors import DQLCatalogError

# Where an aggregation function is valid: the command whose aggregation
# parameter accepts it. ``None`` means an ordinary (scalar) function.
FunctionContext = Literal["summarize", "makeTimeseries", "timeseries"]
FUNCTION_CONTEXTS: tuple[FunctionContext, ...] = ("summarize", "makeTimeseries", "timeseries")

# Parameter kinds that take aggregation calls, and the context they imply.
AGGREGATION_KINDS: dict[str, FunctionContext] = {
    "aggregation": "summarize",
    "expressionTimeseriesAggregation": "makeTimeseries",
    "metricTimeseriesAggregation": "timeseries",
}

AssignmentSupport = Literal["none", "optional", "mandatory"]


class _Frozen(BaseModel):
    # extra="forbid" turns a stale catalog.json into a load error, not silent data loss.
    model_config = ConfigDict(frozen=True, extra="forbid")


class Modifier(_Frozen):
    """A keyword after a value that sets another parameter (``x desc`` sets ``direction``)."""

    name: str
    parameter: str
    value: str


class Parameter(_Frozen):
    """A parameter of a command or function signature."""

    name: str
    aliases: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    """Short parameter-value kinds, e.g. ``executionBlock``, ``enum``, ``aggregation``."""
    value_types: tuple[str, ...] = ()
    """Short data type names, e.g. ``long``, ``string``."""
    required: bool = False
    requires_name: bool = False
    """Named-only: must be passed as ``name: value``."""
    variadic: bool = False
    assignment_support: AssignmentSupport = "none"
    default_value: str | None = None
    """DQL text of the default; for enum parameters the unquoted enum value."""
    enum_values: tuple[str, ...] = ()
    """Unquoted; ``enum_quoted`` says whether the catalog wrote them as strings."""
    enum_quoted: bool = False
    min_value: int | None = None
    max_value: int | None = None
    excludes: tuple[str, ...] = ()
    modifiers: tuple[Modifier, ...] = ()
    hidden: bool = False
    experimental: bool = False
    names_other_side: bool = False
    """Its values name fields of the other side (the subquery of ``lookup``/``join``,
    the record of ``fieldsFlatten``), not fields of the stage's input."""
    accepts_pairs: bool = False
    """Unnamed names may come in pairs ``old, new``, the second naming the first
    (``fieldsRename a, b`` is ``fieldsRename b = a``)."""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def matches(self, name: str) -> bool:
        """Whether ``name`` is this parameter's name or an alias, ignoring case."""
        key = name.lower()
        return any(n.lower() == key for n in self.names)

    @property
    def is_positional(self) -> bool:
        """Can be bound by position (any parameter may also be passed by name)."""
        return not self.requires_name and not self.hidden

    @property
    def function_context(self) -> FunctionContext | None:
        """The aggregation context of calls in this parameter, if any."""
        for kind in self.kinds:
            if kind in AGGREGATION_KINDS:
                return AGGREGATION_KINDS[kind]
        return None


def _index_parameters(params: Iterable[Parameter]) -> dict[str, Parameter]:
    index: dict[str, Parameter] = {}
    for param in params:
        for name in param.names:
            # First one wins, so a real name is never shadowed by a later alias.
            index.setdefault(name.lower(), param)
    return index


class Command(_Frozen):
    key: str
    """Catalog key, e.g. ``dql.command.fieldsAdd``."""
    name: str
    synopsis: str = ""
    parameters: tuple[Parameter, ...] = ()
    is_start: bool = False
    """A data source: may (and must) begin a query or subquery."""
    experimental: bool = False

    # Cached properties, not private attributes: those go through pydantic's slow
    # __getattr__, and checking a corpus looks parameters up a million times.
    @cached_property
    def _by_name(self) -> dict[str, Parameter]:
        return _index_parameters(self.parameters)

    def parameter(self, name: str) -> Parameter | None:
        """The parameter called ``name`` (or with that alias), ignoring case."""
        return self._by_name.get(name.lower())

    def suggest_parameter(self, name: str) -> str | None:
        return suggest(name, (n for p in self.parameters if not p.hidden for n in p.names))

    @property
    def positional_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.is_positional)

    @property
    def named_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.requires_name and not p.hidden)


class Signature(_Frozen):
    parameters: tuple[Parameter, ...] = ()
    outputs: tuple[str, ...] = ()
    """Short data type names of the result."""
    experimental: bool = False

    # Cached properties, not private attributes: those go through pydantic's slow
    # __getattr__, and checking a corpus looks parameters up a million times.
    @cached_property
    def _by_name(self) -> dict[str, Parameter]:
        return _index_parameters(self.parameters)

    def parameter(self, name: str) -> Parameter | None:
        return self._by_name.get(name.lower())


class Function(_Frozen):
    key: str
    """Catalog key; unique even where names repeat (``dql.function.metricTimeseriesAvg``)."""
    name: str
    category: str
    """Short category name, e.g. ``string``, ``aggregation``, ``expression timeseries``."""
    context: FunctionContext | None = None
    synopsis: str = ""
    signatures: tuple[Signature, ...] = ()
    experimental: bool = False
    deprecated: bool = False
    aliases: tuple[str, ...] = ()
    """Other names the engine accepts for this function (``first`` for ``takeFirst``)."""
    undocumented_aliases: tuple[str, ...] = ()
    """The aliases Dynatrace does not document (a subset of ``aliases``)."""

    @model_validator(mode="after")
    def _undocumented_are_aliases(self) -> Function:
        extra = {a.lower() for a in self.undocumented_aliases} - {a.lower() for a in self.aliases}
        if extra:
            raise ValueError(f"{self.name}: undocumented aliases {sorted(extra)} are not aliases")
        return self

    @property
    def is_aggregation(self) -> bool:
        return self.context is not None

    @cached_property
    def _undocumented(self) -> frozenset[str]:
        return frozenset(a.lower() for a in self.undocumented_aliases)

    def is_undocumented_alias(self, name: str) -> bool:
        """Whether ``name`` is one of :attr:`undocumented_aliases`, ignoring case."""
        return bool(self.undocumented_aliases) and name.lower() in self._undocumented

    def parameter(self, name: str) -> Parameter | None:
        """The first parameter called ``name`` (or alias) in any signature, ignoring case."""
        for signature in self.signatures:
            found = signature.parameter(name)
            if found is not None:
                return found
        return None


class DataObject(_Frozen):
    """Something ``fetch`` reads: a Grail table (``logs``), a system table
    (``dt.system.buckets``) or a family of views (``dt.entity.*``: any name with that
    prefix)."""

    name: str
    evidence: str
    """Where Dynatrace documents it or publishes queries reading it."""
    members: tuple[str, ...] = ()
    """Of a family, the names published queries read most (offered by completion); any
    other name with the family's prefix is accepted as well."""

    @model_validator(mode="after")
    def _members_belong(self) -> DataObject:
        strays = [m for m in self.members if not (self.is_family and self.matches(m))]
        if strays:
            raise ValueError(f"{self.name}: {strays} are not members of it")
        return self

    @property
    def is_family(self) -> bool:
        return self.name.endswith(".*")

    def matches(self, name: str) -> bool:
        """Whether ``name`` is this data object (or one of the family), ignoring case."""
        key = name.lower()
        if self.is_family:
            prefix = self.name[:-1].lower()
            return key.startswith(prefix) and len(key) > len(prefix)
        return key == self.name.lower()


class Source(_Frozen):
    repository: str
    commit: str
    license: str
    sha256: str
    """Of the input catalog file, to tell which version was used."""


def suggest(name: str, candidates: Iterable[str], *, cutoff: float = 0.7) -> str | None:
    """The candidate closest to ``name`` ignoring case, for "did you mean …?" hints."""
    by_lower: dict[str, str] = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), candidate)
    key = name.lower()
    if key in by_lower:
        return by_lower[key]
    close = difflib.get_close_matches(key, list(by_lower), n=1, cutoff=cutoff)
    return by_lower[close[0]] if close else None


def _hint(suggestion: str | None) -> str | None:
    return f"did you mean {suggestion!r}?" if suggestion else None


_MEMO_SIZE = 65536


class Catalog(_Frozen):
    # The underscore sorts the header first in the generated JSON.
    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True)

    generated_by: str = Field(alias="_generated_by")
    source: Source
    commands: tuple[Command, ...]
    functions: tuple[Function, ...]
    pseudo_parameters: tuple[str, ...] = ()
    """Names accepted in any argument list without being a parameter (``alias:``)."""
    duration_units: tuple[str, ...] = ()
    """Units of ``duration(value, unit)``."""
    time_alignment_units: tuple[str, ...] = ()
    """Units after ``@``."""
    data_objects: tuple[DataObject, ...] = ()
    """What ``fetch`` (and ``describe``) can read; names ending in ``.*`` are families."""

    @cached_property
    def _commands(self) -> dict[str, Command]:
        return {c.name.lower(): c for c in self.commands}

    @cached_property
    def _pseudo(self) -> frozenset[str]:
        return frozenset(p.lower() for p in self.pseudo_parameters)

    @cached_property
    def _functions(self) -> dict[str, tuple[Function, ...]]:
        grouped: dict[str, list[Function]] = {}
        for fn in self.functions:
            grouped.setdefault(fn.name.lower(), []).append(fn)
        # An alias never shadows a real function name.
        names = set(grouped)
        for fn in self.functions:
            for alias in fn.aliases:
                if alias.lower() not in names:
                    grouped.setdefault(alias.lower(), []).append(fn)
        return {k: tuple(v) for k, v in grouped.items()}

    @property
    def start_commands(self) -> frozenset[str]:
        return frozenset(c.name for c in self.commands if c.is_start)

    def command(self, name: str) -> Command | None:
        return self._commands.get(name.lower())

    def functions_named(self, name: str) -> tuple[Function, ...]:
        """Every catalog entry with this function name or alias, ignoring case."""
        return self._functions.get(name.lower(), ())

    def function(self, name: str, context: FunctionContext | None = None) -> Function | None:
        """The entry for ``name`` (or an alias) in ``context``, ignoring case.

        The entry of that context wins; otherwise the scalar entry (scalar
        functions are valid inside aggregations too); otherwise any entry, so
        that callers can report "aggregation used out of context" from it.
        """
        if context is not None and context not in FUNCTION_CONTEXTS:
            raise ValueError(f"unknown function context {context!r}")
        memo = self._function_memo
        key = (name, context)
        if key in memo:
            return memo[key]
        found = self._function(name, context)
        if len(memo) < _MEMO_SIZE:  # names as written; a bound on what odd input adds
            memo[key] = found
        return found

    @cached_property
    def _function_memo(self) -> dict[tuple[str, FunctionContext | None], Function | None]:
        # Checking a corpus looks up every call by name and context.
        return {}

    def _function(self, name: str, context: FunctionContext | None) -> Function | None:
        entries = self.functions_named(name)
        if not entries:
            return None
        for wanted in (context, None, *FUNCTION_CONTEXTS):
            for fn in entries:
                if fn.context == wanted:
                    return fn
        return entries[0]

    def data_object(self, name: str) -> DataObject | None:
        """The data object (or family) ``name`` belongs to, ignoring case."""
        memo = self._data_object_memo
        if name in memo:
            return memo[name]
        found = next((entry for entry in self.data_objects if entry.matches(name)), None)
        if len(memo) < _MEMO_SIZE:
            memo[name] = found
        return found

    @cached_property
    def _data_object_memo(self) -> dict[str, DataObject | None]:
        # Checking a corpus looks up the data object of every `fetch`.
        return {}

    @property
    def data_object_names(self) -> tuple[str, ...]:
        """Every data object known by name: the single ones, then the families' members."""
        single = [d.name for d in self.data_objects if not d.is_family]
        return (*single, *(m for d in self.data_objects for m in d.members))

    def suggest_data_object(self, name: str) -> str | None:
        """The known data object name closest to ``name``, for "did you mean" hints."""
        return suggest(name, self.data_object_names)

    def is_pseudo_parameter(self, name: str) -> bool:
        return name.lower() in self._pseudo

    def suggest_command(self, name: str) -> str | None:
        return suggest(name, (c.name for c in self.commands))

    def suggest_function(self, name: str) -> str | None:
        return suggest(name, (f.name for f in self.functions))

    def require_command(self, name: str) -> Command:
        """Like :meth:`command`, but raise :class:`DQLCatalogError` with a hint."""
        found = self.command(name)
        if found is None:
            hint = _hint(self.suggest_command(name))
            raise DQLCatalogError(f"unknown DQL command {name!r}", hint=hint)
        return found

    def require_function(self, name: str, context: FunctionContext | None = None) -> Function:
        """Like :meth:`function`, but raise :class:`DQLCatalogError` with a hint."""
        found = self.function(name, context)
        if found is None:
            hint = _hint(self.suggest_function(name))
            raise DQLCatalogError(f"unknown DQL function {name!r}", hint=hint)
        return found
