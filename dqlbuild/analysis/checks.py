"""Catalog checks: :func:`check` reports what the catalog and the field flow say is
wrong with a query, as :class:`Diagnostic` objects with stable codes (``docs/checks.md``).

Errors are reserved for what the engine rejects; a query of the public corpus that is
valid DQL gets none (``tests/analysis/test_corpus_checks.py``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dqlbuild.analysis.binding import BindingProblem, BoundArguments, BoundValue, bind_call
from dqlbuild.analysis.diagnostics import Diagnostic, diagnostic
from dqlbuild.analysis.fieldflow import QueryFlow, StageFlow, analyze, as_query
from dqlbuild.ast.base import Node, Span, child_nodes, spans_any
from dqlbuild.ast.nodes import (
    Assign,
    Binary,
    Block,
    Call,
    FieldRef,
    In,
    Query,
    String,
    Variable,
)
from dqlbuild.catalog import FUNCTION_CONTEXTS, FunctionContext, Parameter, get_catalog, suggest
from dqlbuild.printing.canonical import format_node
from dqlbuild.syntax.collector import collector_paused
from dqlbuild.syntax.lexical import encode_name

BUILTIN_VARIABLES = frozenset({"dt_timeframe_from", "dt_timeframe_to"})

# Parameter kinds whose values read fields of the stage's input. Others hold names of
# other things (data objects, enum values, metric keys, node types, patterns) or, for
# join conditions, fields of both sides. Parameters flagged ``names_other_side`` name
# fields of the subquery (or of a record), not of the input.
REFERENCE_KINDS = frozenset(
    {
        "expressionWithFieldAccess",
        "identifierForFieldOnRootLevel",
        "identifierForAnyField",
        "aggregation",
        "expressionTimeseriesAggregation",
    }
)
# ``$name`` inside string literals, as dashboards substitute it (DQL_SPEC §5.2).
_STRING_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def _code(node: Node) -> str:
    return format_node(node, width=10**9)


def _is_condition(param: Parameter) -> bool:
    """A parameter that takes a boolean condition over fields (``filter``, ``if()``)."""
    if param.value_types == ("boolean",):
        return "expressionWithFieldAccess" in param.kinds
    return param.name == "condition"


def _context_list(contexts: Iterable[str]) -> str:
    names = list(contexts)
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


@dataclass
class _Owner:
    """The command or function whose arguments are being checked."""

    name: str
    function: bool
    node: Node
    parameters: Sequence[Parameter]

    @property
    def label(self) -> str:
        """``fetch`` for a command, ``contains()`` for a function (in backticks)."""
        return f"`{self.name}()`" if self.function else f"`{self.name}`"


@dataclass(frozen=True)
class _Use:
    """What checking a parameter's values needs of it, derived once per parameter: the
    catalog's parameters are met again at every command and call."""

    parameter: Parameter
    context: FunctionContext | None
    """The aggregation context of calls in its values."""
    reads_fields: bool
    """Its values read fields of the stage's input (:data:`REFERENCE_KINDS`)."""
    inspect: bool
    """:meth:`_Checker.value` may report something about any value of it ..."""
    no_name: bool
    """... and about a value with a name (``x = ...``), which it does not take."""


_USES: dict[int, _Use] = {}


def _new_use(param: Parameter) -> _Use:
    kinds = param.kinds
    use = _Use(
        param,
        param.function_context,
        not param.names_other_side and not REFERENCE_KINDS.isdisjoint(kinds),
        bool(param.enum_values and "enum" in kinds)
        or "dataObject" in kinds
        or "nonEmptyExecutionBlock" in kinds
        or param.assignment_support == "mandatory",
        param.assignment_support == "none",
    )
    if len(_USES) < 8192:  # the catalog's parameters (the entry keeps its id taken)
        _USES[id(param)] = use
    return use


