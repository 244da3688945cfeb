"""Function calls: binding to the catalog, and the scalar functions of the engine.

Parameters, their names, aliases and defaults come from the catalog (binding is the
analysis' own, :func:`dqlbuild.analysis.binding.bind_call`); each implementation says
which parameters it supports, and any other parameter given is refused by name.
String, time and array functions live in their own modules and register here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from dqlbuild.analysis.binding import BoundArguments, bind_call
from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import (
    Boolean,
    Brace,
    Call,
    Double,
    Duration,
    FieldRef,
    Long,
    Null,
    String,
    Unary,
)
from dqlbuild.catalog import Function, Parameter, get_catalog
from dqlbuild.engine import sql
from dqlbuild.engine.core import Scope, Typed, check_binding, evaluation_error, unsupported
from dqlbuild.engine.expressions import compile_expr, expect_boolean
from dqlbuild.engine.types import (
    ANY,
    BOOLEAN,
    DOUBLE,
    DURATION,
    LONG,
    NULL,
    STRING,
    TIMESTAMP,
    DType,
    storage_type,
    unify,
)
from dqlbuild.syntax.parser import parse_expression


@dataclass
class Args:
    """The bound arguments of one call, compiled on demand."""

    scope: Scope
    call: Call
    function: Function
    bound: BoundArguments
    _cache: dict[int, Typed] = field(default_factory=dict)

    def nodes(self, name: str) -> list[Node]:
        return [value.expr for value in self.bound.get(name)]

    def node(self, name: str) -> Node | None:
        found = self.bound.first(name)
        return found.expr if found is not None else None

    def given(self, name: str) -> bool:
        return self.bound.has(name)

    def typed(self, name: str) -> Typed | None:
        """The compiled argument, or its catalog default, or None."""
        node = self.node(name)
        if node is None:
            default = self.default(name)
            return compile_expr(self.scope, default) if default is not None else None
        return self.compile(node)

    def compile(self, node: Node) -> Typed:
        key = id(node)
        if key not in self._cache:
            self._cache[key] = compile_expr(self.scope, node)
        return self._cache[key]

    def required(self, name: str) -> Typed:
        value = self.typed(name)
        if value is None:
            raise evaluation_error(f"{self.function.name}() needs its {name!r} argument", self.call)
        return value

    def all(self, name: str) -> list[Typed]:
        """A variadic parameter's values; a brace group counts as its items."""
        result: list[Typed] = []
        for node in self.nodes(name):
            items = node.items if isinstance(node, Brace) else (node,)
            result.extend(self.compile(item) for item in items)
        return result

    def parameter(self, name: str) -> Parameter | None:
        return self.function.parameter(name)

    def default(self, name: str) -> Node | None:
        parameter = self.parameter(name)
        if parameter is None or parameter.default_value is None:
            return None
        return parse_expression(parameter.default_value)

    def constant(self, name: str) -> Any:
        """A parameter whose value must be known when compiling (``decimals:``...); an
        enum value may be written as a name or a string (``direction: descending``)."""
        node = self.node(name)
        parameter = self.parameter(name)
        is_enum = parameter is not None and "enum" in parameter.kinds
        if node is None:
            if is_enum and parameter is not None:
                return parameter.default_value
            node = self.default(name)
            if node is None:
                return None
        if is_enum and isinstance(node, FieldRef):
            return node.name
        return constant_value(node, f"the {name!r} argument of {self.function.name}()")


def constant_value(node: Node, what: str) -> Any:
    """The Python value of a literal (possibly negated) argument."""
    if isinstance(node, String | Long | Double | Boolean):
        return node.value
    if isinstance(node, Null):
        return None
    if isinstance(node, Duration):
        from dqlbuild.engine.expressions import MONTHS, NANOS

        if node.unit in MONTHS:
            raise unsupported(f"a calendar duration as {what}", node)
        return node.value * NANOS[node.unit]
    if isinstance(node, Unary) and node.op == "-":
        inner = constant_value(node.operand, what)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner
    raise unsupported(f"{what} other than a literal", node)


Implementation = Callable[[Args], Typed]


@dataclass(frozen=True)
class Spec:
    implementation: Implementation
    parameters: frozenset[str]
    """Catalog parameter names (lower case) the implementation handles."""


SCALAR: dict[str, Spec] = {}


def scalar(name: str, *parameters: str) -> Callable[[Implementation], Implementation]:
    """Register the implementation of catalog function ``name``."""

    def register(implementation: Implementation) -> Implementation:
        SCALAR[name.lower()] = Spec(implementation, frozenset(p.lower() for p in parameters))
        return implementation

    return register


