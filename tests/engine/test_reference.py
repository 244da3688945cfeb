"""The reference interpreter itself, checked against results computed by hand (and the
examples of the DQL documentation), so the differential test compares with something
known to be right."""

from __future__ import annotations

import math
from typing import Any

import pytest

from dqlbuild import Command, parse, parse_expression
from tests.engine.reference import Duration, EvaluationError, Timestamp, binary_chain, run

ROWS: list[dict[str, Any]] = [
    {"svc": "a", "ms": 10, "ok": True, "tags": ["x", "y"]},
    {"svc": "a", "ms": 30, "ok": False},
    {"svc": "b", "ms": None, "ok": True, "tags": []},
    {"svc": "b", "ms": 5.5},
    {"ms": 7, "ok": None, "tags": ["z"]},
]
DATA = {"spans": ROWS}


def rows(query: str) -> list[dict[str, Any]]:
    return run(query, DATA)


def column(query: str, name: str) -> list[Any]:
    return [row.get(name) for row in rows(query)]


def test_filter_keeps_only_true_and_filter_out_drops_only_true() -> None:
    assert column("fetch spans | filter ms > 8", "ms") == [10, 30]
    # null > 8 is null: filter drops the record, filterOut keeps it
    assert column("fetch spans | filterOut ms > 8", "ms") == [None, 5.5, 7]
    assert column("fetch spans | filter ok", "ms") == [10, None]
    assert column("fetch spans | filterOut ok", "ms") == [30, 5.5, 7]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("null and false", False),
        ("false and null", False),
        ("null and true", None),
        ("null or true", True),
        ("null or false", None),
        ("true xor null", None),
        ("true xor false xor true", False),
        ("not null", None),
        ("null == null", None),
        ("1 == 1.0", True),
        ('"a" < "b"', True),
        ('"B" < "a"', True),  # case-sensitive, code point order
        ("7 / 2", 3),
        ("-7 / 2", -3),
        ("7 / 2.0", 3.5),
        ("-7 % 3", -1),
        ("7 % -3", 1),
        ("1 / 0", None),
        ("null + 1", None),
        ("2 + 3 * 4", 14),
        ("10 - 5 - 2", 3),
        ("-(2 - 5)", 3),
    ],
)
def test_operators(expression: str, expected: Any) -> None:
    [row] = run(f"data record() | fields v = {expression}")
    assert row["v"] == expected and type(row["v"]) is type(expected)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("if(true, 1, else: 2)", 1),
        ("if(null, 1, else: 2)", 2),
        ("if(false, 1)", None),
        ("coalesce(null, null, 3, 4)", 3),
        ('contains("Hello", "ell")', True),
        ('contains("Hello", "ELL")', False),
        ('contains("Hello", "ELL", caseSensitive: false)', True),
        ('startsWith("Hello", "He")', True),
        ('endsWith("Hello", "lo")', True),
        ('contains(null, "a")', None),
        ('lower("AbC")', "abc"),
        ('upper("AbC")', "ABC"),
        ('concat("a", 1, null, true)', "a1true"),
        ('substring("abcdef", from: 1, to: 3)', "bc"),
        ('substring("abc", from: 2, to: 10)', "c"),
        ('indexOf("banana", "an")', 1),
        ('indexOf("banana", "x")', -1),
        ('stringLength("héllo")', 5),
        ('trim("  x ")', "x"),
        ("toString(12)", "12"),
        ("toString(true)", "true"),
        ('toLong("42")', 42),
        ('toLong("x")', None),
        ("toLong(3.9)", 3),
        ('toDouble("2.5")', 2.5),
        ("abs(-3)", 3),
        ("round(2.345, decimals: 2)", 2.35),
        ("round(2.5)", 3.0),
        ("round(-2.5)", -3.0),
        ("floor(2.7)", 2.0),
        ("ceil(2.1)", 3.0),
        ('in("b", "a", "b")', True),
        ('in("c", {"a", "b"})', False),
        ('in(null, "a")', None),
        ("arraySize(array(1, 2, 3))", 3),
        ("arraySum(array(1, null, 3))", 4.0),
        ("arrayAvg(array(1, 2))", 1.5),
        ("arrayFirst(array(null, 2, 3))", 2),
        ("arrayLast(array(1, 2, null))", 2),
        ("arrayDistinct(array(1, 2, 1))", [1, 2]),
        ("isNull(null)", True),
        ("isNotNull(0)", True),
        ("isTrueOrNull(null)", True),
        ("isFalseOrNull(true)", False),
        ("record(a = 1, b = 2)[b]", 2),
        ("array(1, 2, 3)[-1]", 3),
        ("array(1, 2, 3)[5]", None),
        ("2h / 1h", 2.0),
    ],
)
def test_functions(expression: str, expected: Any) -> None:
    [row] = run(f"data record() | fields v = {expression}")
    assert row["v"] == expected and type(row["v"]) is type(expected)


