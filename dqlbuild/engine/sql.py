"""Small constructors of sqlglot expressions, so the compiler reads like the SQL it
builds. Functions are built through DuckDB's function table (``fn``), which gives the
typed sqlglot node where sqlglot knows the function, so other dialects print their own
spelling of it."""

from __future__ import annotations

from sqlglot import exp

from dqlbuild.engine.types import DType, storage_type

DIALECT = "duckdb"


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.Column(this=ident(name), table=ident(table) if table else None)


def alias(expression: exp.Expr, name: str) -> exp.Expr:
    """``expression AS "name"`` (just the column when it already has that name)."""
    if isinstance(expression, exp.Column) and not expression.table and expression.name == name:
        return expression
    return exp.Alias(this=expression, alias=ident(name))


def string(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def integer(value: int) -> exp.Expr:
    if value < 0:
        return exp.Neg(this=exp.Literal.number(-value))
    return exp.Literal.number(value)


def long(value: int) -> exp.Expr:
    """A BIGINT constant (a plain literal may be typed INTEGER and overflow early)."""
    if -(2**31) <= value < 2**31:
        return cast(integer(value), "BIGINT")
    return integer(value)


def double(value: float) -> exp.Expr:
    # The exponent form is a DOUBLE literal in DuckDB, Spark and Trino; a plain
    # decimal literal would be DECIMAL and compute exactly, unlike DQL's doubles.
    text = repr(float(value))
    if "e" not in text and "inf" not in text and "nan" not in text:
        text += "e0"
    if value < 0:
        return exp.Neg(this=exp.Literal.number(text.lstrip("-")))
    return exp.Literal.number(text)


def boolean(value: bool) -> exp.Boolean:
    return exp.Boolean(this=value)


def null() -> exp.Null:
    return exp.Null()


def cast(expression: exp.Expr, to: str) -> exp.Cast:
    return exp.Cast(this=expression, to=exp.DataType.build(to, dialect=DIALECT))


def try_cast(expression: exp.Expr, to: str) -> exp.TryCast:
    return exp.TryCast(this=expression, to=exp.DataType.build(to, dialect=DIALECT))


def fn(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.func(name, *args, dialect=DIALECT)


def paren(expression: exp.Expr) -> exp.Expr:
    """``(expression)`` when it is an operation; a column, literal or call as it is."""
    if isinstance(expression, _OPERATORS) and not isinstance(expression, exp.Paren):
        return exp.Paren(this=expression)
    return expression


def case(whens: list[tuple[exp.Expr, exp.Expr]], default: exp.Expr | None = None) -> exp.Case:
    node = exp.Case()
    for condition, value in whens:
        node = node.when(condition, value)
    if default is not None:
        node = node.else_(default)
    return node


def is_null(expression: exp.Expr) -> exp.Is:
    return exp.Is(this=expression, expression=exp.Null())


def not_(expression: exp.Expr) -> exp.Not:
    return exp.Not(this=paren(expression))


def is_literal(expression: exp.Expr) -> bool:
    """A number literal, possibly negated (DuckDB may type it INTEGER)."""
    if isinstance(expression, exp.Neg):
        expression = expression.this
    return isinstance(expression, exp.Literal) and not expression.is_string


def coalesce(*args: exp.Expr) -> exp.Expr:
    return exp.Coalesce(this=args[0], expressions=list(args[1:]))


def nullif(expression: exp.Expr, value: exp.Expr) -> exp.Expr:
    """``NULLIF(expression, value)``; a literal divisor other than zero needs none."""
    if isinstance(expression, exp.Literal) and not expression.is_string:
        try:
            if float(expression.this) != 0:
                return expression
        except ValueError:
            pass
    return exp.Nullif(this=expression, expression=value)


def and_all(conditions: list[exp.Expr]) -> exp.Expr:
    return _balanced(conditions, exp.And)


def or_all(conditions: list[exp.Expr]) -> exp.Expr:
    return _balanced(conditions, exp.Or)


def _balanced(items: list[exp.Expr], kind: type[exp.Connector]) -> exp.Expr:
    """A balanced tree: long generated chains stay shallow for the SQL printer."""
    level = list(items)
    while len(level) > 1:
        paired = [
            kind(this=level[i], expression=level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
        level = paired
    return level[0]


def ordered(expression: exp.Expr, *, desc: bool = False) -> exp.Ordered:
    """Nulls last in both directions (the engine's documented sort order)."""
    return exp.Ordered(this=expression, desc=desc, nulls_first=False)


def row_number(order: list[exp.Ordered], partition: list[exp.Expr] | None = None) -> exp.Window:
    return exp.Window(
        this=exp.RowNumber(),
        partition_by=partition or None,
        order=exp.Order(expressions=order) if order else None,
    )


def floor_mod(value: exp.Expr, step: int) -> exp.Expr:
    """``value mod step`` in 0..step-1, also for negative values."""
    return exp.Mod(
        this=paren(exp.Add(this=exp.Mod(this=value, expression=long(step)), expression=long(step))),
        expression=long(step),
    )


def floor_div(value: exp.Expr, step: int) -> exp.Expr:
    """``value`` divided by ``step``, rounded down (also for negative values)."""
    return exp.IntDiv(
        this=paren(exp.Sub(this=value, expression=paren(floor_mod(value, step)))),
        expression=long(step),
    )


def typed_null(kind: DType) -> exp.Expr:
    """NULL of the storage type of ``kind`` (plain NULL for null/any)."""
    if kind.kind in ("null", "any"):
        return null()
    return cast(null(), storage_type(kind))


# Operator nodes whose operands the printer writes as they are: sqlglot adds no
# parentheses of its own, so a compound operand must carry a Paren.
_OPERATORS = (exp.Binary, exp.Unary, exp.Is, exp.In, exp.Escape, exp.Between)
_ASSOCIATIVE = (exp.And, exp.Or, exp.Add, exp.Mul)


def _needs_paren(parent: exp.Expr, child: exp.Expr, key: str) -> bool:
    if not isinstance(child, _OPERATORS) or isinstance(child, exp.Paren):
        return False
    # a AND b AND c, a + b + c: the left operand of the same operator reads the same.
    return not (type(child) is type(parent) and isinstance(parent, _ASSOCIATIVE) and key == "this")


def parenthesize(tree: exp.Expr) -> exp.Expr:
    """Put parentheses around every compound operand of an operator, so the SQL means
    what the tree says whatever the target dialect's precedence."""
    for node in list(tree.walk()):
        # ESCAPE belongs to its LIKE: ``a LIKE b ESCAPE c`` is one operation.
        if not isinstance(node, _OPERATORS) or isinstance(node, exp.Paren | exp.Escape):
            continue
        for key in ("this", "expression"):
            child = node.args.get(key)
            if isinstance(child, exp.Expr) and _needs_paren(node, child, key):
                node.set(key, exp.Paren(this=child))
    return tree
