"""Commands that combine a subquery with the records: append, lookup, join, joinNested.

Decisions (docs/running.md): ``lookup`` takes the first matching record of the subquery
(in its order), removes the input's fields that start with the prefix, and adds every
subquery field with the prefix (only the listed ones, unprefixed, with ``fields:``);
``join`` adds the right side's fields with its prefix (default ``right.``) and orders
its output by the left records, then the right ones; ``joinNested`` adds an array of
the matching records (empty when none match); null keys never match; ``append`` puts
the subquery's records after the input's, with the union of both field sets.
``executionOrder`` only tunes Grail's execution and is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from dqlbuild.analysis.binding import BoundArguments, BoundValue
from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import Access, Binary, Block, Command, FieldRef
from dqlbuild.engine import sql
from dqlbuild.engine.commands import command, text_of
from dqlbuild.engine.compiler import Compiler
from dqlbuild.engine.core import (
    ORDER,
    Relation,
    Scope,
    Typed,
    binary_operands,
    evaluation_error,
    unsupported,
)
from dqlbuild.engine.data import Column
from dqlbuild.engine.expressions import comparable, compile_expr
from dqlbuild.engine.functions import constant_value
from dqlbuild.engine.types import DType, array_of, record_of, storage_type, unify

LEFT, RIGHT = "__dqlbuild_left", "__dqlbuild_right"
SIDE = "__dqlbuild_side"


def _subquery(
    compiler: Compiler, relation: Relation, bound: BoundArguments, param: str, cmd: Command
) -> tuple[Relation, BoundValue]:
    """The compiled subquery of ``param`` (and its bound value). Both sides need known
    fields: output fields are named after the subquery's."""
    value = bound.first(param)
    if value is None or not isinstance(value.expr, Block):
        raise evaluation_error(f"{cmd.name} needs a subquery [ ... ]", cmd)
    right = compiler.subquery(value.expr)
    for side in (relation, right):
        if side.open:
            raise unsupported(f"{cmd.name} without a schema", cmd, hint="give to_sql a schema=")
    return right, value


def _prefix(bound: BoundArguments, default: str) -> str:
    value = bound.first("prefix")
    if value is None:
        return default
    text = constant_value(value.expr, "prefix:")
    if not isinstance(text, str):
        raise evaluation_error("prefix: is a string", value.expr)
    return text


def _catalog_default(cmd: Command, param: str) -> str:
    from dqlbuild.catalog import get_catalog

    spec = get_catalog().require_command(cmd.name)
    parameter = spec.parameter(param)
    assert parameter is not None and parameter.default_value is not None
    return str(constant_value(_parse_default(parameter.default_value), param))


def _parse_default(text: str) -> Node:
    from dqlbuild.syntax.parser import parse_expression

    return parse_expression(text)


def _listed(
    compiler: Compiler, bound: BoundArguments, right: Relation, cmd: Command
) -> list[tuple[str, str, DType]] | None:
    """``fields: {a, n = b}``: (output name, subquery field, type), or None without
    ``fields:``; a field the subquery's data does not have is null."""
    values = bound.get("fields")
    if not values:
        return None
    result: list[tuple[str, str, DType]] = []
    for value in values:
        name = text_of(value.expr)
        if name is None:
            raise unsupported(f"{cmd.name} fields: other than field names", value.expr)
        kind = _subquery_field(compiler, right, name, value.expr, cmd, None).type
        result.append((value.assigned_name or name, name, kind))
    return result


def _right(right: Relation, name: str, table: str | None) -> exp.Expr:
    """A subquery field in SQL: null when its data does not have it."""
    column = right.column(name)
    return sql.null() if column is None or column.type.kind == "null" else sql.col(name, table)


