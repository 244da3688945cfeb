"""Every Python block of docs/builder.md runs, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "builder.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def _blocks() -> list[tuple[int, str]]:
    text = GUIDE.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in BLOCK.finditer(text)]


def test_the_guide_has_examples() -> None:
    assert len(_blocks()) >= 15


def test_every_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {"__name__": "builder_guide"}
    for line, code in _blocks():
        try:
            exec(compile(code, f"{GUIDE.name}:{line}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the test's output
            pytest.fail(f"the example at {GUIDE.name} line {line} failed: {exc!r}")
    assert "fetch spans" in capsys.readouterr().out