@dataclass
class _Checker:
    fragment: bool = False
    found: list[Diagnostic] = field(default_factory=list)

    def add(self, code: str, message: str, node: Node | None, hint: str | None = None) -> None:
        span: Span | None = node.span if node is not None else None
        self.found.append(diagnostic(code, message, span, hint))

    # ------------------------------------------------------------ queries and stages
    def flow(self, flow: QueryFlow, *, top: bool) -> None:
        catalog = get_catalog()
        for stage in flow.stages:
            command = stage.command
            spec = catalog.command(command.name)
            if spec is None:
                close = catalog.suggest_command(command.name)
                self.add(
                    "DQL101", f"unknown command `{command.name}`", command, _did_you_mean(close)
                )
                continue
            if stage.index == 0 and not spec.is_start and not (top and self.fragment):
                starts = ", ".join(sorted(catalog.start_commands))
                where = "a query" if top else "a subquery"
                self.add(
                    "DQL109",
                    f"{where} must begin with a start command, not `{spec.name}`",
                    command,
                    f"start commands: {starts}",
                )
            elif stage.index > 0 and spec.is_start:
                self.add(
                    "DQL110",
                    f"`{spec.name}` is a start command: it can only begin a query or subquery",
                    command,
                    "use it in a subquery, e.g. `append [ ... ]` or `lookup [ ... ]`",
                )
            owner = _Owner(spec.name, False, command, spec.parameters)
            bound = stage.bound
            assert bound is not None
            refs: list[FieldRef] = []
            self.arguments(owner, bound, refs)
            if stage.index > 0 and refs:
                self.removed_fields(flow, stage, refs)

    def arguments(
        self,
        owner: _Owner,
        bound: BoundArguments,
        refs: list[FieldRef] | None,
        inherited: FunctionContext | None = None,
    ) -> None:
        """Check bound arguments; calls inside them are in the aggregation context of
        their parameter, else in the one of the enclosing call (``inherited``)."""
        problems = bound.problems
        if problems:
            # A missing parameter next to an unknown name is that name misspelt or misused
            # (`fields level: loglevel`): the unknown name is the one finding to report.
            unknown = any(p.kind == "unknown-parameter" for p in problems)
            for problem in problems:
                if not (unknown and problem.kind == "missing-required"):
                    self.problem(owner, problem)
        for value in bound.values:
            param = value.parameter
            node = value.node
            expr = node.value if isinstance(node, Assign) else node
            if param is None:
                self.expression(expr, inherited, refs)
                continue
            use = _USES.get(id(param))
            if use is None or use.parameter is not param:
                use = _new_use(param)
            if use.inspect or (use.no_name and expr is not node):
                self.value(owner, value, param)
            self.expression(expr, use.context or inherited, refs if use.reads_fields else None)

    def problem(self, owner: _Owner, problem: BindingProblem) -> None:
        node = problem.node or owner.node
        name = problem.name
        if problem.kind == "unknown-parameter":
            hint = suggest(name, (n for p in owner.parameters if not p.hidden for n in p.names))
            self.add(
                "DQL103",
                f"{owner.label} has no parameter `{name}`",
                node,
                _did_you_mean(hint, ":")
                or _naming_hint(owner, name)
                or _accepted(owner.parameters),
            )
        elif problem.kind == "duplicate-parameter":
            self.add("DQL104", f"parameter `{name}` of {owner.label} is given twice", node)
        elif problem.kind == "missing-required":
            param = problem.parameter
            how = (
                f"pass it as `{name}: ...`"
                if param is not None and param.requires_name
                else "pass it as a positional argument"
            )
            if owner.name == "in":
                how = 'give the values to look for, e.g. `in(x, {"a", "b"})` or `in(x, array($V))`'
            self.add("DQL105", f"{owner.label} needs the parameter `{name}`", node, how)
        elif problem.kind == "too-many-positional":
            positional = [p.name for p in owner.parameters if p.is_positional]
            takes = ", ".join(positional) if positional else "none"
            self.add(
                "DQL106",
                f"too many positional arguments for {owner.label}",
                node,
                f"positional parameters: {takes}; name the others (`name: value`)",
            )
        elif problem.kind == "named-only-positional":
            # DQL_SPEC §6 #16: a positional boolean flag (``contains(s, "x", false)``)
            # is shown working in Dynatrace's own guidance, so it only gets a warning.
            flag = problem.parameter is not None and problem.parameter.value_types == ("boolean",)
            self.add(
                "DQL118" if flag else "DQL107",
                f"parameter `{name}` of {owner.label} must be passed by name",
                node,
                f"write `{name}: {_code(node)}`",
            )
        else:
            self.add(
                "DQL115",
                f"`{name}` cannot be used together with `{problem.parameter.name}` in {owner.label}"
                if problem.parameter is not None
                else f"`{name}` excludes another parameter of {owner.label}",
                node,
            )

    def value(self, owner: _Owner, value: BoundValue, param: Parameter) -> None:
        node = value.node
        if param.enum_values and "enum" in param.kinds:
            self.enum(owner, value.expr, param)
        if "dataObject" in param.kinds:
            self.data_object(value.expr)
        if isinstance(node, Assign) and param.assignment_support == "none":
            if _is_condition(param):
                self.add(
                    "DQL112",
                    "`=` names a value; to compare, use `==`",
                    node,
                    f"write `{node.target} == {_code(node.value)}`",
                )
            else:
                self.add(
                    "DQL116",
                    f"parameter `{param.name}` of {owner.label} does not take a name "
                    f"(`{node.target} = ...`)",
                    node,
                )
        elif param.assignment_support == "mandatory" and value.assigned_name is None:
            self.add(
                "DQL117",
                f"parameter `{param.name}` of {owner.label} must be named: `name = ...`",
                node,
            )
        block = value.expr
        if (
            "nonEmptyExecutionBlock" in param.kinds
            and isinstance(block, Block)
            and not block.commands
        ):
            self.add(
                "DQL114", f"{owner.label} needs a subquery, the execution block is empty", block
            )

    def enum(self, owner: _Owner, node: Node, param: Parameter) -> None:
        # DQL_SPEC §6 #14: identifier or string, compared unquoted (and ignoring case).
        text = _written_name(node)
        if text is None:
            return
        allowed = {v.lower() for v in param.enum_values}
        if text.lower() in allowed:
            return
        close = suggest(text, param.enum_values)
        self.add(
            "DQL108",
            f"`{text}` is not a value of `{param.name}` in {owner.label}",
            node,
            (f"did you mean `{close}`? " if close else "")
            + "allowed: "
            + ", ".join(param.enum_values),
        )

    def data_object(self, node: Node) -> None:
        # A variable or an expression is not judged: only names written out.
        name = _written_name(node)
        if name is None:
            return
        catalog = get_catalog()
        if catalog.data_object(name) is not None:
            return
        close = catalog.suggest_data_object(name)
        if catalog.command(name) is not None:
            hint = f"`{name}` is a command: begin the query with it instead of `fetch`"
        else:
            families = [d.name for d in catalog.data_objects if d.is_family]
            hint = _did_you_mean(close) or "known data objects: " + ", ".join(
                [*(d.name for d in catalog.data_objects if not d.is_family), *families]
            )
        self.add("DQL122", f"unknown data object `{name}`", node, hint)

    # ------------------------------------------------------------ expressions
    def expression(
        self, node: Node, context: FunctionContext | None, refs: list[FieldRef] | None
    ) -> None:
        """Check calls and ``in`` inside ``node`` (not inside execution blocks, which are
        subqueries of their own) and collect the field references into ``refs``."""
        kind = _KINDS.get(type(node))
        if kind is None:
            kind = _kind(type(node))
        if kind is _Kind.FIELD:
            if refs is not None:
                refs.append(node)  # type: ignore[arg-type]
        elif kind is _Kind.CALL:
            self.call(node, context, refs)  # type: ignore[arg-type]
        elif kind is not _Kind.SKIP:
            if kind is _Kind.IN and not node.block.commands:  # type: ignore[attr-defined]
                self.add(
                    "DQL114",
                    "the `in` operator needs a subquery, the execution block is empty",
                    node.block,  # type: ignore[attr-defined]
                    'for a list of values use the in() function: `in(x, {"a", "b"})`',
                )
            for child in child_nodes(node):
                # Leaves and field references here, without a call per child.
                kind = _KINDS.get(type(child))
                if kind is _Kind.FIELD:
                    if refs is not None:
                        refs.append(child)  # type: ignore[arg-type]
                elif kind is not _Kind.SKIP:
                    self.expression(child, context, refs)

    def call(
        self, call: Call, context: FunctionContext | None, refs: list[FieldRef] | None
    ) -> None:
        catalog = get_catalog()
        fn = catalog.function(call.name, context)
        if fn is not None and fn.is_undocumented_alias(call.name):
            self.add(
                "DQL121",
                f"`{call.name}()` is not a documented DQL function",
                call,
                f"the documented name is `{fn.name}()`",
            )
        if fn is None:
            close = catalog.suggest_function(call.name)
            self.add(
                "DQL102", f"unknown function `{call.name}()`", call, _did_you_mean(close, "()")
            )
            for arg in call.args:
                self.expression(arg, context, refs)
            return
        if fn.is_aggregation and fn.context != context:
            valid = [c for c in FUNCTION_CONTEXTS if _has_entry(call.name, c)]
            where = f"in {context}" if context else "outside an aggregation"
            self.add(
                "DQL111",
                f"aggregation function `{call.name}()` cannot be used {where}",
                call,
                f"it belongs in {_context_list(valid)}"
                + ("" if context else f"; to read the field it named, write {_backticked(call)}"),
            )
        if fn.name == "in" and any(isinstance(a, Block) for a in call.args):
            self.add(
                "DQL113",
                "the in() function does not take a subquery",
                call,
                "use the `in` operator: `x in [fetch ...]`",
            )
            for arg in call.args:
                self.expression(arg, context, refs)
            return
        bound, signature = bind_call(call, fn)
        parameters = signature.parameters if signature is not None else ()
        self.arguments(_Owner(fn.name, True, call, parameters), bound, refs, context)

    # ------------------------------------------------------------ field flow
    def removed_fields(self, flow: QueryFlow, stage: StageFlow, refs: list[FieldRef]) -> None:
        before = stage.fields_before
        if before.open:
            return
        judged: set[str] = set()  # the answer is the same for every use of a name
        for ref in refs:
            name = ref.name
            if name in judged:
                continue
            judged.add(name)
            if before.may_contain(name) or stage.creates(name):
                continue
            remover = _remover(flow, stage.index, name)
            if remover is None:
                continue
            line = remover.command.span.line if remover.command.span is not None else None
            where = f" (line {line})" if line is not None else ""
            self.add(
                "DQL201",
                f"field `{name}` does not exist here: `{remover.command.name}`{where} removed it",
                ref,
                _keep_hint(remover, name),
            )

    # ------------------------------------------------------------ variables
    def variables(
        self, query: Query, defined: frozenset[str] | None, multi: frozenset[str]
    ) -> None:
        """With ``defined``, variables that are not defined; with ``multi``, multi-select
        variables where the app's comma-separated list breaks the query. One walk, over
        the subtrees that can hold a variable (:func:`_variable_marks`)."""
        marks = _variable_marks(query)
        if marks == []:
            return
        known = defined | BUILTIN_VARIABLES if defined is not None else None
        # Reported after the others: of one node, the undefined variable comes first.
        selections: list[Diagnostic] = []
        stack: list[Node] = [query]
        while stack:
            node = stack.pop()
            for name in type(node).child_fields():
                value = getattr(node, name)
                items = value if isinstance(value, tuple) else (value,)
                # The operands of an operator chain are not a list: one value each. The
                # elements of other lists (arguments, brace items) are where a
                # multi-select value expands to several values.
                listed = isinstance(value, tuple) and not isinstance(node, Binary)
                for item in items:
                    if isinstance(item, Variable):
                        if known is not None and item.name not in known:
                            self.undefined(item, known)
                        if item.name in multi:
                            self.selection(node, item, listed, selections)
                    elif isinstance(item, String):
                        if known is not None and "$" in item.value:
                            self.in_string(item, known)
                    elif isinstance(item, Node) and spans_any(item, marks):
                        stack.append(item)
        self.found.extend(selections)

    def undefined(self, node: Variable, known: frozenset[str]) -> None:
        close = suggest(node.name, known)
        self.add(
            "DQL301",
            f"variable `${node.name}` is not defined",
            node,
            _did_you_mean(close and "$" + close),
        )

    def in_string(self, node: String, known: frozenset[str]) -> None:
        for match in _STRING_VARIABLE.finditer(node.value):
            if match.group(1) not in known:
                self.add(
                    "DQL302",
                    f"`${match.group(1)}` in this string is not a defined variable; "
                    "dashboards would leave it as it is",
                    node,
                )

    def selection(
        self, parent: Node, node: Variable, in_list: bool, found: list[Diagnostic]
    ) -> None:
        if not in_list:
            found.append(
                diagnostic(
                    "DQL303",
                    f"`${node.name}` is multi-select, but stands where one value is expected: "
                    "with two values selected the query is not valid",
                    node.span,
                    f"filter with `in(field, array(${node.name}))`",
                )
            )
        elif (
            isinstance(parent, Call) and parent.name.lower() == "in" and node is not parent.args[0]
        ):
            found.append(
                diagnostic(
                    "DQL304",
                    f"`in(..., ${node.name})` without `array()`: when nothing is selected the "
                    "Dashboards app leaves `in(x, )`, which fails",
                    node.span,
                    f"write `array(${node.name})`",
                )
            )


