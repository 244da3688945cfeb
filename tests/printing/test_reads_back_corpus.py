"""The partial re-parse that checks an edit (reads_back) agrees with parsing everything
again, on real queries with filters injected and stages edited. Skipped when the corpus
is absent."""

from __future__ import annotations

import json

import pytest

from dqlbuild import DQLError, inject_filter, parse
from dqlbuild.printing.lossless import reads_back
from tests.conftest import SHARED

CORPUS = SHARED / "corpus" / "queries.jsonl"

pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpus is not present")


def test_reads_back_agrees_with_a_full_parse_on_real_queries() -> None:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    checked = 0
    for line in lines[::7]:  # a sample: every seventh query
        try:
            q = parse(json.loads(line)["query"])
        except DQLError:
            continue
        edits = [inject_filter(q, "k == $K").query, q.replace(-1, "limit 7")]
        for edited in edits:
            text = edited.to_source()
            assert reads_back(edited, text) == (parse(text) == edited)
            checked += 1
    assert checked > 1000
