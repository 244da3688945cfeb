"""``dqlbuild dashboard``: inspect, add-variable, add-filter, render on the command line."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dqlbuild.documents import load_document
from dqlbuild.documents.models import SELECT_ALL
from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "ai-observability.dashboard.json"
FIXTURES = REPO / "tests" / "documents" / "fixtures"
WORKFLOW = FIXTURES / "workflow"
FILTER = ["--variable", "ModelVersion", "--field", "model.version", "--data-object", "spans"]

Capsys = pytest.CaptureFixture[str]


def run(args: list[str], capsys: Capsys) -> tuple[int, str, str]:
    return run_cli(args, capsys)


def copy(tmp_path: Path, source: Path, name: str | None = None) -> Path:
    target = tmp_path / (name or source.name)
    shutil.copyfile(source, target)
    return target


# ---------------------------------------------------------------- add-filter
def test_a_data_object_is_required_unless_the_dashboard_names_it(
    tmp_path: Path, capsys: Capsys
) -> None:
    path = copy(tmp_path, EXAMPLE)
    before = path.read_bytes()
    options = ["--variable", "ModelVersion", "--field", "model.version", "-i"]
    code, _, err = run(["dashboard", "add-filter", str(path), *options], capsys)
    assert code == 2 and path.read_bytes() == before
    assert f"{path}: say which data object carries model.version: --data-object OBJ" in err
    code, _, _ = run(
        ["dashboard", "add-filter", str(path), *options, "--values-from", "spans"], capsys
    )
    assert code == 0
    # Over many files the message names a few of them, not every one.
    paths = [str(copy(tmp_path, EXAMPLE, f"d{i}.json")) for i in range(5)]
    code, _, err = run(["dashboard", "add-filter", *paths, *options], capsys)
    assert code == 2
    assert f"{paths[0]}, {paths[1]}, {paths[2]} and 2 more files: say which" in err
    assert paths[3] not in err
    # The variable it added names the data object: a second run needs no option.
    code, _, err = run(["dashboard", "add-filter", str(path), *options], capsys)
    assert code == 0 and "0 filtered, 10 already filtered, 1 skipped" in err


def test_diff_dry_run_prints_the_report_and_the_diff_and_writes_nothing(
    tmp_path: Path, capsys: Capsys
) -> None:
    path = copy(tmp_path, EXAMPLE)
    before = path.read_bytes()
    code, out, err = run(
        ["dashboard", "add-filter", str(path), *FILTER, "--data-object", "spans", "--diff",
         "--dry-run"],
        capsys,
    )  # fmt: skip
    assert code == 0 and path.read_bytes() == before
    assert err.splitlines()[0] == f"{path}: dashboard, condition `model.version == $ModelVersion`"
    assert '  filtered          tile 1 "LLM requests": inserted after the filters' in err
    assert "  skipped           tile 11 " in err
    assert "10 filtered, 0 already filtered, 1 skipped, 0 unparseable" in err
    assert err.rstrip().endswith("dry run: nothing written")
    # A unified diff of the file: absolute names carry no a/ b/ prefix.
    assert out.startswith(f"--- {path}\n+++ {path}\n@@ ")
    assert '+      "key": "ModelVersion",' in out
    assert out.count('\n-      "query": ') == 10 and out.count('\n+      "query": ') == 10


def test_in_place_writes_once_and_a_second_run_changes_nothing(
    tmp_path: Path, capsys: Capsys
) -> None:
    path = copy(tmp_path, EXAMPLE)
    code, out, err = run(["dashboard", "add-filter", str(path), *FILTER, "-i"], capsys)
    assert (code, out) == (0, "") and f"written to {path}" in err
    first = path.read_bytes()
    assert b"model.version == $ModelVersion" in first
    code, out, err = run(["dashboard", "add-filter", str(path), *FILTER, "-i", "--diff"], capsys)
    assert (code, out) == (0, "") and path.read_bytes() == first
    assert "0 filtered, 10 already filtered, 1 skipped" in err
    assert "variable $ModelVersion: exists with this definition" in err
    assert err.rstrip().endswith("unchanged")
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_output_to_a_file_and_stdout(tmp_path: Path, capsys: Capsys) -> None:
    out_path = tmp_path / "copy.json"
    code, out, _ = run(
        ["dashboard", "add-filter", str(EXAMPLE), *FILTER, "-o", str(out_path)], capsys
    )
    assert code == 0 and out == ""
    written = out_path.read_text(encoding="utf-8")
    code, out, err = run(["dashboard", "add-filter", str(EXAMPLE), *FILTER], capsys)
    assert code == 0 and out == written and "written to stdout" in err


def test_output_with_several_files_needs_a_directory(tmp_path: Path, capsys: Capsys) -> None:
    a = copy(tmp_path, EXAMPLE, "a.json")
    b = copy(tmp_path, FIXTURES / "dashboard-tabs.json", "b.json")
    code, _, err = run(
        ["dashboard", "add-filter", str(a), str(b), *FILTER, "-o", str(tmp_path / "x.json")],
        capsys,
    )
    assert code == 2 and "existing directory" in err
    code, _, err = run(["dashboard", "add-filter", str(a), str(b), *FILTER], capsys)
    assert code == 2 and "--in-place" in err
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, _, _ = run(
        ["dashboard", "add-filter", str(a), str(b), *FILTER, "-o", str(out_dir)], capsys
    )
    assert code == 0 and sorted(p.name for p in out_dir.iterdir()) == ["a.json", "b.json"]
    assert load_document(out_dir / "a.json").variables()[-1].key == "ModelVersion"
    # b.json reads logs and a metric, not spans: written unchanged.
    assert (out_dir / "b.json").read_bytes() == b.read_bytes()
    other = tmp_path / "sub"
    other.mkdir()
    clash = copy(other, EXAMPLE, "a.json")
    code, _, err = run(
        ["dashboard", "add-filter", str(a), str(clash), *FILTER, "-o", str(out_dir)], capsys
    )
    assert code == 2 and "would both be written" in err


def test_in_place_and_output_exclude_each_other(tmp_path: Path, capsys: Capsys) -> None:
    code, _, err = run(
        ["dashboard", "add-filter", str(EXAMPLE), *FILTER, "-i", "-o", str(tmp_path / "x")],
        capsys,
    )
    assert code == 2 and "not allowed with" in err


def test_notebook_needs_a_value(tmp_path: Path, capsys: Capsys) -> None:
    path = copy(tmp_path, FIXTURES / "notebook.json")
    before = path.read_bytes()
    code, _, err = run(["dashboard", "add-filter", str(path), *FILTER, "-i"], capsys)
    assert code == 1 and path.read_bytes() == before
    assert "notebooks have no variables, so there is no $ModelVersion" in err
    code, _, err = run(
        ["dashboard", "add-filter", str(path), *FILTER, "--value", "v2", "--value", "v3", "-i"],
        capsys,
    )
    assert code == 0 and 'condition `in(model.version, array("v2", "v3"))`' in err
    assert '| filter in(model.version, array(\\"v2\\", \\"v3\\"))' in path.read_text()


def test_one_failing_file_does_not_stop_the_others(tmp_path: Path, capsys: Capsys) -> None:
    good = copy(tmp_path, EXAMPLE)
    bad = copy(tmp_path, WORKFLOW / "unparseable.dashboard.json")
    before = bad.read_bytes()
    code, _, err = run(["dashboard", "add-filter", str(bad), str(good), *FILTER, "-i"], capsys)
    assert code == 1 and bad.read_bytes() == before
    assert f"{bad}: error: 2 data tiles' queries do not parse" in err
    assert "  hint: fix the queries, or pass --skip-unparseable" in err
    assert f"written to {good}" in err
    code, _, err = run(
        ["dashboard", "add-filter", str(bad), *FILTER, "-i", "--skip-unparseable"], capsys
    )
    assert code == 0
    assert '  unparseable       tile 2 "Single quotes": line 2, column 20: single-quoted' in err
    assert '  skipped           tile 3 "Empty": the query is empty' in err


def test_variable_conflict_and_replace(tmp_path: Path, capsys: Capsys) -> None:
    path = copy(tmp_path, WORKFLOW / "existing-variable.dashboard.json")
    code, _, err = run(["dashboard", "add-filter", str(path), *FILTER, "-i"], capsys)
    assert code == 1 and "that this filter cannot use: it is csv, multi-select: v1,v2,v3;" in err
    code, _, err = run(
        ["dashboard", "add-filter", str(path), *FILTER, "-i", "--replace-variable",
         "--copy-title", "Model rollout (copy)"],
        capsys,
    )  # fmt: skip
    assert code == 0 and "variable $ModelVersion: replaced" in err
    doc = load_document(path)
    assert doc.name == "Model rollout (copy)" and doc.variables()[0].type == "query"


def test_explore_and_untouched_tiles_in_the_report(capsys: Capsys) -> None:
    path = WORKFLOW / "kinds.dashboard.json"
    code, _, err = run(["dashboard", "add-filter", str(path), *FILTER, "-n"], capsys)
    assert code == 0
    assert '  skipped           tile 5 "Explore: logs": Explore tile (subType/queryConfig)' in err
    assert "not DQL, untouched: 1 markdown, 1 code, 1 slo, 1 someFutureTile" in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--field", "a - b"], "--field: error: 'a - b' is not a field name"),
        (["--field", "a", "--where", "x =="], "--where:1:5: error: "),
    ],
)
def test_bad_field_or_where_is_invalid_input(
    options: list[str], message: str, capsys: Capsys
) -> None:
    code, _, err = run(
        ["dashboard", "add-filter", str(EXAMPLE), "--variable", "V", *options, "-n"], capsys
    )
    assert code == 1 and message in err


def test_where_values_from_and_multiple(tmp_path: Path, capsys: Capsys) -> None:
    out_path = tmp_path / "out.json"
    code, _, _ = run(
        ["dashboard", "add-filter", str(EXAMPLE), *FILTER, "--multiple", "--values-from",
         "spans", "--where", 'gen_ai.system == "openai"', "--value", SELECT_ALL, "-o",
         str(out_path)],
        capsys,
    )  # fmt: skip
    assert code == 0
    var = load_document(out_path).variables()[0]
    assert var.multiple and var.default_value == [SELECT_ALL]
    assert var.input is not None and 'filter gen_ai.system == "openai" and' in var.input
    assert "in(model.version, array($ModelVersion))" in out_path.read_text()


def test_unreadable_and_classic_files(tmp_path: Path, capsys: Capsys) -> None:
    code, _, err = run(["dashboard", "inspect", str(tmp_path / "missing.json")], capsys)
    assert code == 1 and "missing.json: error: no such file" in err
    code, _, err = run(
        ["dashboard", "add-filter", str(FIXTURES / "classic.json"), *FILTER, "-n"], capsys
    )
    assert code == 1 and "classic (Gen2) dashboard" in err


def test_write_failure_is_reported(tmp_path: Path, capsys: Capsys) -> None:
    target = tmp_path / "no" / "such" / "dir.json"
    code, _, err = run(
        ["dashboard", "add-filter", str(EXAMPLE), *FILTER, "-o", str(target)], capsys
    )
    assert code == 1 and "cannot write" in err and not target.exists()


# ---------------------------------------------------------------- add-variable
def test_add_variable(tmp_path: Path, capsys: Capsys) -> None:
    path = copy(tmp_path, EXAMPLE)
    code, out, err = run(
        ["dashboard", "add-variable", str(path), "--key", "Provider", "--type", "csv",
         "--input", "openai,anthropic", "--multiple", "--select-all", "-i", "--diff"],
        capsys,
    )  # fmt: skip
    assert code == 0 and f"{path}: variable $Provider: added (csv, multi-select" in err
    assert '+      "key": "Provider",' in out
    var = load_document(path).variables()[0]
    assert (var.type, var.input, var.default_value) == ("csv", "openai,anthropic", [SELECT_ALL])
    code, _, err = run(
        ["dashboard", "add-variable", str(path), "--key", "Provider", "--type", "csv",
         "--input", "openai, anthropic", "--multiple", "-i"],
        capsys,
    )  # fmt: skip
    assert code == 0 and "exists with this definition; unchanged" in err
    code, _, err = run(
        ["dashboard", "add-variable", str(path), "--key", "Provider", "--type", "text", "-i"],
        capsys,
    )
    assert code == 1 and "another definition" in err
    code, _, err = run(
        ["dashboard", "add-variable", str(path), "--key", "TopN", "--type", "text",
         "--default", "10", "-i"],
        capsys,
    )  # fmt: skip
    assert code == 0 and load_document(path).variables()[-1].default_value == "10"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--type", "query"], "a query variable needs --input"),
        (["--type", "text", "--select-all"], "--select-all is a multi-select default"),
        (["--type", "text", "--default", "a", "--default", "b"], "one --default"),
    ],
)
def test_add_variable_usage_errors(options: list[str], message: str, capsys: Capsys) -> None:
    code, _, err = run(
        ["dashboard", "add-variable", str(EXAMPLE), "--key", "K", *options, "-n"], capsys
    )
    assert code == 2 and message in err


def test_add_variable_query_input_must_parse(capsys: Capsys) -> None:
    code, _, err = run(
        ["dashboard", "add-variable", str(EXAMPLE), "--key", "K", "--type", "query",
         "--input", "fetch logs | filter a == 'x'", "-n"],
        capsys,
    )  # fmt: skip
    assert code == 1 and err.startswith("--input:1:26: error: single-quoted strings are not DQL")


# ---------------------------------------------------------------- inspect
def test_inspect_table_and_json(capsys: Capsys) -> None:
    path = WORKFLOW / "unparseable.dashboard.json"
    code, out, err = run(["dashboard", "inspect", str(path)], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"{path}: dashboard (bare), 4 tiles, 4 with DQL"
    assert re.match(r"  ID +TYPE +SOURCE +PARSES +VARIABLES +TITLE$", lines[1])
    assert re.match(r"  2 +data +- +ERROR +- +Single quotes$", lines[3])
    assert re.match(r"  3 +data +- +empty +- +Empty$", lines[4])
    assert "  2: line 2, column 20: single-quoted strings are not DQL" in lines
    code, out, _ = run(["dashboard", "inspect", "--json", str(path), str(EXAMPLE)], capsys)
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["tiles"][1]["parse_status"].startswith("line 2, column 20")
    assert first["tiles"][1]["error"] == {
        "message": "single-quoted strings are not DQL",
        "position": {"line": 2, "column": 20},
    }
    assert second["kind"] == "dashboard" and second["tiles"][1]["source"] == "fetch spans"


def test_inspect_notebook_has_no_variable_lines(capsys: Capsys) -> None:
    code, out, _ = run(["dashboard", "inspect", str(FIXTURES / "notebook.json")], capsys)
    assert code == 0 and "variables defined" not in out and "referenced but undefined: none" in out


# ---------------------------------------------------------------- render
def test_render_uses_set_values_and_defaults(capsys: Capsys) -> None:
    path = WORKFLOW / "kinds.dashboard.json"
    code, out, err = run(["dashboard", "render", str(path), "--set", "Service=checkout"], capsys)
    assert code == 0
    assert f"{path}: defaults: Provider='openai'" in err
    assert out.startswith(
        "// tile 2: Requests by model for $Provider\n"
        'fetch spans\n| filter gen_ai.system == "openai"\n'
    )
    assert 'filter: { dt.entity.service == "checkout" }' in out
    code, out, err = run(["dashboard", "render", str(path)], capsys)
    assert code == 1 and "tile 3 'Service response time': no value for $Service" in err
    # Every other tile is still printed.
    assert "// tile 2: " in out and "// tile 10: " in out and "// tile 3" not in out
    code, out, err = run(["dashboard", "render", str(path), "--lenient"], capsys)
    assert code == 0 and "$Service" in out and "warning:" in err


# ---------------------------------------------------------------- help and README
def test_help_texts_have_examples(capsys: Capsys) -> None:
    for command in ("inspect", "add-variable", "add-filter", "render"):
        code, out, _ = run(["dashboard", command, "--help"], capsys)
        assert code == 0 and "examples:" in out, command
    code, out, _ = run(["dashboard", "--help"], capsys)
    assert code == 0 and "add-filter" in out
    code, _, err = run(["dashboard"], capsys)
    assert code == 2 and "give a subcommand" in err


def test_the_readme_set_up_command_runs(tmp_path: Path) -> None:
    """The first set-up command of README.md: its dqlbuild part, on a copy of the repo's
    example (run from a copy of the layout, so the example cannot change)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first = re.search(r"```sh\n(.*?)\n```", readme, re.DOTALL)
    assert first is not None
    command = first.group(1).split("&& .venv/bin/dqlbuild ", 1)[1]
    args = shlex.split(command)
    assert args[:2] == ["dashboard", "add-filter"] and "--dry-run" in args
    (tmp_path / "examples").mkdir()
    copy(tmp_path / "examples", EXAMPLE)
    result = subprocess.run(
        [sys.executable, "-m", "dqlbuild", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "10 filtered, 0 already filtered, 1 skipped" in result.stderr
    assert result.stdout.startswith("--- a/examples/ai-observability.dashboard.json\n")
    assert (tmp_path / "examples" / EXAMPLE.name).read_bytes() == EXAMPLE.read_bytes()
