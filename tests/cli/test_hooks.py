"""The pre-commit hooks of .pre-commit-hooks.yaml: the manifest is valid, its entries are
working dqlbuild commands, and pre-commit runs them from a repository that uses this one
as its hook repository."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_syntax_cli import Capsys, MonkeyPatch, run
from tests.conftest import REPO

clientlib = pytest.importorskip("pre_commit.clientlib")

MANIFEST = REPO / ".pre-commit-hooks.yaml"
UNFORMATTED = "fetch logs|filter status == 500|limit 3\n"
FORMATTED = "fetch logs\n| filter status == 500\n| limit 3\n"
DASHBOARD = {
    "version": 15,
    "variables": [],
    "tiles": {"0": {"type": "data", "title": "Errors", "query": "fetch logs | filtr x == 1"}},
}


def position_of(text: str, needle: str) -> str:
    """``LINE:COL`` of the first ``needle`` in ``text``."""
    offset = text.index(needle)
    return f"{text.count(chr(10), 0, offset) + 1}:{offset - text.rfind(chr(10), 0, offset)}"


def hooks() -> dict[str, dict[str, Any]]:
    return {hook["id"]: hook for hook in clientlib.load_manifest(str(MANIFEST))}


def run_hook(
    hook: dict[str, Any],
    files: list[Path],
    capsys: Capsys,
    monkeypatch: MonkeyPatch,
    args: list[str] | None = None,
) -> tuple[int, str, str]:
    """Run a hook's command line as pre-commit would (entry, args, then the files)."""
    entry = shlex.split(hook["entry"])
    assert entry[0] == "dqlbuild"
    chosen = hook["args"] if args is None else args
    selected = [str(f) for f in files if re.search(hook["files"], f.name)]
    return run([*entry[1:], *chosen, *selected], capsys, monkeypatch)


def test_manifest_offers_both_hooks() -> None:
    found = hooks()
    assert sorted(found) == ["dqlbuild-check", "dqlbuild-fmt"]
    assert all(hook["language"] == "python" for hook in found.values())
    assert re.search(found["dqlbuild-fmt"]["files"], "q/a.dql")
    assert not re.search(found["dqlbuild-fmt"]["files"], "a.json")
    for name in ("q/a.dql", "dash/b.json"):
        assert re.search(found["dqlbuild-check"]["files"], name)
    assert not re.search(found["dqlbuild-check"]["files"], "a.dql.bak")


def test_fmt_hook_checks_by_default_and_fixes_with_in_place(
    tmp_path: Path, capsys: Capsys, monkeypatch: MonkeyPatch
) -> None:
    hook = hooks()["dqlbuild-fmt"]
    good, bad = tmp_path / "good.dql", tmp_path / "bad.dql"
    good.write_text(FORMATTED)
    bad.write_text(UNFORMATTED)
    code, _, err = run_hook(hook, [good, bad, tmp_path / "x.json"], capsys, monkeypatch)
    assert code == 1 and err == f"{bad}: would reformat\n"
    assert bad.read_text() == UNFORMATTED
    assert run_hook(hook, [good, bad], capsys, monkeypatch, ["--in-place"])[0] == 0
    assert bad.read_text() == FORMATTED
    assert run_hook(hook, [good, bad], capsys, monkeypatch)[0] == 0


def test_check_hook_covers_dql_files_and_documents(
    tmp_path: Path, capsys: Capsys, monkeypatch: MonkeyPatch
) -> None:
    hook = hooks()["dqlbuild-check"]
    query = tmp_path / "q.dql"
    query.write_text("fetch logs\n| sortt timestamp\n")
    dash = tmp_path / "dash.json"
    dash.write_text(json.dumps(DASHBOARD, indent=2))
    package = tmp_path / "package.json"
    package.write_text('{"name": "web"}')
    code, out, err = run_hook(hook, [query, dash, package], capsys, monkeypatch)
    assert (code, err) == (1, "")
    assert f"{query}:2:3: error: unknown command `sortt`" in out
    where = position_of(dash.read_text(), "filtr")
    assert f'{dash}:{where}: error: unknown command `filtr` [DQL101] (tile "Errors")' in out
    assert "package.json" not in out
    query.write_text("fetch logs\n| sort timestamp\n")
    dash.write_text(json.dumps(DASHBOARD).replace("filtr", "filter"))
    assert run_hook(hook, [query, dash, package], capsys, monkeypatch) == (0, "", "")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def _hook_repository(path: Path) -> str:
    """A git repository with this project's installable files; returns its commit."""
    path.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("dqlbuild", "grammar"):
        shutil.copytree(REPO / name, path / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(REPO / name, path / name)
    _git(path, "init", "-q")
    _git(path, "add", ".")
    _git(path, "commit", "-qm", "hooks")
    return _git(path, "rev-parse", "HEAD").strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_pre_commit_runs_the_hooks_from_this_repository(tmp_path: Path) -> None:
    """Slow-ish (pre-commit builds the hook environment once: ~15 s), but it is the real
    thing: pre-commit installs dqlbuild from the hook repository and runs both hooks."""
    rev = _hook_repository(tmp_path / "hooks")
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q")
    (work / "queries").mkdir()
    (work / "queries" / "errors.dql").write_text(UNFORMATTED)
    (work / "dashboards").mkdir()
    (work / "dashboards" / "errors.json").write_text(json.dumps(DASHBOARD, indent=2))
    (work / "package.json").write_text('{"name": "web"}')

    def configure(fmt_args: list[str] | None) -> None:
        fmt: dict[str, Any] = {"id": "dqlbuild-fmt"}
        if fmt_args is not None:
            fmt["args"] = fmt_args
        config = {
            "repos": [
                {
                    "repo": str(tmp_path / "hooks"),
                    "rev": rev,
                    "hooks": [fmt, {"id": "dqlbuild-check"}],
                }
            ]
        }
        # JSON is YAML: no YAML writer needed.
        (work / ".pre-commit-config.yaml").write_text(json.dumps(config, indent=2))
        _git(work, "add", ".")

    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"}

    def pre_commit() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    configure(None)
    first = pre_commit()
    assert first.returncode == 1, first.stdout + first.stderr
    assert "queries/errors.dql: would reformat" in first.stdout
    where = position_of(json.dumps(DASHBOARD, indent=2), "filtr")
    found = (
        f'dashboards/errors.json:{where}: error: unknown command `filtr` [DQL101] (tile "Errors")'
    )
    assert found in first.stdout
    assert "package.json" not in first.stdout

    configure(["--in-place"])
    second = pre_commit()
    assert (work / "queries" / "errors.dql").read_text() == FORMATTED
    assert "dqlbuild fmt" in second.stdout and "files were modified by this hook" in second.stdout

    dashboard = work / "dashboards" / "errors.json"
    dashboard.write_text(dashboard.read_text().replace("filtr", "filter"))
    configure(None)
    third = pre_commit()
    assert third.returncode == 0, third.stdout + third.stderr
    assert re.search(r"dqlbuild fmt\.+Passed", third.stdout)
    assert re.search(r"dqlbuild check\.+Passed", third.stdout)
