"""``makeTimeseries``: one record per ``by:`` group with one array per aggregation.

Decisions (docs/running.md): the timeframe is ``from:``/``to:`` (or ``timeframe:``) of
makeTimeseries, else of ``fetch``, else the span of the records' times; without
``interval:`` the interval is the smallest of 1, 2, 5, 10, 20, 50, 100, 200, 500 ms,
1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12 h or whole days that
gives at most ``bins:`` (default 120) bins; the timeframe is widened to whole intervals
from the epoch; empty bins hold ``default:`` (the catalog's default, null); counts are
longs, ``sum``/``avg`` doubles (durations for durations), ``min``/``max`` keep the
type; groups are ordered by their keys; fields come as ``timeframe``, ``interval``,
the ``by:`` keys, then the aggregations. Without ``by:`` and without records there is no
record unless ``nonempty: true``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from dqlbuild.analysis.binding import BoundArguments
from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import Call, Command, FieldRef, Named
from dqlbuild.catalog import get_catalog
from dqlbuild.engine import sql
from dqlbuild.engine.commands import aggregate_scope, command, empty_relation, select_from
from dqlbuild.engine.compiler import Compiler, TimeRange
from dqlbuild.engine.core import ORDER, Relation, Scope, Typed, evaluation_error, unsupported
from dqlbuild.engine.data import Column
from dqlbuild.engine.expressions import NANOS, compile_expr
from dqlbuild.engine.functions import constant_value
from dqlbuild.engine.types import (
    DOUBLE,
    DURATION,
    TIMEFRAME,
    TIMESTAMP,
    DType,
    array_of,
    storage_type,
)

_MS, _S, _MIN, _H, _D = NANOS["ms"], NANOS["s"], NANOS["m"], NANOS["h"], NANOS["d"]
NICE_INTERVALS = (
    *(n * _MS for n in (1, 2, 5, 10, 20, 50, 100, 200, 500)),
    *(n * _S for n in (1, 2, 5, 10, 15, 30)),
    *(n * _MIN for n in (1, 2, 5, 10, 15, 30)),
    *(n * _H for n in (1, 2, 3, 6, 12)),
    _D,
)
_BOUNDS = ("__dqlbuild_start", "__dqlbuild_end", "__dqlbuild_interval", "__dqlbuild_bins")
_BIN = "__dqlbuild_bin"
_TIME = "__dqlbuild_time"


@dataclass(frozen=True)
class _Series:
    name: str
    aggregate: Typed | None
    """The aggregation per bin (None for ``start()``/``end()``)."""
    element: DType
    default: exp.Expr
    rate: int | None
    special: str | None = None


def _floor(value: exp.Expr, step: exp.Expr) -> exp.Expr:
    remainder = exp.Mod(
        this=sql.paren(exp.Add(this=exp.Mod(this=value, expression=step), expression=step)),
        expression=step,
    )
    return exp.Sub(this=value, expression=sql.paren(remainder))


def _ceil(value: exp.Expr, step: exp.Expr) -> exp.Expr:
    return _floor(
        exp.Sub(this=exp.Add(this=value, expression=step), expression=sql.integer(1)), step
    )


def _nice_interval(span: exp.Expr, bins: int) -> exp.Expr:
    whens: list[tuple[exp.Expr, exp.Expr]] = [
        (exp.LTE(this=span, expression=sql.long(bins * step)), sql.long(step))
        for step in NICE_INTERVALS
    ]
    days = exp.Mul(
        this=sql.fn(
            "ceil",
            exp.Div(this=sql.cast(span, "DOUBLE"), expression=sql.double(float(bins * _D))),
        ),
        expression=sql.long(_D),
    )
    return sql.case(whens, sql.cast(days, "BIGINT"))


def _constant_duration(node: Node, what: str) -> int:
    value = constant_value(node, what)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise evaluation_error(f"{what} is a positive duration", node)
    return value


def _range(compiler: Compiler, bound: BoundArguments) -> TimeRange | None:
    from dqlbuild.engine.commands import _timeframe

    return _timeframe(compiler, bound) or compiler.timeframe


def _series(compiler: Compiler, scope: Scope, bound: BoundArguments, cmd: Command) -> list[_Series]:
    catalog = get_catalog()
    command_default = bound.first("default")
    command_rate = bound.first("rate")
    result: list[_Series] = []
    for value in bound.get("aggregation"):
        call = value.expr
        function = catalog.function(call.name, "makeTimeseries") if isinstance(call, Call) else None
        if not isinstance(call, Call) or function is None or function.context != "makeTimeseries":
            raise unsupported(
                "a makeTimeseries aggregation that is not one call of count, sum, avg, ...",
                call,
            )
        named = {arg.name.lower(): arg.value for arg in call.args if isinstance(arg, Named)}
        if named.get("scalar") is not None and constant_value(named["scalar"], "scalar:"):
            raise unsupported("makeTimeseries with scalar: true", named["scalar"])
        default_node = named.get("default") or (command_default.expr if command_default else None)
        rate_node = named.get("rate") or (command_rate.expr if command_rate else None)
        rate = _constant_duration(rate_node, "rate:") if rate_node is not None else None
        if function.name in ("start", "end"):
            result.append(_Series(value.name, None, TIMESTAMP, sql.null(), None, function.name))
            continue
        aggregate = compile_expr(scope, call)
        element = aggregate.type
        if rate is not None:
            if element.kind not in ("long", "double"):
                raise unsupported(f"rate: with a {element} aggregation", rate_node)
            element = DOUBLE
        default = sql.typed_null(element)
        if default_node is not None:
            default_value = compile_expr(Scope(empty_relation(), compiler), default_node)
            if not default_value.constant:
                raise evaluation_error("default: is a constant", default_node)
            if default_value.type.kind != "null":
                if element.is_numeric and default_value.type.is_numeric:
                    if default_value.type == DOUBLE:
                        element = DOUBLE
                elif default_value.type != element:
                    raise evaluation_error(
                        f"default: of a {element} series must be a {element}", default_node
                    )
                default = sql.cast(default_value.sql, storage_type(element))
        result.append(_Series(value.name, aggregate, element, default, rate))
    if not result:
        raise evaluation_error("makeTimeseries needs an aggregation", cmd)
    return result


@command(
    "makeTimeseries",
    "aggregation",
    "by",
    "interval",
    "bins",
    "from",
    "to",
    "timeframe",
    "time",
    "nonempty",
    "default",
    "rate",
)
def _make_timeseries(
    compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments
) -> Relation:
    if bound.has("interval") and bound.has("bins"):
        raise evaluation_error("makeTimeseries takes interval: or bins:, not both", cmd)
    time_value = bound.first("time")
    time_node: Node = time_value.expr if time_value is not None else FieldRef(name="timestamp")
    time = compile_expr(Scope(relation, compiler), time_node)
    if time.type.kind not in ("timestamp", "any", "null"):
        raise evaluation_error(
            f"makeTimeseries needs timestamps in {getattr(time_node, 'name', 'time:')!r}, "
            f"not {time.type} values",
            time_node,
        )
    # One narrow stage with the time, the keys and the fields the aggregations read:
    # it is read twice (bounds, bins), and DuckDB materializes a CTE read twice.
    here = Scope(relation, compiler)
    key_values = [(v.name, compile_expr(here, v.expr)) for v in bound.get("by")]
    read = {
        n.name
        for v in bound.get("aggregation")
        for n in v.expr.walk()
        if isinstance(n, FieldRef) and relation.column(n.name) is not None
    }
    inputs = [c for c in relation.columns if c.name in read]
    key_columns = [f"__dqlbuild_key{n}" for n in range(len(key_values))]
    items: list[exp.Expr] = [sql.alias(time.sql, _TIME)]
    items += [sql.alias(v.sql, n) for (_, v), n in zip(key_values, key_columns, strict=True)]
    items += [sql.col(c.name) for c in inputs]
    relation = compiler.add(
        select_from(relation, items),
        [Column(_TIME, TIMESTAMP), *inputs],
        exact=relation.exact,
        source=relation.source,
    )
    keys = [
        (name, sql.col(column), value.type)
        for (name, value), column in zip(key_values, key_columns, strict=True)
    ]
    series = _series(compiler, aggregate_scope(compiler, relation, "makeTimeseries"), bound, cmd)
    names = [name for name, _, _ in keys] + [s.name for s in series]
    if len(set(names)) != len(names) or {"timeframe", "interval"} & set(names):
        raise evaluation_error("makeTimeseries gives two fields the same name", cmd)

    # Bounds: start and end (whole intervals), the interval, the number of bins.
    timeframe = _range(compiler, bound)
    time_col = sql.col(_TIME)
    start: exp.Expr = (
        timeframe.start if timeframe and timeframe.start is not None else exp.Min(this=time_col)
    )
    end: exp.Expr = (
        timeframe.end
        if timeframe and timeframe.end is not None
        else exp.Add(this=exp.Max(this=time_col), expression=sql.integer(1))
    )
    interval_value = bound.first("interval")
    fixed_step: int | None = None
    if interval_value is not None:
        fixed_step = _constant_duration(interval_value.expr, "interval:")
        step: exp.Expr = sql.long(fixed_step)
    else:
        bins_value = bound.first("bins")
        default_bins = get_catalog().require_command("makeTimeseries").parameter("bins")
        bins = int(
            constant_value(bins_value.expr, "bins:")
            if bins_value
            else (default_bins.default_value if default_bins else 120) or 120
        )
        if bins < 1:
            raise evaluation_error("bins: is at least 1", bins_value.expr if bins_value else cmd)
        step = _nice_interval(exp.Sub(this=sql.col("e0"), expression=sql.col("s0")), bins)
    raw = exp.select(sql.alias(start, "s0"), sql.alias(end, "e0"), copy=False)
    given_frame = timeframe is not None and None not in (timeframe.start, timeframe.end)
    if not given_frame:
        raw = raw.from_(sql.ident(relation.name), copy=False)  # min/max over the records
    stepped = exp.select(sql.col("s0"), sql.col("e0"), sql.alias(step, "i"), copy=False).from_(
        exp.Subquery(this=raw, alias=exp.TableAlias(this=sql.ident("raw"))), copy=False
    )
    s0, e0, i = sql.col("s0"), sql.col("e0"), sql.col("i")
    aligned_start, aligned_end = _floor(s0, i), _ceil(e0, i)
    bins_count = exp.IntDiv(
        this=sql.paren(exp.Sub(this=aligned_end, expression=aligned_start)), expression=i
    )
    bounds = compiler.add(
        exp.select(
            sql.alias(aligned_start, _BOUNDS[0]),
            sql.alias(aligned_end, _BOUNDS[1]),
            sql.alias(i, _BOUNDS[2]),
            sql.alias(bins_count, _BOUNDS[3]),
            copy=False,
        ).from_(
            exp.Subquery(this=stepped, alias=exp.TableAlias(this=sql.ident("stepped"))), copy=False
        ),
        [],
    )

    # Aggregations per group and bin.
    key_names = [f"__dqlbuild_k{n}" for n in range(len(keys))]
    start_col = sql.col(_BOUNDS[0], bounds.name)
    # A constant interval lets DuckDB fold the division (grouping is the hot loop).
    divisor = sql.long(fixed_step) if fixed_step else sql.col(_BOUNDS[2], bounds.name)
    bin_value = exp.IntDiv(
        this=sql.paren(exp.Sub(this=time_col, expression=start_col)), expression=divisor
    )
    value_names = [f"__dqlbuild_v{n}" for n in range(len(series))]
    binned_items: list[exp.Expr] = [
        *(sql.alias(k, n) for (_, k, _), n in zip(keys, key_names, strict=True)),
        sql.alias(bin_value, _BIN),
        *(
            sql.alias(s.aggregate.sql, n)
            for s, n in zip(series, value_names, strict=True)
            if s.aggregate is not None
        ),
    ]
    # Bounds taken from the records hold every record that has a time.
    in_range: exp.Expr = exp.Not(this=sql.is_null(time_col))
    if given_frame:
        in_range = exp.and_(
            exp.GTE(this=time_col, expression=start_col),
            exp.LT(this=time_col, expression=sql.col(_BOUNDS[1], bounds.name)),
        )
    binned = compiler.add(
        exp.select(*binned_items, copy=False)
        .from_(sql.ident(relation.name), copy=False)
        .join(sql.ident(bounds.name), join_type="CROSS", copy=False)
        .where(in_range, copy=False)
        .group_by(*(k for _, k, _ in keys), bin_value, copy=False),
        [],
    )

    # One record per group; every bin of the timeframe, filled with the defaults.
    nonempty = bound.first("nonempty")
    always = bool(constant_value(nonempty.expr, "nonempty:")) if nonempty else False
    group_items: list[exp.Expr] = [sql.col(n) for n in key_names] or [
        sql.alias(sql.integer(1), "__dqlbuild_group")
    ]
    group_source = bounds.name if (always and not keys) else binned.name
    groups = compiler.add(
        exp.select(*group_items, copy=False)
        .from_(sql.ident(group_source), copy=False)
        .distinct(copy=False),
        [],
    )
    grid_bin = "__dqlbuild_slot"
    grid = compiler.add(
        exp.select(exp.Star(), sql.alias(sql.col(grid_bin, "slots"), _BIN), copy=False)
        .from_(sql.ident(groups.name), copy=False)
        .join(sql.ident(bounds.name), join_type="CROSS", copy=False)
        .join(
            exp.Unnest(
                expressions=[sql.fn("range", sql.col(_BOUNDS[3]))],
                alias=exp.TableAlias(this=sql.ident("slots"), columns=[sql.ident(grid_bin)]),
            ),
            join_type="CROSS",
            copy=False,
        ),
        [],
    )
    match = sql.and_all(
        [exp.EQ(this=sql.col(_BIN, "g"), expression=sql.col(_BIN, "b"))]
        + [exp.NullSafeEQ(this=sql.col(n, "g"), expression=sql.col(n, "b")) for n in key_names]
    )
    bin_start = exp.Add(
        this=sql.col(_BOUNDS[0], "g"),
        expression=exp.Mul(this=sql.col(_BIN, "g"), expression=sql.col(_BOUNDS[2], "g")),
    )
    arrays: list[exp.Expr] = []
    for s, n in zip(series, value_names, strict=True):
        if s.special == "start":
            value: exp.Expr = bin_start
        elif s.special == "end":
            value = exp.Add(this=bin_start, expression=sql.col(_BOUNDS[2], "g"))
        else:
            value = sql.col(n, "b")
            if s.rate is not None:
                value = exp.Div(
                    this=exp.Mul(this=sql.cast(value, "DOUBLE"), expression=sql.long(s.rate)),
                    expression=sql.col(_BOUNDS[2], "g"),
                )
            value = sql.coalesce(value, s.default)
        ordered = exp.Order(this=value, expressions=[sql.ordered(sql.col(_BIN, "g"))])
        arrays.append(sql.alias(exp.ArrayAgg(this=ordered), s.name))
    timeframe_record = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=sql.ident("start"), expression=sql.col(_BOUNDS[0], "g")),
            exp.PropertyEQ(this=sql.ident("end"), expression=sql.col(_BOUNDS[1], "g")),
        ]
    )
    key_cols = [sql.col(n, "g") for n in key_names]
    order = sql.row_number([sql.ordered(k) for k in key_cols]) if keys else sql.long(1)
    final_items: list[exp.Expr] = [
        sql.alias(order, ORDER),
        sql.alias(timeframe_record, "timeframe"),
        sql.alias(sql.col(_BOUNDS[2], "g"), "interval"),
        *(sql.alias(k, name) for k, (name, _, _) in zip(key_cols, keys, strict=True)),
        *arrays,
    ]
    group_by = [
        *key_cols,
        sql.col(_BOUNDS[0], "g"),
        sql.col(_BOUNDS[1], "g"),
        sql.col(_BOUNDS[2], "g"),
    ]
    final = (
        exp.select(*final_items, copy=False)
        .from_(
            exp.Table(this=sql.ident(grid.name), alias=exp.TableAlias(this=sql.ident("g"))),
            copy=False,
        )
        .join(
            exp.Table(this=sql.ident(binned.name), alias=exp.TableAlias(this=sql.ident("b"))),
            on=match,
            join_type="LEFT",
            copy=False,
        )
        .group_by(*group_by, copy=False)
    )
    columns = [
        Column("timeframe", TIMEFRAME),
        Column("interval", DURATION),
        *(Column(name, kind) for name, _, kind in keys),
        *(Column(s.name, array_of(s.element)) for s in series),
    ]
    return compiler.add(final, columns, exact=True)


__all__ = ["NICE_INTERVALS"]