def bind(scope: Scope, call: Call, function: Function) -> BoundArguments:
    """Bind a call; problems (unknown parameter, missing argument...) are errors."""
    return check_binding(bind_call(call, function)[0], f"{function.name}()", call)


def check_parameters(args: Args, supported: frozenset[str], what: str | None = None) -> None:
    for value in args.bound.values:
        if value.parameter is not None and value.parameter.name.lower() not in supported:
            node = value.carrier or value.node
            raise unsupported(
                f"the parameter {value.parameter.name!r} of {what or args.function.name}()", node
            )


def compile_call(scope: Scope, call: Call) -> Typed:
    catalog = get_catalog()
    entries = catalog.functions_named(call.name)
    if not entries:
        suggestion = catalog.suggest_function(call.name)
        hint = f"did you mean {suggestion}()?" if suggestion else None
        raise evaluation_error(f"unknown function {call.name}()", call, hint)
    context = scope.aggregation_context
    if scope.aggregate is not None and context is not None:
        aggregation = catalog.function(call.name, context)  # type: ignore[arg-type]
        if aggregation is not None and aggregation.context == context:
            return scope.aggregate(scope, call, aggregation.name, call.args)
    function = catalog.function(call.name)
    assert function is not None
    if function.context is not None:
        raise evaluation_error(
            f"{function.name}() aggregates records: use it in summarize or makeTimeseries",
            call,
        )
    spec = SCALAR.get(function.name.lower())
    if spec is None:
        raise unsupported(f"the function {function.name}()", call)
    args = Args(scope, call, function, bind(scope, call, function))
    check_parameters(args, spec.parameters)
    return spec.implementation(args)


# ============================================================================ general
def _constant(*values: Typed) -> bool:
    return all(value.constant for value in values)


@scalar("isNull", "expression")
def _is_null(args: Args) -> Typed:
    value = args.required("expression")
    return Typed(sql.is_null(value.sql), BOOLEAN, value.constant)


@scalar("isNotNull", "expression")
def _is_not_null(args: Args) -> Typed:
    value = args.required("expression")
    return Typed(exp.Not(this=sql.is_null(value.sql)), BOOLEAN, value.constant)


@scalar("isTrueOrNull", "expression")
def _is_true_or_null(args: Args) -> Typed:
    value = args.required("expression")
    expect_boolean(value, args.call, "isTrueOrNull()")
    return Typed(sql.coalesce(value.sql, sql.boolean(True)), BOOLEAN, value.constant)


@scalar("isFalseOrNull", "expression")
def _is_false_or_null(args: Args) -> Typed:
    value = args.required("expression")
    expect_boolean(value, args.call, "isFalseOrNull()")
    return Typed(sql.not_(sql.coalesce(value.sql, sql.boolean(False))), BOOLEAN, value.constant)


def common_type(values: Sequence[Typed], node: Node, what: str) -> DType:
    result: DType = NULL
    for value in values:
        joined = unify(result, value.type)
        if joined is None:
            raise evaluation_error(
                f"{what} mixes {result} and {value.type} values; they need one type", node
            )
        result = joined
    return result


def coerce(value: Typed, target: DType) -> exp.Expr:
    """``value`` in the storage type of ``target`` (long to double; typed nulls)."""
    if value.type == target or target.kind == "any":
        return value.sql
    if value.type.kind == "null":
        return sql.typed_null(target)
    if target.kind == "double" and value.type.kind == "long":
        return sql.cast(value.sql, "DOUBLE")
    if target.kind == "record" and value.type.kind == "record":
        return _record_as(value, target)
    if target.kind in ("array", "record"):
        return sql.cast(value.sql, storage_type(target))
    return value.sql


def _record_as(value: Typed, target: DType) -> exp.Expr:
    """A record with the keys of ``target``: its own values where it has the key, null
    elsewhere (records of one field may have different keys, as DQL's do)."""
    if not target.fields:
        return value.sql
    own = dict(value.type.fields)
    items = []
    for key, kind in target.fields:
        if key in own and own[key].kind != "null":
            part = Typed(
                exp.StructExtract(this=value.sql.copy(), expression=sql.string(key)), own[key]
            )
            items.append(exp.PropertyEQ(this=sql.ident(key), expression=coerce(part, kind)))
        else:
            items.append(exp.PropertyEQ(this=sql.ident(key), expression=sql.typed_null(kind)))
    rebuilt = exp.Struct(expressions=items)
    return sql.case([(sql.is_null(value.sql.copy()), sql.typed_null(target))], rebuilt)


