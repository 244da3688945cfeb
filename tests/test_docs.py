"""Every example in the docs runs: ```python blocks execute (one namespace per page, in
order), ```dql blocks parse, and ```console blocks run their `$ ` commands and must print
what the page shows.
```sh blocks run too, in a scratch git repository holding the example files the pages
name (`dash.json`, `queries/errors.dql`, ...), and must succeed; only the set-up lines that
install packages or run the benchmark are left out. The site builds with
`mkdocs build --strict`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

DOCS = REPO / "docs"
PAGES = sorted(DOCS.glob("*.md"))
_BLOCK = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.M | re.S)


def blocks(page: Path, language: str) -> list[str]:
    return [m.group(2) for m in _BLOCK.finditer(page.read_text()) if m.group(1) == language]


@pytest.mark.parametrize(
    "page", [p for p in [*PAGES, REPO / "README.md"] if blocks(p, "python")], ids=lambda p: p.name
)
def test_python_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for number, code in enumerate(blocks(page, "python"), 1):
        try:
            exec(compile(code, f"{page.name}[python block {number}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"{page.name}, python block {number} failed: {exc!r}") from exc


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "dql")], ids=lambda p: p.name)
def test_dql_examples_parse(page: Path) -> None:
    from dqlbuild import parse

    for code in blocks(page, "dql"):
        parse(code)


_SETUP = ("pip ", "python3 -m venv", "python benchmarks/")


def _scratch_repository(root: Path) -> None:
    example = REPO / "examples" / "ai-observability.dashboard.json"
    shutil.copytree(REPO / "examples", root / "examples")
    shutil.copy(example, root / "dash.json")
    (root / "queries").mkdir()
    (root / "queries" / "errors.dql").write_text('fetch logs\n| filter loglevel == "ERROR"\n')
    (root / "q.txt").write_text("fetch logs | limit 5\n")
    for command in (["git", "init", "-q"], ["git", "add", "dash.json", "queries"]):
        subprocess.run(command, cwd=root, check=True, capture_output=True)


def _sh_cases() -> list[tuple[str, int, str]]:
    cases = []
    for page in PAGES:
        for number, block in enumerate(blocks(page, "sh"), 1):
            script = block.replace("\\\n", " ")
            lines = [ln for ln in script.splitlines() if not ln.lstrip().startswith(_SETUP)]
            if any(ln.strip() and not ln.lstrip().startswith("#") for ln in lines):
                cases.append((page.name, number, "\n".join(lines)))
    return cases


@pytest.mark.parametrize(("page", "number", "script"), _sh_cases())
def test_shell_examples_succeed(page: str, number: int, script: str, tmp_path: Path) -> None:
    _scratch_repository(tmp_path)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(
        ["sh", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, f"{page}, sh block {number}:\n{result.stdout}{result.stderr}"


def _console_cases() -> list[tuple[str, str, str]]:
    cases = []
    for page in PAGES:
        for block in blocks(page, "console"):
            command, output = None, []
            for line in [*block.splitlines(), "$ <end>"]:
                if line.startswith("$ "):
                    if command is not None:
                        cases.append((page.name, command, "\n".join(output)))
                    command, output = line[2:], []
                else:
                    output.append(line)
    return [c for c in cases if c[1] != "<end>"]


@pytest.mark.parametrize(("page", "command", "expected"), _console_cases())
def test_console_examples_print_what_the_page_shows(page: str, command: str, expected: str) -> None:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("NO_COLOR", None)
    result = subprocess.run(
        command, shell=True, cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    shown = (result.stdout + result.stderr).rstrip()
    assert shown == expected.rstrip(), f"{page}: $ {command}"


def test_site_builds_strictly(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path)]
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
