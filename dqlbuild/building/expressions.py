"""Expression proxies: Python operators that build DQL expression nodes.

``F("status") >= 500`` is an :class:`Expression` wrapping ``Binary('>=', (FieldRef,
Long))``. Proxies never hold text; ``expr.node`` is the plain AST node, whose ``==`` is
structural again. Inside expressions a Python value is always a value: ``"x"`` is a
string literal, ``[1, 2]`` an ``array(...)``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeAlias

from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import (
    EXPRESSION_TYPES,
    IDENTIFIER,
    VARIABLE_MODIFIERS,
    Access,
    Align,
    Arg,
    Assign,
    Block,
    Call,
    Command,
    Expr,
    FieldRef,
    In,
    Named,
    Query,
    Sorted,
    Unary,
    Variable,
    chain,
)
from dqlbuild.building.arguments import (
    ParameterSet,
    catalog_string,
    fragment,
    hint,
    is_pseudo_parameter,
    make,
    parameter_set,
    pseudo_name,
    python_name,
    subquery,
    takes_assignments,
)
from dqlbuild.building.values import duration, scalar_literal
from dqlbuild.catalog import camel_from_snake, get_catalog, snake_case, suggest
from dqlbuild.errors import DQLCatalogError, DQLValueError
from dqlbuild.printing.canonical import format_node

_ALIGNMENT = re.compile(r"([0-9]*)([A-Za-z][A-Za-z0-9]*)\Z")


class Expression:
    """A DQL expression under construction. Operators build new expressions:

    ``== != < <= > >= + - * / %`` as in DQL, ``&`` ``|`` ``^`` for ``and`` ``or``
    ``xor``, ``~`` for ``not``, unary ``-``. Python's ``and``/``or``/``not`` and ``if``
    would ask for a truth value, which an expression does not have: ``bool()`` raises.
    """

    __slots__ = ("_node",)
    _node: Expr
    __hash__ = None  # type: ignore[assignment]  # == builds an expression

    def __init__(self, node: Node | Expression) -> None:
        if isinstance(node, Expression):
            node = node.node
        if not isinstance(node, EXPRESSION_TYPES):
            raise DQLValueError(f"{_describe(node)} is not an expression")
        object.__setattr__(self, "_node", node)

    @property
    def node(self) -> Expr:
        """The AST node (immutable; compare nodes, not proxies, with ``==``)."""
        node: Expr = self._node
        return node

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("expressions are immutable; operators return new ones")

    def __reduce__(self) -> tuple[type[Expression], tuple[Expr]]:
        # copy, deepcopy and pickle rebuild through __init__ (attributes are read-only).
        return (Expression, (self.node,))

    # ------------------------------------------------------------------ operators
    def _binary(self, op: str, other: object, *, reflected: bool = False) -> Expression:
        right = expression_node(other)
        left, right = (right, self.node) if reflected else (self.node, right)
        # `reduce(operator.or_, terms)` extends one flat chain, as the parser reads it.
        return Expression(chain(op, left, right))

    def __eq__(self, other: object) -> Expression:  # type: ignore[override]
        return self._binary("==", other)

    def __ne__(self, other: object) -> Expression:  # type: ignore[override]
        return self._binary("!=", other)

    def __lt__(self, other: object) -> Expression:
        return self._binary("<", other)

    def __le__(self, other: object) -> Expression:
        return self._binary("<=", other)

    def __gt__(self, other: object) -> Expression:
        return self._binary(">", other)

    def __ge__(self, other: object) -> Expression:
        return self._binary(">=", other)

    def __add__(self, other: object) -> Expression:
        return self._binary("+", other)

    def __radd__(self, other: object) -> Expression:
        return self._binary("+", other, reflected=True)

    def __sub__(self, other: object) -> Expression:
        return self._binary("-", other)

    def __rsub__(self, other: object) -> Expression:
        return self._binary("-", other, reflected=True)

    def __mul__(self, other: object) -> Expression:
        return self._binary("*", other)

    def __rmul__(self, other: object) -> Expression:
        return self._binary("*", other, reflected=True)

    def __truediv__(self, other: object) -> Expression:
        return self._binary("/", other)

    def __rtruediv__(self, other: object) -> Expression:
        return self._binary("/", other, reflected=True)

    def __mod__(self, other: object) -> Expression:
        return self._binary("%", other)

    def __rmod__(self, other: object) -> Expression:
        return self._binary("%", other, reflected=True)

    def __and__(self, other: object) -> Expression:
        return self._binary("and", other)

    def __rand__(self, other: object) -> Expression:
        return self._binary("and", other, reflected=True)

    def __or__(self, other: object) -> Expression:
        return self._binary("or", other)

    def __ror__(self, other: object) -> Expression:
        return self._binary("or", other, reflected=True)

    def __xor__(self, other: object) -> Expression:
        return self._binary("xor", other)

    def __rxor__(self, other: object) -> Expression:
        return self._binary("xor", other, reflected=True)

    def __invert__(self) -> Expression:
        return self.not_()

    def __neg__(self) -> Expression:
        return Expression(Unary(op="-", operand=self.node))

    def not_(self) -> Expression:
        """``not expr``."""
        return Expression(Unary(op="not", operand=self.node))

    # ------------------------------------------------------------------ guards
    def __bool__(self) -> NoReturn:
        raise DQLValueError(
            f"the DQL expression `{self}` has no truth value",
            hint="combine expressions with & | ~ (not and/or/not), and compare AST nodes"
            " with `.node == other.node`",
        )

    def __iter__(self) -> NoReturn:
        raise DQLValueError(
            f"the DQL expression `{self}` is not iterable", hint="use .each() for `expr[]`"
        )

    def __contains__(self, item: object) -> NoReturn:
        raise DQLValueError(
            "`x in expression` asks Python, not DQL", hint="use F(...).in_(...) or fn.in_(...)"
        )

    # ------------------------------------------------------------------ helpers
    def is_null(self) -> Expression:
        """``isNull(expr)``."""
        return Expression(Call(name="isNull", args=(self.node,)))

    def is_not_null(self) -> Expression:
        """``isNotNull(expr)``."""
        return Expression(Call(name="isNotNull", args=(self.node,)))

    def asc(self) -> Sorted:
        """``expr asc`` (a sort argument, not an expression)."""
        return Sorted(expr=self.node, direction="asc")

    def desc(self) -> Sorted:
        """``expr desc`` (a sort argument, not an expression)."""
        return Sorted(expr=self.node, direction="desc")

    def alias(self, name: str) -> Assign:
        """``name = expr`` (an assignment argument, not an expression)."""
        if not isinstance(name, str) or not name:
            raise DQLValueError(f"an assignment target is a non-empty field name, not {name!r}")
        return Assign(target=name, value=self.node)

    def in_(self, values: Any) -> Expression:
        """``expr in [subquery]`` for a Query, a Block or subquery text; for a list,
        tuple or any other value the function form ``in(expr, values...)``."""
        if isinstance(values, Query):
            return Expression(In(operand=self.node, block=Block(commands=values.commands)))
        if isinstance(values, Block):
            return Expression(In(operand=self.node, block=values))
        if isinstance(values, str):
            return Expression(In(operand=self.node, block=subquery(values)))
        items = values if isinstance(values, list | tuple) else (values,)
        if not items:
            raise DQLValueError(
                "in_() needs at least one value: `in(x)` with nothing to look for is not DQL",
                hint="for a dashboard variable write .in_(fn.array(var(...)))",
            )
        return Expression(Call(name="in", args=(self.node, *(expression_node(v) for v in items))))

    def search(self, pattern: object) -> Expression:
        """``expr ~ "pattern"`` (a str is the pattern string)."""
        return self._binary("~", pattern)

    def at(self, unit: str) -> Expression:
        """``expr@unit``: time alignment (``@d``, ``@h``, ``@w1``, ``@15m``)."""
        return Expression(Align(operand=self.node, unit=alignment_unit(unit)))

    def key(self, name: str) -> Expression:
        """``expr[name]``: a record field."""
        if not isinstance(name, str) or not name:
            raise DQLValueError(f"a record key is a non-empty str, not {name!r}")
        return Expression(Access(base=self.node, key=name))

    def each(self) -> Expression:
        """``expr[]``: every element of an array (iterative expression)."""
        return Expression(Access(base=self.node, key=None))

    def __getitem__(self, key: int | str) -> Expression:
        """``expr[0]`` (array element, negative counts from the end) or ``expr["k"]``."""
        if isinstance(key, str):
            return self.key(key)
        if isinstance(key, int) and not isinstance(key, bool):
            return Expression(Access(base=self.node, key=key))
        raise DQLValueError(
            f"an index is an int or a record key str, not {type(key).__name__}",
            hint="use .each() for `expr[]`",
        )

    # ------------------------------------------------------------------ text
    def __str__(self) -> str:
        return format_node(self.node)

    def __repr__(self) -> str:
        return f"Expression({str(self)!r})"


# Anything a builder accepts as an argument: proxies, nodes, Python values, and (in
# commands) DQL text. Lists, tuples and mappings hold the same things.
ArgLike: TypeAlias = (
    Expression | Node | str | int | float | timedelta | datetime
    | list[Any] | tuple[Any, ...] | Mapping[str, Any] | None
)  # fmt: skip


def alignment_unit(unit: str) -> str:
    match = _ALIGNMENT.match(unit) if isinstance(unit, str) else None
    units = get_catalog().time_alignment_units
    if match is None or match.group(2) not in units:
        name = match.group(2) if match else str(unit)
        raise DQLValueError(
            f"{unit!r} is not a time alignment unit (units: {', '.join(units)})",
            hint=hint(suggest(name, units)),
        )
    return unit


def _describe(node: object) -> str:
    if isinstance(node, Node):
        return f"`{format_node(node)}`" if not isinstance(node, Query) else "a query"
    return f"a {type(node).__name__}"


# ---------------------------------------------------------------------- conversion
def node_of(value: object) -> Arg | None:
    """The node a proxy, node or Query stands for (a Query is a subquery); ``None`` for
    a plain Python value."""
    if isinstance(value, Expression):
        return value.node
    if isinstance(value, Query):
        return Block(commands=value.commands)
    if isinstance(value, Command):
        raise DQLValueError(
            f"the command `{value.name}` is a stage, not an argument",
            hint="wrap stages in a Query for a subquery, or use Query.insert/append",
        )
    if isinstance(value, Node):
        arg: Arg = value  # type: ignore[assignment]  # every other node is an Arg
        return arg
    return None


def value_node(value: object) -> Arg:
    """Any builder value as a node, reading a str as a string value."""
    node = node_of(value)
    if node is not None:
        return node
    literal = scalar_literal(value)
    if literal is not None:
        return literal
    if isinstance(value, list | tuple):
        return Call(name="array", args=tuple(expression_node(v) for v in value))
    if isinstance(value, Mapping):
        return Call(name="record", args=tuple(assignments(value, value_node)))
    raise DQLValueError(f"a {type(value).__name__} cannot be turned into DQL")


def expression_node(value: object) -> Expr:
    """Like :func:`value_node`, but only expressions (no ``x desc``, ``a = b``, ...)."""
    node = value_node(value)
    if not isinstance(node, EXPRESSION_TYPES):
        raise DQLValueError(f"{_describe(node)} cannot stand inside an expression")
    expr: Expr = node  # type: ignore[assignment]
    return expr


def assignment_items(mapping: Mapping[Any, Any]) -> list[tuple[str, Any]]:
    """The items of a dict of assignments, with their targets checked."""
    for target in mapping:
        if not isinstance(target, str) or not target:
            raise DQLValueError(f"an assignment target is a non-empty str, not {target!r}")
    return list(mapping.items())


def assignments(mapping: Mapping[Any, Any], convert: Any) -> list[Assign]:
    """``{"name": value}`` as assignments ``name = value``."""
    return [
        make(Assign, target=target, value=convert(value))
        for target, value in assignment_items(mapping)
    ]


# ---------------------------------------------------------------------- entry points
def F(name: str) -> Expression:
    """A field reference. ``name`` is the field's name as is: ``F("a.b")`` is the flat
    field ``a.b``; backticks are added in the text only where DQL needs them."""
    if not isinstance(name, str) or not name:
        raise DQLValueError(f"a field name is a non-empty str, not {name!r}")
    return Expression(FieldRef(name=name))


def var(name: str, modifier: str | None = None) -> Expression:
    """A dashboard variable ``$name`` (``modifier``: noquote, backtick, triplequote).
    A leading ``$`` in ``name`` is accepted."""
    if not isinstance(name, str):
        raise DQLValueError(f"a variable name is a str, not {type(name).__name__}")
    bare = name[1:] if name.startswith("$") else name
    if not IDENTIFIER.match(bare):
        raise DQLValueError(
            f"{name!r} is not a variable name (letters, digits and _, not starting with a digit)"
        )
    if modifier is not None and modifier not in VARIABLE_MODIFIERS:
        raise DQLValueError(
            f"{modifier!r} is not a variable modifier ({', '.join(VARIABLE_MODIFIERS)})",
            hint=hint(suggest(str(modifier), VARIABLE_MODIFIERS, cutoff=0.5)),
        )
    return Expression(Variable(name=bare, modifier=modifier))


def lit(value: object) -> Expression:
    """A Python value as a DQL literal: str (escaped exactly), int, float, bool, None,
    timedelta (duration), aware datetime (``toTimestamp(...)``), list/tuple
    (``array(...)``), dict (``record(...)``). Proxies and nodes pass through."""
    return Expression(expression_node(value))


def dur(value: str | int | timedelta, unit: str | None = None) -> Expression:
    """A duration literal: ``dur("5m")``, ``dur(5, "m")``, ``dur(timedelta(hours=2))``."""
    return Expression(duration(value, unit))


def expr(text: str) -> Expression:
    """An expression parsed from DQL text, to combine with operators."""
    if not isinstance(text, str):
        raise DQLValueError(f"expr() parses DQL text, not a {type(text).__name__}")
    node = fragment(text)
    if not isinstance(node, EXPRESSION_TYPES):
        raise DQLValueError(
            f"{text!r} is an argument, not an expression", hint="pass it to the command as is"
        )
    return Expression(node)


# ---------------------------------------------------------------------- functions
class UnknownFunctionError(DQLCatalogError, AttributeError):
    """``fn.<name>`` for a name the catalog does not know (also an AttributeError, so
    that ``hasattr(fn, name)`` works)."""


class Function:
    """A DQL function, called like a Python function: ``fn.round(F("x"), decimals=2)``.

    Positional arguments are values (a str is a string); keyword arguments are named
    parameters checked against the catalog, with a trailing underscore dropped where it
    only avoids a Python keyword (``else_=``). For functions that take assignments
    (``record``) other keywords are assignments ``name = value``.
    """

    __slots__ = ("name", "parameters")

    def __init__(self, name: str, parameters: ParameterSet | None) -> None:
        self.name = name
        self.parameters = parameters

    def __call__(self, *args: ArgLike, **named: ArgLike) -> Expression:
        items: list[Arg] = []
        for value in args:
            node = value_node(value)
            if isinstance(node, Named) and self.parameters is not None:
                self._check_named(node.name)
            items.append(node)
        for key, value in named.items():
            items.append(self._keyword(key, value))
        return Expression(make(Call, name=self.name, args=tuple(items)))

    def _check_named(self, name: str) -> None:
        assert self.parameters is not None
        if self.parameters.resolve(name) is None and not is_pseudo_parameter(name):
            raise self.parameters.unknown(name)

    def _keyword(self, key: str, value: object) -> Arg:
        params = self.parameters
        resolved = params.resolve(key) if params is not None else None
        if resolved is not None:
            spelled, param = resolved
            node: Node | None = None
            if isinstance(value, str):
                node = catalog_string(value, param, f"function `{self.name}`")
            return make(Named, name=spelled, value=node or value_node(value))
        if is_pseudo_parameter(key):
            node = pseudo_name(value) or value_node(value)
            return make(Named, name=python_name(key), value=node)
        if params is None:
            return make(Named, name=python_name(key), value=value_node(value))
        if params.takes_assignments:
            return make(Assign, target=python_name(key), value=value_node(value))
        raise params.unknown(key)

    def __repr__(self) -> str:
        return f"fn.{self.name}"


@functools.cache
def function(attribute: str) -> Function:
    """The catalog function called ``attribute`` (camelCase or snake_case, any case,
    ``if_``/``in_`` for the Python keywords)."""
    name = python_name(attribute)
    catalog = get_catalog()
    entries = catalog.functions_named(name) or catalog.functions_named(camel_from_snake(name))
    if not entries:
        guess = catalog.suggest_function(name) or catalog.suggest_function(camel_from_snake(name))
        raise UnknownFunctionError(f"unknown DQL function {name!r}", hint=hint(guess))
    canonical = entries[0].name
    params = [p for entry in entries for sig in entry.signatures for p in sig.parameters]
    owner = f"function `{canonical}`"
    return Function(canonical, parameter_set(owner, params, assignments=takes_assignments(params)))


class FunctionNamespace:
    """``fn.<name>(...)`` for every catalog function; ``fn("name", ...)`` for a function
    the catalog does not know yet (no checks)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Function:
        if name.startswith("_"):
            raise AttributeError(name)
        return function(name)

    def __call__(self, name: str, /, *args: ArgLike, **named: ArgLike) -> Expression:
        try:
            known = function(name)
        except UnknownFunctionError:
            known = Function(name, None)
        return known(*args, **named)

    def __dir__(self) -> list[str]:
        names = {f.name for f in get_catalog().functions}
        return sorted(names | {snake_case(n) for n in names})

    def __repr__(self) -> str:
        return "fn"


fn = FunctionNamespace()