@scalar("if", "condition", "then", "else")
def _if(args: Args) -> Typed:
    condition = args.required("condition")
    expect_boolean(condition, args.call, "if()")
    then = args.required("then")
    otherwise = args.typed("else") or Typed(sql.null(), NULL, True)
    kind = common_type([then, otherwise], args.call, "if()")
    node = sql.case([(condition.sql, coerce(then, kind))], coerce(otherwise, kind))
    return Typed(node, kind, _constant(condition, then, otherwise))


@scalar("coalesce", "expression")
def _coalesce(args: Args) -> Typed:
    values = args.all("expression")
    kind = common_type(values, args.call, "coalesce()")
    return Typed(sql.coalesce(*(coerce(v, kind) for v in values)), kind, _constant(*values))


@scalar("in", "needle", "haystack")
def _in(args: Args) -> Typed:
    from dqlbuild.engine.expressions import comparable

    needle = args.required("needle")
    items = args.all("haystack")
    checks: list[exp.Expr] = []
    scalars: list[exp.Expr] = []
    for item in items:
        if item.type.kind == "array" and needle.type.kind != "array":
            element = item.type.element or ANY
            if comparable(needle.type, element):
                checks.append(
                    sql.coalesce(
                        exp.ArrayContains(this=item.sql, expression=needle.sql), sql.boolean(False)
                    )
                )
        elif item.type.kind == "null":
            continue
        elif comparable(needle.type, item.type):
            scalars.append(item.sql)
    if scalars:
        checks.append(exp.In(this=needle.sql, expressions=scalars))
    if not checks:
        return Typed(
            sql.case([(sql.is_null(needle.sql), sql.null())], sql.boolean(False)),
            BOOLEAN,
            needle.constant,
        )
    # A null needle is null; otherwise an item that is null never matches.
    found = sql.coalesce(sql.or_all([sql.paren(c) for c in checks]), sql.boolean(False))
    return Typed(
        sql.case([(sql.is_null(needle.sql), sql.null())], found),
        BOOLEAN,
        needle.constant and all(i.constant for i in items),
    )


@scalar("record", "expression")
def _record(args: Args) -> Typed:
    from dqlbuild.analysis.binding import output_name

    fields: list[tuple[str, Typed]] = []
    for value in args.bound.get("expression"):
        name = value.assigned_name or output_name(value.expr)
        fields.append((name, args.compile(value.expr)))
    kind = DType("record", fields=tuple((name, typed.type) for name, typed in fields))
    if not fields:  # a record without keys is stored as the text {} (see data.py)
        return Typed(sql.string("{}"), kind, True)
    struct = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=sql.ident(name), expression=typed.sql) for name, typed in fields
        ]
    )
    return Typed(struct, kind, all(t.constant for _, t in fields))


# ============================================================================ conversions
def _conversion_error(args: Args, value: Typed, target: str) -> Exception:
    return evaluation_error(
        f"{args.function.name}() cannot convert a {value.type} value to {target}", args.call
    )


@scalar("toString", "value")
def _to_string(args: Args) -> Typed:
    value = args.required("value")
    return Typed(to_string(value, args.call), STRING, value.constant)


def to_string(value: Typed, node: Node) -> exp.Expr:
    kind = value.type.kind
    if kind in ("string", "null"):
        return value.sql
    if kind in ("long", "double", "boolean", "duration"):
        return sql.cast(value.sql, "VARCHAR")
    if kind == "timestamp":
        from dqlbuild.engine.timefunctions import iso_text

        return iso_text(value.sql)
    if kind == "record" and not value.type.fields:
        return value.sql  # stored as the text {}
    if kind in ("array", "record", "timeframe"):
        return sql.cast(sql.fn("to_json", _as_json_text(value.sql, value.type)), "VARCHAR")
    raise unsupported(f"toString() of a {value.type} value", node)


def _needs_rewrite(kind: DType) -> bool:
    """Whether ``kind`` holds what to_json would not write as DQL does: time values, and
    records without fields (stored as the text ``{}``, which would come out quoted)."""
    if kind.kind in ("timestamp", "duration", "timeframe"):
        return True
    if kind.kind == "record" and not kind.fields:
        return True
    if kind.kind == "array":
        return kind.element is not None and _needs_rewrite(kind.element)
    return any(_needs_rewrite(field) for _, field in kind.fields)


