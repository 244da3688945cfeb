"""Functions: results, null arguments and argument types (docs/running.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import dqlbuild
from dqlbuild import DQLEvaluationError, DQLUnsupportedError

NOW = dt.datetime(2024, 5, 6, 12, 30, 15, 123456, tzinfo=dt.UTC)
RECORDS = [
    {"s": " Ab c ", "n": -7, "x": 2.5, "b": True, "t": "2024-05-06T07:08:09.123456789Z",
     "arr": [3, 1, None, 3], "words": ["GET /a", "post /b"]},
    {"s": None, "n": None, "x": None, "b": None, "t": None, "arr": None, "words": None},
]  # fmt: skip
TYPES = {"t": {"t": "timestamp"}}


def values(expression: str) -> list[Any]:
    """``expression`` on a record of values and on a record of typed nulls."""
    result = dqlbuild.run(f"fetch t | fields v = {expression}", {"t": RECORDS}, types=TYPES,
                          now=NOW)  # fmt: skip
    return [row["v"] for row in result.rows]


def value(expression: str) -> Any:
    return dqlbuild.run(f"data record() | fields v = {expression}", {}, now=NOW).rows[0]["v"]


def fails(expression: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        values(expression)


# ============================================================================ general
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("isNull(n)", [False, True]),
        ("isNotNull(n)", [True, False]),
        ("isTrueOrNull(b)", [True, True]),
        ("isFalseOrNull(b)", [False, True]),
        ('if(b, "yes", else: "no")', ["yes", "no"]),
        ('if(b, "yes")', ["yes", None]),
        ("if(n > 0, 1, else: 2.5)", [2.5, 2.5]),
        ("coalesce(n, 0)", [-7, 0]),
        ("coalesce(x, n, 1)", [2.5, 1.0]),
        ("in(n, -7, 3)", [True, None]),
        ("in(n, {1, 2})", [False, None]),
        ("in(3, arr)", [True, False]),
        ("in(n, array(-7))", [True, None]),
        ('in(n, "x")', [False, None]),
        ("record(a = n, s)", [{"a": -7, "s": " Ab c "}, {"a": None, "s": None}]),
    ],
)
def test_general_functions(expression: str, expected: list[Any]) -> None:
    assert values(expression) == expected


def test_general_function_errors() -> None:
    fails("if(n, 1)", DQLEvaluationError, "if\\(\\) needs a boolean")
    fails('coalesce(n, "a")', DQLEvaluationError, "mixes long and string")
    fails("isNull()", DQLEvaluationError, "needs its 'expression' argument")
    fails("isNull(n, nope: 1)", DQLEvaluationError, "has no parameter 'nope'")
    fails("nosuch(n)", DQLEvaluationError, "unknown function nosuch")
    fails("entityName(n)", DQLUnsupportedError, "the function entityName")


# ============================================================================ strings
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('contains(s, "b")', [True, None]),
        ('contains(s, "B")', [False, None]),
        ('contains(s, "B", caseSensitive: false)', [True, None]),
        ('startsWith(s, " A")', [True, None]),
        ('endsWith(s, "C ", caseSensitive: false)', [True, None]),
        ('matchesValue(s, " ab c ")', [True, None]),
        ('matchesValue(s, "*b*")', [True, None]),
        ('matchesValue(s, "ab")', [False, None]),
        ('matchesValue(s, "*B*", caseSensitive: true)', [False, None]),
        ('matchesValue(s, {"x", " a*"})', [True, None]),
        ('matchesValue(words, "get *")', [True, None]),
        ('matchesValue(s, "50%")', [False, None]),
        ('matchesPhrase(s, "ab C")', [True, None]),
        ('matchesPhrase(s, "b c")', [False, None]),
        ('matchesPhrase(words, "POST")', [True, None]),
        ("lower(s)", [" ab c ", None]),
        ("upper(s)", [" AB C ", None]),
        ("trim(s)", ["Ab c", None]),
        ("stringLength(s)", [6, None]),
        ('concat(s, n, "!")', [" Ab c -7!", "!"]),
        ('concat(n, x, b, delimiter: "|")', ["-7|2.5|true", ""]),
        ("substring(s, from: 1, to: 3)", ["Ab", None]),
        ("substring(s, from: 3)", [" c ", None]),
        ("substring(s, from: -5, to: 100)", [" Ab c ", None]),
        ('indexOf(s, "b")', [2, None]),
        ('indexOf(s, "z")', [-1, None]),
        ('lastIndexOf(" a a ", "a")', [3, 3]),
        ('splitString("a,b,,c", ",")', [["a", "b", "", "c"]] * 2),
        ('splitString(s, " ")', [["", "Ab", "c", ""], None]),
        ('replaceString(s, " ", "_")', ["_Ab_c_", None]),
        ('replaceString(s, "", "_")', [" Ab c ", None]),
        ('s ~ "AB*C"', [True, None]),
    ],
)
def test_string_functions(expression: str, expected: list[Any]) -> None:
    assert values(expression) == expected


def test_matches_value() -> None:
    # Regression (.mismatches.md M5): a * pattern compiles to LIKE ... ESCAPE.
    assert dqlbuild.run('data record(s = "abc") | filter matchesValue(s, "a*")', {}).rows == [
        {"s": "abc"}
    ]


def test_to_string_writes_records_without_fields_as_json_objects() -> None:
    # Regression (found by test_differential): a record without fields inside an array or
    # record is stored as the text {} and came out as the string "{}".
    query = (
        "data record(a = 0, r = record(), q = record(k = record()))"
        " | fieldsAdd s = toString(array(record(r = r))), t = toString(q), u = toString(r)"
    )
    (row,) = dqlbuild.run(query, {}).rows
    assert (row["s"], row["t"], row["u"]) == ('[{"r":{}}]', '{"k":{}}', "{}")


def test_string_function_errors() -> None:
    fails('contains(n, "1")', DQLEvaluationError, "contains\\(\\) needs a string")
    fails("matchesValue(s, s)", DQLUnsupportedError, "not a string literal")
    fails("lower(n)", DQLEvaluationError, "lower\\(\\) needs a string")


# ============================================================================ conversions
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("toString(n)", ["-7", None]),
        ("toString(x)", ["2.5", None]),
        ("toString(b)", ["true", None]),
        ("toString(t)", ["2024-05-06T07:08:09.123456789Z", None]),
        ("toString(arr)", ["[3,1,null,3]", None]),
        ('toLong("42")', [42, 42]),
        ('toLong(" 4.9 ")', [4, 4]),
        ('toLong("x")', [None, None]),
        ("toLong(x)", [2, None]),
        ("toLong(-2.7)", [-2, -2]),
        ("toLong(b)", [1, None]),
        ("toLong(t)", [1714979289123456789, None]),
        ('toDouble("1e3")', [1000.0, 1000.0]),
        ("toDouble(n)", [-7.0, None]),
        ('toBoolean("TRUE")', [True, True]),
        ('toBoolean("yes")', [False, False]),
        ("toBoolean(0)", [False, False]),
        ("toBoolean(n)", [True, None]),
        (
            'toTimestamp("2024-05-06T09:00:00+02:00")',
            [dt.datetime(2024, 5, 6, 7, tzinfo=dt.UTC)] * 2,
        ),
        ('toTimestamp("not a time")', [None, None]),
        ("toDuration(n)", [-7, None]),
        ("asLong(n)", [-7, None]),
        ("asLong(x)", [None, None]),
        ("asDouble(n)", [None, None]),
        ("asDouble(x)", [2.5, None]),
        ("asString(s)", [" Ab c ", None]),
        ("asNumber(n)", [-7, None]),
    ],
)
def test_conversions(expression: str, expected: list[Any]) -> None:
    assert values(expression) == expected


def test_conversion_errors() -> None:
    fails("toTimestamp(n)", DQLUnsupportedError, "timestampFromUnixMillis")
    fails("toLong(arr)", DQLEvaluationError, "cannot convert a array")


# ============================================================================ math
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("round(x)", [3.0, None]),
        ("round(2.345, decimals: 2)", [2.35, 2.35]),
        ("round(n)", [-7, None]),
        ("floor(x)", [2.0, None]),
        ("floor(n)", [-7, None]),
        ("ceil(x)", [3.0, None]),
        ("abs(n)", [7, None]),
        ("abs(-x)", [2.5, None]),
        ("power(2, 10)", [1024.0, 1024.0]),
        ("power(n, 2)", [49.0, None]),
        ("sqrt(16)", [4.0, 4.0]),
        ("sqrt(n)", [None, None]),
        ("log(1)", [0.0, 0.0]),
        ("log(0)", [None, None]),
        ("log10(1000)", [3.0, 3.0]),
        ("bin(n, 5)", [-10, None]),
        ("bin(x, 2)", [2.0, None]),
        ("bin(t, 1h)", [dt.datetime(2024, 5, 6, 7, tzinfo=dt.UTC), None]),
        ("bin(t, 1d)", [dt.datetime(2024, 5, 6, tzinfo=dt.UTC), None]),
        ("bin(t, 1M)", [dt.datetime(2024, 5, 1, tzinfo=dt.UTC), None]),
    ],
)
def test_math_functions(expression: str, expected: list[Any]) -> None:
    assert values(expression) == expected


def test_math_errors() -> None:
    fails("round(x, decimals: -1)", DQLEvaluationError, "decimals must be")
    fails('sqrt("4")', DQLEvaluationError, "needs a number")
    fails("round(x, decimals: n)", DQLUnsupportedError, "other than a literal")


# ============================================================================ time
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("now()", [NOW, NOW]),
        ("getYear(t)", [2024, None]),
        ("getMonth(t)", [5, None]),
        ("getDayOfMonth(t)", [6, None]),
        ("getDayOfWeek(t)", [1, None]),
        ("getDayOfYear(t)", [127, None]),
        ("getHour(t)", [7, None]),
        ('getHour(t, timezone: "Europe/Vienna")', [9, None]),
        ("getMinute(t)", [8, None]),
        ("getSecond(t)", [9, None]),
        ("getWeekOfYear(t)", [19, None]),
        ("formatTimestamp(t)", ["2024-05-06T07:08:09.123456789", None]),
        ('formatTimestamp(t, format: "yyyy/MM/dd HH:mm")', ["2024/05/06 07:08", None]),
        ("formatTimestamp(t, format: \"dd MMM yyyy 'at' H:mm\")", ["06 May 2024 at 7:08", None]),
        ("unixSecondsFromTimestamp(t)", [1714979289, None]),
        ("unixMillisFromTimestamp(t)", [1714979289123, None]),
        ("timestampFromUnixSeconds(0)", [dt.datetime(1970, 1, 1, tzinfo=dt.UTC)] * 2),
        (
            "timestampFromUnixMillis(n)",
            [dt.datetime(1969, 12, 31, 23, 59, 59, 993000, tzinfo=dt.UTC), None],
        ),
        ('duration(90, "s")', [90_000_000_000] * 2),
        ('duration(1.5, "min")', [90_000_000_000] * 2),
        ('duration(n, "ms")', [-7_000_000, None]),
    ],
)
def test_time_functions(expression: str, expected: list[Any]) -> None:
    assert values(expression) == expected


def test_time_errors() -> None:
    fails("getHour(n)", DQLEvaluationError, "needs a timestamp")
    fails('formatTimestamp(t, format: "QQ")', DQLUnsupportedError, "format letter 'Q'")
    fails('duration(1, "M")', DQLUnsupportedError, "unit 'M'")


# ============================================================================ arrays
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("array(1, 2, null)", [[1, 2, None]] * 2),
        ("array(1, 2.5)", [[1.0, 2.5]] * 2),
        ("array(n, 1)", [[-7, 1], [None, 1]]),
        ("arraySize(arr)", [4, None]),
        ("arraySum(arr)", [7.0, None]),
        ("arrayAvg(arr)", [7 / 3, None]),
        ("arrayMin(arr)", [1, None]),
        ("arrayMax(arr)", [3, None]),
        ("arrayFirst(arr)", [3, None]),
        ("arrayLast(arr)", [3, None]),
        ("arrayDistinct(arr)", [[3, 1], None]),
        ("arrayElement(arr, 1)", [1, None]),
        ("arrayElement(arr, -1)", [3, None]),
        ("arrayRemoveNulls(arr)", [[3, 1, 3], None]),
        ("arrayReverse(arr)", [[3, None, 1, 3], None]),
        ("arraySort(arr)", [[1, 3, 3, None], None]),
        ('arraySort(arr, direction: "descending")', [[3, 3, 1, None], None]),
        ("arrayConcat(arr, array(9))", [[3, 1, None, 3, 9], None]),
        ("arrayIndexOf(arr, 3)", [0, None]),
        ("arrayIndexOf(arr, 9)", [-1, None]),
        ('arrayToString(words, delimiter: ";")', ["GET /a;post /b", None]),
        ("arraySum(array(1, 2))", [3.0, 3.0]),
    ],
)
def test_array_functions(expression: str, expected: list[Any]) -> None:
    assert values(expression) == expected


def test_array_functions_of_arrays_without_known_elements() -> None:
    # Regression (.mismatches.md M6): arrays that are all empty or all null.
    data = {"t": [{"a": []}, {"a": [None]}]}
    result = dqlbuild.run("fetch t | fields s = arraySum(a), m = arrayMax(a), n = arraySize(a)",
                          data)  # fmt: skip
    assert result.rows == [{"s": None, "m": None, "n": 0}, {"s": None, "m": None, "n": 1}]


def test_array_errors() -> None:
    fails("arraySize(n)", DQLEvaluationError, "needs an array")
    fails("arraySum(words)", DQLEvaluationError, "array of numbers")
    fails('array(1, "a")', DQLEvaluationError, "mixes long and string")


# ============================================================================ aggregations
AGG = {"t": [
    {"g": "a", "n": 1, "d": 10, "s": "x", "ok": True},
    {"g": "a", "n": 3, "d": 30, "s": "y", "ok": False},
    {"g": "a", "n": None, "d": None, "s": None, "ok": None},
    {"g": "b", "n": 2, "d": 20, "s": "y", "ok": True},
]}  # fmt: skip


def aggregate(expression: str) -> list[Any]:
    result = dqlbuild.run(f"fetch t | summarize v = {expression}, by: {{g}}", AGG,
                          types={"t": {"d": "duration"}})  # fmt: skip
    return [row["v"] for row in result.rows]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("count()", [3, 1]),
        ("countIf(ok)", [1, 1]),
        ("countIf(n > 5)", [0, 0]),
        ("countDistinct(s)", [2, 1]),
        ("sum(n)", [4.0, 2.0]),
        ("sum(d)", [40, 20]),
        ("avg(n)", [2.0, 2.0]),
        ("avg(d)", [20, 20]),
        ("min(s)", ["x", "y"]),
        ("max(n)", [3, 2]),
        ("median(n)", [2.0, 2.0]),
        ("percentile(n, 100)", [3.0, 2.0]),
        ("percentile(d, 50)", [20, 20]),
        ("stddev(n)", [2**0.5, None]),
        ("variance(n)", [2.0, None]),
        ("collectDistinct(s)", [["x", "y"], ["y"]]),
        ("collectArray(n)", [[1, 3], [2]]),
        ("collectArray(n, maxLength: 1)", [[1], [2]]),
        ("takeFirst(s)", ["x", "y"]),
        ("takeLast(s)", ["y", "y"]),
        ("takeAny(n)", [1, 2]),
        ("takeMin(s)", ["x", "y"]),
        ("takeMax(s)", ["y", "y"]),
        ("sum(n) / count()", [4 / 3, 2.0]),
    ],
)
def test_aggregations(expression: str, expected: list[Any]) -> None:
    result = aggregate(expression)
    if all(isinstance(v, float) for v in expected if v is not None):
        assert result == pytest.approx(expected)
    else:
        assert result == expected


def test_aggregations_of_nothing() -> None:
    empty = 'fetch t | filter g == "z" | summarize c = count(), s = sum(n), a = collectArray(n)'
    assert dqlbuild.run(empty, AGG).rows == [{"c": 0, "s": None, "a": []}]


def test_aggregation_errors() -> None:
    with pytest.raises(DQLEvaluationError, match="sum\\(\\) needs numbers"):
        aggregate("sum(s)")
    with pytest.raises(DQLEvaluationError, match="percentile is a number from 0 to 100"):
        aggregate("percentile(n, 101)")
    with pytest.raises(DQLUnsupportedError, match="'expand' of collectArray"):
        aggregate("collectArray(n, expand: true)")


def test_times_inside_arrays_and_records_as_text() -> None:
    # Regression: to_json wrote the stored nanoseconds of nested timestamps and durations.
    data = {"t": [{"timestamp": "2026-01-01T00:10:00Z"}, {"timestamp": None}]}
    query = (
        "fetch t | fields a = toString(array(timestamp)), "
        "r = toString(record(t = timestamp, d = 1h, n = record(x = array(timestamp), y = 2)))"
    )
    assert dqlbuild.run(query, data).rows == [
        {
            "a": '["2026-01-01T00:10:00.000000000Z"]',
            "r": '{"t":"2026-01-01T00:10:00.000000000Z","d":"3600000000000",'
            '"n":{"x":["2026-01-01T00:10:00.000000000Z"],"y":2}}',
        },
        {"a": "[null]", "r": '{"t":null,"d":"3600000000000","n":{"x":[null],"y":2}}'},
    ]
    # Fields of several types are summarised as text.
    series = "fetch t | makeTimeseries count(), interval: 1h | fieldsSummary timeframe, interval"
    row, _ = dqlbuild.run(series, data).rows
    assert row["values"] == [
        {
            "value": '{"start":"2026-01-01T00:00:00.000000000Z",'
            '"end":"2026-01-01T01:00:00.000000000Z"}',
            "count": 1,
        }
    ]


def test_records_without_keys_as_text_and_next_to_records_with_keys() -> None:
    # Regressions (.mismatches.md M15, M16).
    assert dqlbuild.run("fetch t | fields v = toString(r)", {"t": [{"r": {}}]}).rows == [
        {"v": "{}"}
    ]
    query = "data record(r = record()), record(r = record(k = 1)) | fields r, t = toString(r)"
    assert dqlbuild.run(query, {}).rows == [
        {"r": {"k": None}, "t": '{"k":null}'},
        {"r": {"k": 1}, "t": '{"k":1}'},
    ]
    assert value("array(record(k = 1), record(j = 2))") == [
        {"k": 1, "j": None},
        {"k": None, "j": 2},
    ]
