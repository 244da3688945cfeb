"""`dqlbuild run`: queries, dashboards, formats, --compare, --sql, errors and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli

EXAMPLE = f"spans={REPO / 'examples' / 'ai-spans.jsonl'}"
DASHBOARD = REPO / "examples" / "ai-observability.dashboard.json"
Capsys = pytest.CaptureFixture[str]
RECORDS = [
    {"timestamp": "2024-05-06T07:00:00Z", "model.version": "v1", "duration": 1_000_000},
    {"timestamp": "2024-05-06T07:01:00Z", "model.version": "v2", "duration": 3_000_000},
    {"timestamp": "2024-05-06T07:02:00Z", "model.version": "v1", "duration": 2_000_000},
    {"timestamp": "2024-05-06T07:03:00Z", "model.version": None, "duration": 5_000_000},
]
SPANS = ""  # set by the autouse fixture below


@pytest.fixture(autouse=True)
def spans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "spans.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    monkeypatch.setitem(globals(), "SPANS", f"spans={path}")


def run(args: list[str], capsys: Capsys, stdin: str | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()))
    try:
        return run_cli(args, capsys)
    finally:
        sys.stdin = sys.__stdin__


@pytest.fixture
def query(tmp_path: Path) -> Path:
    path = tmp_path / "q.dql"
    path.write_text(
        "fetch spans\n| filter isNotNull(model.version)\n"
        "| summarize n = count(), by: {model.version}\n"
    )
    return path


def test_a_query_prints_a_table(query: Path, capsys: Capsys) -> None:
    code, out, err = run(["run", str(query), "--data", SPANS], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "model.version  n",
        "-------------  -",
        "v1             2",
        "v2             1",
        "(2 records)",
    ]


def test_formats_and_limit(query: Path, capsys: Capsys) -> None:
    code, out, _ = run(["run", str(query), "--data", SPANS, "--format", "csv", "--limit", "1"],
                       capsys)  # fmt: skip
    assert (code, out) == (0, "model.version,n\nv1,2\n")
    code, out, _ = run(["run", str(query), "--data", SPANS, "--format", "jsonl"], capsys)
    assert [json.loads(line)["model.version"] for line in out.splitlines()] == ["v1", "v2"]
    code, out, _ = run(["run", str(query), "--data", SPANS, "--format", "json"], capsys)
    assert json.loads(out)["types"][0]["mappings"]["n"] == {"type": "long"}


def test_stdin_variables_and_compare(capsys: Capsys) -> None:
    text = "fetch spans | filter model.version == $V | summarize n = count()"
    code, out, _ = run(["run", "-", "--data", SPANS, "--set", "V=v2"], capsys, stdin=text)
    assert (code, out.splitlines()[2]) == (0, "1")
    code, out, _ = run(["run", "-", "--data", SPANS, "--compare", "V=v1", "--compare", "V=v2"],
                       capsys, stdin=text)  # fmt: skip
    assert out.splitlines()[:4] == ["V   n", "--  -", "v1  2", "v2  1"]


def test_sql_with_and_without_data(query: Path, capsys: Capsys) -> None:
    code, out, _ = run(["run", str(query), "--sql", "--dialect", "spark"], capsys)
    assert code == 0 and "`model.version`" in out and "WITH" in out
    code, out, _ = run(["run", str(query), "--sql", "--data", SPANS], capsys)
    assert code == 0 and '"model.version"' in out


def test_declared_types(tmp_path: Path, capsys: Capsys) -> None:
    data = tmp_path / "d.csv"
    data.write_text("at,took\n2024-05-06T07:00:00Z,1000\n")
    code, out, err = run(
        ["run", "-", "--data", f"x={data}", "--type", "at=timestamp", "--type", "x:took=duration"],
        capsys,
        stdin="fetch x | fields at, took",
    )
    assert code == 0, err
    assert out.splitlines()[2] == "2024-05-06T07:00:00Z  1 µs"


def test_a_dashboard_runs_every_tile_and_reports_the_unsupported_one(capsys: Capsys) -> None:
    code, out, err = run(["run", str(DASHBOARD), "--data", EXAMPLE, "--limit", "1"], capsys)
    assert code == 0
    assert out.count("// tile ") == 11
    assert out.startswith("// tile 1: LLM requests\nrequests\n--------\n")
    assert "not run: line 1, column 1: the command timeseries is not supported" in out
    assert "tile 11: not run" in err


def test_a_dashboard_as_json(capsys: Capsys) -> None:
    code, out, _ = run(["run", str(DASHBOARD), "--data", EXAMPLE, "--format", "json"], capsys)
    results = json.loads(out)["results"]
    assert code == 0 and len(results) == 11
    assert list(results[0]["records"][0]) == ["requests"] and "notRun" in results[-1]


def test_errors(query: Path, tmp_path: Path, capsys: Capsys) -> None:
    code, _, err = run(["run", str(query)], capsys)
    assert code == 2 and "give the data the query reads" in err
    code, _, err = run(["run", str(query), "--data", "spans=missing.jsonl"], capsys)
    assert (code, err) == (1, "dqlbuild run: error: missing.jsonl: no such file (data object "
                              "'spans')\n")  # fmt: skip
    code, _, err = run(["run", str(query), "--data", SPANS.replace("spans=", "logs=")], capsys)
    assert code == 1
    assert err == (f"{query}:1:7: error: the query reads the data object 'spans', which has "
                   "no data (given: 'logs')\n")  # fmt: skip
    bad = tmp_path / "bad.dql"
    bad.write_text('fetch spans\n| parse content, "LD:x"\n')
    code, _, err = run(["run", str(bad), "--data", SPANS], capsys)
    assert code == 1 and f"{bad}:2:3: error: the command parse is not supported" in err
    code, _, err = run(["run", str(query), "--data", SPANS, "--type", "nope"], capsys)
    assert code == 2 and "[NAME:]FIELD=TYPE" in err


def test_progress_line_for_large_inputs(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dqlbuild.engine.data as data

    monkeypatch.setattr(data, "PROGRESS_BYTES", 10)
    code, _, err = run(["run", "-", "--data", SPANS], capsys, stdin="fetch spans | limit 1")
    assert code == 0
    assert err.startswith("loading ") and "loaded 4 records from" in err


def test_the_command_line_has_no_traceback_without_the_extra(tmp_path: Path) -> None:
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text("import sys\nsys.modules['duckdb'] = None\nsys.modules['sqlglot'] = None\n")
    result = subprocess.run(
        [sys.executable, "-m", "dqlbuild", "run", "-", "--data", SPANS],
        input="fetch spans", capture_output=True, text=True,
        env={"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": ""},
    )  # fmt: skip
    assert result.returncode == 1
    assert "pip install 'dqlbuild[run]'" in result.stderr and "Traceback" not in result.stderr
