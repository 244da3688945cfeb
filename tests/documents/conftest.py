"""Shared helpers for the document-layer tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
# ../shared next to the project root holds the read-only corpus.
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CORPUS_DASHBOARDS = SHARED / "corpus" / "dashboards"

# Every well-formed fixture: (file name, kind, storage form, content embedded in a string).
VALID_FIXTURES = [
    ("dashboard-2space.json", "dashboard", "bare", False),
    ("dashboard-4space.json", "dashboard", "bare", False),
    ("dashboard-tabs.json", "dashboard", "bare", False),
    ("dashboard-minified.json", "dashboard", "bare", False),
    ("dashboard-oneline-spaced.json", "dashboard", "bare", False),
    ("dashboard-crlf.json", "dashboard", "bare", False),
    ("dashboard-uescape.json", "dashboard", "bare", False),
    ("dashboard-slash-upper.json", "dashboard", "bare", False),
    ("dashboard-go.json", "dashboard", "bare", False),
    ("dashboard-bom.json", "dashboard", "bare", False),
    ("dashboard-explore-novars.json", "dashboard", "bare", False),
    ("envelope.json", "dashboard", "envelope", False),
    ("document-api.json", "dashboard", "document-api", False),
    ("string-content.json", "dashboard", "envelope", True),
    ("notebook.json", "notebook", "bare", False),
    ("notebook-envelope.json", "notebook", "envelope", False),
]
VALID_NAMES = [name for name, *_ in VALID_FIXTURES]


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def loads(text: str) -> Any:
    """``json.loads`` that accepts a leading BOM, as the loader does."""
    return json.loads(text.removeprefix("\ufeff"))


def set_pointer(value: Any, pointer: str, new: Any) -> None:
    """Set ``pointer`` inside a json.loads result (the expected-value side of tests)."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    for t in tokens[:-1]:
        value = value[int(t)] if isinstance(value, list) else value[t]
    last = tokens[-1]
    if isinstance(value, list):
        value[int(last)] = new
    else:
        value[last] = new


def get_pointer(value: Any, pointer: str) -> Any:
    for t in [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]:
        value = value[int(t)] if isinstance(value, list) else value[t]
    return value


def assert_pure_insertion(old: str, new: str) -> int:
    """``new`` is ``old`` with one block inserted; returns the insertion offset.

    Every old line not holding that offset is then byte-identical in ``new``.
    """
    assert len(new) > len(old)
    p = 0
    while p < len(old) and old[p] == new[p]:
        p += 1
    inserted = len(new) - len(old)
    assert new[:p] + new[p + inserted :] == old, "old text is not preserved around one insertion"
    return p


@pytest.fixture
def corpus_dir() -> Path:
    if not CORPUS_DASHBOARDS.is_dir():
        pytest.skip("shared corpus not available")
    return CORPUS_DASHBOARDS
