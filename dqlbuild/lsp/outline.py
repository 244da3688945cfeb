"""Document symbols (one per stage, subquery stages nested in theirs; one per query of a
dashboard or notebook) and folding ranges (subqueries and comment blocks)."""

from __future__ import annotations

import re
from collections.abc import Callable

from lsprotocol import types

from dqlbuild.lsp.scan import Stage, comments, mask, scan
from dqlbuild.lsp.text import LineIndex
from dqlbuild.lsp.units import FileModel, QueryUnit

ToRange = Callable[[int, int], types.Range]
"""Offsets ``(start, end)`` to a range of the file."""

_SPACE = re.compile(r"\s+")
_DETAIL_WIDTH = 60


def _detail(code: str) -> str:
    text = _SPACE.sub(" ", code).strip()
    return text if len(text) <= _DETAIL_WIDTH else text[: _DETAIL_WIDTH - 1] + "…"


def _stage_symbol(text: str, stage: Stage, to_range: ToRange) -> types.DocumentSymbol:
    return types.DocumentSymbol(
        name=stage.name or "(stage)",
        kind=types.SymbolKind.Function,
        detail=_detail(text[stage.name_end : min(stage.end, stage.name_end + 4 * _DETAIL_WIDTH)])
        or None,
        range=to_range(stage.start, stage.end),
        selection_range=to_range(stage.start, stage.name_end),
        children=[_stage_symbol(text, child, to_range) for child in stage.children] or None,
    )


def stage_symbols(text: str, to_range: ToRange) -> list[types.DocumentSymbol]:
    return [_stage_symbol(text, s, to_range) for s in scan(mask(text)).stages]


def document_symbols(model: FileModel, to_range: ToRange) -> list[types.DocumentSymbol]:
    """Symbols of a file; ``to_range`` maps *file* offsets."""
    if model.kind == "dql":
        return stage_symbols(model.units[0].text, to_range)
    symbols = []
    for unit in model.units:
        whole = to_range(unit.file_start, unit.file_end)
        symbols.append(
            types.DocumentSymbol(
                name=unit.label,
                kind=types.SymbolKind.Object,
                detail=_detail(unit.text[: 4 * _DETAIL_WIDTH]) or None,
                range=whole,
                selection_range=whole,
                children=stage_symbols(unit.text, _through(unit, to_range)) or None,
            )
        )
    return symbols


def _through(unit: QueryUnit, to_range: ToRange) -> ToRange:
    """``to_range`` for offsets of ``unit``'s query."""

    def mapped(start: int, end: int) -> types.Range:
        return to_range(unit.map.to_file(start), unit.map.to_file(end))

    return mapped


def folding_ranges(text: str, index: LineIndex) -> list[types.FoldingRange]:
    """Subqueries and block comments over several lines, and runs of line comments.
    (A query inside JSON is one line of the file: nothing to fold there.)"""
    ranges: list[types.FoldingRange] = []
    for open_, close in scan(mask(text)).blocks:
        first, last = index.line_of(open_), index.line_of(close)
        # The line of a `]` that begins its line stays visible, as editors fold code.
        if not text[index.line_start(last) : close].strip():
            last -= 1
        if last > first:
            ranges.append(types.FoldingRange(start_line=first, end_line=last))
    run: list[int] = []
    for m in comments(text):
        first, last = index.line_of(m.start()), index.line_of(m.end())
        if m.group().startswith("/*"):
            if last > first:
                ranges.append(_comment_range(first, last))
            continue
        if run and first == run[-1] + 1 and not text[index.line_start(first) : m.start()].strip():
            run.append(first)
            continue
        if len(run) > 1:
            ranges.append(_comment_range(run[0], run[-1]))
        run = [first] if not text[index.line_start(first) : m.start()].strip() else []
    if len(run) > 1:
        ranges.append(_comment_range(run[0], run[-1]))
    return sorted(ranges, key=lambda r: (r.start_line, r.end_line))


def _comment_range(first: int, last: int) -> types.FoldingRange:
    return types.FoldingRange(start_line=first, end_line=last, kind=types.FoldingRangeKind.Comment)