class _Kind(enum.Enum):
    """What :meth:`_Checker.expression` does with a node of a class."""

    SKIP = "skip"  # an execution block (a subquery of its own) or a leaf
    FIELD = "field"
    CALL = "call"
    IN = "in"
    WALK = "walk"  # its children


_KINDS: dict[type[Node], _Kind] = {}


def _kind(cls: type[Node]) -> _Kind:
    if issubclass(cls, Block):
        kind = _Kind.SKIP
    elif issubclass(cls, FieldRef):
        kind = _Kind.FIELD
    elif issubclass(cls, Call):
        kind = _Kind.CALL
    elif issubclass(cls, In):
        kind = _Kind.IN
    else:
        kind = _Kind.WALK if cls.child_fields() else _Kind.SKIP
    _KINDS[cls] = kind
    return kind


def _variable_marks(query: Query) -> list[int] | None:
    """Where a variable can be, when the query is its parsed text, unedited: the offsets
    of every `$` and `\\u0024` escape (a `$` in a string), sorted; a subtree whose span
    holds none has no variable. None for other queries (built or edited), whose nodes
    must all be looked at."""
    source = query.source
    if query.span is None or source is None or len(source) != query.span.end:
        return None
    if "$" not in source and "\\u0024" not in source.lower():
        return []
    return [m.start() for m in _VARIABLE_MARK.finditer(source)]


