"""Binding the arguments of a command or function call to catalog parameters.

One implementation (DQL_SPEC §3.2 with the corrections of §10 #7) shared by field flow
and the checks:

1. Command arguments are flattened through brace groups, recursively; a ``name:``
   argument found inside a group is lifted to the command (embedded parameters), and
   ``alias:`` names the value written just before it in the same group.
2. ``name:`` binds to the parameter with that name or alias, ignoring case.
3. Other values fill the positional parameters in catalog order; a variadic positional
   parameter absorbs every later unnamed value, even after named arguments.
4. A variadic *named* parameter takes one value (a brace group gives several).
5. When a command has two or more variadic positional parameters (``traverse``), each
   takes exactly one top-level argument: a single value or one brace group.

Function calls bind the same way except that braces are values (``in(x, {"a", "b"})``)
and are not flattened.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import Assign, Brace, Call, Command, FieldRef, Named, String
from dqlbuild.catalog import Command as CatalogCommand
from dqlbuild.catalog import Function, Parameter, Signature, get_catalog
from dqlbuild.printing.canonical import format_node

ProblemKind = Literal[
    "unknown-parameter",
    "duplicate-parameter",
    "too-many-positional",
    "named-only-positional",
    "missing-required",
    "excluded-together",
]

ALIAS = "alias"


def output_name(node: Node) -> str:
    """The field name DQL gives an unassigned expression (DQL_SPEC §2.14): a field
    reference keeps its name, anything else is named after its canonical text."""
    if isinstance(node, FieldRef):
        return node.name
    return format_node(node, width=10**9)


@dataclass(frozen=True)
class BoundValue:
    """One value of an argument list, with the parameter it binds to."""

    node: Node
    """The value as written, without ``name:`` and braces: may be an ``Assign``, a
    ``Sorted``, a ``Block`` or an expression."""
    parameter: Parameter | None
    """``None`` when it binds to nothing (unknown name, too many positional values)."""
    named: bool = False
    """Given as ``name: value``."""
    alias: str | None = None
    """The name an ``alias:`` after it gives it."""
    carrier: Node | None = None
    """The argument that holds the value when that is not ``node`` itself (the
    ``Named`` or ``Brace``), for positions."""

    @property
    def expr(self) -> Node:
        """The value without an ``name =`` assignment."""
        return self.node.value if isinstance(self.node, Assign) else self.node

    @property
    def assigned_name(self) -> str | None:
        """The name given with ``name = value`` or ``alias:``."""
        if isinstance(self.node, Assign):
            return self.node.target
        return self.alias

    @property
    def name(self) -> str:
        """The output field name of this value: assigned, else canonical."""
        assigned = self.assigned_name
        return assigned if assigned is not None else output_name(self.expr)


_new = object.__new__


def _value(
    node: Node,
    parameter: Parameter | None,
    named: bool = False,
    alias: str | None = None,
    carrier: Node | None = None,
) -> BoundValue:
    """``BoundValue(...)`` in one step instead of a frozen ``__setattr__`` per field:
    binding makes one per argument of every command and call."""
    value: BoundValue = _new(BoundValue)
    value.__dict__.update(node=node, parameter=parameter, named=named, alias=alias, carrier=carrier)
    return value


@dataclass(frozen=True)
class BindingProblem:
    kind: ProblemKind
    name: str
    """The parameter name concerned (as written for unknown names)."""
    node: Node | None = None
    """Where it shows in the text; ``None`` for a missing parameter."""
    parameter: Parameter | None = None


@dataclass(frozen=True)
class BoundArguments:
    """The arguments of one command or call, bound to parameters."""

    values: tuple[BoundValue, ...]
    """Every value in source order."""
    problems: tuple[BindingProblem, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    _by_param: dict[str, tuple[BoundValue, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def get(self, name: str) -> tuple[BoundValue, ...]:
        """The values bound to the parameter called ``name`` (catalog name, any case)."""
        by_param = self._by_param
        if not by_param:  # grouped on first use: the checks only walk the values
            groups: dict[str, list[BoundValue]] = {}
            for value in self.values:
                if value.parameter is not None:
                    groups.setdefault(value.parameter.name.lower(), []).append(value)
            by_param.update({k: tuple(v) for k, v in groups.items()})
            by_param[""] = ()  # grouped (no parameter has an empty name)
        return by_param.get(name.lower(), ())

    def first(self, name: str) -> BoundValue | None:
        found = self.get(name)
        return found[0] if found else None

    def has(self, name: str) -> bool:
        return bool(self.get(name))

    @property
    def unbound(self) -> tuple[BoundValue, ...]:
        return tuple(v for v in self.values if v.parameter is None)


def _arguments(
    values: tuple[BoundValue, ...],
    problems: tuple[BindingProblem, ...],
    parameters: tuple[Parameter, ...],
) -> BoundArguments:
    """``BoundArguments(...)`` in one step, as :func:`_value`."""
    bound: BoundArguments = _new(BoundArguments)
    bound.__dict__.update(values=values, problems=problems, parameters=parameters, _by_param={})
    return bound


@dataclass
class _Item:
    """A value before binding: its name (for ``name:`` values) and top-level slot."""

    node: Node
    named: str | None
    slot: int
    carrier: Node | None
    alias: str | None = None


def _alias_name(value: Node) -> str | None:
    # ``alias: name``; also seen as ``alias: "name"`` and ``alias: {name}``.
    if isinstance(value, Brace) and len(value.items) == 1:
        value = value.items[0]
    if isinstance(value, FieldRef):
        return value.name
    if isinstance(value, String):
        return value.value
    return None


def _collect(
    args: Sequence[Node], *, flatten: bool, slot: int | None, carrier: Node | None
) -> Iterator[_Item]:
    """Values of an argument list or group in order. ``slot`` numbers top-level
    arguments when None.

    ``alias:`` names the last unnamed value before it in the same group, also across
    named arguments (``summarize count(), by: {h}, alias: n``); after a brace group with
    one value it names that value (``{percentile(x, 75)}, alias: p75``).
    """
    last: _Item | None = None
    for position, arg in enumerate(args):
        here = position if slot is None else slot
        if isinstance(arg, Named):
            if arg.name.lower() == ALIAS:
                if last is not None:
                    last.alias = _alias_name(arg.value)
                    last = None
                continue
            if flatten and isinstance(arg.value, Brace):
                for item in _collect(arg.value.items, flatten=True, slot=here, carrier=arg):
                    if item.named is None:
                        item.named = arg.name
                    yield item
            else:
                yield _Item(arg.value, arg.name, here, arg)
        elif flatten and isinstance(arg, Brace):
            inner = list(_collect(arg.items, flatten=True, slot=here, carrier=arg))
            unnamed = [item for item in inner if item.named is None]
            last = unnamed[0] if len(unnamed) == 1 else None
            yield from inner
        else:
            last = _Item(arg, None, here, carrier)
            yield last


@dataclass(frozen=True)
class _Plan:
    """What binding needs of a parameter list, derived once per list."""

    parameters: Sequence[Parameter]
    visible: list[Parameter]
    by_name: dict[str, Parameter]
    one_slot_each: bool
    positional: list[Parameter]
    """The visible positional parameters, in catalog order."""
    checks: list[tuple[Parameter, str, tuple[str, ...]]]
    """Per visible parameter that is required or excludes others: its lowercase name and
    those of the parameters it excludes, for the required/excluded checks after binding."""
    pairs: bool
    """Some parameter accepts ``old, new`` pairs."""
    plain: dict[int, _Outcome] = field(default_factory=dict, compare=False)
    """Per count, how a list of plain values (no ``name:``, no brace group to flatten)
    binds: it depends on their count alone, and most lists are such (``contains(s,
    "x")``)."""
    shaped: dict[tuple[bool, Shape], _Outcome] = field(default_factory=dict, compare=False)
    """Per argument shape (:func:`_shape`), how any list of that shape binds."""


_PLANS: dict[int, _Plan] = {}


def _plan(parameters: Sequence[Parameter]) -> _Plan:
    """What binding needs of a parameter list, derived once per list: the lists are the
    catalog's own, bound again for every command and call of every query. The entry
    holds the list itself, so its id is not reused while remembered."""
    plan = _PLANS.get(id(parameters))
    if plan is not None and plan.parameters is parameters:
        return plan
    visible = [p for p in parameters if not p.hidden]
    by_name: dict[str, Parameter] = {}
    for each in parameters:
        for name in each.names:
            by_name.setdefault(name.lower(), each)
    plan = _Plan(
        parameters,
        visible,
        by_name,
        sum(1 for p in visible if p.is_positional and p.variadic) >= 2,
        [p for p in visible if p.is_positional],
        [
            (p, p.name.lower(), tuple(o.lower() for o in p.excludes))
            for p in visible
            if p.required or p.excludes
        ],
        any(p.accepts_pairs for p in parameters),
    )
    if len(_PLANS) < 4096:  # the catalog's lists; others (hand-made) are not kept
        _PLANS[id(parameters)] = plan
    return plan


def bind(
    args: Sequence[Node],
    parameters: Sequence[Parameter],
    *,
    flatten: bool = True,
) -> BoundArguments:
    """Bind ``args`` to ``parameters`` (catalog order). ``flatten`` selects command
    rules (brace groups are argument lists) over function rules (braces are values)."""
    plan = _plan(parameters)
    count = len(args)
    if count <= _PLAIN_MAX and not plan.pairs:
        for arg in args:
            if isinstance(arg, Named) or (flatten and isinstance(arg, Brace)):
                break
        else:
            # Plain values are their own items: no list of them needs collecting.
            outcome = plan.plain.get(count)
            if outcome is None:
                items = list(_collect(args, flatten=flatten, slot=None, carrier=None))
                outcome = plan.plain[count] = _outcome(items, plan)
            values = tuple(map(_value, args, outcome.parameters))
            problems = tuple(
                BindingProblem(kind, name, None if at is None else args[at], param)
                for kind, name, at, _, param in outcome.problems
            )
            return _arguments(values, problems, tuple(plan.parameters))
    if plan.pairs:  # renaming pairs reads the values themselves
        return _bind(args, plan, flatten)
    named: list[Node] = []
    shape = _shape(args, flatten, named)
    items = list(_collect(args, flatten=flatten, slot=None, carrier=None))
    if len(set(map(id, named))) != len(named):  # one ``name:`` node given twice
        return _bound(items, _outcome(items, plan), plan)
    key = (flatten, shape)
    outcome = plan.shaped.get(key)
    if outcome is None:
        outcome = _outcome(items, plan)
        if len(plan.shaped) < 512:
            plan.shaped[key] = outcome
    return _bound(items, outcome, plan)


# Lists of plain values up to this long bind by their count's remembered outcome.
_PLAIN_MAX = 16


Shape = tuple[object, ...]


def _shape(args: Sequence[Node], flatten: bool, named: list[Node]) -> Shape:
    """What binding reads of an argument list: per argument, plain (``0``), ``name:``
    (its name; with its group's shape when that is flattened) or a flattened group.
    Collects the ``Named`` nodes into ``named``."""
    key: list[object] = []
    for arg in args:
        if isinstance(arg, Named):
            named.append(arg)
            value = arg.value
            if flatten and isinstance(value, Brace):
                key.append((":", arg.name, _shape(value.items, True, named)))
            else:
                key.append(arg.name)
        elif flatten and isinstance(arg, Brace):
            key.append(("{", _shape(arg.items, True, named)))
        else:
            key.append(0)
    return tuple(key)


@dataclass(frozen=True)
class _Outcome:
    """How a list of collected items binds, by item position: the same for every list
    of the same shape, since binding reads names and nesting, never the values."""

    parameters: tuple[Parameter | None, ...]
    """The parameter of each item."""
    problems: tuple[tuple[ProblemKind, str, int | None, bool, Parameter | None], ...]
    """Each problem: kind, name, the item it shows at (None: nowhere) and whether at
    the item's ``name:`` argument or group (else at its value), parameter."""


def _bind(args: Sequence[Node], plan: _Plan, flatten: bool) -> BoundArguments:
    """The full rules."""
    items = list(_collect(args, flatten=flatten, slot=None, carrier=None))
    return _bound(items, _outcome(items, plan), plan)


def _bound(items: list[_Item], outcome: _Outcome, plan: _Plan) -> BoundArguments:
    values = [
        _value(item.node, param, item.named is not None, item.alias, item.carrier)
        for item, param in zip(items, outcome.parameters, strict=True)
    ]
    problems = []
    for kind, name, index, at_carrier, param in outcome.problems:
        node: Node | None = None
        if index is not None:
            item = items[index]
            node = (item.carrier or item.node) if at_carrier else item.node
        problems.append(BindingProblem(kind, name, node, param))
    if plan.pairs:
        values = _rename_pairs(values)
    return _arguments(tuple(values), tuple(problems), tuple(plan.parameters))


def _outcome(items: list[_Item], plan: _Plan) -> _Outcome:
    visible, by_name, one_slot_each = plan.visible, plan.by_name, plan.one_slot_each
    # Unnamed values fill the positional parameters that were not given by name.
    given = {
        by_name[item.named.lower()].name
        for item in items
        if item.named is not None and item.named.lower() in by_name
    }
    positional = [p for p in plan.positional if p.name not in given] if given else plan.positional

    params: list[Parameter | None] = []
    problems: list[tuple[ProblemKind, str, int | None, bool, Parameter | None]] = []
    named_seen: dict[str, tuple[Node, int]] = {}
    filled: set[str] = set()
    next_positional = 0
    positional_count = 0
    current_slot: int | None = None
    overflowed = False

    for index, item in enumerate(items):
        param: Parameter | None
        if item.named is not None:
            param = by_name.get(item.named.lower())
            where = item.carrier or item.node
            if param is None:
                if not get_catalog().is_pseudo_parameter(item.named):
                    problems.append(("unknown-parameter", item.named, index, True, None))
                params.append(None)
                continue
            key = param.name.lower()
            seen = named_seen.get(key)
            if seen is not None and seen[0] is not where and not param.variadic:
                problems.append(("duplicate-parameter", param.name, index, True, param))
            named_seen.setdefault(key, (where, index))
            filled.add(key)
            params.append(param)
            continue

        param = None
        if one_slot_each:
            if current_slot is not None and item.slot != current_slot:
                next_positional += 1
            current_slot = item.slot
            if next_positional < len(positional):
                param = positional[next_positional]
        elif next_positional < len(positional):
            param = positional[next_positional]
            if not param.variadic:
                next_positional += 1
        if param is None:
            # One report per argument list: later extra values add nothing new.
            if not overflowed:
                kind, name, at = _overflow(visible, positional_count, filled)
                problems.append((kind, name, index, False, at))
            overflowed = True
        else:
            filled.add(param.name.lower())
        positional_count += 1
        params.append(param)

    reported: set[frozenset[str]] = set()
    for param, key, excludes in plan.checks:
        if key in filled:
            for other, lowered in zip(param.excludes, excludes, strict=True):
                pair = frozenset((key, lowered))
                if lowered in filled and pair not in reported:
                    reported.add(pair)
                    seen = named_seen.get(lowered)
                    at_index = None if seen is None else seen[1]
                    problems.append(("excluded-together", other, at_index, True, param))
        elif param.required and not any(o in filled for o in excludes):
            problems.append(("missing-required", param.name, None, False, param))
    return _Outcome(tuple(params), tuple(problems))


def _rename_pairs(values: list[BoundValue]) -> list[BoundValue]:
    """``fieldsRename old, new`` (pairs of unnamed names) as ``old`` aliased ``new``,
    for the parameters the catalog says accept pairs."""
    result: list[BoundValue] = []
    pending: BoundValue | None = None
    for value in values:
        param = value.parameter
        pairable = (
            param is not None
            and param.accepts_pairs
            and not value.named
            and value.assigned_name is None
            and isinstance(value.node, FieldRef | String)
        )
        if not pairable:
            if pending is not None:
                result.append(pending)
                pending = None
            result.append(value)
        elif pending is None:
            pending = value
        else:
            assert isinstance(value.node, FieldRef | String)
            new = value.node.name if isinstance(value.node, FieldRef) else value.node.value
            result.append(BoundValue(pending.node, pending.parameter, False, new, value.node))
            pending = None
    if pending is not None:
        result.append(pending)
    return result


def _overflow(
    visible: Sequence[Parameter], index: int, filled: set[str]
) -> tuple[ProblemKind, str, Parameter | None]:
    # The engine fills parameters in catalog order, so the value at this position
    # lands on whatever parameter sits there: a named-only one is the likely mistake.
    if index < len(visible):
        param = visible[index]
        if param.requires_name and param.name.lower() not in filled:
            return "named-only-positional", param.name, param
    return "too-many-positional", "", None


def leading_value(command: Command, spec: CatalogCommand, name: str) -> Node | None:
    """The value binding gives the parameter ``name`` first, when that is plain to see:
    ``name`` is the command's first positional parameter, the first argument is an
    unnamed value, and every later one a ``name:`` argument (no brace group, no
    ``alias:``) for another parameter, so nothing else takes or names that place. None
    when only :func:`bind_command` can tell."""
    args = command.args
    if not args or isinstance(args[0], Named | Brace):
        return None
    plan = _plan(spec.parameters)
    if plan.one_slot_each or plan.pairs or not plan.positional:
        return None
    param = plan.positional[0]
    if param.name.lower() != name.lower():
        return None
    for arg in args[1:]:
        if not isinstance(arg, Named) or isinstance(arg.value, Brace):
            return None
        key = arg.name.lower()
        if key == ALIAS or plan.by_name.get(key) is param:
            return None
    first = args[0]
    return first.value if isinstance(first, Assign) else first


def bind_arguments(command: Command) -> BoundArguments:
    """Bind the arguments of ``command``; an unknown command binds nothing."""
    spec = get_catalog().command(command.name)
    if spec is None:
        return BoundArguments(tuple(BoundValue(a, None) for a in command.args))
    return bind_command(command, spec)


def bind_command(command: Command, spec: CatalogCommand) -> BoundArguments:
    return bind(command.args, spec.parameters, flatten=True)


def bind_call(call: Call, function: Function) -> tuple[BoundArguments, Signature | None]:
    """Bind a call to the first signature of ``function`` that fits without problems,
    else to the one with the fewest problems."""
    best: tuple[BoundArguments, Signature | None] | None = None
    for signature in function.signatures:
        bound = bind(call.args, signature.parameters, flatten=False)
        if not bound.problems:
            return bound, signature
        if best is None or len(bound.problems) < len(best[0].problems):
            best = (bound, signature)
    if best is None:
        return bind(call.args, (), flatten=False), None
    return best


__all__ = [
    "BindingProblem",
    "BoundArguments",
    "BoundValue",
    "bind",
    "bind_arguments",
    "bind_call",
    "bind_command",
    "leading_value",
    "output_name",
]
