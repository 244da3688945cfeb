"""The splice of one inserted stage gives the text the whole-query layout gives."""

from __future__ import annotations

import pytest

from dqlbuild import parse
from dqlbuild.ast.base import get_private
from dqlbuild.ast.nodes import Command, FieldRef, Query
from dqlbuild.printing.lossless import _Lossless, reads_back

TEXTS = [
    "fetch logs | filter a == 1 | limit 3",
    "fetch logs\n| filter a == 1\n| limit 3",
    "fetch logs\r\n| filter a == 1 // keep\r\n| limit 3\r\n",
    "  // lead\nfetch logs // on fetch\n\n| filter a == 1 /* block */\n  | limit 3 // last\n",
    "fetch logs |\n  filter a == 1 |\n  limit 3 /* open",
    "fetch logs // only\n",
]


def _both(query: Query) -> tuple[str | None, str]:
    ctx = get_private(query, "source")
    lossless = _Lossless(ctx)
    return lossless.inserted(query), lossless.text(query)


@pytest.mark.parametrize("text", TEXTS)
def test_splice_matches_layout(text: str) -> None:
    parsed = parse(text)
    stage = Command(name="sort", args=(FieldRef(name="b"),))
    for at in range(1, len(parsed.commands) + 1):
        edited = parsed.insert(at, stage)
        spliced, laid_out = _both(edited)
        assert spliced == laid_out
        assert edited.to_source() == laid_out
        assert reads_back(edited, laid_out)


def test_other_edits_are_not_spliced() -> None:
    parsed = parse("fetch logs | filter a == 1 | limit 3")
    stage = Command(name="sort", args=(FieldRef(name="b"),))
    assert _both(parsed.insert(0, stage))[0] is None  # before the source
    assert _both(parsed.insert(1, stage).insert(1, stage))[0] is None  # two stages
    assert _both(parsed.remove(1).insert(1, stage))[0] is None  # another edit too
    reused = parsed.insert(1, parsed.commands[2])  # a parsed stage again
    assert _both(reused)[0] is None
    assert reused.to_source() == "fetch logs | limit 3 | filter a == 1 | limit 3"
