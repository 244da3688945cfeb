"""Python values as DQL literals: exact, escaped once, and equal to what the parser reads."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dqlbuild import F, dur, fetch, lit, parse, parse_expression
from dqlbuild.ast.nodes import Double, Duration, Long, Null, String, Unary
from dqlbuild.errors import DQLValueError
from dqlbuild.printing.canonical import format_node

# Every code point, lone surrogates included (hypothesis leaves them out by default).
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
@example('a\ud800b\x00"\\\n\u2028"""`$x')
def test_any_str_round_trips_exactly(value: str) -> None:
    node = lit(value).node
    assert node == String(value=value)
    reparsed = parse_expression(format_node(node))
    assert isinstance(reparsed, String)
    assert reparsed.value == value


@settings(max_examples=100, deadline=None)
@given(ANY_TEXT)
def test_a_str_cannot_escape_its_literal(value: str) -> None:
    # Whatever the text holds, the query keeps one filter stage with one comparison.
    query = fetch("logs").filter(F("content") == value)
    reparsed = parse(query.format())
    assert reparsed == query
    assert [c.name for c in reparsed.commands] == ["fetch", "filter"]
    assert reparsed.commands[1].args[0].operands[1] == String(value=value)  # type: ignore[union-attr]


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_any_field_name_round_trips(name: str) -> None:
    node = F(name).node
    assert parse_expression(format_node(node)) == node


def test_injection_attempt_is_a_plain_string() -> None:
    hostile = '" or true or "'
    q = fetch("logs").filter(F("user") == hostile)
    assert q.format() == 'fetch logs\n| filter user == "\\" or true or \\""'


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1))
def test_integers(value: int) -> None:
    node = lit(value).node
    assert parse_expression(format_node(node)) == node
    if value < 0:
        assert node == Unary(op="-", operand=Long(value=-value))
    else:
        assert node == Long(value=value)


def test_integers_out_of_range() -> None:
    # The signed 64-bit range: -2**63 fits, 2**63 does not.
    for value in (2**63, -(2**63) - 1, 10**30):
        with pytest.raises(DQLValueError):
            lit(value)


@settings(max_examples=100, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats(value: float) -> None:
    node = lit(value).node
    reparsed = parse_expression(format_node(node))
    assert reparsed == node
    inner = reparsed.operand if isinstance(reparsed, Unary) else reparsed
    assert isinstance(inner, Double)
    assert math.copysign(inner.value, -1.0 if isinstance(reparsed, Unary) else 1.0) == value


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused(value: float) -> None:
    with pytest.raises(DQLValueError):
        lit(value)


def test_scalars() -> None:
    assert str(lit(True)) == "true"
    assert str(lit(False)) == "false"
    assert lit(None).node == Null()
    assert str(lit(-0.0)) == "-0.0"
    assert parse_expression(str(lit(1e20))) == Double(value=1e20)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(days=14), "14d"),
        (timedelta(hours=36), "36h"),
        (timedelta(minutes=90), "90m"),
        (timedelta(seconds=45), "45s"),
        (timedelta(seconds=1.5), "1500ms"),
        (timedelta(microseconds=7), "7us"),
        (timedelta(minutes=-5), "-5m"),
        (timedelta(days=1, microseconds=1), "86400000001us"),
    ],
)
def test_timedelta_uses_the_largest_exact_unit(delta: timedelta, text: str) -> None:
    assert str(lit(delta)) == text
    assert dur(delta).node == lit(delta).node == parse_expression(text)


@settings(max_examples=100, deadline=None)
@given(st.timedeltas())
def test_timedeltas_are_exact(delta: timedelta) -> None:
    node = lit(delta).node
    sign = -1 if isinstance(node, Unary) else 1
    inner = node.operand if isinstance(node, Unary) else node
    assert isinstance(inner, Duration)
    factor = {"d": 86_400_000_000, "h": 3_600_000_000, "m": 60_000_000, "s": 1_000_000}
    factor |= {"ms": 1_000, "us": 1}
    assert timedelta(microseconds=sign * inner.value * factor[inner.unit]) == delta
    assert parse_expression(format_node(node)) == node


def test_datetimes_become_utc_timestamps() -> None:
    moment = datetime(2024, 1, 15, 9, 30, tzinfo=timezone(timedelta(hours=1, minutes=30)))
    assert str(lit(moment)) == 'toTimestamp("2024-01-15T08:00:00Z")'
    precise = datetime(2024, 1, 15, 8, 0, 0, 120, tzinfo=UTC)
    assert str(lit(precise)) == 'toTimestamp("2024-01-15T08:00:00.000120Z")'
    assert str(lit(datetime(5, 1, 1, tzinfo=UTC))) == 'toTimestamp("0005-01-01T00:00:00Z")'
    assert parse_expression(str(lit(moment))) == lit(moment).node


def test_naive_datetimes_and_dates_are_refused() -> None:
    with pytest.raises(DQLValueError) as info:
        lit(datetime(2024, 1, 15, 8))
    assert info.value.hint is not None and "tzinfo" in info.value.hint
    with pytest.raises(DQLValueError):
        lit(date(2024, 1, 15))


def test_collections() -> None:
    assert str(lit([1, "a", None, [True]])) == 'array(1, "a", null, array(true))'
    assert str(lit(())) == "array()"
    assert str(lit({"a": 1, "b c": F("x")})) == "record(a = 1, `b c` = x)"
    with pytest.raises(DQLValueError):
        lit({1: 2})
    with pytest.raises(DQLValueError):
        lit({"": 2})
    with pytest.raises(DQLValueError):
        lit({1, 2})


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (("5m",), "5m"),
        (("5M",), "5M"),
        (("250ms",), "250ms"),
        (("10min",), "10min"),
        (("-2h",), "-2h"),
        ((3, "d"), "3d"),
        ((-3, "w"), "-3w"),
    ],
)
def test_dur(args: tuple[object, ...], text: str) -> None:
    assert dur(*args).node == parse_expression(text)  # type: ignore[arg-type]
    assert str(dur(*args)) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "args",
    [("5",), ("5 m",), ("1.5h",), ("5x",), ("m",), (5,), (5, "minutes"), ("5m", "m"), (True, "m")],
)
def test_dur_refuses_what_is_not_a_duration(args: tuple[object, ...]) -> None:
    with pytest.raises(DQLValueError):
        dur(*args)  # type: ignore[arg-type]


def test_dur_timedelta_takes_no_unit() -> None:
    assert dur(timedelta(hours=2)).node == Duration(value=2, unit="h")
    with pytest.raises(DQLValueError):
        dur(timedelta(hours=2), "h")


def test_lit_passes_nodes_and_proxies_through() -> None:
    node = Long(value=3)
    assert lit(node).node is node
    proxy = F("a")
    assert lit(proxy).node is proxy.node