def test_durations_and_timestamps() -> None:
    [row] = run("data record() | fields d = 90s + 1m, n = -1ms")
    assert row == {"d": Duration(150 * 10**9), "n": Duration(-(10**6))}
    assert Timestamp.parse("2026-01-15T00:00:01.5Z") == Timestamp(1768435201500000000)
    assert Timestamp.parse("2026-01-15T01:00:00+01:00") == Timestamp.parse("2026-01-15T00:00:00Z")


def test_summarize_groups_nulls_and_skips_null_values() -> None:
    result = rows(
        "fetch spans | summarize n = count(), total = sum(ms), mean = avg(ms), lo = min(ms),"
        " hi = max(ms), oks = countIf(ok), kinds = countDistinct(ok), by: {svc}"
    )
    assert result == [
        {"svc": "a", "n": 2, "total": 40, "mean": 20.0, "lo": 10, "hi": 30, "oks": 1, "kinds": 2},
        {"svc": "b", "n": 2, "total": 5.5, "mean": 5.5, "lo": 5.5, "hi": 5.5, "oks": 1, "kinds": 1},
        {"svc": None, "n": 1, "total": 7, "mean": 7.0, "lo": 7, "hi": 7, "oks": 0, "kinds": 0},
    ]


def test_summarize_names_and_empty_input() -> None:
    assert rows("fetch spans | summarize count(), avg(ms)") == [
        {"count()": 5, "avg(ms)": (10 + 30 + 5.5 + 7) / 4}
    ]
    # no by: -> exactly one record, even on no input
    assert rows("fetch spans | filter false | summarize count(), sum(ms)") == [
        {"count()": 0, "sum(ms)": None}
    ]
    assert rows("fetch spans | filter false | summarize count(), by: {svc}") == []
    assert rows("fetch spans | summarize r = sum(ms) / count()") == [{"r": 52.5 / 5}]


def test_fields_commands() -> None:
    assert rows("fetch spans | limit 1 | fields svc, twice = ms * 2, missing") == [
        {"svc": "a", "twice": 20, "missing": None}
    ]
    assert rows("fetch spans | limit 1 | fieldsAdd ms = ms + 1, new = 1") == [
        {"svc": "a", "ms": 11, "ok": True, "tags": ["x", "y"], "new": 1}
    ]
    assert rows('fetch spans | limit 1 | fieldsKeep "s*", ok') == [{"svc": "a", "ok": True}]
    assert rows('fetch spans | limit 1 | fieldsRemove "t*", ok') == [{"svc": "a", "ms": 10}]
    assert rows("fetch spans | limit 1 | fieldsRename service = svc, o = ok") == [
        {"ms": 10, "tags": ["x", "y"], "service": "a", "o": True}
    ]


def test_sort_puts_nulls_last_both_ways() -> None:
    assert column("fetch spans | sort ms", "ms") == [5.5, 7, 10, 30, None]
    assert column("fetch spans | sort ms desc", "ms") == [30, 10, 7, 5.5, None]
    assert column("fetch spans | sort svc desc, ms asc", "ms") == [5.5, None, 10, 30, 7]


