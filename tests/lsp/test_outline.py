"""Outline symbols and folding ranges."""

from __future__ import annotations

from lsprotocol import types

from dqlbuild.lsp.outline import folding_ranges, stage_symbols
from dqlbuild.lsp.text import LineIndex

TEXT = """// Errors by host,
// joined with their hosts
fetch logs /* all
   of them */
| lookup [
    fetch dt.entity.host
    | fields id, name
  ], sourceField: dt.entity.host, lookupField: id
| filter x in [fetch spans | fields x]
| limit 5"""


def _range(start: int, end: int) -> types.Range:
    index = LineIndex(TEXT)
    (l1, c1), (l2, c2) = index.position(start), index.position(end)
    return types.Range(
        start=types.Position(line=l1, character=c1), end=types.Position(line=l2, character=c2)
    )


def test_one_symbol_per_stage_named_after_its_command() -> None:
    symbols = stage_symbols(TEXT, _range)
    assert [s.name for s in symbols] == ["fetch", "lookup", "filter", "limit"]
    lookup, filter_ = symbols[1], symbols[2]
    assert [c.name for c in lookup.children or []] == ["fetch", "fields"]
    assert [c.name for c in filter_.children or []] == ["fetch", "fields"]
    assert lookup.detail is not None and len(lookup.detail) == 60
    assert lookup.detail.startswith("[ fetch dt.entity.host | fields id, name ], sourceField:")
    assert lookup.selection_range == _range(TEXT.index("lookup"), TEXT.index("lookup") + 6)
    assert symbols[0].range == _range(0 + TEXT.index("fetch logs"), TEXT.index(" /* all"))


def test_folding_of_subqueries_and_comments() -> None:
    folds = folding_ranges(TEXT, LineIndex(TEXT))
    found = {(f.start_line, f.end_line, f.kind) for f in folds}
    comment = types.FoldingRangeKind.Comment
    # The two line comments, the block comment, the lookup subquery (its `]` line stays
    # visible); the one-line subquery of `in` does not fold.
    assert found == {(0, 1, comment), (2, 3, comment), (4, 6, None)}
