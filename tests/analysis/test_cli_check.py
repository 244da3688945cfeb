"""``dqlbuild check`` on the command line."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from dqlbuild.cli import main


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_text_output_and_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "a.dql", "fetch logs\n| filtr x == 1\n| limit 5\n")
    assert main(["check", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == (
        f"{path}:2:3: error: unknown command `filtr` [DQL101]\n  hint: did you mean `filter`?\n"
    )
    assert err == ""


def test_warnings_alone_exit_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "w.dql", "fetch logs\n| fields a\n| sort b\n")
    assert main(["check", str(path)]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith(f"{path}:3:8: warning: field `b` does not exist here")
    assert out.splitlines()[0].endswith("[DQL201]")


def test_clean_file_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "ok.dql", 'fetch logs | filter loglevel == "ERROR" | limit 5\n')
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr() == ("", "")


def test_syntax_error_is_reported_like_other_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, "bad.dql", "fetch logs |")
    good = write(tmp_path, "good.dql", "fetch logs")
    assert main(["check", str(bad), str(good)]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith(f"{bad}:1:12: error: ")
    assert out.splitlines()[0].endswith("[DQL001]")
    assert "^" in out


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write(tmp_path, "a.dql", "fetch logs | filter x == $Hots")
    b = write(tmp_path, "b.dql", "fetch logs |")
    assert main(["check", "--format", "json", "--var", "Host", str(a), str(b)]) == 1
    records = json.loads(capsys.readouterr().out)
    assert [(r["file"], r["code"], r["line"], r["column"]) for r in records] == [
        (str(a), "DQL301", 1, 26),
        (str(b), "DQL001", 1, 12),
    ]
    assert records[0]["hint"] == "did you mean `$Host`?"
    assert records[0]["span"]["start"] == 25


def test_variables_unchecked_without_var(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "v.dql", "fetch logs | filter x == $Anything")
    assert main(["check", str(path)]) == 0
    assert main(["check", str(path), "--var", "Other"]) == 1
    assert "variable `$Anything` is not defined [DQL301]" in capsys.readouterr().out


def test_fragment_and_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = '| parse content, "LD:x" | fieldsAdd y = x\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))
    assert main(["check", "--fragment"]) == 0
    assert capsys.readouterr().out == ""


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.dql"
    assert main(["check", str(missing)]) == 1
    assert capsys.readouterr().out == f"{missing}: error: no such file\n"