_VARIABLE_MARK = re.compile(r"\$|\\u0024", re.IGNORECASE)


def _written_name(node: Node) -> str | None:
    """A name written as an identifier or as a string (`logs`, `"logs"`), else None."""
    if isinstance(node, FieldRef):
        return node.name
    if isinstance(node, String):
        return node.value
    return None


def _did_you_mean(suggestion: str | None, suffix: str = "") -> str | None:
    return f"did you mean `{suggestion}{suffix}`?" if suggestion else None


def _backticked(node: Node) -> str:
    """The field a node's text names, written as DQL (`` `count()` ``), in a
    double-backtick code span: single backticks quote code in messages."""
    return f"`` {encode_name(_code(node))} ``"


def _has_entry(name: str, context: FunctionContext) -> bool:
    return any(f.context == context for f in get_catalog().functions_named(name))


def _naming_hint(owner: _Owner, name: str) -> str | None:
    # ``fields level: loglevel``, ``record(code: 200)``: a name meant for the value.
    if any(p.assignment_support != "none" for p in owner.parameters):
        return f"to name a value, write `{name} = ...`"
    return None


def _accepted(parameters: Sequence[Parameter]) -> str | None:
    names = [p.name for p in parameters if not p.hidden]
    return "parameters: " + ", ".join(names) if names else None


