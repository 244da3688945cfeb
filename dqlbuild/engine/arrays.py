"""Array functions. Decisions (docs/running.md): aggregating array functions skip null
elements and give null for an empty (or all-null) array; ``arrayDistinct`` keeps the
first occurrence of each value, in order, without nulls; indexes are 0-based."""

from __future__ import annotations

from sqlglot import exp

from dqlbuild.engine import sql
from dqlbuild.engine.core import Typed, evaluation_error
from dqlbuild.engine.functions import Args, coerce, common_type, scalar, to_string
from dqlbuild.engine.types import ANY, DOUBLE, LONG, NULL, STRING, DType, array_of


def _array(args: Args, name: str = "array") -> Typed:
    value = args.required(name)
    if value.type.kind not in ("array", "null", "any"):
        raise evaluation_error(
            f"{args.function.name}() needs an array, not a {value.type} value", args.call
        )
    return value


def _element(value: Typed) -> DType:
    return value.type.element if value.type.element is not None else ANY


def _lambda(body: exp.Expr, *names: str) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(n) for n in names])


def _non_null(value: exp.Expr) -> exp.Expr:
    element = exp.to_identifier("element")
    return exp.ArrayFilter(
        this=value, expression=_lambda(exp.Not(this=sql.is_null(element)), "element")
    )


@scalar("array", "expression")
def _make_array(args: Args) -> Typed:
    values = args.all("expression")
    element = common_type(values, args.call, "array()")
    items = [coerce(value, element) for value in values]
    result: exp.Expr = exp.Array(expressions=items)
    if element.kind == "null":
        result = sql.cast(result, "VARCHAR[]")
    return Typed(result, array_of(element), all(v.constant for v in values))


@scalar("arraySize", "array")
def _array_size(args: Args) -> Typed:
    value = _array(args)
    if value.type == NULL:
        return value
    return Typed(sql.cast(exp.ArraySize(this=value.sql), "BIGINT"), LONG, value.constant)


def _aggregate(name: str, sql_name: str, result: DType | None) -> None:
    def implementation(args: Args) -> Typed:
        value = _array(args)
        if value.type == NULL:
            return value
        element = _element(value)
        if result is not None and element.kind not in ("long", "double", "null", "any"):
            raise evaluation_error(
                f"{name}() needs an array of numbers, not {value.type}", args.call
            )
        kind = result if result is not None else element
        if element.kind == "null":  # only empty arrays or null elements: nothing to add up
            return Typed(sql.typed_null(kind), kind, value.constant)
        computed = sql.fn(sql_name, value.sql)
        if kind == DOUBLE:
            computed = sql.cast(computed, "DOUBLE")
        return Typed(computed, kind, value.constant)

    scalar(name, "array")(implementation)


_aggregate("arraySum", "list_sum", DOUBLE)
_aggregate("arrayAvg", "list_avg", DOUBLE)
_aggregate("arrayMin", "list_min", None)
_aggregate("arrayMax", "list_max", None)


def _pick(name: str, index: int) -> None:
    def implementation(args: Args) -> Typed:
        value = _array(args)
        if value.type == NULL:
            return value
        picked = sql.fn("list_extract", value.sql, sql.integer(index))
        return Typed(picked, _element(value), value.constant)

    scalar(name, "array")(implementation)


_pick("arrayFirst", 1)
_pick("arrayLast", -1)


@scalar("arrayElement", "expression", "index")
def _array_element(args: Args) -> Typed:
    value = _array(args, "expression")
    index = args.required("index")
    if value.type == NULL or index.type == NULL:
        return Typed(sql.null(), NULL, True)
    if index.type.kind != "long":
        raise evaluation_error("arrayElement(): the index is a long", args.call)
    one_based = sql.case(
        [
            (
                exp.GTE(this=index.sql, expression=sql.integer(0)),
                exp.Add(this=index.sql, expression=sql.integer(1)),
            )
        ],
        index.sql,
    )
    return Typed(sql.fn("list_extract", value.sql, one_based), _element(value))


@scalar("arrayDistinct", "array")
def _array_distinct(args: Args) -> Typed:
    value = _array(args)
    if value.type == NULL:
        return value
    element, index = exp.to_identifier("element"), exp.to_identifier("i")
    # Keep an element where it occurs first: order kept, as written.
    first = exp.EQ(this=sql.fn("list_position", value.sql, element), expression=index)
    keep = exp.And(this=exp.Not(this=sql.is_null(element)), expression=first)
    filtered = exp.ArrayFilter(this=value.sql, expression=_lambda(keep, "element", "i"))
    return Typed(filtered, value.type, value.constant)


@scalar("arrayRemoveNulls", "array")
def _array_remove_nulls(args: Args) -> Typed:
    value = _array(args)
    if value.type == NULL:
        return value
    return Typed(_non_null(value.sql), value.type, value.constant)


@scalar("arrayReverse", "array")
def _array_reverse(args: Args) -> Typed:
    value = _array(args)
    if value.type == NULL:
        return value
    return Typed(sql.fn("list_reverse", value.sql), value.type, value.constant)


@scalar("arraySort", "array", "direction")
def _array_sort(args: Args) -> Typed:
    value = _array(args)
    direction = args.constant("direction") or "ascending"
    if direction not in ("ascending", "descending"):
        raise evaluation_error('arraySort(): direction is "ascending" or "descending"', args.call)
    if value.type == NULL:
        return value
    order = "ASC" if direction == "ascending" else "DESC"
    sorted_ = sql.fn("list_sort", value.sql, sql.string(order), sql.string("NULLS LAST"))
    return Typed(sorted_, value.type, value.constant)


@scalar("arrayConcat", "array")
def _array_concat(args: Args) -> Typed:
    values = args.all("array")
    for value in values:
        if value.type.kind not in ("array", "null", "any"):
            raise evaluation_error(
                f"arrayConcat() needs arrays, not a {value.type} value", args.call
            )
    kind = common_type(values, args.call, "arrayConcat()")
    result = coerce(values[0], kind)
    for value in values[1:]:
        result = sql.fn("list_concat", result, coerce(value, kind))
    any_null = sql.or_all([sql.is_null(v.sql) for v in values])  # a null array: null
    return Typed(sql.case([(any_null, sql.null())], result), kind, all(v.constant for v in values))


@scalar("arrayIndexOf", "array", "value")
def _array_index_of(args: Args) -> Typed:
    value = _array(args)
    needle = args.required("value")
    if value.type == NULL or needle.type == NULL:
        return Typed(sql.null(), NULL, True)
    position = sql.fn("list_position", value.sql, needle.sql)
    result = sql.coalesce(exp.Sub(this=position, expression=sql.integer(1)), sql.integer(-1))
    return Typed(sql.case([(sql.is_null(value.sql), sql.null())], result), LONG)


@scalar("arrayToString", "array", "delimiter")
def _array_to_string(args: Args) -> Typed:
    value = _array(args)
    delimiter = args.constant("delimiter")
    if delimiter is None:
        delimiter = ", "
    if value.type == NULL:
        return Typed(sql.null(), NULL, True)
    element = exp.to_identifier("element")
    as_text = to_string(Typed(element, _element(value)), args.call)
    texts = exp.Transform(this=value.sql, expression=_lambda(as_text, "element"))
    return Typed(sql.fn("array_to_string", texts, sql.string(str(delimiter))), STRING)


__all__: list[str] = []
