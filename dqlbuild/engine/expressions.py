"""Compiling DQL expressions to typed SQL expressions.

Semantics (documented on docs/running.md): comparisons with null are null and ``filter``
keeps only true; ``and``/``or``/``not``/``xor`` are three-valued; arithmetic with null
is null; long / long truncates toward zero; division and modulo by zero are null; a long
overflow is an error; values of different types are never equal (``==`` is false,
``!=`` true) and cannot be ordered (an error); strings compare by code point,
case-sensitively.
"""

from __future__ import annotations

from sqlglot import exp

from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import (
    Access,
    Align,
    Binary,
    Boolean,
    Call,
    Double,
    Duration,
    FieldRef,
    In,
    Long,
    Null,
    String,
    Unary,
    Variable,
)
from dqlbuild.engine import sql
from dqlbuild.engine.core import Scope, Typed, binary_operands, evaluation_error, unsupported
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
    unify,
)

NANOS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "min": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
    "w": 604_800_000_000_000,
}
MONTHS = {"M": 1, "q": 3, "y": 12}
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1


def compile_expr(scope: Scope, node: Node) -> Typed:
    """The typed SQL of a DQL expression."""
    if isinstance(node, String):
        return Typed(sql.string(node.value), STRING, constant=True)
    if isinstance(node, Long):
        if node.value > LONG_MAX:  # hexadecimal beyond the signed range wraps, as in DQL
            return Typed(sql.integer(node.value - 2**64), LONG, constant=True)
        return Typed(sql.integer(node.value), LONG, constant=True)
    if isinstance(node, Double):
        return Typed(sql.double(node.value), DOUBLE, constant=True)
    if isinstance(node, Boolean):
        return Typed(sql.boolean(node.value), BOOLEAN, constant=True)
    if isinstance(node, Null):
        return Typed(sql.null(), NULL, constant=True)
    if isinstance(node, Duration):
        return duration_literal(node)
    if isinstance(node, FieldRef):
        return scope.field(node.name, node)
    if isinstance(node, Variable):
        raise evaluation_error(
            f"${node.name} has no value", node, hint="pass its value in variables= (--set)"
        )
    if isinstance(node, Call):
        from dqlbuild.engine.functions import compile_call

        return compile_call(scope, node)
    if isinstance(node, Unary):
        return _unary(scope, node)
    if isinstance(node, Binary):
        return _binary(scope, node)
    if isinstance(node, Align):
        from dqlbuild.engine.timefunctions import compile_align

        return compile_align(scope, node)
    if isinstance(node, In):
        return _in_subquery(scope, node)
    if isinstance(node, Access):
        return _access(scope, node)
    raise unsupported(f"the expression form {type(node).__name__}", node)


def duration_literal(node: Duration) -> Typed:
    if node.unit in MONTHS:
        months = node.value * MONTHS[node.unit]
        # Its SQL stands for an average month only where a fixed length is needed.
        return Typed(sql.long(months * 2_629_746_000_000_000), DURATION, True, months)
    return Typed(sql.long(node.value * NANOS[node.unit]), DURATION, constant=True)


# ----------------------------------------------------------------------------- unary
def _unary(scope: Scope, node: Unary) -> Typed:
    operand = compile_expr(scope, node.operand)
    if node.op == "not":
        expect_boolean(operand, node.operand, "not")
        return Typed(sql.not_(operand.sql), BOOLEAN, operand.constant)
    kind = operand.type.kind
    if kind not in ("long", "double", "duration", "null", "any"):
        raise evaluation_error(f"cannot negate a {operand.type} value", node)
    if operand.type == NULL:
        return operand
    if operand.constant and isinstance(operand.sql, exp.Literal):
        return Typed(
            exp.Neg(this=operand.sql),
            operand.type,
            True,
            -operand.months if operand.months else None,
        )
    return Typed(exp.Neg(this=sql.paren(operand.sql)), operand.type, operand.constant)


def expect_boolean(value: Typed, node: Node, what: str) -> None:
    if value.type.kind not in ("boolean", "null", "any"):
        raise evaluation_error(f"{what} needs a boolean, not a {value.type} value", node)


# ----------------------------------------------------------------------------- binary
_LOGICAL = {"and", "or", "xor"}
_COMPARISON = {"==", "!=", "<", "<=", ">", ">="}


def _binary(scope: Scope, node: Binary) -> Typed:
    operands = binary_operands(node)
    if node.op in _LOGICAL:
        values = [compile_expr(scope, operand) for operand in operands]
        for value, operand in zip(values, operands, strict=True):
            expect_boolean(value, operand, node.op)
        constant = all(v.constant for v in values)
        if node.op == "and":
            return Typed(sql.and_all([sql.paren(v.sql) for v in values]), BOOLEAN, constant)
        if node.op == "or":
            return Typed(sql.or_all([sql.paren(v.sql) for v in values]), BOOLEAN, constant)
        result = values[0].sql
        for value in values[1:]:  # xor: unequal booleans, null when either is null
            result = exp.NEQ(this=sql.paren(result), expression=sql.paren(value.sql))
        return Typed(result, BOOLEAN, constant)
    left = compile_expr(scope, operands[0])
    if node.op in _COMPARISON:
        right = compile_expr(scope, operands[1])
        return compare(node.op, left, right, node)
    if node.op == "~":
        from dqlbuild.engine.strings import search_operator

        return search_operator(left, compile_expr(scope, operands[1]), node)
    for operand in operands[1:]:
        left = arithmetic(node.op, left, compile_expr(scope, operand), node)
    return left


