"""The rules every subcommand follows (dqlbuild/cli/common.py): exit codes, standard input,
the JSON shape of positions, wording for the command line, safe writes."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from dqlbuild.cli import build_parser, main
from dqlbuild.cli.common import JSON_SCHEMA
from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "ai-observability.dashboard.json"
UNPARSEABLE = REPO / "tests" / "documents" / "fixtures" / "workflow" / "unparseable.dashboard.json"
NOTEBOOK = {
    "version": "7",
    "sections": [{"id": "a", "type": "dql", "state": {"input": {"value": "fetch logs"}}}],
}
GOOD = "fetch logs\n| limit 1\n"
BAD = "fetch logs | filter a == 'x'\n"

Capsys = pytest.CaptureFixture[str]


class _Stdin(io.TextIOWrapper):
    def __init__(self, text: str, tty: bool = False) -> None:
        super().__init__(io.BytesIO(text.encode("utf-8")), encoding="utf-8")
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def run(
    args: list[str],
    capsys: Capsys,
    monkeypatch: pytest.MonkeyPatch,
    stdin: str = "",
    tty: bool = False,
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", _Stdin(stdin, tty))
    return run_cli(args, capsys)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.dql"
    good.write_text(GOOD)
    bad = tmp_path / "bad.dql"
    bad.write_text(BAD)
    dash = tmp_path / "dash.json"
    shutil.copyfile(EXAMPLE, dash)
    broken = tmp_path / "broken.json"
    shutil.copyfile(UNPARSEABLE, broken)
    records = tmp_path / "logs.jsonl"
    records.write_text('{"content": "a"}\n')
    return {"good": good, "bad": bad, "dash": dash, "broken": broken, "records": records}


# ---------------------------------------------------------------- exit codes
# subcommand -> (arguments that succeed, invalid input, a bad option value); FILE marks
# where the file goes.
FILTER = ["--variable", "V", "--field", "model.version", "--data-object", "spans"]
CASES: dict[str, tuple[list[str], list[str], list[str]]] = {
    "parse": (["good"], ["bad"], ["good", "--compact=1"]),
    "fmt": (["good"], ["bad"], ["good", "--width", "3"]),
    "inject": (
        ["good", "--filter", "a == 1"],
        ["good", "--filter", "a =="],
        ["good", "--filter", "a == 1", "--placement", "middle"],
    ),
    "vars": (["good"], ["missing"], ["good", "--names=2"]),
    "render": (["good"], ["bad", "--set", "x=1"], ["good", "--set", "a b=1"]),
    "check": (["good"], ["bad"], ["good", "--format", "xml"]),
    "check-documents": (["dash"], ["broken"], ["dash", "--var", "X"]),
    "dashboard inspect": (["dash"], ["missing"], ["dash", "--json=yes"]),
    "dashboard add-variable": (
        ["dash", "--key", "K", "--type", "text", "-n"],
        ["dash", "--key", "K", "--type", "query", "--input", "fetch logs |", "-n"],
        ["dash", "--key", "1K", "--type", "text", "-n"],
    ),
    "dashboard add-filter": (
        ["dash", *FILTER, "-n"],
        ["dash", *FILTER, "--where", "a ==", "-n"],
        ["dash", "--variable", "a-b", "--field", "x", "-n"],
    ),
    "dashboard render": (["dash"], ["broken", "--no-defaults"], ["dash", "--now", "noon"]),
    "run": (
        ["good", "--data", "logs=records"],
        ["bad", "--data", "logs=records"],
        ["good", "--data", "logs"],
    ),
}


def _argv(command: str, args: list[str], files: dict[str, Path]) -> list[str]:
    missing = str(files["good"].parent / "missing.dql")
    named = {**{k: str(v) for k, v in files.items()}, "missing": missing}
    records = f"logs={files['records']}"
    return [*command.split(), *(records if a == "logs=records" else named.get(a, a) for a in args)]


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> set[str]:
    """Every runnable (sub)subcommand, as ``dashboard inspect``."""
    names: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                names |= _commands(sub, f"{prefix}{name} ") or {prefix + name}
    return names


def test_every_subcommand_has_an_exit_code_case() -> None:
    # The language server cannot succeed without an editor: tests/lsp/test_cli.py.
    assert _commands(build_parser()) - {"lsp"} == set(CASES)


@pytest.mark.parametrize("command", sorted(CASES))
def test_exit_codes_follow_one_rule(
    command: str, files: dict[str, Path], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    if command == "run":
        pytest.importorskip("duckdb", reason="dqlbuild run needs the run extra")
    ok, invalid, usage = CASES[command]
    code, _, err = run(_argv(command, ok, files), capsys, monkeypatch)
    assert code == 0, err
    code, _, err = run(_argv(command, invalid, files), capsys, monkeypatch)
    assert code == 1, err
    assert "Traceback" not in err
    code, _, err = run(_argv(command, usage, files), capsys, monkeypatch)
    assert code == 2, err
    code, _, err = run(_argv(command, [*ok, "--no-such-option"], files), capsys, monkeypatch)
    assert code == 2 and "unrecognized arguments: --no-such-option" in err


def test_an_invalid_filter_is_invalid_input_at_its_own_position(
    files: dict[str, Path], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(["inject", str(files["good"]), "--filter", "a == (1"], capsys, monkeypatch)
    assert (code, out) == (1, "")
    assert err.startswith("--filter:1:6: error: unbalanced `(`: it is never closed")
    code, _, err = run(["inject", str(files["good"]), "--filter", "x: 1"], capsys, monkeypatch)
    assert code == 1
    assert err == (
        "--filter: error: the condition must be an expression such as `a == 1`, "
        "not a named argument (`name: value`)\n"
    )


# ---------------------------------------------------------------- standard input
STDIN_CASES: dict[str, tuple[list[str], str]] = {
    "parse": ([], GOOD),
    "fmt": ([], GOOD),
    "inject": (["--filter", "a == 1"], GOOD),
    "vars": ([], GOOD),
    "render": ([], GOOD),
    "check": ([], GOOD),
    "check-documents": (["-"], EXAMPLE.read_text()),
    "dashboard inspect": (["-"], EXAMPLE.read_text()),
    "dashboard add-variable": (
        ["-", "--key", "K", "--type", "text", "--diff"],
        EXAMPLE.read_text(),
    ),
    "dashboard add-filter": (["-", *FILTER, "--diff"], EXAMPLE.read_text()),
    "dashboard render": (["-"], EXAMPLE.read_text()),
}


@pytest.mark.parametrize("command", sorted(STDIN_CASES))
def test_every_command_reads_stdin_and_refuses_a_terminal(
    command: str, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    args, text = STDIN_CASES[command]
    code, out, err = run([*command.split(), *args], capsys, monkeypatch, stdin=text)
    assert code == 0, err
    code, out, err = run([*command.split(), *args], capsys, monkeypatch, stdin=text, tty=True)
    assert code == 2 and out == ""
    assert err.startswith(f"usage: dqlbuild {command}")
    assert "give a FILE, or pipe the input into standard input" in err


def test_run_reads_a_query_or_a_document_from_stdin(
    files: dict[str, Path], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("duckdb", reason="dqlbuild run needs the run extra")
    args = ["run", "-", "--data", f"logs={files['records']}", "--format", "json"]
    code, out, err = run(args, capsys, monkeypatch, stdin=GOOD)
    assert code == 0 and json.loads(out)["records"] == [{"content": "a"}], err
    code, out, err = run(args, capsys, monkeypatch, stdin=json.dumps(NOTEBOOK))
    assert code == 0 and [r["id"] for r in json.loads(out)["results"]] == ["a"], err
    code, out, err = run(args, capsys, monkeypatch, stdin=GOOD, tty=True)
    assert code == 2 and out == "" and err.startswith("usage: dqlbuild run")


def test_run_places_a_tile_error_in_the_file_as_check_documents_does(
    files: dict[str, Path], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("duckdb", reason="dqlbuild run needs the run extra")
    path = files["good"].with_name("tiles.json")
    tiles = {"3": {"type": "data", "title": "T", "query": 'fetch logs\n| filter "é" == sortt()'}}
    path.write_text(json.dumps({"version": 15, "tiles": tiles}, indent=2))
    _, checked, _ = run(["check-documents", str(path)], capsys, monkeypatch)
    code, _, ran = run(
        ["run", str(path), "--data", f"logs={files['records']}"], capsys, monkeypatch
    )
    place = checked.split(": error:")[0]
    assert code == 1 and ran.startswith(f"{place}: error: tile 3: unknown function sortt()")


def test_check_documents_reads_a_document_from_stdin(
    capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = json.dumps({"tiles": {"7": {"type": "data", "query": "fetch logs | sortt"}}})
    code, out, _ = run(["check-documents", "-"], capsys, monkeypatch, stdin=document)
    column = document.index("sortt") + 1
    assert code == 1
    assert out.startswith(f"<stdin>:1:{column}: error: unknown command `sortt` [DQL101] (tile 7)")
    # DQL on stdin is still checked as DQL.
    code, out, _ = run(["check-documents", "-"], capsys, monkeypatch, stdin="fetch logs | x")
    assert code == 1 and "unknown command `x` [DQL101]" in out


def test_dashboard_edits_of_stdin_go_to_stdout_or_a_file(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = EXAMPLE.read_text()
    code, out, err = run(["dashboard", "add-filter", "-", *FILTER], capsys, monkeypatch, text)
    assert code == 0 and "model.version == $V" in out
    assert err.startswith("<stdin>: dashboard, condition")
    code, _, err = run(["dashboard", "add-filter", "-", *FILTER, "-i"], capsys, monkeypatch, text)
    assert code == 2 and "--in-place needs files, not standard input" in err
    target = tmp_path / "out.json"
    code, _, _ = run(
        ["dashboard", "add-filter", "-", *FILTER, "-o", str(target)], capsys, monkeypatch, text
    )
    assert code == 0 and "$V" in target.read_text()


# ---------------------------------------------------------------- JSON shapes
def _validate(value: Any, schema: dict[str, Any], path: str = "$") -> None:
    """The part of JSON Schema that JSON_SCHEMA uses, enough to hold outputs to it."""
    if "$ref" in schema:
        schema = JSON_SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    if "oneOf" in schema:
        errors = []
        for option in schema["oneOf"]:
            try:
                _validate(value, option, path)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{path}: matches no option: {errors}")
    if "enum" in schema:
        assert value in schema["enum"], f"{path}: {value!r} not in {schema['enum']}"
    types = schema.get("type")
    if types is not None:
        allowed = types if isinstance(types, list) else [types]
        python = {
            "object": dict,
            "array": list,
            "string": str,
            "integer": int,
            "boolean": bool,
            "null": type(None),
        }
        assert any(
            isinstance(value, python[t]) and not (t == "integer" and isinstance(value, bool))
            for t in allowed
        ), f"{path}: {value!r} is not {allowed}"
    if isinstance(value, int) and "minimum" in schema:
        assert value >= schema["minimum"], f"{path}: {value} < {schema['minimum']}"
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            assert key in value, f"{path}: missing {key}"
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            assert set(value) <= set(properties), f"{path}: extra {set(value) - set(properties)}"
        for key, sub in properties.items():
            if key in value:
                _validate(value[key], sub, f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _validate(item, schema["items"], f"{path}[{i}]")


def _nodes(tree: Any) -> list[dict[str, Any]]:
    found, stack = [], [tree]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if "kind" in value:
                found.append(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return found


def test_json_outputs_share_one_shape(
    files: dict[str, Path], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    defs = {"$ref": "#/$defs/finding"}
    code, out, _ = run(
        ["parse", "--compact"], capsys, monkeypatch, stdin="fetch logs // c\n| filter a > 1"
    )
    nodes = _nodes(json.loads(out))
    assert code == 0 and len(nodes) >= 5
    for node in nodes:
        _validate(node, {"$ref": "#/$defs/node"})
    check_files = [str(files["bad"]), str(files["good"]), str(files["good"].parent / "none.dql")]
    code, out, _ = run(["check", "--format", "json", *check_files], capsys, monkeypatch)
    dql_records = json.loads(out)
    code, out, _ = run(
        ["check-documents", "--format", "json", str(files["broken"]), str(files["bad"])],
        capsys,
        monkeypatch,
    )
    doc_records = json.loads(out)
    for record in [*dql_records, *doc_records]:
        _validate(record, defs)
    # A .dql file gives the same record through either command.
    assert dql_records[0] == doc_records[-1]
    syntax = dql_records[0]
    assert (syntax["code"], syntax["line"], syntax["column"]) == ("DQL001", 1, 26)
    assert syntax["span"] == {
        "start": 25,
        "end": 25,
        "line": 1,
        "column": 26,
        "end_line": 1,
        "end_column": 26,
    }
    assert dql_records[1]["span"] is None and dql_records[1]["code"] is None
    for record in doc_records[:-1]:
        text = files["broken"].read_text()
        span = record["span"]
        lines = text.split("\n")
        assert text.index(lines[span["line"] - 1]) + span["column"] - 1 == span["start"]
    code, out, _ = run(
        ["dashboard", "inspect", "--json", str(files["broken"]), str(files["dash"])],
        capsys,
        monkeypatch,
    )
    for line in out.splitlines():
        _validate(json.loads(line), {"$ref": "#/$defs/inspection"})


def test_a_finding_spans_its_text_inside_the_json_file(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"tiles": {"1": {"type": "data", "query": 'fetch "é" | sortt'}}}))
    _, out, _ = run(["check-documents", "--format", "json", str(path)], capsys, monkeypatch)
    findings = json.loads(out)
    span = findings[-1]["span"]
    assert path.read_text()[span["start"] : span["end"]] == "sortt"
    assert span["end_column"] - span["column"] == 5


# ---------------------------------------------------------------- wording
PYTHON_WORDS = re.compile(
    r"\b[a-z_]+=(True|False)\b|parse_pipeline\(\)|\b(Named|Assign|Sorted|Brace|FieldRef|"
    r"Binary|Call|Command|Query|NoneType|Traceback)\b"
)


def test_messages_speak_cli_not_python(
    files: dict[str, Path], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    dash, broken = str(files["dash"]), str(files["broken"])
    add = ["dashboard", "add-variable", dash, "--key", "ModelVersion", "--type", "csv"]
    assert run([*add, "--input", "v1,v2", "-i"], capsys, monkeypatch)[0] == 0
    attempts: list[tuple[list[str], str]] = [
        (["fmt"], "| fieldsAdd x = 1"),
        (["check"], "| fieldsAdd x = 1"),
        (["inject", "--filter", "x: 1"], GOOD),
        (["inject", "--filter", "x desc"], GOOD),
        (["render"], "fetch logs | filter a == $A"),
        (["dashboard", "add-filter", broken, *FILTER, "-n"], ""),
        ([*add, "--input", "x", "-n"], ""),
        (["dashboard", "add-variable", dash, "--key", "K", "--type", "csv", "--input", "a,b",
          "--default", "a", "--default", "b", "-n"], ""),
        (["dashboard", "add-filter", dash, "--variable", "V", "--field", "a b", "-n"], ""),
    ]  # fmt: skip
    for args, stdin in attempts:
        code, out, err = run(args, capsys, monkeypatch, stdin=stdin)
        assert code != 0, args
        assert not PYTHON_WORDS.search(out + err), (args, out + err)
    _, _, err = run(["fmt"], capsys, monkeypatch, stdin="| fieldsAdd x = 1")
    assert "  hint: the text is a pipeline fragment: add --fragment" in err
    _, _, err = run(["render"], capsys, monkeypatch, stdin="fetch logs | filter a == $A")
    assert "render leniently (--lenient)" in err


def test_help_texts_read_in_a_terminal(capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same text is docs/cli.md: it must not point at "this page".
    for command in sorted(_commands(build_parser()) | {"dashboard"}):
        code, out, _ = run([*command.split(), "--help"], capsys, monkeypatch)
        assert code == 0 and out.startswith(f"usage: dqlbuild {command}")
        assert "this page" not in out and not PYTHON_WORDS.search(out), command


def test_dashboard_without_a_subcommand_names_itself(
    capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(["dashboard"], capsys, monkeypatch)
    assert (code, out) == (2, "")
    assert err.startswith("usage: dqlbuild dashboard ")
    assert err.rstrip().endswith(
        "dqlbuild dashboard: error: give a subcommand: inspect, add-variable, add-filter or render"
    )


def test_counts_have_the_right_plural(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"tiles": {"0": {"type": "data", "query": "fetch logs"}}}))
    nb = tmp_path / "nb.json"
    nb.write_text(json.dumps(NOTEBOOK))
    _, out, _ = run(["dashboard", "inspect", str(one), str(nb)], capsys, monkeypatch)
    assert f"{one}: dashboard (bare), 1 tile, 1 with DQL" in out
    assert f"{nb}: notebook (bare), 1 section, 1 with DQL" in out


def test_the_spelled_out_choices_match_the_library() -> None:
    from dqlbuild.cli.rewrite import PLACEMENT_CHOICES, SELECT_ALL_TOKEN
    from dqlbuild.rewriting.inject import PLACEMENTS
    from dqlbuild.rewriting.variables import SELECT_ALL

    assert PLACEMENT_CHOICES == PLACEMENTS and SELECT_ALL_TOKEN == SELECT_ALL


# ---------------------------------------------------------------- writing
def test_a_read_only_file_is_not_replaced(
    files: dict[str, Path], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad_format = files["good"].with_name("unformatted.dql")
    bad_format.write_text("fetch logs|limit 1")
    attempts = [
        (["fmt", "-i", str(bad_format)], bad_format),
        (["inject", "-i", str(bad_format), "--filter", "a == 1"], bad_format),
        (["dashboard", "add-filter", str(files["dash"]), *FILTER, "-i"], files["dash"]),
    ]
    for args, path in attempts:
        before = path.read_bytes()
        os.chmod(path, 0o444)
        code, _, err = run(args, capsys, monkeypatch)
        assert code == 1, err
        assert f"{path}: error: the file is read-only; it was left as it is" in err
        assert path.read_bytes() == before and (path.stat().st_mode & 0o777) == 0o444
        os.chmod(path, 0o644)


def test_an_unwritable_directory_is_a_clean_error(
    files: dict[str, Path], capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    def refuse(*args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied", str(files["good"].parent / ".x.tmp"))

    path = files["good"].with_name("unformatted.dql")
    path.write_text("fetch logs|limit 1")
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    for args in (
        ["fmt", "-i", str(path)],
        ["inject", "-i", str(path), "--filter", "a == 1"],
        ["dashboard", "add-filter", str(files["dash"]), *FILTER, "-i"],
    ):
        code, _, err = run(args, capsys, monkeypatch)
        assert code == 1 and "Traceback" not in err, err
        assert "cannot write: its directory does not allow it (Permission denied)" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_directory_is_a_clean_error(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "q.dql"
    path.write_text("fetch logs|limit 1")
    os.chmod(folder, 0o555)
    try:
        code, _, err = run(["fmt", "-i", str(path)], capsys, monkeypatch)
    finally:
        os.chmod(folder, 0o755)
    assert code == 1 and "cannot write: its directory does not allow it" in err


def test_a_lone_surrogate_prints_as_its_escape(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.json"
    path.write_text(
        '{"tiles": {"0": {"type": "data", "title": "bad \\udc00 title", '
        '"query": "fetch logs | filter a == \\"\\ud800\\""}}}'
    )
    # inspect prints the tile; render reports the query's lone surrogate as invalid input
    # (no query can hold one), naming the tile with the title's escape.
    for args, expected in ((["dashboard", "inspect"], 0), (["dashboard", "render"], 1)):
        out_buffer = io.BytesIO()
        out = io.TextIOWrapper(out_buffer, encoding="utf-8")
        monkeypatch.setattr(sys, "stdout", out)
        code = main([*args, str(path)])
        out.flush()
        text = out_buffer.getvalue().decode("utf-8")
        if expected:
            text = capsys.readouterr().err
            assert "lone surrogate" in text and "Traceback" not in text
        assert code == expected
        assert "\\udc00" in text or "\\ud800" in text


def test_each_module_names_the_commands_it_registers() -> None:
    # Running a command imports and builds only its module, found in SUBCOMMAND_MODULES.
    import importlib

    from dqlbuild.cli import SUBCOMMAND_MODULES

    for name, commands in SUBCOMMAND_MODULES.items():
        module = importlib.import_module(name)
        parser = argparse.ArgumentParser()
        module.register(parser.add_subparsers())
        registered = {c.split()[0] for c in _commands(parser)}
        assert set(commands) == registered, name
    assert _commands(build_parser("fmt")) == {"parse", "fmt"}
