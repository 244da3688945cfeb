"""Diagnostics of a whole file: syntax errors and :func:`dqlbuild.check` findings,
placed in the file's own text.

Plain data in, plain data out, so that it can run in a worker process: the server sends
the file text and gets back findings with file offsets. Queries are cached by their
text, so editing one tile of a large dashboard re-checks only that tile.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from dqlbuild.analysis.checks import check
from dqlbuild.errors import DocumentError, DQLError, DQLSyntaxError
from dqlbuild.lsp.units import QueryUnit, build_model
from dqlbuild.syntax.parser import parse, parse_pipeline

# The code `dqlbuild check` gives text that does not parse (dqlbuild.cli.check).
SYNTAX_CODE = "DQL001"

_TOKEN = re.compile(r"[A-Za-z0-9_.$]+|\S")


@dataclass(frozen=True)
class Finding:
    """One diagnostic; ``start``/``end`` are offsets in the query or, once placed, in
    the file."""

    start: int
    end: int
    severity: str
    code: str | None
    """``None`` for a file that is not a readable dashboard or notebook."""
    message: str
    hint: str | None = None


# Queries longer than this are not kept: each version of a large file would stay in memory.
CACHED_LENGTH = 20_000


def check_query(
    text: str,
    defined: frozenset[str] | None,
    fragment: bool,
    multi_select: frozenset[str] = frozenset(),
) -> tuple[Finding, ...]:
    """Findings of one query, in offsets of its text."""
    if len(text) > CACHED_LENGTH:
        return _check_query(text, defined, fragment, multi_select)
    return _cached_check(text, defined, fragment, multi_select)


def _check_query(
    text: str, defined: frozenset[str] | None, fragment: bool, multi_select: frozenset[str]
) -> tuple[Finding, ...]:
    try:
        query = parse_pipeline(text) if fragment else parse(text)
    except DQLSyntaxError as exc:
        token = _TOKEN.match(text, exc.offset)
        end = token.end() if token is not None else exc.offset
        return (Finding(exc.offset, end, "error", SYNTAX_CODE, exc.message, exc.hint),)
    except DQLError as exc:  # a non-syntax refusal still deserves a place to show
        return (Finding(0, 0, "error", SYNTAX_CODE, exc.message, exc.hint),)
    found = []
    for d in check(query, defined_variables=defined, multi_select=multi_select, fragment=fragment):
        start, end = (d.span.start, d.span.end) if d.span is not None else (0, 0)
        found.append(Finding(start, end, d.severity, d.code, d.message, d.hint))
    return tuple(found)


_cached_check = functools.lru_cache(maxsize=4096)(_check_query)


def place(unit: QueryUnit, finding: Finding) -> Finding:
    """``finding`` of ``unit``'s query, moved into the file (and named after the tile)."""
    start, end = unit.map.to_file(finding.start), unit.map.to_file(finding.end)
    message = f"{finding.message} ({unit.label})" if unit.label else finding.message
    return Finding(start, end, finding.severity, finding.code, message, finding.hint)


def diagnose(text: str, *, json: bool) -> list[Finding]:
    """Every finding of a file, in file offsets."""
    model = build_model(text, json=json)
    if model.error is not None:
        return [_document_finding(text, model.error)]
    found: list[Finding] = []
    for unit in model.units:
        if not unit.text.strip():
            continue  # an empty tile runs nothing, so nothing is wrong with it
        for finding in check_query(unit.text, unit.defined, unit.fragment, unit.multi_select):
            found.append(place(unit, finding))
    return found


def _document_finding(text: str, error: DocumentError) -> Finding:
    offset = 0
    if error.line is not None:
        starts = [0, *(m.end() for m in re.finditer("\n", text))]
        line = min(max(error.line, 1), len(starts)) - 1
        offset = min(starts[line] + max((error.column or 1) - 1, 0), len(text))
    return Finding(offset, offset, "error", None, error.message, error.hint)
