"""Aggregation functions of ``summarize`` (and, per time bin, of ``makeTimeseries``).

Decisions (docs/running.md): every aggregation but ``count()`` skips null values;
``sum`` and ``avg`` of numbers are doubles, of durations durations (as the catalog types
them); ``percentile``/``median`` interpolate linearly between the two nearest values;
``stddev``/``variance`` are the sample statistics (n - 1); ``takeFirst``/``takeLast``/
``takeAny`` take the first/last/first non-null value in record order;
``collectDistinct`` gives the distinct values in ascending order, ``collectArray`` the
values in record order; ``countDistinct`` is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlglot import exp

from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import Call
from dqlbuild.catalog import get_catalog
from dqlbuild.engine import sql
from dqlbuild.engine.core import ORDER, Scope, Typed, evaluation_error, unsupported
from dqlbuild.engine.functions import Args, bind, check_parameters
from dqlbuild.engine.types import ANY, DOUBLE, LONG, NULL, DType, array_of, storage_type

Aggregation = Callable[[Args], Typed]
AGGREGATIONS: dict[str, tuple[Aggregation, frozenset[str]]] = {}
# Parameters makeTimeseries handles itself, around the aggregation.
SERIES_PARAMETERS = frozenset({"default", "rate"})


def aggregation(name: str, *parameters: str) -> Callable[[Aggregation], Aggregation]:
    def register(implementation: Aggregation) -> Aggregation:
        AGGREGATIONS[name.lower()] = (implementation, frozenset(p.lower() for p in parameters))
        return implementation

    return register


def compile_aggregation(scope: Scope, call: Node, name: str, _args: Sequence[Node]) -> Typed:
    """An aggregation call in ``summarize`` or ``makeTimeseries``: its arguments are
    compiled against the stage's input, without aggregations inside."""
    assert isinstance(call, Call) and scope.aggregation_context is not None
    function = get_catalog().function(name, scope.aggregation_context)  # type: ignore[arg-type]
    assert function is not None
    entry = AGGREGATIONS.get(function.name.lower())
    if entry is None:
        raise unsupported(f"the aggregation {function.name}()", call)
    implementation, parameters = entry
    inner = Scope(scope.relation, scope.compiler, scope.table)
    args = Args(inner, call, function, bind(inner, call, function))
    supported = parameters | (
        SERIES_PARAMETERS if scope.aggregation_context == "makeTimeseries" else frozenset()
    )
    check_parameters(args, supported)
    return implementation(args)


def _value(args: Args, name: str = "expression") -> Typed:
    value = args.required(name)
    if value.type.kind in ("array", "record") and args.function.name not in _ANY_TYPE:
        raise evaluation_error(
            f"{args.function.name}() cannot aggregate {value.type} values", args.call
        )
    return value


_ANY_TYPE = {
    "collectDistinct",
    "collectArray",
    "takeFirst",
    "takeLast",
    "takeAny",
    "takeMin",
    "takeMax",
    "countDistinct",
    "countDistinctExact",
    "countDistinctApprox",
}


def _not_null(value: Typed) -> exp.Expr:
    return exp.Not(this=sql.is_null(value.sql))


def _filtered(aggregate: exp.Expr, condition: exp.Expr) -> exp.Expr:
    return exp.Filter(this=aggregate, expression=exp.Where(this=condition))


@aggregation("count")
def _count(args: Args) -> Typed:
    return Typed(exp.Count(this=exp.Star()), LONG)


@aggregation("countIf", "condition", "expression")
def _count_if(args: Args) -> Typed:
    condition = args.typed("condition") or args.required("expression")
    if condition.type.kind not in ("boolean", "null", "any"):
        raise evaluation_error(
            f"countIf() needs a condition, not a {condition.type} value", args.call
        )
    counted = sql.case([(condition.sql, sql.integer(1))])
    return Typed(exp.Count(this=counted), LONG)


def _count_distinct(args: Args) -> Typed:
    value = _value(args)
    return Typed(exp.Count(this=exp.Distinct(expressions=[value.sql])), LONG)


for _name in ("countDistinct", "countDistinctExact", "countDistinctApprox"):
    aggregation(_name, "expression", "precision")(_count_distinct)


def _numeric(args: Args, value: Typed, *, durations: bool = True, timestamps: bool = False) -> None:
    kinds = {"long", "double", "null", "any"}
    if durations:
        kinds.add("duration")
    if timestamps:
        kinds.add("timestamp")
    if value.type.kind not in kinds:
        raise evaluation_error(
            f"{args.function.name}() needs numbers, not {value.type} values", args.call
        )


def _rounded(expression: exp.Expr) -> exp.Expr:
    return sql.cast(sql.fn("round", expression), "BIGINT")


@aggregation("sum", "expression")
def _sum(args: Args) -> Typed:
    value = _value(args)
    _numeric(args, value)
    if value.type.kind == "duration":
        return Typed(sql.cast(exp.Sum(this=value.sql), "BIGINT"), value.type)
    return Typed(sql.cast(exp.Sum(this=value.sql), "DOUBLE"), DOUBLE)


