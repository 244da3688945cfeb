"""Operators: DQL precedence, null rules and types (docs/running.md, "Semantics")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import dqlbuild
from dqlbuild import DQLEvaluationError, DQLUnsupportedError

NOW = dt.datetime(2024, 5, 6, 12, 0, tzinfo=dt.UTC)
# One record with a value of every type, one where every field is null (typed nulls).
RECORDS = [
    {"l": 7, "d": 2.5, "s": "ab", "b": True, "t": "2024-05-06T07:00:00Z", "u": 1_500_000_000,
     "arr": [1, 2, 3], "rec": {"k": "v"}},
    {"l": None, "d": None, "s": None, "b": None, "t": None, "u": None, "arr": None, "rec": None},
]  # fmt: skip
TYPES = {"t": {"t": "timestamp", "u": "duration"}}


def values(expression: str) -> list[Any]:
    """``expression`` on the full record and on the all-null record."""
    result = dqlbuild.run(f"fetch t | fields v = {expression}", {"t": RECORDS}, types=TYPES,
                          now=NOW)  # fmt: skip
    return [row["v"] for row in result.rows]


def value(expression: str) -> Any:
    return dqlbuild.run(f"data record() | fields v = {expression}", {}, now=NOW).rows[0]["v"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("10 - (4 - 3)", 9),
        ("-2 * 3", -6),
        ("7 / 2", 3),
        ("-7 / 2", -3),
        ("7 % 3", 1),
        ("-7 % 3", -1),
        ("7 / 2.0", 3.5),
        ("1 + 2.5", 3.5),
        ("0.1 + 0.2", 0.1 + 0.2),
        ("7 / 0", None),
        ("7 % 0", None),
        ("7.0 / 0", None),
        ("2147483647 + 1", 2147483648),
        ("1 < 2 and 2 < 3", True),
        ("true or false and false", True),
        ("not true or true", True),
        ("not (true or true)", False),
        ("true xor true", False),
        ("true xor false", True),
        ('"a" < "b"', True),
        ('"B" < "a"', True),
        ('"a" == "A"', False),
        ("1 == 1.0", True),
        ('1 == "1"', False),
        ('1 != "1"', True),
        ("array(1, 2) == array(1, 2)", True),
        ("2h / 30m", 4.0),
        ("1h / 60", 60_000_000_000),
        ("60 * 1s", 60_000_000_000),
        ("1.5 * 1s", 1_500_000_000),
        ("1s - 1500ms", -500_000_000),
        ("5s % 2s", 1_000_000_000),
    ],
)
def test_operators(expression: str, expected: Any) -> None:
    assert value(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("null == null", None),
        ("1 == null", None),
        ("null != 1", None),
        ("null < 1", None),
        ("1 + null", None),
        ("-(null)", None),
        ("null and false", False),
        ("null and true", None),
        ("null or true", True),
        ("null or false", None),
        ("not null", None),
        ("null xor true", None),
        ("1 == null or true", True),
        # A null typed by arithmetic stays null next to a timestamp (differential test).
        ('toTimestamp("2026-01-15T00:30:00Z") + (null * 2)', None),
        ("(null * 2) - now()", None),
        ("if(true, null * 2, else: 1ms)", None),
    ],
)
def test_null_rules(expression: str, expected: Any) -> None:
    assert value(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("l + 1", [8, None]),
        ("l * d", [17.5, None]),
        ("l / 2", [3, None]),
        ('s == "ab"', [True, None]),
        ('s != "ab"', [False, None]),
        ("b and true", [True, None]),
        ("b or true", [True, True]),
        ("not b", [False, None]),
        ("t + u", [dt.datetime(2024, 5, 6, 7, 0, 1, 500000, tzinfo=dt.UTC), None]),
        ("t - 1h", [dt.datetime(2024, 5, 6, 6, tzinfo=dt.UTC), None]),
        ("t - t", [0, None]),
        ("u * 2", [3_000_000_000, None]),
        ("u / 2", [750_000_000, None]),
        ("u / u", [1.0, None]),
        ("t > now() - 1d", [True, None]),
        ("arr[0]", [1, None]),
        ("arr[-1]", [3, None]),
        ("arr[5]", [None, None]),
        ("rec[k]", ["v", None]),
        ("rec[nope]", [None, None]),
        ('l ~ "7"', [True, None]),
        ('s ~ "A*"', [True, None]),
        ('s ~ "b"', [True, None]),
        ('s ~ "x"', [False, None]),
    ],
)
def test_typed_fields_and_their_nulls(expression: str, expected: list[Any]) -> None:
    assert values(expression) == expected


def test_time_alignment() -> None:
    assert values("t@h") == [dt.datetime(2024, 5, 6, 7, tzinfo=dt.UTC), None]
    assert value("now()@d") == dt.datetime(2024, 5, 6, tzinfo=dt.UTC)
    assert value("@d") == dt.datetime(2024, 5, 6, tzinfo=dt.UTC)
    assert value("-1d@d") == dt.datetime(2024, 5, 5, tzinfo=dt.UTC)
    assert value("now()@w") == dt.datetime(2024, 5, 6, tzinfo=dt.UTC)  # a Monday
    assert value("now()@w7") == dt.datetime(2024, 5, 5, tzinfo=dt.UTC)  # the Sunday before
    assert value("now()@M") == dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    assert value("now()@q") == dt.datetime(2024, 4, 1, tzinfo=dt.UTC)
    assert value("now()@y") == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert value("now()@15m") == dt.datetime(2024, 5, 6, 12, tzinfo=dt.UTC)
    assert value("now() - 1M") == dt.datetime(2024, 4, 6, 12, tzinfo=dt.UTC)
    assert value("now() + 1y") == dt.datetime(2025, 5, 6, 12, tzinfo=dt.UTC)


def test_nested_null_tests_keep_their_meaning() -> None:
    # Regression (.mismatches.md M3): the argument of isNull is evaluated first.
    assert value('isNull(isNotNull("ab"))') is False
    assert value('isNotNull(isNull("ab"))') is True
    assert dqlbuild.run("data record(b = false) | fields v = isNull(not b)", {}).rows == [
        {"v": False}
    ]


def test_long_chains_do_not_recurse_per_operand() -> None:
    terms = " or ".join(f"x == {n}" for n in range(2000))
    result = dqlbuild.run(f"data record(x = 1999), record(x = 5000) | filter {terms}", {})
    assert result.rows == [{"x": 1999}]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ('"a" + 1', "cannot apply \\+ to a string and a long"),
        ('"a" < 1', "cannot compare a string value with a long"),
        ("not 1", "not needs a boolean"),
        ('-"a"', "cannot negate a string"),
        ("true and 1", "and needs a boolean"),
        ("record(a = 1) < record(a = 2)", "record values cannot be ordered"),
    ],
)
def test_type_errors_are_reported_with_a_position(expression: str, message: str) -> None:
    with pytest.raises(DQLEvaluationError, match=message) as info:
        value(expression)
    assert info.value.line == 1 and info.value.column is not None


def test_overflow_and_unsupported_forms() -> None:
    with pytest.raises(DQLEvaluationError, match="out of range"):
        value("9223372036854775807 + 1")
    with pytest.raises(DQLUnsupportedError, match="the iterative access"):
        values("arr[] * 2")
    with pytest.raises(DQLUnsupportedError, match="calendar duration"):
        value("1M < 1d")
    with pytest.raises(DQLEvaluationError, match=r"\$X has no value"):
        value("$X")


def test_in_subquery() -> None:
    data = {"a": [{"x": 1}, {"x": 2}, {"x": None}], "b": [{"y": 2}, {"y": 3}]}
    result = dqlbuild.run("fetch a | filter x in [fetch b | fields y]", data)
    assert result.rows == [{"x": 2}]
    with pytest.raises(DQLEvaluationError, match="exactly one field"):
        dqlbuild.run("fetch a | filter x in [fetch b | fields y, z = 1]", data)


def test_record_keys_and_elements_that_never_hold_a_value_are_null() -> None:
    # Regression (.mismatches.md M14): stored as text, typed null.
    data = {"t": [{"r": {"k": None}, "a": [None]}]}
    assert dqlbuild.run("fetch t | filter r[k] < 3", data).rows == []
    assert dqlbuild.run("fetch t | fields v = a[0] > 1, w = r[k] + 1", data).rows == [
        {"v": None, "w": None}
    ]
