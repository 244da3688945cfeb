"""``fieldsFlatten`` and ``fieldsSummary``.

Decisions (docs/running.md): ``fieldsFlatten r`` adds one field per key of the record
``r`` named ``r.key`` (``prefix:`` replaces ``r.``; ``fields:`` adds only the listed keys,
named as listed), keeps ``r``, and with ``depth: n`` flattens records inside records n
levels deep; ``fieldsSummary`` counts the records where each field has a value
(``rawCount`` and ``count``: there is no sampling locally) and lists the ``topValues``
most frequent values, most frequent first, ties by value; when the summarized fields
have different types the values are given as text.
"""

from __future__ import annotations

from sqlglot import exp

from dqlbuild.analysis.binding import BoundArguments
from dqlbuild.ast.nodes import Command
from dqlbuild.engine import sql
from dqlbuild.engine.commands import add_columns, command, text_of
from dqlbuild.engine.compiler import Compiler
from dqlbuild.engine.core import ORDER, Relation, Scope, Typed, evaluation_error, unsupported
from dqlbuild.engine.data import Column
from dqlbuild.engine.expressions import compile_expr
from dqlbuild.engine.functions import constant_value, to_string
from dqlbuild.engine.types import LONG, STRING, DType, array_of, record_of, storage_type, unify


@command("fieldsFlatten", "expression", "prefix", "fields", "depth")
def _fields_flatten(
    compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments
) -> Relation:
    value = bound.first("expression")
    assert value is not None
    name = text_of(value.expr)
    if name is None:
        raise evaluation_error("fieldsFlatten takes a record field", value.expr)
    record = compile_expr(Scope(relation, compiler), value.expr)
    if record.type.kind == "null":
        return relation
    if record.type.kind != "record":
        raise evaluation_error(
            f"fieldsFlatten needs a record, not a {record.type} value", value.expr
        )
    depth_value = bound.first("depth")
    depth = constant_value(depth_value.expr, "depth:") if depth_value else 1
    if not isinstance(depth, int) or not 1 <= depth <= 10:
        raise evaluation_error("depth: is from 1 to 10", depth_value.expr if depth_value else cmd)
    listed = bound.get("fields")
    assignments: list[tuple[str, Typed]] = []
    if listed:
        for item in listed:
            key = text_of(item.expr)
            kind = record.type.field(key) if key is not None else None
            if key is None:
                raise unsupported("fieldsFlatten fields: other than key names", item.expr)
            extracted = exp.StructExtract(this=record.sql, expression=sql.string(key))
            assignments.append(
                (
                    item.assigned_name or key,
                    Typed(extracted if kind else sql.null(), kind or DType("null")),
                )
            )
    else:
        prefix_value = bound.first("prefix")
        prefix = constant_value(prefix_value.expr, "prefix:") if prefix_value else name + "."
        if not isinstance(prefix, str):
            raise evaluation_error(
                "prefix: is a string", prefix_value.expr if prefix_value else cmd
            )
        assignments = _flattened(record, prefix, depth)
    return add_columns(compiler, relation, dict(assignments))


def _flattened(record: Typed, prefix: str, depth: int) -> list[tuple[str, Typed]]:
    result: list[tuple[str, Typed]] = []
    for key, kind in record.type.fields:
        value = Typed(exp.StructExtract(this=record.sql, expression=sql.string(key)), kind)
        if kind.kind == "record" and depth > 1 and kind.fields:
            result.extend(_flattened(value, f"{prefix}{key}.", depth - 1))
        else:
            result.append((prefix + key, value))
    return result


@command("fieldsSummary", "field", "topValues", "extrapolateSamples")
def _fields_summary(
    compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments
) -> Relation:
    top_value = bound.first("topValues")
    top = constant_value(top_value.expr, "topValues:") if top_value else 20
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise evaluation_error(
            "topValues: is a positive long", top_value.expr if top_value else cmd
        )
    here = Scope(relation, compiler)
    fields = [(v.name, compile_expr(here, v.expr), v.expr) for v in bound.get("field")]
    if not fields:
        raise evaluation_error("fieldsSummary needs at least one field", cmd)
    value_type = DType("null")
    for _, typed, _ in fields:
        joined = unify(value_type, typed.type)
        value_type = joined if joined is not None else STRING
    if any(unify(value_type, typed.type) != value_type for _, typed, _ in fields):
        value_type = STRING
    entry = record_of((("value", value_type), ("count", LONG)))
    selects: list[exp.Select] = []
    for number, (name, typed, node) in enumerate(fields):
        value = typed.sql
        if value_type == STRING and typed.type != STRING:
            value = to_string(typed, node)
        elif typed.type != value_type:  # e.g. an array of unknown elements among arrays
            value = sql.cast(value, storage_type(value_type))
        counts = (
            exp.select(
                sql.alias(value, "v"), sql.alias(exp.Count(this=exp.Star()), "c"), copy=False
            )
            .from_(sql.ident(relation.name), copy=False)
            .where(exp.Not(this=sql.is_null(typed.sql)), copy=False)
            .group_by(value, copy=False)
        )
        pair = exp.Struct(
            expressions=[
                exp.PropertyEQ(this=sql.ident("value"), expression=sql.col("v")),
                exp.PropertyEQ(this=sql.ident("count"), expression=sql.col("c")),
            ]
        )
        ordered = exp.Order(
            this=pair,
            expressions=[sql.ordered(sql.col("c"), desc=True), sql.ordered(sql.col("v"))],
        )
        top_values = sql.fn(
            "list_slice", exp.ArrayAgg(this=ordered), sql.integer(1), sql.integer(top)
        )
        empty = sql.cast(exp.Array(expressions=[]), storage_type(array_of(entry)))
        total = sql.cast(sql.coalesce(exp.Sum(this=sql.col("c")), sql.integer(0)), "BIGINT")
        selects.append(
            exp.select(
                sql.alias(sql.long(number), ORDER),
                sql.alias(sql.string(name), "field"),
                sql.alias(total, "rawCount"),
                sql.alias(total.copy(), "count"),
                sql.alias(sql.coalesce(top_values, empty), "values"),
                copy=False,
            ).from_(
                exp.Subquery(this=counts, alias=exp.TableAlias(this=sql.ident("counts"))),
                copy=False,
            )
        )
    union: exp.Expr = selects[0]
    for select in selects[1:]:
        union = exp.Union(this=union, expression=select, distinct=False)
    wrapped = exp.select(exp.Star(), copy=False).from_(
        exp.Subquery(this=union, alias=exp.TableAlias(this=sql.ident("summary"))), copy=False
    )
    columns = [
        Column("field", STRING),
        Column("rawCount", LONG),
        Column("count", LONG),
        Column("values", array_of(entry)),
    ]
    return compiler.add(wrapped, columns, exact=True)


__all__: list[str] = []
