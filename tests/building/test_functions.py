"""``fn.<name>(...)`` for every catalog function, checked against the catalog."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dqlbuild import Expression, F, dur, fetch, fn, lit, parse, parse_expression, timeseries
from dqlbuild.ast.nodes import Assign, Call, Named
from dqlbuild.building import UnknownFunctionError
from dqlbuild.catalog import Parameter, get_catalog, snake_case
from dqlbuild.errors import DQLCatalogError, DQLValueError
from dqlbuild.printing.canonical import format_node

CATALOG = get_catalog()
FUNCTION_NAMES = sorted({f.name for f in CATALOG.functions})


def _sample(param: Parameter) -> object:
    if param.enum_values:
        return param.enum_values[0]
    return F("y")


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_every_function(name: str) -> None:
    entries = CATALOG.functions_named(name)
    signature = entries[0].signatures[0]
    args = [F("x") for p in signature.parameters if p.is_positional and p.required]
    camel = getattr(fn, name)(*args)
    snake = getattr(fn, snake_case(name))(*args)
    assert isinstance(camel, Expression)
    assert camel.node == snake.node
    assert isinstance(camel.node, Call)
    assert camel.node.name == name
    assert parse_expression(format_node(camel.node)) == camel.node
    # Every named-only parameter, by its snake_case keyword.
    named = [p for e in entries for s in e.signatures for p in s.parameters if p.requires_name]
    for param in named:
        call = getattr(fn, name)(*args, **{snake_case(param.name): _sample(param)}).node
        last = call.args[-1]
        assert isinstance(last, Named)
        assert last.name == param.name
        assert parse_expression(format_node(call)) == call


# One realistic use per function category (the family a function belongs to).
CATEGORY_EXAMPLES: dict[str, tuple[Callable[[], object], str]] = {
    "aggregation": (
        lambda: fetch("logs").summarize(
            n=fn.count(), hosts=fn.count_distinct(F("host")), by=["loglevel"]
        ),
        "fetch logs\n| summarize n = count(), hosts = countDistinct(host), by: {loglevel}",
    ),
    "array": (
        lambda: fn.array_sort(fn.array_distinct(F("tags")), direction="descending"),
        'arraySort(arrayDistinct(tags), direction: "descending")',
    ),
    "bitwise": (lambda: fn.bitwise_and(F("flags"), 4) != 0, "bitwiseAnd(flags, 4) != 0"),
    "boolean": (lambda: fn.is_nan(F("x")) | fn.in_(F("a"), 1, 2), "isNaN(x) or in(a, 1, 2)"),
    "cast": (lambda: fn.as_long(F("value")), "asLong(value)"),
    "constant": (lambda: 2 * fn.pi() * F("r"), "2 * pi() * r"),
    "conversion": (lambda: fn.to_string(F("code")), "toString(code)"),
    "create": (
        lambda: fn.timeframe(from_=fn.now() - dur("2h"), to=fn.now()),
        "timeframe(from: now() - 2h, to: now())",
    ),
    "cryptographic": (lambda: fn.hash_sha256(F("user.email")), "hashSha256(user.email)"),
    "davis": (lambda: fn.forecast(F("series")), "forecast(series)"),
    "entities": (lambda: fn.entity_name(F("dt.entity.host")), "entityName(dt.entity.host)"),
    "expression timeseries": (
        lambda: fetch("logs").make_timeseries(errors=fn.count_if(F("loglevel") == "ERROR")),
        'fetch logs\n| makeTimeseries errors = countIf(loglevel == "ERROR")',
    ),
    "flow": (
        lambda: fn.if_(F("a") > 1, "big", else_=fn.coalesce(F("b"), "small")),
        'if(a > 1, "big", else: coalesce(b, "small"))',
    ),
    "general": (
        lambda: fn.json_field(F("content"), "user.id"),
        'jsonField(content, "user.id")',
    ),
    "get": (lambda: fn.get_start(F("timeframe")), "getStart(timeframe)"),
    "iterative": (lambda: fn.i_any(F("values").each() > 10), "iAny(values[] > 10)"),
    "mathematical": (lambda: fn.round(F("x") / 3, decimals=2), "round(x / 3, decimals: 2)"),
    "network": (
        lambda: fn.ip_in(F("client.ip"), "10.0.0.0/8"),
        'ipIn(client.ip, "10.0.0.0/8")',
    ),
    "smartscape": (lambda: fn.get_node_name(F("id")), "getNodeName(id)"),
    "string": (
        lambda: fn.contains(F("content"), "timeout", case_sensitive=False),
        'contains(content, "timeout", caseSensitive: false)',
    ),
    "time": (lambda: fn.get_hour(F("timestamp")) >= 9, "getHour(timestamp) >= 9"),
    "timeseries": (
        lambda: timeseries(cpu=fn.avg(F("dt.host.cpu.usage"), rollup="max")),
        "timeseries cpu = avg(dt.host.cpu.usage, rollup: max)",
    ),
}


def test_every_category_has_an_example() -> None:
    assert set(CATEGORY_EXAMPLES) == {f.category for f in CATALOG.functions}


@pytest.mark.parametrize("category", sorted(CATEGORY_EXAMPLES))
def test_category(category: str) -> None:
    build, text = CATEGORY_EXAMPLES[category]
    built = build()
    if isinstance(built, Expression):
        assert built.node == parse_expression(text)
        assert str(built) == text
    else:
        assert built == parse(text)
        assert built.format() == text  # type: ignore[attr-defined]


def test_unknown_function_suggests() -> None:
    with pytest.raises(DQLCatalogError) as info:
        _ = fn.collectDistinc
    assert info.value.hint == "did you mean 'collectDistinct'?"
    with pytest.raises(DQLCatalogError) as info:
        _ = fn.collect_distinc
    assert info.value.hint == "did you mean 'collectDistinct'?"
    assert isinstance(info.value, UnknownFunctionError)
    assert not hasattr(fn, "noSuchFunctionAtAll")
    assert hasattr(fn, "count")


def test_unknown_named_parameter_suggests() -> None:
    with pytest.raises(DQLCatalogError) as info:
        fn.round(F("x"), decimal=2)
    assert info.value.hint == "did you mean 'decimals'?"
    # a str given positionally to a function is a string, not text
    assert str(fn.round(F("x"), "decimal: 2")) == 'round(x, "decimal: 2")'


def test_named_node_positionally_is_checked() -> None:
    good = Named(name="decimals", value=lit(2).node)
    assert str(fn.round(F("x"), good)) == "round(x, decimals: 2)"
    with pytest.raises(DQLCatalogError):
        fn.round(F("x"), Named(name="decimal", value=lit(2).node))


def test_python_keywords() -> None:
    assert str(fn.if_(F("c"), 1, else_=0)) == "if(c, 1, else: 0)"
    assert str(fn.in_(F("a"), "x")) == 'in(a, "x")'
    assert str(fn.substring(F("s"), from_=1, to=3)) == "substring(s, from: 1, to: 3)"
    assert fn.if_(F("c"), 1).node == fn.If(F("c"), 1).node  # any case


def test_values_in_functions_are_values() -> None:
    assert str(fn.concat("a", 1, None, [1, 2])) == 'concat("a", 1, null, array(1, 2))'
    assert str(fn.record(a=1, b="x")) == 'record(a = 1, b = "x")'
    assert fn.record(a=1).node.args[0] == Assign(target="a", value=lit(1).node)  # type: ignore[union-attr]


def test_enum_parameters() -> None:
    assert str(fn.avg(F("m"), rollup="SUM")) == "avg(m, rollup: sum)"
    with pytest.raises(DQLValueError) as info:
        fn.avg(F("m"), rollup="summ")
    assert info.value.hint == "did you mean 'sum'?"
    # duration units are an enum that also takes expressions; `m` and `M` differ
    assert str(fn.duration(5, unit="M")) == 'duration(5, unit: "M")'
    assert str(fn.duration(5, unit="m")) == 'duration(5, unit: "m")'
    assert str(fn.duration(5, unit=F("u"))) == "duration(5, unit: u)"


def test_pseudo_parameter() -> None:
    # alias: names a field; a str there is the name as is
    assert str(fn.count(alias="n")) == "count(alias: n)"
    assert str(fn.count(alias="my n")) == "count(alias: `my n`)"
    q = fetch("logs").expand(F("ids"), alias="dt.entity.host")
    assert q == parse("fetch logs | expand ids, alias: dt.entity.host")


def test_functions_unknown_to_the_catalog() -> None:
    built = fn("brandNewFunction", F("x"), 1, option="a")
    assert str(built) == 'brandNewFunction(x, 1, option: "a")'
    assert str(fn("collect_distinct", F("x"))) == "collectDistinct(x)"
    with pytest.raises(DQLValueError):
        fn("not a name")


def test_namespace_listing() -> None:
    names = dir(fn)
    assert "collectDistinct" in names and "collect_distinct" in names
    assert repr(fn.count) == "fn.count"


def test_function_calls_are_expressions() -> None:
    e = fn.lower(F("a")) == "x"
    assert e.node == parse_expression('lower(a) == "x"')
    assert str(fn.now().at("d")) == "now()@d"
