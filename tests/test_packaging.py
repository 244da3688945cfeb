"""The wheel carries the grammar and the catalog, so an installed dqlbuild parses from any
directory without the source checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO


def test_wheel_contains_grammar_catalog_and_type_marker(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("dqlbuild-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "dqlbuild/_grammar/dql.lark" in names
    assert "dqlbuild/catalog/catalog.json" in names
    assert "dqlbuild/catalog/names.json" in names
    assert "dqlbuild/ast/_makers.py" in names
    assert "dqlbuild/py.typed" in names
    grammar = zipfile.ZipFile(wheel).read("dqlbuild/_grammar/dql.lark").decode()
    assert grammar == (REPO / "grammar" / "dql.lark").read_text()
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "dqlbuild = dqlbuild.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