_SQL_COMPARE: dict[str, type[exp.Binary]] = {
    "==": exp.EQ,
    "!=": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}
_ORDERABLE = {"long", "double", "duration", "timestamp", "string", "boolean"}


def comparable(a: DType, b: DType) -> bool:
    if a.is_unknown or b.is_unknown:
        return True
    if a.is_numeric and b.is_numeric:
        return True
    if a.kind != b.kind:
        return False
    if a.kind in ("array", "record"):
        return unify(a, b) is not None
    return True


def compare(op: str, left: Typed, right: Typed, node: Node) -> Typed:
    constant = left.constant and right.constant
    if not comparable(left.type, right.type):
        if op in ("==", "!="):
            # Values of different types are never equal; null stays null.
            either_null = exp.Or(this=sql.is_null(left.sql), expression=sql.is_null(right.sql))
            value = sql.boolean(op == "!=")
            return Typed(sql.case([(either_null, sql.null())], value), BOOLEAN, constant)
        raise evaluation_error(
            f"cannot compare a {left.type} value with a {right.type} value using {op}", node
        )
    kind = left.type.kind if not left.type.is_unknown else right.type.kind
    if op not in ("==", "!=") and kind not in _ORDERABLE and kind not in ("null", "any"):
        raise evaluation_error(f"{kind} values cannot be ordered ({op})", node)
    if left.months is not None or right.months is not None:
        raise unsupported("comparing calendar durations", node)
    return Typed(_SQL_COMPARE[op](this=left.sql, expression=right.sql), BOOLEAN, constant)


def _bigint(value: Typed) -> exp.Expr:
    """A long operand: a literal is cast so that DuckDB computes in 64 bits."""
    return sql.cast(value.sql, "BIGINT") if sql.is_literal(value.sql) else value.sql


def _as_double(value: Typed) -> exp.Expr:
    return sql.cast(value.sql, "DOUBLE") if value.type.kind != "double" else value.sql


def _round_to_long(expression: exp.Expr) -> exp.Expr:
    return sql.cast(sql.fn("round", expression), "BIGINT")


def arithmetic(op: str, a: Typed, b: Typed, node: Node) -> Typed:
    """``a op b`` for + - * / % with DQL's typing (docs: DQL operators)."""
    constant = a.constant and b.constant
    ka, kb = a.type.kind, b.type.kind
    if "null" in (ka, kb):
        # Arithmetic on a null (a missing field) is a null of no type, so that it fits
        # next to any type: `ts + missing * 2`, `if(c, 1ms, else: missing * 2)`.
        return Typed(sql.null(), NULL, constant)
    if "any" in (ka, kb):
        if op in ("/", "%"):
            raise unsupported(
                f"{op} on a field of unknown type", node, hint="give to_sql a schema= with types"
            )
        return Typed(_SQL_ARITH[op](this=sql.paren(a.sql), expression=sql.paren(b.sql)), ANY)
    if a.months is not None or b.months is not None:
        return _calendar(op, a, b, node)
    numeric = a.type.is_numeric and b.type.is_numeric
    if numeric:
        result_type = LONG if ka == kb == "long" else DOUBLE
        if result_type == LONG:
            x, y = _bigint(a), b.sql
            if op == "/":
                return Typed(
                    exp.IntDiv(this=x, expression=sql.nullif(y, sql.integer(0))), LONG, constant
                )
            if op == "%":
                return Typed(
                    exp.Mod(this=x, expression=sql.nullif(y, sql.integer(0))), LONG, constant
                )
            return Typed(_SQL_ARITH[op](this=x, expression=y), LONG, constant)
        x, y = _as_double(a), _as_double(b)
        if op in ("/", "%"):
            y = sql.nullif(y, sql.double(0.0))
        return Typed(_SQL_ARITH[op](this=x, expression=y), DOUBLE, constant)
    signature = (ka, op, kb)
    if signature in (
        ("timestamp", "+", "duration"),
        ("duration", "+", "timestamp"),
        ("timestamp", "-", "duration"),
    ):
        return Typed(_SQL_ARITH[op](this=_bigint(a), expression=b.sql), TIMESTAMP, constant)
    if signature in (
        ("timestamp", "-", "timestamp"),
        ("duration", "+", "duration"),
        ("duration", "-", "duration"),
    ):
        return Typed(_SQL_ARITH[op](this=_bigint(a), expression=b.sql), DURATION, constant)
    if signature == ("duration", "%", "duration"):
        return Typed(
            exp.Mod(this=a.sql, expression=sql.nullif(b.sql, sql.integer(0))), DURATION, constant
        )
    if signature == ("duration", "/", "duration"):
        return Typed(
            exp.Div(this=_as_double(a), expression=sql.nullif(b.sql, sql.integer(0))),
            DOUBLE,
            constant,
        )
    if op == "*" and {ka, kb} in ({"duration", "long"},):
        return Typed(exp.Mul(this=_bigint(a), expression=_bigint(b)), DURATION, constant)
    if op == "*" and {ka, kb} == {"duration", "double"}:
        product = exp.Mul(this=_as_double(a), expression=_as_double(b))
        return Typed(_round_to_long(product), DURATION, constant)
    if op == "/" and ka == "duration" and kb in ("long", "double"):
        quotient = exp.Div(
            this=_as_double(a), expression=sql.nullif(_as_double(b), sql.double(0.0))
        )
        return Typed(_round_to_long(quotient), DURATION, constant)
    raise evaluation_error(f"cannot apply {op} to a {a.type} and a {b.type} value", node)


