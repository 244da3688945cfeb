"""Commands: their parameters, null and type edge cases (docs/running.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import dqlbuild
from dqlbuild import DQLEvaluationError, DQLUnsupportedError

NOW = dt.datetime(2024, 5, 6, 12, 0, tzinfo=dt.UTC)


def rows(query: str, data: dict[str, Any] | None = None, **kwargs: Any) -> list[dict[str, Any]]:
    return dqlbuild.run(query, data or {}, now=NOW, **kwargs).rows


def test_summarize_without_by_is_one_record_even_over_nothing() -> None:
    # Regression (.mismatches.md M4).
    assert rows("fetch logs | summarize min(a)", {"logs": []}) == [{"min(a)": None}]
    assert rows("fetch logs | summarize count(), sum(x)", {"logs": []}) == [
        {"count()": 0, "sum(x)": None}
    ]


LOGS = [
    {
        "timestamp": "2024-05-06T07:00:00Z",
        "host": "a",
        "n": 3,
        "tags": ["x", "y"],
        "msg": "GET /health",
    },
    {
        "timestamp": "2024-05-06T08:00:00Z",
        "host": "b",
        "n": 1,
        "tags": [],
        "msg": "Timeout while GET",
    },
    {"timestamp": "2024-05-06T09:00:00Z", "host": "a", "n": None, "tags": None, "msg": None},
    {"timestamp": "2024-05-06T11:30:00Z", "host": None, "n": 2, "tags": ["z"], "msg": "ok"},
]
DATA = {"logs": LOGS}


def hosts(query: str) -> list[Any]:
    return [r.get("host") for r in rows(query, DATA)]


# ----------------------------------------------------------------------------- fetch / data
def test_fetch_timeframes() -> None:
    assert hosts("fetch logs, from: -2h") == [None]  # now is 12:00
    assert hosts("fetch logs, from: now() - 5h, to: now() - 4h") == ["a"]
    assert hosts('fetch logs, from: "2024-05-06T08:00:00Z", to: "2024-05-06T09:00:00Z"') == ["b"]
    assert hosts('fetch logs, timeframe: "2024-05-06T07:00:00Z/2024-05-06T08:00:00Z"') == ["a"]
    with pytest.raises(DQLUnsupportedError, match="'bucket' of fetch"):
        rows('fetch logs, bucket: {"b"}', DATA)


def test_fetch_notes_what_it_ignores() -> None:
    result = dqlbuild.run("fetch logs, samplingRatio: 100 | fields nope", DATA)
    assert result.notes == (
        "fetch logs: samplingRatio is ignored; every record given is read",
        "field 'nope' is not in the data of 'logs'; it is null everywhere",
    )


def test_data_records_and_json() -> None:
    assert rows('data record(a = 1, b = "x"), record(a = 2.5), record(c = true)') == [
        {"a": 1.0, "b": "x", "c": None},
        {"a": 2.5, "b": None, "c": None},
        {"a": None, "b": None, "c": True},
    ]
    assert rows('data json: """[{"a": 1, "r": {"k": [1, 2]}}, {"a": null}]"""') == [
        {"a": 1, "r": {"k": [1, 2]}},
        {"a": None, "r": None},
    ]
    with pytest.raises(DQLEvaluationError, match="'a' is long in an earlier record and string"):
        rows('data record(a = 1), record(a = "x")')
    with pytest.raises(DQLEvaluationError, match="record 1 is not an object"):
        rows('data json: "[1]"')


# ----------------------------------------------------------------------------- filtering
def test_filter_keeps_only_true_and_filter_out_drops_only_true() -> None:
    assert hosts("fetch logs | filter n > 1") == ["a", None]
    assert hosts("fetch logs | filterOut n > 1") == ["b", "a"]
    assert hosts("fetch logs | filter null") == []
    with pytest.raises(DQLEvaluationError, match="needs a boolean"):
        rows("fetch logs | filter n", DATA)


def test_search() -> None:
    assert hosts('fetch logs | search "get"') == ["a", "b"]
    assert hosts('fetch logs | search "GET", caseSensitive: true') == ["a", "b"]
    assert hosts('fetch logs | search "Get", caseSensitive: true') == []
    assert hosts('fetch logs | search "z"') == [None]  # inside an array of strings
    assert hosts('fetch logs | search "a", fields: {msg}') == ["a"]
    assert hosts('fetch logs | search msg ~ "time*get"') == ["b"]


# ----------------------------------------------------------------------------- fields
def test_fields_and_fields_add() -> None:
    assert rows("fetch logs | fields host, twice = n * 2 | limit 2", DATA) == [
        {"host": "a", "twice": 6},
        {"host": "b", "twice": 2},
    ]
    result = dqlbuild.run("fetch logs | fieldsAdd n = n + 1, m = n * 10 | fields n, m", DATA)
    assert result.rows[0] == {"n": 4, "m": 40}  # m sees the new n
    keep_order = dqlbuild.run("fetch logs | fieldsAdd host = upper(host), z = 1", DATA)
    assert keep_order.columns == ("timestamp", "host", "n", "tags", "msg", "z")
    with pytest.raises(DQLEvaluationError, match="field 'tags' does not exist"):
        rows("fetch logs | fields host | fields tags", DATA)


def test_fields_keep_remove_rename() -> None:
    base = "fetch logs | fieldsAdd `a.1` = 1, `a.2` = 2"
    assert dqlbuild.run(f'{base} | fieldsKeep host, "a.*"', DATA).columns == ("host", "a.1", "a.2")
    assert dqlbuild.run(f'{base} | fieldsRemove "a.*", tags, nope', DATA).columns == (
        "timestamp",
        "host",
        "n",
        "msg",
    )
    renamed = dqlbuild.run("fetch logs | fieldsRename server = host, n, count", DATA)
    assert renamed.columns == ("timestamp", "server", "count", "tags", "msg")
    replaced = dqlbuild.run("fetch logs | fieldsRename n = host", DATA)
    assert replaced.columns == ("timestamp", "n", "tags", "msg") and replaced.rows[0]["n"] == "a"
    with pytest.raises(DQLEvaluationError, match="the field 'x' does not exist"):
        rows("fetch logs | fields host | fieldsRename y = x", DATA)


def test_fields_flatten() -> None:
    data = {"t": [{"r": {"k": 1, "in": {"x": "y"}}}, {"r": None}]}
    assert rows("fetch t | fieldsFlatten r | fieldsRemove r", data) == [
        {"r.k": 1, "r.in": {"x": "y"}},
        {"r.k": None, "r.in": None},
    ]
    assert dqlbuild.run('fetch t | fieldsFlatten r, depth: 2, prefix: "p_"', data).columns == (
        "r",
        "p_k",
        "p_in.x",
    )
    assert rows("fetch t | fieldsFlatten r, fields: {k, other = in} | fields k, other", data)[
        0
    ] == {
        "k": 1,
        "other": {"x": "y"},
    }
    with pytest.raises(DQLEvaluationError, match="needs a record"):
        rows("fetch logs | fieldsFlatten host", DATA)


# ----------------------------------------------------------------------------- summarize
def test_summarize_groups_null_keys_and_names() -> None:
    assert rows("fetch logs | summarize count(), total = sum(n), by: {host}", DATA) == [
        {"host": "a", "count()": 2, "total": 3.0},
        {"host": "b", "count()": 1, "total": 1.0},
        {"host": None, "count()": 1, "total": 2.0},
    ]
    assert rows("fetch logs | summarize c = count(), by: {h = bin(timestamp, 2h)}", DATA) == [
        {"h": dt.datetime(2024, 5, 6, 6, tzinfo=dt.UTC), "c": 1},
        {"h": dt.datetime(2024, 5, 6, 8, tzinfo=dt.UTC), "c": 2},
        {"h": dt.datetime(2024, 5, 6, 10, tzinfo=dt.UTC), "c": 1},
    ]
    nested = dqlbuild.run(
        "fetch logs | summarize {c = count(), by: {{upper(host), alias: H}}}", DATA
    )
    assert nested.columns == ("H", "c")
    with pytest.raises(DQLEvaluationError, match="given twice"):
        rows("fetch logs | summarize host = count(), by: {host}", DATA)
    with pytest.raises(DQLEvaluationError, match="aggregates records"):
        rows("fetch logs | fields c = count()", DATA)


def test_sort_is_stable_with_nulls_last() -> None:
    assert hosts("fetch logs | sort n") == ["b", None, "a", "a"]
    assert hosts("fetch logs | sort n desc") == ["a", None, "b", "a"]
    assert hosts("fetch logs | sort host desc, n") == ["b", "a", "a", None]
    assert hosts('fetch logs | sort n, direction: "descending"') == ["a", None, "b", "a"]
    assert hosts("fetch logs | sort lower(msg)") == ["a", None, "b", "a"]


def test_limit_and_dedup() -> None:
    assert hosts("fetch logs | limit 2") == ["a", "b"]
    assert hosts("fetch logs | sort n desc | limit 1") == ["a"]
    assert hosts("fetch logs | limit 0") == []
    assert rows("fetch logs | dedup host | fields host, n", DATA) == [
        {"host": "a", "n": 3},
        {"host": "b", "n": 1},
        {"host": None, "n": 2},
    ]
    assert rows("fetch logs | dedup host, sort: {n desc} | fields host, n", DATA)[0] == {
        "host": "a",
        "n": 3,
    }
    # The kept records stay in their input order.
    assert rows("fetch logs | dedup host, sort: {timestamp desc} | fields host, n", DATA) == [
        {"host": "b", "n": 1},
        {"host": "a", "n": None},
        {"host": None, "n": 2},
    ]
    with pytest.raises(DQLEvaluationError, match="size of limit is a long constant"):
        rows("fetch logs | limit n", DATA)


def test_expand() -> None:
    assert rows("fetch logs | expand tags | fields host, tags", DATA) == [
        {"host": "a", "tags": "x"},
        {"host": "a", "tags": "y"},
        {"host": None, "tags": "z"},
    ]
    assert rows("fetch logs | expand t = tags, limit: 1 | fields t, tags", DATA) == [
        {"t": "x", "tags": ["x", "y"]},
        {"t": "z", "tags": ["z"]},
    ]
    with pytest.raises(DQLEvaluationError, match="expand needs an array"):
        rows("fetch logs | expand host", DATA)


# ----------------------------------------------------------------------------- combining
SIDE = {
    "logs": [{"k": 1, "v": "a"}, {"k": 2, "v": "b"}, {"k": None, "v": "c"}],
    "other": [
        {"id": 1, "w": "x"},
        {"id": 1, "w": "y"},
        {"id": 3, "w": "z"},
        {"id": None, "w": "n"},
    ],
}


def test_append_unions_fields() -> None:
    result = dqlbuild.run("fetch logs | append [fetch other | fields k = id, w]", SIDE)
    assert result.columns == ("k", "v", "w")
    assert [r["k"] for r in result.rows] == [1, 2, None, 1, 1, 3, None]
    with pytest.raises(DQLEvaluationError, match="'k' is long in the input and string"):
        rows('fetch logs | append [data record(k = "x")]', SIDE)


def test_lookup_takes_the_first_match() -> None:
    assert rows("fetch logs | lookup [fetch other], sourceField: k, lookupField: id", SIDE) == [
        {"k": 1, "v": "a", "lookup.id": 1, "lookup.w": "x"},
        {"k": 2, "v": "b", "lookup.id": None, "lookup.w": None},
        {"k": None, "v": "c", "lookup.id": None, "lookup.w": None},
    ]
    listed = "fetch logs | lookup [fetch other], sourceField: k, lookupField: id, fields: {w}"
    assert [r["w"] for r in rows(listed, SIDE)] == ["x", None, None]
    prefix = (
        "fetch logs | fieldsAdd `p.x` = 1"
        ' | lookup [fetch other], sourceField: k, lookupField: id, prefix: "p."'
    )
    assert dqlbuild.run(prefix, SIDE).columns == ("k", "v", "p.id", "p.w")


def test_join_kinds() -> None:
    inner = "fetch logs | join [fetch other], on: {left[k] == right[id]}"
    assert [(r["v"], r["right.w"]) for r in rows(inner, SIDE)] == [("a", "x"), ("a", "y")]
    outer = inner + ", kind: outer, fields: {w}"
    assert [(r["v"], r["w"]) for r in rows(outer, SIDE)] == [
        ("a", "x"),
        ("a", "y"),
        ("b", None),
        ("c", None),
        (None, "z"),
        (None, "n"),
    ]
    left = "fetch logs | join [fetch other | fieldsRename k = id], on: {k}, kind: leftOuter"
    assert len(rows(left, SIDE)) == 4
    with pytest.raises(DQLEvaluationError, match="cannot be compared"):
        rows("fetch logs | join [fetch other], on: {left[v] == right[id]}", SIDE)


def test_join_nested() -> None:
    query = "fetch logs | joinNested m = [fetch other], on: {left[k] == right[id]}, fields: {w}"
    assert [r["m"] for r in rows(query, SIDE)] == [[{"w": "x"}, {"w": "y"}], [], []]


# ----------------------------------------------------------------------------- timeseries
SERIES = {
    "spans": [
        {"timestamp": "2024-05-06T07:01:00Z", "m": "a", "duration": 10, "tok": 1},
        {"timestamp": "2024-05-06T07:02:00Z", "m": "a", "duration": 20, "tok": 2},
        {"timestamp": "2024-05-06T07:12:00Z", "m": "b", "duration": 30, "tok": None},
    ]
}


def test_make_timeseries_arrays_per_group() -> None:
    result = dqlbuild.run(
        "fetch spans | makeTimeseries c = count(), avg(duration), s = sum(tok), by: {m}, "
        "interval: 10m",
        SERIES,
    )
    assert result.columns == ("timeframe", "interval", "m", "c", "avg(duration)", "s")
    frame = {
        "start": dt.datetime(2024, 5, 6, 7, tzinfo=dt.UTC),
        "end": dt.datetime(2024, 5, 6, 7, 20, tzinfo=dt.UTC),
    }
    assert result.rows == [
        {
            "timeframe": frame,
            "interval": 600_000_000_000,
            "m": "a",
            "c": [2, None],
            "avg(duration)": [15, None],
            "s": [3.0, None],
        },
        {
            "timeframe": frame,
            "interval": 600_000_000_000,
            "m": "b",
            "c": [None, 1],
            "avg(duration)": [None, 30],
            "s": [None, None],
        },
    ]


def test_make_timeseries_interval_bins_and_timeframe() -> None:
    query = "fetch spans | makeTimeseries count(default: 0), from: now() - 5h, to: now() - 4h"
    result = dqlbuild.run(query + ", bins: 6", SERIES, now=NOW)
    assert result.rows[0]["interval"] == 600_000_000_000
    assert result.rows[0]["count(default: 0)"] == [2, 1, 0, 0, 0, 0]
    assert dqlbuild.run("fetch spans | makeTimeseries count()", SERIES).rows[0]["interval"] == (
        10_000_000_000  # 11 minutes of data: 5.5 s would give 120 bins, the next nice one
    )
    empty = 'fetch spans | filter m == "x" | makeTimeseries count(), interval: 30m'
    assert rows(empty, SERIES) == []
    frame = ', from: "2024-05-06T07:00:00Z", to: "2024-05-06T08:00:00Z"'
    assert rows(empty + frame + ", nonempty: true", SERIES)[0]["count()"] == [None, None]
    with pytest.raises(DQLEvaluationError, match="needs timestamps"):
        rows("fetch spans | makeTimeseries count(), time: m", SERIES)
    with pytest.raises(DQLUnsupportedError, match="'spread'"):
        rows("fetch spans | makeTimeseries count(), spread: timeframe", SERIES)


# ----------------------------------------------------------------------------- summary
def test_fields_summary() -> None:
    assert rows("fetch logs | fieldsSummary host", DATA) == [
        {
            "field": "host",
            "rawCount": 3,
            "count": 3,
            "values": [{"value": "a", "count": 2}, {"value": "b", "count": 1}],
        },
    ]
    mixed = rows("fetch logs | fieldsSummary host, n, topValues: 1", DATA)
    assert [r["values"] for r in mixed] == [
        [{"value": "a", "count": 2}],
        [{"value": "1", "count": 1}],
    ]


# ----------------------------------------------------------------------------- unsupported
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ('fetch logs | parse msg, "LD:x"', "the command parse"),
        ("timeseries avg(dt.host.cpu.usage)", "the command timeseries"),
        ("describe logs", "the command describe"),
        ('load "file"', "the command load"),
        ('smartscapeNodes "HOST"', "the command smartscapeNodes"),
        ('fetch logs | traverse "runs_on", "HOST"', "the command traverse"),
        ("fetch logs | fields e = entityName(host)", "the function entityName"),
        ("fetch logs | summarize percentile(n, 50, weight: 2)", "'weight' of percentile"),
    ],
)
def test_unsupported_things_are_named(query: str, name: str) -> None:
    with pytest.raises(DQLUnsupportedError, match=name) as info:
        rows(query, DATA)
    assert info.value.line == 1 and info.value.column is not None


def test_a_timeframe_over_data_without_timestamps_selects_nothing() -> None:
    # Regression (.mismatches.md M7).
    assert rows("fetch logs, from: -1h", {"logs": []}) == []
    assert rows("fetch logs, from: -1h", {"logs": [{"a": 1}]}) == []
    with pytest.raises(dqlbuild.DQLDataError, match="'timestamp', which is a long"):
        rows("fetch logs, from: -1h", {"logs": [{"timestamp": 1}]})


def test_subquery_keys_the_data_does_not_have_match_nothing() -> None:
    # Regression (.mismatches.md M8): schema-on-read, unless the subquery closed its fields.
    data = {"logs": [{"a": 1}]}
    assert rows(
        "fetch logs | join [fetch logs], kind: leftOuter, on: {left[a] == right[v]}", data
    ) == [{"a": 1, "right.a": None}]
    assert rows("fetch logs | join [fetch logs], on: {left[a] == right[v]}", data) == []
    assert rows("fetch logs | joinNested n = [fetch logs], on: {left[a] == right[v]}", data) == [
        {"a": 1, "n": []}
    ]
    assert rows("fetch logs | lookup [fetch logs], sourceField: a, lookupField: v", data) == [
        {"a": 1, "lookup.a": None}
    ]
    with pytest.raises(DQLEvaluationError, match="the subquery has no field 'v'"):
        rows("fetch logs | lookup [fetch logs | fields a], sourceField: a, lookupField: v", data)


def test_search_looks_into_records() -> None:
    # Regression (.mismatches.md M10).
    data = {
        "logs": [
            {"n": 1, "r": {"s": "B", "q": {"z": "x"}}},
            {"n": 2, "a": ["xb"]},
            {"n": 3, "s": "b"},
            {"n": 4},
        ]
    }
    assert [r["n"] for r in rows('fetch logs | search "b"', data)] == [1, 2, 3]
    assert [r["n"] for r in rows('fetch logs | search "X"', data)] == [1, 2]


def test_fields_summary_of_arrays_with_unknown_elements() -> None:
    # Regression (.mismatches.md M11).
    assert [
        r["values"]
        for r in rows("fetch logs | fieldsSummary a, b", {"logs": [{"a": [], "b": [1]}]})
    ] == [
        [{"value": [], "count": 1}],
        [{"value": [1], "count": 1}],
    ]


def test_make_timeseries_start_end_count_if_and_rate() -> None:
    data = {
        "spans": [
            {"timestamp": "2024-05-06T07:01:00Z", "ok": True},
            {"timestamp": "2024-05-06T07:12:00Z", "ok": False},
        ]
    }
    row = rows(
        "fetch spans | makeTimeseries c = countIf(ok), s = start(), e = end(), "
        "r = count(rate: 1m), interval: 10m",
        data,
    )[0]
    at = [dt.datetime(2024, 5, 6, 7, m, tzinfo=dt.UTC) for m in (0, 10, 20)]
    assert row["c"] == [1, 0]
    assert (row["s"], row["e"]) == (at[:2], at[1:])
    assert row["r"] == [0.1, 0.1]
    with pytest.raises(DQLUnsupportedError, match="scalar: true"):
        rows("fetch spans | makeTimeseries count(scalar: true)", data)
    with pytest.raises(DQLUnsupportedError, match="not one call"):
        rows("fetch spans | makeTimeseries x = count() + 1", data)


def test_join_nested_over_a_subquery_without_fields() -> None:
    # Regression (.mismatches.md M12).
    query = "fetch logs | joinNested f1 = [fetch logs], on: {left[x] == right[v]}"
    assert rows(query, {"logs": []}) == []
    assert rows(query, {"logs": [{"x": "a"}]}) == [{"x": "a", "f1": []}]


def test_listed_fields_the_data_does_not_have_are_null() -> None:
    # Regression (.mismatches.md M13).
    data = {"logs": [{"a": 1}]}
    assert rows("fetch logs | join [fetch logs], on: {a}, fields: {v}", data) == [
        {"a": 1, "v": None}
    ]
    assert rows("fetch logs | joinNested f1 = [fetch logs], on: {a}, fields: {v}", data) == [
        {"a": 1, "f1": [{"v": None}]}
    ]
    lookup = "fetch logs | lookup [fetch logs], sourceField: a, lookupField: a, fields: {v}"
    assert rows(lookup, data) == [{"a": 1, "v": None}]
    with pytest.raises(DQLEvaluationError, match="the subquery has no field 'v'"):
        rows("fetch logs | join [fetch logs | fields a], on: {a}, fields: {v}", data)


def test_search_looks_into_arrays_of_records() -> None:
    data = {"logs": [{"a": [{"q": ["xz"]}]}, {"a": [{"q": ["y"]}]}]}
    assert rows('fetch logs | search "z"', data) == [{"a": [{"q": ["xz"]}]}]