def test_limit_dedup_expand_append() -> None:
    assert column("fetch spans | limit 2", "ms") == [10, 30]
    assert rows("fetch spans | dedup svc, sort: {ms desc} | fields svc, ms") == [
        {"svc": "a", "ms": 30},
        {"svc": None, "ms": 7},
        {"svc": "b", "ms": 5.5},
    ]
    # an empty, null or missing array gives no record
    assert rows("fetch spans | expand tags | fields svc, tags") == [
        {"svc": "a", "tags": "x"},
        {"svc": "a", "tags": "y"},
        {"svc": None, "tags": "z"},
    ]
    assert rows("data record(a = 1) | append [data record(b = 2)]") == [{"a": 1}, {"b": 2}]


def test_documentation_examples() -> None:
    # DQL ordering commands: limit
    query = "data record(a = 2), record(a = 3), record(a = 7), record(a = 7), record(a = 1)"
    assert run(query + " | limit 3") == [{"a": 2}, {"a": 3}, {"a": 7}]
    # DQL structuring commands: expand with limit
    assert run(
        'data record(a = array(1, 2), b = "DQL"),'
        ' record(a = array(3, 4, 5), b = "Dynatrace Query Language") | expand a, limit: 2'
    ) == [
        {"a": 1, "b": "DQL"},
        {"a": 2, "b": "DQL"},
        {"a": 3, "b": "Dynatrace Query Language"},
        {"a": 4, "b": "Dynatrace Query Language"},
    ]
    # Boolean functions: isNotNull over a record without the field
    assert run(
        'data record(value = true), record(value = false), record(value = "DQL is awesome!"),'
        " record(value = null), record() | fieldsAdd isNotNull(value)"
    ) == [
        {"value": True, "isNotNull(value)": True},
        {"value": False, "isNotNull(value)": True},
        {"value": "DQL is awesome!", "isNotNull(value)": True},
        {"value": None, "isNotNull(value)": False},
        {"isNotNull(value)": False},
    ]


def test_long_operator_chains_do_not_recurse() -> None:
    chain = " or ".join(f"ms == {i}" for i in range(3000))
    assert column(f"fetch spans | filter {chain}", "ms") == [10, 30, 7]
    terms = [parse_expression(f"ms == {i}") for i in range(3000)]
    query = parse("fetch spans").append(Command(name="filter", args=(binary_chain("or", terms),)))
    assert [row.get("ms") for row in run(query, DATA)] == [10, 30, 7]


def test_unsupported_and_invalid_input_are_errors() -> None:
    with pytest.raises(EvaluationError, match="does not implement parse"):
        rows('fetch spans | parse svc, "LD:x"')
    with pytest.raises(EvaluationError, match="needs a boolean"):
        rows("fetch spans | filter ms")
    with pytest.raises(EvaluationError, match="no data for logs"):
        rows("fetch logs")


HOSTS = {
    "hosts": [
        {"svc": "a", "region": "eu", "size": 1},
        {"svc": "a", "region": "us", "size": 2},
        {"svc": "c", "region": "ap", "size": 3},
    ]
}


def test_lookup_takes_the_first_match() -> None:
    data = {**DATA, **HOSTS}
    assert run(
        "fetch spans | lookup [fetch hosts], sourceField: svc, lookupField: svc | fields ms,"
        " lookup.region",
        data,
    ) == [
        {"ms": 10, "lookup.region": "eu"},
        {"ms": 30, "lookup.region": "eu"},
        {"ms": None, "lookup.region": None},
        {"ms": 5.5, "lookup.region": None},
        {"ms": 7, "lookup.region": None},
    ]
    [first] = run(
        'fetch spans | limit 1 | lookup [fetch hosts], lookupField: svc, prefix: "h_",'
        " fields: {region, s = size}",
        data,
    )
    assert first == {"svc": "a", "ms": 10, "ok": True, "tags": ["x", "y"], "region": "eu", "s": 1}


