"""``dqlbuild inject``, ``vars`` and ``render`` on the command line."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from dqlbuild.cli import main
from dqlbuild.rewriting.variables import SELECT_ALL

QUERY = "fetch logs // all\n| filter loglevel == $Level\n| limit $Top:noquote\n"


def write(tmp_path: Path, text: str = QUERY) -> Path:
    path = tmp_path / "tile.dql"
    path.write_bytes(text.encode("utf-8"))
    return path


def feed_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))


def test_inject_prints_the_minimal_edit_and_statuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path)
    assert main(["inject", str(path), "--filter", "service.name == $Service"]) == 0
    out, err = capsys.readouterr()
    assert out == (
        "fetch logs // all\n| filter loglevel == $Level\n| filter service.name == $Service\n"
        "| limit $Top:noquote\n"
    )
    assert err == f"{path}: filtered: inserted after the filters that follow `fetch logs`\n"


def test_inject_reports_subqueries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "fetch logs\n| append [\n  data record(a = 1)\n]")
    main(["inject", str(path), "--filter", "a == 1"])
    _, err = capsys.readouterr()
    assert err.splitlines()[1] == (
        f"{path}: subquery 1 (line 3): skipped: `data` builds its own records"
    )


def test_inject_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "fetch logs | sort t | append [fetch logs]")
    main(["inject", str(path), "--filter", "a == 1", "--placement", "end"])
    out, err = capsys.readouterr()
    # `append` adds records: a filter cannot move past it, so only the block is filtered.
    assert out == "fetch logs | sort t | append [fetch logs | filter a == 1]"
    assert err.splitlines()[0].startswith(f"{path}: partially-filtered: subquery 1: appended")
    path = write(tmp_path, "fetch logs | sort t | filter x in [fetch logs | fields x]")
    main(["inject", str(path), "--filter", "x == 1", "--placement", "end", "--no-subqueries", "-q"])
    out, err = capsys.readouterr()
    assert (out, err) == (
        "fetch logs | sort t | filter x in [fetch logs | fields x] | filter x == 1",
        "",
    )
    path = write(tmp_path, "fetch logs | append [fetch spans]")
    main(["inject", str(path), "--filter", "a == 1", "--data-object", "spans", "-q"])
    out, _ = capsys.readouterr()
    assert out == "fetch logs | append [fetch spans | filter a == 1]"


def test_inject_in_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "fetch logs\n")
    assert main(["inject", str(path), "--filter", "a == 1", "-i"]) == 0
    assert path.read_text() == "fetch logs | filter a == 1\n"
    assert capsys.readouterr().out == ""


def test_inject_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_stdin(monkeypatch, "fetch logs")
    assert main(["inject", "--filter", "a == 1", "-q"]) == 0
    assert capsys.readouterr().out == "fetch logs | filter a == 1"


def test_inject_in_place_needs_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    feed_stdin(monkeypatch, "fetch logs")
    assert main(["inject", "--filter", "a == 1", "-i"]) == 2


def test_inject_syntax_errors_point_at_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "fetch logs |")
    assert main(["inject", str(path), "--filter", "a == 1"]) == 1
    assert capsys.readouterr().err.startswith(f"{path}:1:")


def test_inject_a_bad_condition(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path)
    assert main(["inject", str(path), "--filter", "a = 1"]) == 1
    assert "compares with `==`" in capsys.readouterr().err


def test_vars(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, QUERY + '| fieldsAdd t = "top $Top"\n')
    assert main(["vars", str(path)]) == 0
    assert capsys.readouterr().out == (
        f"{path}:2:22: $Level\n{path}:3:9: $Top:noquote\n{path}:4:22: $Top (in a string)\n"
    )
    main(["vars", "--names", str(path)])
    assert capsys.readouterr().out == "Level\nTop\n"


def test_render(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path)
    assert main(["render", str(path), "--set", "Level=ER\\", "--set", "Top=5"]) == 0
    out, err = capsys.readouterr()
    assert out == 'fetch logs // all\n| filter loglevel == "ER\\\\"\n| limit 5\n'
    assert err.startswith(f"{path}:2:22: warning: $Level: ")


def test_render_lists_and_select_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "fetch logs | filter in(h, array($H)) and in(l, array($L))")
    args = ["render", str(path), "--set", f"H={SELECT_ALL}", "--all", "H=a", "--all", "H=b"]
    assert main([*args, "--multi", "L", "--set", "L=x"]) == 0
    assert capsys.readouterr().out == (
        'fetch logs | filter in(h, array("a","b")) and in(l, array("x"))'
    )
    main(["render", str(path), "--set", "H=1", "--set", "H=2", "--multi", "L"])
    assert capsys.readouterr().out == (
        'fetch logs | filter in(h, array("1","2")) and in(l, array(""))'
    )


def test_render_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path)
    assert main(["render", str(path), "--set", "Level=x"]) == 1
    assert f"{path}:3:9: error: no value for $Top" in capsys.readouterr().err
    assert main(["render", str(path), "--set", "Level=x", "--lenient"]) == 0
    assert main(["render", str(path), "--set", "Level"]) == 2
    assert main(["render", str(path), "--now", "yesterday"]) == 2


def test_render_now(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "fetch logs, to: $dt_timeframe_to")
    assert main(["render", str(path), "--now", "2024-01-01T10:00:00Z"]) == 0
    assert capsys.readouterr().out == 'fetch logs, to: "2024-01-01T10:00:00.000Z"'
    assert main(["render", str(path), "--now", "2024-01-01T10:00:00"]) == 2


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("inject", "vars", "render"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "examples:" in capsys.readouterr().out


def test_render_warns_about_set_keys_that_no_query_uses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "q.dql"
    path.write_text("fetch logs | filter a == $Host")
    assert main(["render", str(path), "--set", "Host=a", "--set", "Hots=b"]) == 0
    err = capsys.readouterr().err
    assert "--set Hots: the query has no $Hots" in err and "--set Host:" not in err