def _as_json_text(value: exp.Expr, kind: DType, depth: int = 0) -> exp.Expr:
    """``value`` with the timestamps and durations inside it written as DQL writes them
    in text (ISO time, nanoseconds as a string): to_json would show their stored numbers.
    A record without fields inside becomes JSON ``{}``, not the string ``"{}"``."""
    if not _needs_rewrite(kind):
        return value
    if kind.kind == "record" and not kind.fields:
        return sql.cast(value, "JSON")
    if kind.kind == "timestamp":
        from dqlbuild.engine.timefunctions import iso_text

        return iso_text(value)
    if kind.kind == "duration":
        return sql.cast(value, "VARCHAR")
    if kind.kind == "array":
        assert kind.element is not None
        item = f"_e{depth}"
        body = _as_json_text(exp.column(item), kind.element, depth + 1)
        return sql.fn(
            "list_transform", value, exp.Lambda(this=body, expressions=[exp.to_identifier(item)])
        )
    fields = kind.fields if kind.kind == "record" else (("start", TIMESTAMP), ("end", TIMESTAMP))
    record = exp.Struct(
        expressions=[
            exp.PropertyEQ(
                this=sql.ident(name),
                expression=_as_json_text(
                    exp.StructExtract(this=value.copy(), expression=sql.string(name)),
                    field,
                    depth + 1,
                ),
            )
            for name, field in fields
        ]
    )
    return sql.case([(sql.is_null(value.copy()), sql.null())], record)


@scalar("toLong", "value")
def _to_long(args: Args) -> Typed:
    value = args.required("value")
    kind = value.type.kind
    if kind in ("long", "null", "timestamp", "duration"):
        result = value.sql
    elif kind == "double":
        result = sql.try_cast(sql.fn("trunc", value.sql), "BIGINT")
    elif kind == "string":
        # Whole numbers exactly; others (4.9, 1e3) through a double, truncated.
        text = sql.fn("trim", value.sql)
        whole = exp.RegexpLike(this=text, expression=sql.string("^[+-]?[0-9]+$"))
        result = sql.case(
            [(whole, sql.try_cast(text, "BIGINT"))],
            sql.try_cast(sql.fn("trunc", sql.try_cast(text, "DOUBLE")), "BIGINT"),
        )
    elif kind == "boolean":
        result = sql.case(
            [(value.sql, sql.integer(1))],
            sql.case([(sql.is_null(value.sql), sql.null())], sql.integer(0)),
        )
        result = sql.cast(result, "BIGINT")
    else:
        raise _conversion_error(args, value, "long")
    return Typed(result, LONG if kind != "null" else NULL, value.constant)


@scalar("toDouble", "value")
def _to_double(args: Args) -> Typed:
    value = args.required("value")
    kind = value.type.kind
    if kind == "double" or kind == "null":
        result = value.sql
    elif kind in ("long", "timestamp", "duration"):
        result = sql.cast(value.sql, "DOUBLE")
    elif kind == "string":
        result = sql.try_cast(sql.fn("trim", value.sql), "DOUBLE")
    elif kind == "boolean":
        result = sql.case(
            [(sql.is_null(value.sql), sql.null()), (value.sql, sql.double(1.0))], sql.double(0.0)
        )
    else:
        raise _conversion_error(args, value, "double")
    return Typed(result, DOUBLE if kind != "null" else NULL, value.constant)


@scalar("toBoolean", "value")
def _to_boolean(args: Args) -> Typed:
    value = args.required("value")
    kind = value.type.kind
    if kind in ("boolean", "null"):
        result = value.sql
    elif kind == "string":  # "true" in any case is true, any other text false
        result = exp.EQ(this=exp.Lower(this=value.sql), expression=sql.string("true"))
    elif kind in ("long", "double"):
        result = exp.NEQ(this=value.sql, expression=sql.integer(0))
    else:
        raise _conversion_error(args, value, "boolean")
    return Typed(result, BOOLEAN if kind != "null" else NULL, value.constant)


@scalar("toTimestamp", "value")
def _to_timestamp(args: Args) -> Typed:
    from dqlbuild.engine.timefunctions import parse_iso

    value = args.required("value")
    kind = value.type.kind
    if kind in ("timestamp", "null"):
        return value
    if kind == "string":
        return Typed(parse_iso(value.sql), TIMESTAMP, value.constant)
    if kind in ("long", "double"):
        raise unsupported(
            "toTimestamp() of a number",
            args.call,
            hint="say the unit: timestampFromUnixMillis(), timestampFromUnixSeconds() or "
            "timestampFromUnixNanos()",
        )
    raise _conversion_error(args, value, "timestamp")


@scalar("toDuration", "value")
def _to_duration(args: Args) -> Typed:
    value = args.required("value")
    kind = value.type.kind
    if kind in ("duration", "null"):
        return value
    if kind == "long":
        return Typed(value.sql, DURATION, value.constant)
    if kind == "double":
        return Typed(sql.try_cast(sql.fn("round", value.sql), "BIGINT"), DURATION, value.constant)
    if kind == "string":
        return Typed(sql.try_cast(sql.fn("trim", value.sql), "BIGINT"), DURATION, value.constant)
    raise _conversion_error(args, value, "duration")