def test_join_kinds() -> None:
    data = {**DATA, **HOSTS}
    inner = run("fetch spans | join [fetch hosts], on: {svc} | fields ms, right.region", data)
    assert inner == [
        {"ms": 10, "right.region": "eu"},
        {"ms": 10, "right.region": "us"},
        {"ms": 30, "right.region": "eu"},
        {"ms": 30, "right.region": "us"},
    ]
    outer = run(
        "fetch spans | join [fetch hosts], kind: outer, on: {left[svc] == right[svc]},"
        " fields: {region}",
        data,
    )
    assert len(outer) == 4 + 3 + 1  # pairs, unmatched left, unmatched right
    assert {"region": "ap"} in outer
    left = run("fetch spans | join [fetch hosts], kind: leftOuter, on: {svc}", data)
    assert len(left) == 4 + 3


def test_join_nested_fields_flatten_search_fields_summary() -> None:
    data = {**DATA, **HOSTS}
    nested = run(
        'fetch spans | filter svc == "a" | limit 1 | joinNested h = [fetch hosts], on: {svc},'
        " fields: {region}",
        data,
    )
    assert nested[0]["h"] == [{"region": "eu"}, {"region": "us"}]
    flat = run("data record(r = record(a = 1, b = record(c = 2))) | fieldsFlatten r, depth: 2")
    assert flat == [{"r": {"a": 1, "b": {"c": 2}}, "r.a": 1, "r.b.c": 2}]
    assert run('fetch hosts | search "US"', HOSTS) == [HOSTS["hosts"][1]]
    assert rows("fetch spans | fieldsSummary svc, topValues: 1") == [
        {"field": "svc", "rawCount": 4, "count": 4, "values": [{"value": "a", "count": 2}]}
    ]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('splitString("a/b//c", "/")', ["a", "b", "", "c"]),
        ('replaceString("a-b-c", "-", "+")', "a+b+c"),
        ('matchesValue("Hello World", "hello*")', True),
        ('matchesValue("Hello World", "*lo W*")', True),
        ('matchesValue("Hello", "Hello", caseSensitive: true)', True),
        ('matchesValue("Hello", "hel")', False),
        ('matchesValue(array("x", "yz"), "y*")', True),
        ('toBoolean("TRUE")', True),
        ("toBoolean(0)", False),
        ("sqrt(16)", 4.0),
        ("sqrt(-1)", None),
        ("power(2, 10)", 1024.0),
        ("bin(17, 5)", 15),
        ('getHour(toTimestamp("2026-01-15T13:45:10Z"))', 13),
        ('getDayOfWeek(toTimestamp("2026-01-15T13:45:10Z"))', 4),  # a Thursday
        (
            'formatTimestamp(toTimestamp("2026-01-15T13:45:10.5Z"),'
            ' format: "yyyy/MM/dd HH:mm:ss.SSS")',
            "2026/01/15 13:45:10.500",
        ),
        (
            'bin(toTimestamp("2026-01-15T13:47:10Z"), 5m) == toTimestamp("2026-01-15T13:45:00Z")',
            True,
        ),
    ],
)
def test_more_functions(expression: str, expected: Any) -> None:
    test_functions(expression, expected)


def test_more_aggregations_and_typed_spans() -> None:
    spans = {
        "spans": [
            {"timestamp": "2026-01-15T00:00:02Z", "duration": 100, "v": 1},
            {"timestamp": "2026-01-15T00:00:01Z", "duration": 300, "v": None},
            {"timestamp": "2026-01-15T00:00:03Z", "duration": 200, "v": 4},
        ]
    }
    [row] = run(
        "fetch spans | summarize first = takeFirst(v), last = takeLast(v), lo = takeMin(v),"
        " p50 = median(duration), p90 = percentile(v, 90), sd = stddev(v), all = collectArray(v),"
        " mean = avg(duration), latest = max(timestamp)",
        spans,
    )
    assert row == {
        "first": 1,
        "last": 4,
        "lo": 1,
        "p50": Duration(200),
        "p90": 1 + 3 * 0.9,
        "sd": math.sqrt(4.5),
        "all": [1, 4],
        "mean": Duration(200),
        "latest": Timestamp.parse("2026-01-15T00:00:03Z"),
    }
    assert [r["timestamp"] for r in run('fetch spans, from: "2026-01-15T00:00:02Z"', spans)] == [
        Timestamp.parse("2026-01-15T00:00:02Z"),
        Timestamp.parse("2026-01-15T00:00:03Z"),
    ]