_SQL_ARITH: dict[str, type[exp.Binary]] = {
    "+": exp.Add,
    "-": exp.Sub,
    "*": exp.Mul,
    "/": exp.Div,
    "%": exp.Mod,
}


def _calendar(op: str, a: Typed, b: Typed, node: Node) -> Typed:
    """timestamp ± calendar duration: calendar arithmetic in UTC."""
    if a.type.kind == "timestamp" and b.months is not None and op in ("+", "-"):
        months = b.months if op == "+" else -b.months
        return Typed(add_months(a.sql, months), TIMESTAMP, a.constant and b.constant)
    if b.type.kind == "timestamp" and a.months is not None and op == "+":
        return Typed(add_months(b.sql, a.months), TIMESTAMP, a.constant and b.constant)
    raise unsupported(f"{op} with a calendar duration (months, quarters, years)", node)


def to_sql_timestamp(nanos: exp.Expr) -> exp.Expr:
    """A nanosecond count as an SQL timestamp, to the microsecond (for the calendar
    functions, which DuckDB computes reliably on microsecond timestamps)."""
    return sql.fn("make_timestamp", sql.floor_div(nanos, 1000))


def from_sql_timestamp(timestamp: exp.Expr) -> exp.Expr:
    return exp.Mul(this=sql.fn("epoch_us", timestamp), expression=sql.long(1000))


def add_months(nanos: exp.Expr, months: int) -> exp.Expr:
    interval = exp.Interval(this=sql.string(str(months)), unit=exp.Var(this="MONTH"))
    moved = from_sql_timestamp(exp.Add(this=to_sql_timestamp(nanos), expression=interval))
    return exp.Add(this=moved, expression=sql.floor_mod(nanos, 1000))


# ----------------------------------------------------------------------------- access
def _access(scope: Scope, node: Access) -> Typed:
    if node.key is None:
        raise unsupported("the iterative access `[]`", node)
    base = compile_expr(scope, node.base)
    kind = base.type.kind
    if isinstance(node.key, int):
        if kind in ("null",):
            return Typed(sql.null(), NULL)
        if kind not in ("array", "any"):
            raise evaluation_error(f"[{node.key}] needs an array, not a {base.type} value", node)
        index = node.key + 1 if node.key >= 0 else node.key
        element = base.type.element if base.type.element is not None else ANY
        if element == NULL:  # no element ever had a value: stored as text, read as null
            return Typed(sql.null(), NULL, base.constant)
        return Typed(sql.fn("list_extract", base.sql, sql.integer(index)), element, base.constant)
    key = node.key
    if kind == "null":
        return Typed(sql.null(), NULL)
    if kind == "record":
        value_type = base.type.field(key)
        if value_type is None or value_type == NULL:
            return Typed(sql.null(), NULL, base.constant)
        return Typed(
            exp.StructExtract(this=base.sql, expression=sql.string(key)), value_type, base.constant
        )
    if kind == "timeframe" and key in ("start", "end"):
        return Typed(
            exp.StructExtract(this=base.sql, expression=sql.string(key)), TIMESTAMP, base.constant
        )
    if kind == "any":
        return Typed(exp.StructExtract(this=base.sql, expression=sql.string(key)), ANY)
    raise evaluation_error(f"[{key}] needs a record, not a {base.type} value", node)


# ----------------------------------------------------------------------------- in
def _in_subquery(scope: Scope, node: In) -> Typed:
    value = compile_expr(scope, node.operand)
    relation = scope.compiler.subquery(node.block)
    if len(relation.columns) != 1 or relation.open:
        raise evaluation_error(
            f"the subquery of `in` must return exactly one field, not {len(relation.columns)}",
            node.block,
        )
    column = relation.columns[0]
    if not comparable(value.type, column.type):
        return Typed(sql.boolean(False), BOOLEAN)
    subquery = exp.select(sql.col(column.name), copy=False).from_(
        sql.ident(relation.name), copy=False
    )
    return Typed(exp.In(this=value.sql, query=exp.Subquery(this=subquery)), BOOLEAN)


__all__ = [
    "NANOS",
    "arithmetic",
    "comparable",
    "compare",
    "compile_expr",
    "duration_literal",
    "expect_boolean",
]
