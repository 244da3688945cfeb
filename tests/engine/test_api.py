"""The public API of the engine: run, to_sql, Result, Dataset."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import dqlbuild
from dqlbuild import DQLDataError, DQLEvaluationError, DQLUnsupportedError

NOW = dt.datetime(2024, 5, 6, 12, 0, tzinfo=dt.UTC)
SPANS = [
    {"timestamp": "2024-05-06T07:00:00.123456789Z", "duration": 1_500_000,
     "model.version": "v1", "tokens": 10, "ok": True},
    {"timestamp": "2024-05-06T07:05:00Z", "duration": 2_500_000,
     "model.version": "v2", "tokens": 20, "ok": False},
    {"timestamp": "2024-05-06T07:10:00Z", "duration": 3_500_000,
     "model.version": "v1", "tokens": None, "ok": None},
]  # fmt: skip


def run(query: str, data: object = None, **kwargs: object) -> dqlbuild.Result:
    return dqlbuild.run(query, data if data is not None else {"spans": SPANS}, now=NOW, **kwargs)  # type: ignore[arg-type]


def test_summarize_by_names_unassigned_expressions_as_dql_does() -> None:
    result = run(
        "fetch spans | summarize count(), avg(duration), total = sum(tokens), by: {model.version}"
    )
    assert result.columns == ("model.version", "count()", "avg(duration)", "total")
    assert result.rows == [
        {"model.version": "v1", "count()": 2, "avg(duration)": 2_500_000, "total": 10.0},
        {"model.version": "v2", "count()": 1, "avg(duration)": 2_500_000, "total": 20.0},
    ]
    assert result.types == {
        "model.version": "string", "count()": "long", "avg(duration)": "duration",
        "total": "double",
    }  # fmt: skip


def test_fetch_filter_fields_sort_limit() -> None:
    result = run(
        "fetch spans | filter tokens > 5 | fields model.version, tokens\n"
        "| sort tokens desc | limit 1"
    )
    assert result.rows == [{"model.version": "v2", "tokens": 20}]


def test_rows_use_python_types_and_records_the_json_form() -> None:
    result = run("fetch spans | fields timestamp, duration, ok | limit 1")
    row = result.rows[0]
    assert row["timestamp"] == dt.datetime(2024, 5, 6, 7, 0, 0, 123456, tzinfo=dt.UTC)
    assert row["duration"] == 1_500_000 and row["ok"] is True
    assert result.records()[0]["timestamp"] == "2024-05-06T07:00:00.123456789Z"
    loaded = json.loads(result.to_json())
    assert loaded["types"][0]["mappings"]["timestamp"] == {"type": "timestamp"}


def test_result_prints_as_a_table() -> None:
    text = str(run("fetch spans | fields model.version, duration | limit 2"))
    assert text.splitlines() == [
        "model.version  duration",
        "-------------  --------",
        "v1               1.5 ms",
        "v2               2.5 ms",
        "(2 records)",
    ]


def test_sql_has_one_cte_per_stage_and_quotes_every_name() -> None:
    result = run("fetch spans | filter tokens > 1 | fields model.version")
    assert result.sql.count(" AS (") == 3
    assert '"model.version"' in result.sql


def test_variables_are_rendered_first() -> None:
    result = run("fetch spans | filter model.version == $V | summarize n = count()",
                 variables={"V": "v1"})  # fmt: skip
    assert result.rows == [{"n": 2}]


def test_to_sql_prints_other_dialects() -> None:
    schema = {"spans": {"model.version": "string", "tokens": "long"}}
    query = "fetch spans | summarize t = sum(tokens), by: {model.version}"
    duck = dqlbuild.to_sql(query, schema=schema)
    spark = dqlbuild.to_sql(query, dialect="spark", schema=schema)
    assert '"model.version"' in duck and "`model.version`" in spark


def test_to_sql_without_schema_refuses_type_dependent_operations() -> None:
    assert "SELECT" in dqlbuild.to_sql("fetch spans | filter a > 1 | limit 3")
    with pytest.raises(DQLUnsupportedError, match="unknown type"):
        dqlbuild.to_sql("fetch spans | fieldsAdd x = a / b")


def test_unknown_data_object_names_the_given_ones() -> None:
    with pytest.raises(DQLDataError, match=r"'logs', which has no data \(given: 'spans'\)") as info:
        run("fetch logs")
    assert info.value.line == 1 and info.value.column == 7


def test_unsupported_command_is_named_with_its_position() -> None:
    with pytest.raises(DQLUnsupportedError, match="the command parse") as info:
        run('fetch spans\n| parse content, "LD:x"')
    assert (info.value.line, info.value.column) == (2, 3)


def test_long_overflow_is_an_error_not_a_wrong_number() -> None:
    with pytest.raises(DQLEvaluationError, match="out of range"):
        run("fetch spans | fieldsAdd x = tokens * 9223372036854775807")


def test_a_dataset_runs_many_queries(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in SPANS))
    with dqlbuild.Dataset({"spans": path}) as data:
        assert data.schema("spans")["timestamp"] == "timestamp"
        assert len(data.run("fetch spans", now=NOW)) == 3
        assert data.run("fetch spans | summarize count()").rows == [{"count()": 3}]


def test_dqlbuild_works_without_the_run_extra_and_says_how_to_get_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import REPO

    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text("import sys\nsys.modules['duckdb'] = None\nsys.modules['sqlglot'] = None\n")
    script = (
        "import dqlbuild\n"
        "q = dqlbuild.parse('fetch spans | filter a > 1')\n"
        "assert q.format() == 'fetch spans\\n| filter a > 1'\n"
        "assert dqlbuild.check(dqlbuild.parse('fetch spans | limit 1')) == []\n"
        "for call in (lambda: dqlbuild.run(q, {'spans': []}), lambda: dqlbuild.to_sql(q)):\n"
        "    try:\n"
        "        call()\n"
        "    except dqlbuild.DQLDependencyError as exc:\n"
        "        print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True,
        env={"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.splitlines()
        == [
            "running DQL locally needs sqlglot (it builds the SQL), which is not installed "
            "(install the run extra: pip install 'dqlbuild[run]')"
        ]
        * 2
    )
