"""``to_sql``: the SQL runs on DuckDB with the same result as ``run``, with and without a
schema, and prints as valid SQL of other dialects (best effort: parsed back by sqlglot)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
import sqlglot

import dqlbuild
from dqlbuild import DQLUnsupportedError, DQLValueError

NOW = dt.datetime(2024, 5, 6, 12, tzinfo=dt.UTC)
RECORDS = [
    {"timestamp": "2024-05-06T10:00:00Z", "host": "a", "n": 3, "d": 1.5, "ok": True},
    {"timestamp": "2024-05-06T11:00:00Z", "host": "b", "n": None, "d": 2.5, "ok": False},
    {"timestamp": "2024-05-06T11:30:00Z", "host": "a", "n": 7, "d": None, "ok": None},
]  # fmt: skip
SCHEMA = {"logs": {"timestamp": "timestamp", "host": "string", "n": "long", "d": "double",
                   "ok": "boolean"}}  # fmt: skip
QUERIES = [
    "fetch logs | filter n > 1 or isNull(n)",
    "fetch logs, from: -1h | fields host, m = n * 2",
    "fetch logs | fieldsAdd x = n / 2, y = upper(host) | fieldsRemove d",
    "fetch logs | summarize c = count(), s = sum(n), by: {host, h = bin(timestamp, 1h)}",
    "fetch logs | sort n desc | limit 2",
    "fetch logs | dedup host, sort: {timestamp desc}",
    "fetch logs | fieldsRename server = host | filterOut ok",
    "fetch logs | makeTimeseries count(), by: {host}, interval: 30m",
    "fetch logs | lookup [fetch logs | summarize c = count(), by: {host}], sourceField: host, "
    "lookupField: host",
    "fetch logs | fields l = array(n, 1) | expand l",
]


@pytest.fixture(scope="module")
def connection() -> duckdb.DuckDBPyConnection:
    """A plain DuckDB table ``logs`` as to_sql expects it: timestamps in nanoseconds."""
    with dqlbuild.Dataset({"logs": RECORDS}) as data:
        rows = data.connection.execute(
            f'SELECT * EXCLUDE ("__dqlbuild_order") FROM "{data.table("logs").sql_name}" '
            'ORDER BY "__dqlbuild_order"'
        ).fetchall()
    plain = duckdb.connect()
    plain.execute("SET TimeZone = 'UTC'")
    plain.execute('CREATE TABLE logs ("timestamp" BIGINT, host VARCHAR, n BIGINT, d DOUBLE, '
                  "ok BOOLEAN)")  # fmt: skip
    plain.executemany("INSERT INTO logs VALUES (?, ?, ?, ?, ?)", rows)
    return plain


@pytest.mark.parametrize("query", QUERIES)
def test_the_sql_with_a_schema_gives_what_run_gives(
    query: str, connection: duckdb.DuckDBPyConnection
) -> None:
    expected = dqlbuild.run(query, {"logs": RECORDS}, now=NOW)
    sql = dqlbuild.to_sql(query, schema=SCHEMA, now=NOW)
    assert tuple(connection.execute(sql).fetchall()) == expected.raw


@pytest.mark.parametrize(
    "query",
    [
        "fetch logs | filter n > 1",
        "fetch logs | fieldsAdd m = n * 2, host = lower(host) | sort m desc",
        "fetch logs | fieldsRemove d, ok | limit 2",
        "fetch logs | summarize c = count(), by: {host}",
    ],
)
def test_the_sql_without_a_schema_runs_on_any_table(
    query: str, connection: duckdb.DuckDBPyConnection
) -> None:
    expected = dqlbuild.run(query, {"logs": RECORDS}, now=NOW)
    result = connection.execute(dqlbuild.to_sql(query, now=NOW))
    names = [c[0] for c in result.description]
    # Without a schema a replaced field comes last (its place is unknown).
    assert sorted(names) == sorted(expected.columns)
    rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    assert rows == [dict(zip(expected.columns, row, strict=True)) for row in expected.raw]


@pytest.mark.parametrize("dialect", ["spark", "trino", "postgres", "snowflake"])
@pytest.mark.parametrize("query", QUERIES)
def test_other_dialects_print_valid_sql(query: str, dialect: str) -> None:
    sql = dqlbuild.to_sql(query, dialect=dialect, schema=SCHEMA, now=NOW)
    sqlglot.parse_one(sql, read=dialect)


def test_to_sql_errors() -> None:
    with pytest.raises(DQLValueError, match="unknown SQL dialect 'nope'"):
        dqlbuild.to_sql("fetch logs", dialect="nope")
    with pytest.raises(DQLUnsupportedError, match="lookup without a schema"):
        dqlbuild.to_sql("fetch logs | lookup [fetch b], sourceField: a, lookupField: a")
    with pytest.raises(dqlbuild.DQLDataError, match="unknown type 'int'"):
        dqlbuild.to_sql("fetch logs", schema={"logs": {"a": "int"}})