def _output(
    left: Relation,
    additions: Sequence[tuple[str, exp.Expr, DType]],
    order: exp.Expr,
    dropped: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[list[exp.Expr], list[Column]]:
    """Left fields (minus ``dropped``) then the additions; an addition with the name of
    a left field replaces it in place."""
    by_name = {name: (value, kind) for name, value, kind in additions}
    items: list[exp.Expr] = [sql.alias(order, ORDER)]
    columns: list[Column] = []
    for column in left.columns:
        if column.name in dropped:
            continue
        if column.name in by_name:
            value, kind = by_name.pop(column.name)
            items.append(sql.alias(value, column.name))
            columns.append(Column(column.name, kind))
        else:
            items.append(sql.alias(sql.col(column.name, LEFT), column.name))
            columns.append(column)
    for name, (value, kind) in by_name.items():
        items.append(sql.alias(value, name))
        columns.append(Column(name, kind))
    return items, columns


def _aliased(relation: Relation, name: str) -> exp.Table:
    return exp.Table(this=sql.ident(relation.name), alias=exp.TableAlias(this=sql.ident(name)))


# --------------------------------------------------------------------------- append
@command("append", "source")
def _append(
    compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments
) -> Relation:
    right, _ = _subquery(compiler, relation, bound, "source", cmd)
    types: dict[str, DType] = {}
    for column in [*relation.columns, *right.columns]:
        known = types.get(column.name)
        joined = column.type if known is None else unify(known, column.type)
        if joined is None:
            raise evaluation_error(
                f"append: the field {column.name!r} is {known} in the input and "
                f"{column.type} in the appended records; a field must have one type",
                cmd,
            )
        types[column.name] = joined

    def side(part: Relation, number: int) -> exp.Select:
        items: list[exp.Expr] = [sql.alias(sql.integer(number), SIDE), sql.col(ORDER)]
        for name, kind in types.items():
            column = part.column(name)
            if column is None or column.type.kind == "null":
                value: exp.Expr = sql.typed_null(kind)
            elif column.type != kind:
                value = sql.cast(sql.col(name), storage_type(kind))
            else:
                value = sql.col(name)
            items.append(sql.alias(value, name))
        return exp.select(*items, copy=False).from_(sql.ident(part.name), copy=False)

    union = exp.Union(this=side(relation, 0), expression=side(right, 1), distinct=False)
    order = sql.row_number([sql.ordered(sql.col(SIDE)), sql.ordered(sql.col(ORDER))])
    items = [sql.alias(order, ORDER), *(sql.col(name) for name in types)]
    select = exp.select(*items, copy=False).from_(
        exp.Subquery(this=union, alias=exp.TableAlias(this=sql.ident("appended"))), copy=False
    )
    columns = [Column(name, kind) for name, kind in types.items()]
    return compiler.add(select, columns, exact=relation.exact and right.exact)


# --------------------------------------------------------------------------- lookup
def _field_name(bound: BoundArguments, param: str, cmd: Command) -> tuple[str, Node]:
    value = bound.first(param)
    if value is None:
        raise evaluation_error(f"{cmd.name} needs {param}:", cmd)
    if not isinstance(value.expr, FieldRef):
        raise unsupported(f"{cmd.name} {param}: other than a field name", value.expr)
    return value.expr.name, value.expr


@command(
    "lookup", "lookupTable", "sourceField", "lookupField", "prefix", "fields", "executionOrder"
)
def _lookup(
    compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments
) -> Relation:
    right, _ = _subquery(compiler, relation, bound, "lookupTable", cmd)
    source_name, source_node = _field_name(bound, "sourceField", cmd)
    lookup_name, lookup_node = _field_name(bound, "lookupField", cmd)
    source_key = compile_expr(Scope(relation, compiler, table=LEFT), source_node)
    lookup_key = _subquery_field(compiler, right, lookup_name, lookup_node, cmd, None)
    if not comparable(source_key.type, lookup_key.type):
        raise evaluation_error(
            f"lookup compares {source_name!r} ({source_key.type}) with {lookup_name!r} "
            f"({lookup_key.type}); they need comparable types",
            source_node,
        )
    # The first record of the subquery for each key.
    rank = sql.row_number([sql.ordered(sql.col(ORDER))], partition=[lookup_key.sql])
    ranked = compiler.add(
        exp.select(exp.Star(), sql.alias(rank, "__dqlbuild_rank"), copy=False).from_(
            sql.ident(right.name), copy=False
        ),
        [*right.columns, Column("__dqlbuild_rank", DType("long"))],
        source=right.source,
    )
    listed = _listed(compiler, bound, right, cmd)
    dropped: set[str] = set()
    if listed is None:
        prefix = _prefix(bound, _catalog_default(cmd, "prefix"))
        dropped = {c.name for c in relation.columns if c.name.startswith(prefix)}
        additions: list[tuple[str, exp.Expr, DType]] = [
            (prefix + c.name, sql.col(c.name, RIGHT), c.type) for c in right.columns
        ]
    else:
        additions = [(out, _right(right, field, RIGHT), typ) for out, field, typ in listed]
    items, columns = _output(relation, additions, sql.col(ORDER, LEFT), dropped)
    right_key = _subquery_field(compiler, ranked, lookup_name, lookup_node, cmd, RIGHT)
    condition = exp.and_(
        exp.EQ(this=source_key.sql, expression=right_key.sql),
        exp.EQ(this=sql.col("__dqlbuild_rank", RIGHT), expression=sql.integer(1)),
    )
    select = (
        exp.select(*items, copy=False)
        .from_(_aliased(relation, LEFT), copy=False)
        .join(_aliased(ranked, RIGHT), on=condition, join_type="LEFT", copy=False)
    )
    return compiler.add(select, columns, exact=relation.exact, source=relation.source)


# --------------------------------------------------------------------------- join
def _side_field(node: Node, side: str) -> str | None:
    """``left[a]`` / ``right[a]``: the field name on that side."""
    if (
        isinstance(node, Access)
        and isinstance(node.base, FieldRef)
        and node.base.name == side
        and isinstance(node.key, str)
    ):
        return node.key
    return None


def _subquery_field(
    compiler: Compiler, right: Relation, name: str, node: Node, cmd: Command, table: str | None
) -> Typed:
    """A field of the subquery; one its data does not have is null (an error only where
    the subquery itself defined its fields, as Grail's FIELD_DOES_NOT_EXIST)."""
    if right.column(name) is None and right.exact:
        raise evaluation_error(
            f"{cmd.name}: the subquery has no field {name!r} "
            f"(its fields: {', '.join(right.names) or 'none'})",
            node,
        )
    return Scope(right, compiler, table=table).field(name, node)


def _conditions(
    compiler: Compiler, left: Relation, right: Relation, values: Sequence[BoundValue], cmd: Command
) -> list[tuple[exp.Expr, exp.Expr, exp.Expr]]:
    """``on:`` as (left key, right key, right key unqualified) triples."""
    pairs: list[tuple[exp.Expr, exp.Expr, exp.Expr]] = []
    for value in values:
        node = value.expr
        left_name: str | None
        right_name: str | None
        if isinstance(node, FieldRef):
            left_name = right_name = node.name
        elif isinstance(node, Binary) and node.op == "==":
            a, b = binary_operands(node)
            left_name, right_name = _side_field(a, "left"), _side_field(b, "right")
            if left_name is None or right_name is None:
                left_name, right_name = _side_field(b, "left"), _side_field(a, "right")
            if left_name is None or right_name is None:
                raise unsupported(f"{cmd.name} on: other than left[a] == right[b]", node)
        else:
            raise unsupported(f"{cmd.name} on: other than a field or left[a] == right[b]", node)
        left_key = Scope(left, compiler, table=LEFT).field(left_name, node)
        right_key = _subquery_field(compiler, right, right_name, node, cmd, RIGHT)
        if not comparable(left_key.type, right_key.type):
            raise evaluation_error(
                f"{cmd.name} on: {left_name!r} ({left_key.type}) and {right_name!r} "
                f"({right_key.type}) cannot be compared",
                node,
            )
        unqualified = _subquery_field(compiler, right, right_name, node, cmd, None)
        pairs.append((left_key.sql, right_key.sql, unqualified.sql))
    if not pairs:
        raise evaluation_error(f"{cmd.name} needs on:", cmd)
    return pairs


_KINDS = {"inner": "INNER", "leftOuter": "LEFT", "outer": "FULL"}


@command("join", "joinTable", "kind", "on", "prefix", "fields", "executionOrder")
def _join(compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments) -> Relation:
    right, _ = _subquery(compiler, relation, bound, "joinTable", cmd)
    kind_value = bound.first("kind")
    kind = "inner"
    if kind_value is not None:
        kind = text_of(kind_value.expr) or ""
        if kind not in _KINDS:
            raise evaluation_error("join kind: is inner, leftOuter or outer", kind_value.expr)
    pairs = _conditions(compiler, relation, right, bound.get("on"), cmd)
    listed = _listed(compiler, bound, right, cmd)
    if listed is None:
        prefix = _prefix(bound, _catalog_default(cmd, "prefix"))
        additions: list[tuple[str, exp.Expr, DType]] = [
            (prefix + c.name, sql.col(c.name, RIGHT), c.type) for c in right.columns
        ]
    else:
        additions = [(out, _right(right, field, RIGHT), typ) for out, field, typ in listed]
    order = sql.row_number([sql.ordered(sql.col(ORDER, LEFT)), sql.ordered(sql.col(ORDER, RIGHT))])
    items, columns = _output(relation, additions, order)
    condition = sql.and_all([exp.EQ(this=a, expression=b) for a, b, _ in pairs])
    select = (
        exp.select(*items, copy=False)
        .from_(_aliased(relation, LEFT), copy=False)
        .join(_aliased(right, RIGHT), on=condition, join_type=_KINDS[kind], copy=False)
    )
    return compiler.add(select, columns, exact=relation.exact, source=relation.source)


@command("joinNested", "joinTable", "on", "fields", "executionOrder")
def _join_nested(
    compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments
) -> Relation:
    right, value = _subquery(compiler, relation, bound, "joinTable", cmd)
    name = value.assigned_name
    if name is None:
        raise evaluation_error("joinNested needs a name: joinNested name = [ ... ]", cmd)
    pairs = _conditions(compiler, relation, right, bound.get("on"), cmd)
    listed = _listed(compiler, bound, right, cmd) or [
        (c.name, c.name, c.type) for c in right.columns
    ]
    record = record_of(tuple((out, kind) for out, _, kind in listed))
    struct: exp.Expr = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=sql.ident(out), expression=_right(right, field, None))
            for out, field, _ in listed
        ]
    )
    if not listed:  # records without fields are stored as "{}" (see data.py)
        struct = sql.string("{}")
    keys = [f"__dqlbuild_key{i}" for i in range(len(pairs))]
    nested = "__dqlbuild_nested"
    collected = exp.ArrayAgg(this=exp.Order(this=struct, expressions=[sql.ordered(sql.col(ORDER))]))
    grouped = compiler.add(
        exp.select(
            *(sql.alias(field, key) for (_, _, field), key in zip(pairs, keys, strict=True)),
            sql.alias(collected, nested),
            copy=False,
        )
        .from_(sql.ident(right.name), copy=False)
        .group_by(*(field.copy() for _, _, field in pairs), copy=False),
        [],
    )
    empty = sql.cast(exp.Array(expressions=[]), storage_type(array_of(record)))
    additions = [(name, sql.coalesce(sql.col(nested, RIGHT), empty), array_of(record))]
    items, columns = _output(relation, additions, sql.col(ORDER, LEFT))
    condition = sql.and_all(
        [
            exp.EQ(this=a, expression=sql.col(key, RIGHT))
            for (a, _, _), key in zip(pairs, keys, strict=True)
        ]
    )
    select = (
        exp.select(*items, copy=False)
        .from_(_aliased(relation, LEFT), copy=False)
        .join(_aliased(grouped, RIGHT), on=condition, join_type="LEFT", copy=False)
    )
    return compiler.add(select, columns, exact=relation.exact, source=relation.source)


__all__: list[str] = []