@aggregation("avg", "expression")
def _avg(args: Args) -> Typed:
    value = _value(args)
    _numeric(args, value)
    if value.type.kind == "duration":
        return Typed(_rounded(exp.Avg(this=value.sql)), value.type)
    return Typed(exp.Avg(this=value.sql), DOUBLE)


def _extreme(kind: type[exp.Func]) -> Aggregation:
    def implementation(args: Args) -> Typed:
        value = _value(args)
        if value.type == NULL:
            return Typed(sql.null(), NULL)
        return Typed(kind(this=value.sql), value.type)

    return implementation


aggregation("min", "expression")(_extreme(exp.Min))
aggregation("max", "expression")(_extreme(exp.Max))
aggregation("takeMin", "expression")(_extreme(exp.Min))
aggregation("takeMax", "expression")(_extreme(exp.Max))


def percentile_of(args: Args, value: Typed, fraction: float) -> Typed:
    _numeric(args, value, timestamps=True)
    if value.type == NULL:
        return Typed(sql.null(), NULL)
    quantile = exp.PercentileCont(this=value.sql, expression=sql.double(fraction))
    if value.type.kind in ("duration", "timestamp"):
        return Typed(_rounded(quantile), value.type)
    return Typed(quantile, DOUBLE)


@aggregation("percentile", "expression", "percentile")
def _percentile(args: Args) -> Typed:
    value = _value(args)
    percent = args.constant("percentile")
    if isinstance(percent, bool) or not isinstance(percent, int | float) or not 0 <= percent <= 100:
        raise evaluation_error("percentile(): the percentile is a number from 0 to 100", args.call)
    return percentile_of(args, value, float(percent) / 100)


@aggregation("median", "expression")
def _median(args: Args) -> Typed:
    return percentile_of(args, _value(args), 0.5)


def _statistic(sql_name: str) -> Aggregation:
    def implementation(args: Args) -> Typed:
        value = _value(args)
        _numeric(args, value, durations=False)
        return Typed(sql.fn(sql_name, sql.cast(value.sql, "DOUBLE")), DOUBLE)

    return implementation


aggregation("stddev", "expression")(_statistic("stddev_samp"))
aggregation("variance", "expression")(_statistic("var_samp"))


@aggregation("correlation", "expression1", "expression2")
def _correlation(args: Args) -> Typed:
    first, second = args.required("expression1"), args.required("expression2")
    for value in (first, second):
        _numeric(args, value, durations=False)
    corr = exp.Corr(this=sql.cast(first.sql, "DOUBLE"), expression=sql.cast(second.sql, "DOUBLE"))
    return Typed(corr, DOUBLE)


def _max_length(args: Args) -> int | None:
    if args.given("expand"):
        raise unsupported(
            "the parameter 'expand' of " + args.function.name + "()", args.node("expand")
        )
    limit = args.constant("maxLength")
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise evaluation_error(f"{args.function.name}(): maxLength is a positive long", args.call)
    return limit


def _sliced(values: exp.Expr, limit: int | None) -> exp.Expr:
    if limit is None:
        return values
    return sql.fn("list_slice", values, sql.integer(1), sql.integer(limit))


@aggregation("collectDistinct", "expression", "maxLength", "expand")
def _collect_distinct(args: Args) -> Typed:
    value = _value(args)
    limit = _max_length(args)
    ordered = exp.Order(
        this=exp.Distinct(expressions=[value.sql]), expressions=[sql.ordered(value.sql)]
    )
    collected = _filtered(exp.ArrayAgg(this=ordered), _not_null(value))
    return Typed(_empty_if_null(_sliced(collected, limit), value.type), _array_type(value))


@aggregation("collectArray", "expression", "maxLength", "expand")
def _collect_array(args: Args) -> Typed:
    value = _value(args)
    limit = _max_length(args)
    ordered = exp.Order(this=value.sql, expressions=[sql.ordered(sql.col(ORDER, args.scope.table))])
    collected = _filtered(exp.ArrayAgg(this=ordered), _not_null(value))
    return Typed(_empty_if_null(_sliced(collected, limit), value.type), _array_type(value))


def _array_type(value: Typed) -> DType:
    return array_of(value.type if value.type.kind != "any" else ANY)


def _empty_if_null(values: exp.Expr, element: DType) -> exp.Expr:
    """No values collected gives an empty array, not null."""
    empty = sql.cast(exp.Array(expressions=[]), storage_type(array_of(element)))
    return sql.coalesce(values, empty)


def _take(first: bool) -> Aggregation:
    def implementation(args: Args) -> Typed:
        value = _value(args)
        if value.type == NULL:
            return Typed(sql.null(), NULL)
        kind = exp.ArgMin if first else exp.ArgMax
        taken = kind(this=value.sql, expression=sql.col(ORDER, args.scope.table))
        return Typed(_filtered(taken, _not_null(value)), value.type)

    return implementation


aggregation("takeFirst", "expression")(_take(True))
aggregation("takeAny", "expression")(_take(True))
aggregation("takeLast", "expression")(_take(False))


__all__ = ["AGGREGATIONS", "SERIES_PARAMETERS", "compile_aggregation", "percentile_of"]