def _cast_function(name: str, target: DType, *accepted: str) -> None:
    """``asX(value)``: the value when it is of type X, else null."""

    def implementation(args: Args) -> Typed:
        value = args.required("value")
        if value.type.kind in accepted or value.type.kind == "null":
            result = value
            if target == DOUBLE and value.type.kind == "long":
                result = Typed(sql.cast(value.sql, "DOUBLE"), DOUBLE, value.constant)
            return Typed(
                result.sql, result.type if value.type.kind != "null" else NULL, value.constant
            )
        if value.type.kind == "any":
            raise unsupported(f"{name}() on a field of unknown type", args.call)
        return Typed(sql.null(), NULL, True)

    scalar(name, "value")(implementation)


_cast_function("asLong", LONG, "long")
_cast_function("asDouble", DOUBLE, "double")
_cast_function("asNumber", DOUBLE, "long", "double")
_cast_function("asString", STRING, "string")
_cast_function("asBoolean", BOOLEAN, "boolean")
_cast_function("asTimestamp", TIMESTAMP, "timestamp")
_cast_function("asDuration", DURATION, "duration")
_cast_function("asArray", ANY, "array")
_cast_function("asRecord", ANY, "record")


# ============================================================================ math
def _number(args: Args, name: str = "expression") -> Typed:
    value = args.required(name)
    if value.type.kind not in ("long", "double", "null", "any"):
        raise evaluation_error(
            f"{args.function.name}() needs a number, not a {value.type} value", args.call
        )
    return value


@scalar("round", "expression", "decimals")
def _round(args: Args) -> Typed:
    value = args.required("expression")
    decimals = args.constant("decimals") or 0
    if not isinstance(decimals, int) or decimals < 0:
        raise evaluation_error("round(): decimals must be a long of at least 0", args.call)
    if value.type.kind in ("long", "null"):
        return value
    if value.type.kind == "duration":
        return value
    _number(args)
    return Typed(sql.fn("round", value.sql, sql.integer(decimals)), DOUBLE, value.constant)


def _unary_math(name: str, sql_name: str, keep_long: bool, *, domain: str | None = None) -> None:
    def implementation(args: Args) -> Typed:
        value = _number(args)
        if value.type.kind == "null":
            return Typed(sql.null(), NULL, True)
        if keep_long and value.type.kind == "long":
            return (
                Typed(sql.fn(sql_name, value.sql), LONG, value.constant) if name == "abs" else value
            )
        operand = value.sql if value.type.kind == "double" else sql.cast(value.sql, "DOUBLE")
        result = sql.fn(sql_name, operand)
        if domain == "positive":  # log of 0 or less: null (not -inf or NaN)
            result = sql.case(
                [(exp.LTE(this=operand, expression=sql.integer(0)), sql.null())], result
            )
        elif domain == "non-negative":
            result = sql.case(
                [(exp.LT(this=operand, expression=sql.integer(0)), sql.null())], result
            )
        return Typed(result, DOUBLE, value.constant)

    scalar(name, "expression")(implementation)


_unary_math("floor", "floor", True)
_unary_math("ceil", "ceil", True)
_unary_math("abs", "abs", True)
_unary_math("sqrt", "sqrt", False, domain="non-negative")
_unary_math("log", "ln", False, domain="positive")
_unary_math("log10", "log10", False, domain="positive")
_unary_math("exp", "exp", False)


@scalar("power", "base", "exponent")
def _power(args: Args) -> Typed:
    base, exponent = _number(args, "base"), _number(args, "exponent")
    if NULL in (base.type, exponent.type):
        return Typed(sql.null(), NULL, True)
    result = sql.fn("power", sql.cast(base.sql, "DOUBLE"), sql.cast(exponent.sql, "DOUBLE"))
    return Typed(result, DOUBLE, _constant(base, exponent))


@scalar("pi")
def _pi(args: Args) -> Typed:
    return Typed(sql.fn("pi"), DOUBLE, True)


@scalar("e")
def _e(args: Args) -> Typed:
    return Typed(sql.fn("exp", sql.double(1.0)), DOUBLE, True)


__all__ = [
    "SCALAR",
    "Args",
    "Spec",
    "bind",
    "check_parameters",
    "coerce",
    "common_type",
    "compile_call",
    "constant_value",
    "scalar",
    "to_string",
]
