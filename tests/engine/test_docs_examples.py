"""Every ```dql example in docs/*.md that the engine supports runs; where a page shows
the result (a ```text block right after the query), the rows are exactly those.

Queries read the sample spans (examples/ai-spans.jsonl) and small logs written here;
``now()`` is the end of the sample day. Variables get placeholder values."""

from __future__ import annotations

import datetime as dt
import re

import pytest

import dqlbuild
from dqlbuild import DQLUnsupportedError
from tests.conftest import REPO

NOW = dt.datetime(2026, 1, 16, tzinfo=dt.UTC)
PAGES = sorted((REPO / "docs").glob("*.md"))
_BLOCK = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```\n*", re.M | re.S)
LOGS = [
    {"timestamp": "2026-01-15T10:00:00Z", "loglevel": "ERROR", "dt.entity.host": "HOST-1",
     "content": "timeout calling checkout", "k8s.namespace.name": "shop"},
    {"timestamp": "2026-01-15T10:05:00Z", "loglevel": "INFO", "dt.entity.host": "HOST-2",
     "content": "ok", "k8s.namespace.name": "shop"},
    {"timestamp": "2026-01-15T11:00:00Z", "loglevel": "ERROR", "dt.entity.host": "HOST-1",
     "content": "Timeout x while paying", "k8s.namespace.name": "pay"},
]  # fmt: skip


def _examples() -> list[tuple[str, int, str, str | None]]:
    """(page, number, query, the result table shown after it or None)."""
    found = []
    for page in PAGES:
        blocks = [(m.group(1), m.group(2)) for m in _BLOCK.finditer(page.read_text())]
        number = 0
        for index, (language, text) in enumerate(blocks):
            if language != "dql":
                continue
            number += 1
            after = blocks[index + 1] if index + 1 < len(blocks) else None
            shown = after[1] if after is not None and after[0] == "text" else None
            found.append((page.name, number, text, shown))
    return found


@pytest.fixture(scope="module")
def data() -> dqlbuild.Dataset:
    with dqlbuild.Dataset({"spans": REPO / "examples" / "ai-spans.jsonl", "logs": LOGS}) as dataset:
        yield dataset


def _placeholders(query: str) -> dict[str, str]:
    return {ref.name: "x" for ref in dqlbuild.variables(query)}


@pytest.mark.parametrize(
    ("page", "number", "query", "shown"),
    _examples(),
    ids=[f"{page}-{number}" for page, number, _, _ in _examples()],
)
def test_docs_example_runs(
    page: str, number: int, query: str, shown: str | None, data: dqlbuild.Dataset
) -> None:
    try:
        result = data.run(query, variables=_placeholders(query) or None, now=NOW)
    except DQLUnsupportedError:
        assert shown is None, f"{page} shows the result of a query the engine refuses"
        pytest.skip("the engine does not support this example")
    if shown is not None:
        assert str(result) == shown.rstrip("\n"), f"{page}, dql example {number}"


def test_the_running_page_shows_results() -> None:
    assert sum(1 for page, *_, shown in _examples() if page == "running.md" and shown) >= 3