def _remover(flow: QueryFlow, index: int, name: str) -> StageFlow | None:
    """The last stage before ``index`` after which ``name`` could no longer exist."""
    for stage in reversed(flow.stages[:index]):
        if stage.fields_before.may_contain(name) and not stage.fields_after.may_contain(name):
            return stage
    return None


def _keep_hint(remover: StageFlow, name: str) -> str | None:
    if remover.command.name == "summarize":
        return f"add it to `by:` or aggregate it, e.g. `takeAny({name})`"
    if remover.command.name in ("fields", "fieldsKeep"):
        return f"list `{name}` in `{remover.command.name}`"
    return None


@collector_paused  # acyclic results: see dqlbuild.syntax.collector
def check(
    query: Query | str,
    *,
    defined_variables: Iterable[str] | None = None,
    fragment: bool = False,
    multi_select: Iterable[str] = (),
) -> list[Diagnostic]:
    """Check ``query`` (a Query, or DQL text to parse) against the catalog and its own
    field flow.

    ``defined_variables``: the dashboard variables that exist; when given, other
    ``$variables`` are reported (``$dt_timeframe_from``/``_to`` are always defined).
    ``multi_select``: the variables that are multi-select, whose uses where one value is
    expected are reported.
    ``fragment``: the query is a pipeline fragment (e.g. an OpenPipeline processor), so
    its first command need not be a start command; text is parsed as a fragment.
    """
    query = as_query(query, fragment=fragment)
    checker = _Checker(fragment=fragment)
    top = analyze(query)
    for flow in top.flows():
        checker.flow(flow, top=flow is top)
    defined: frozenset[str] | None = None
    if defined_variables is not None:
        names = {defined_variables} if isinstance(defined_variables, str) else defined_variables
        defined = frozenset(names)
    multi = frozenset({multi_select} if isinstance(multi_select, str) else multi_select)
    if defined is not None or multi:
        checker.variables(query, defined, multi)
    return sorted(checker.found, key=_position)


def _position(found: Diagnostic) -> tuple[int, int]:
    return (found.span.start, found.span.end) if found.span is not None else (1 << 62, 0)


__all__ = ["BUILTIN_VARIABLES", "check"]
