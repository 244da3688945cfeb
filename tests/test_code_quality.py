"""The package, its scripts and benchmarks stay mypy-strict clean, and they and the tests
ruff clean (lint and format); run in the suite, so CI checks them."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, check=False
    )


def test_ruff_check_and_format() -> None:
    check = _run("ruff", "check", "dqlbuild", "tests", "scripts", "benchmarks")
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = _run("ruff", "format", "--check", "dqlbuild", "tests", "scripts", "benchmarks")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_strict() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
