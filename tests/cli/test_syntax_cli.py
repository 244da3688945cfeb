"""`dqlbuild parse` and `dqlbuild fmt`: output, errors, exit codes, in-place writes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli

Capsys = pytest.CaptureFixture[str]
MonkeyPatch = pytest.MonkeyPatch


def run(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    stdin: str | None = None,
) -> tuple[int, str, str]:  # fmt: skip
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    return run_cli(args, capsys)


def test_fmt_reads_stdin_and_prints_canonical_text(
    capsys: Capsys, monkeypatch: MonkeyPatch
) -> None:
    code, out, err = run(["fmt"], capsys, monkeypatch, stdin="fetch logs|limit 1")
    assert (code, out, err) == (0, "fetch logs\n| limit 1\n", "")


def test_fmt_check_and_in_place(tmp_path: Path, capsys: Capsys, monkeypatch: MonkeyPatch) -> None:
    good = tmp_path / "good.dql"
    good.write_text("fetch logs\n| limit 1\n")
    bad = tmp_path / "bad.dql"
    bad.write_text("fetch logs|limit 1")
    os.chmod(bad, 0o640)
    code, _, err = run(["fmt", "--check", str(good), str(bad)], capsys, monkeypatch)
    assert code == 1 and f"{bad}: would reformat" in err and str(good) not in err
    assert bad.read_text() == "fetch logs|limit 1"
    code, out, _ = run(["fmt", "--in-place", str(bad)], capsys, monkeypatch)
    assert code == 0 and out == ""
    assert bad.read_text() == "fetch logs\n| limit 1\n"
    assert (bad.stat().st_mode & 0o777) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.dql", "good.dql"]
    assert run(["fmt", "--check", str(bad)], capsys, monkeypatch)[0] == 0


def test_fmt_width_and_indent(capsys: Capsys, monkeypatch: MonkeyPatch) -> None:
    text = "fetch logs | fields " + ", ".join(f"column_{i}" for i in range(10))
    code, out, _ = run(["fmt", "--width", "40", "--indent", "4"], capsys, monkeypatch, stdin=text)
    assert code == 0
    assert out.splitlines()[2] == "        column_1,"


def test_syntax_errors_are_reported_with_file_line_column_and_caret(
    tmp_path: Path, capsys: Capsys, monkeypatch: MonkeyPatch
) -> None:
    path = tmp_path / "q.dql"
    path.write_text("fetch logs\n| filter a == 'x'\n")
    code, out, err = run(["fmt", str(path)], capsys, monkeypatch)
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0] == f"{path}:2:15: error: single-quoted strings are not DQL"
    assert lines[1] == '  hint: use double quotes: "text"'
    assert lines[2:] == ["  | filter a == 'x'", "                ^"]
    assert "Traceback" not in err


def test_parse_prints_the_tree_as_json(capsys: Capsys, monkeypatch: MonkeyPatch) -> None:
    code, out, _ = run(["parse", "--compact"], capsys, monkeypatch, stdin="fetch logs // c")
    assert code == 0
    tree = json.loads(out)
    assert tree["commands"][0]["name"] == "fetch"
    assert tree["commands"][0]["comments"] == [{"text": "// c", "placement": "after"}]
    assert tree["commands"][0]["span"] == {
        "start": 0,
        "end": 10,
        "line": 1,
        "column": 1,
        "end_line": 1,
        "end_column": 11,
    }


def test_missing_files_and_usage_errors(
    tmp_path: Path, capsys: Capsys, monkeypatch: MonkeyPatch
) -> None:
    code, _, err = run(["fmt", str(tmp_path / "nope.dql")], capsys, monkeypatch)
    assert code == 1 and "nope.dql: error: no such file" in err
    assert run(["fmt", "--width", "3"], capsys, monkeypatch, stdin="x")[0] == 2
    assert run(["fmt", "--in-place"], capsys, monkeypatch, stdin="x")[0] == 2
    assert run(["frobnicate"], capsys, monkeypatch)[0] == 2
    assert run([], capsys, monkeypatch)[0] == 2
    binary = tmp_path / "b.dql"
    binary.write_bytes(b"\xff\xfe")
    code, _, err = run(["parse", str(binary)], capsys, monkeypatch)
    assert code == 1 and "not UTF-8" in err


def test_help_has_examples_and_version(capsys: Capsys, monkeypatch: MonkeyPatch) -> None:
    code, out, _ = run(["fmt", "--help"], capsys, monkeypatch)
    assert code == 0 and "examples:" in out
    code, out, _ = run(["--version"], capsys, monkeypatch)
    assert code == 0 and out.startswith("dqlbuild ")


def test_module_entry_point_runs_in_a_subprocess() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dqlbuild", "fmt"],
        input="fetch logs|limit 1",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "fetch logs\n| limit 1\n"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: MonkeyPatch) -> None:
    from dqlbuild.cli.common import emit

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    report = "q.dql:1:2: error: bad\n  hint: fix it\n  x\n   ^"
    terminal = _Terminal()
    emit(report, terminal)
    assert "\033[1;31merror\033[0m" in terminal.getvalue()
    assert "\033[32m  hint\033[0m" in terminal.getvalue()
    plain = io.StringIO()
    emit(report, plain)
    assert plain.getvalue() == report + "\n"
    monkeypatch.setenv("NO_COLOR", "1")
    quiet = _Terminal()
    emit(report, quiet)
    assert quiet.getvalue() == report + "\n"


def test_unknown_arguments_show_the_usage_of_their_subcommand(
    capsys: Capsys, monkeypatch: MonkeyPatch
) -> None:
    code, _, err = run(["fmt", "--bogus"], capsys, monkeypatch, stdin="x")
    assert code == 2
    assert err.startswith("usage: dqlbuild fmt") and "unrecognized arguments: --bogus" in err


def test_an_error_without_a_column_prints_only_the_line() -> None:
    from dqlbuild.cli.common import format_error
    from dqlbuild.errors import DocumentError

    assert format_error("x.json", DocumentError("bad", line=3)) == "x.json:3: error: bad"
