"""Formatting edits through the canonical formatter (:func:`dqlbuild.format`).

A ``.dql`` file is formatted whole, or by whole stages for a range: the stages the range
touches, widened to whole lines. A query inside JSON is formatted as a whole and only its
string changes, re-escaped the way the file writes strings (the document layer's
``SetValue``). Edits are minimal (the unchanged start and end of the text are not
replaced) and a file keeps its ``\\r\\n`` line ends.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from dqlbuild.ast.nodes import Command, Query
from dqlbuild.documents import SetValue
from dqlbuild.errors import DQLError
from dqlbuild.lsp.scan import mask
from dqlbuild.lsp.text import minimal_edit
from dqlbuild.lsp.units import FileModel, QueryUnit
from dqlbuild.printing.canonical import format_node
from dqlbuild.syntax.lexical import code_only
from dqlbuild.syntax.parser import parse, parse_pipeline

_NEWLINE = re.compile("\n")

Edit = tuple[int, int, str]
"""``(start, end, new text)`` in file offsets."""


@dataclass(frozen=True)
class FormatOptions:
    width: int = 100
    indent: int = 2


def format_edits(
    model: FileModel,
    text: str,
    options: FormatOptions,
    selection: tuple[int, int] | None = None,
) -> list[Edit]:
    """The edits that format ``text`` (all of it, or what ``selection`` touches)."""
    if model.kind == "dql":
        return _dql_edits(model.units[0], options, selection)
    return _json_edits(model, text, options, selection)


def _parse(unit: QueryUnit, text: str) -> Query | None:
    try:
        return parse_pipeline(text) if unit.fragment else parse(text)
    except DQLError:
        return None  # the diagnostics say what is wrong; nothing to format


def _canonical(query: Query, options: FormatOptions) -> str:
    return format_node(query, width=options.width, indent=options.indent)


# ------------------------------------------------------------------ .dql files
def _dql_edits(
    unit: QueryUnit, options: FormatOptions, selection: tuple[int, int] | None
) -> list[Edit]:
    text = unit.text
    query = _parse(unit, text)
    if query is None:
        return []
    crlf = _uses_crlf(text)
    region = _stage_region(query, text, selection) if selection is not None else None
    if region is not None:
        start, end, first, last = region
        new = _stages_text(query, first, last, unit.fragment, options)
        if last == len(query.commands) - 1:
            new += "\n"
        new = _line_ends(new, crlf)
        result = text[:start] + new + text[end:]
        if _same_query(unit, query, result):
            edit = minimal_edit(text[start:end], new)
            return [] if edit is None else [(start + edit[0], start + edit[1], edit[2])]
        # The stages could not be cut out cleanly (e.g. a comment across the cut):
        # format the whole query instead, which is always right.
    whole = _canonical(query, options)
    if unit.fragment:
        whole = _with_leading_pipe(whole)
    edit = minimal_edit(text, _line_ends(whole + "\n", crlf))
    return [] if edit is None else [edit]


def _stage_region(
    query: Query, text: str, selection: tuple[int, int]
) -> tuple[int, int, int, int] | None:
    """``(start, end, first, last)``: the text of the stages ``first..last`` that
    ``selection`` touches, widened to whole lines and to stages sharing those lines."""
    a, b = selection
    # A stage owns the text from the end of the stage before it (its `|`, the comments
    # that lead it): a selection there formats it.
    touched, owned = [], 0
    for i, command in enumerate(query.commands):
        span = command.span
        assert span is not None  # a parsed query
        if (owned < b and a < span.end) or (a == b and owned <= a <= span.end):
            touched.append(i)
        owned = span.end
    if not touched:
        return None
    first, last = touched[0], touched[-1]
    masked = mask(text)
    while True:
        start = _region_start(query, text, masked, first)
        if start is None:
            first -= 1
            continue
        end = _region_end(query, text, masked, last)
        if end is None:
            last += 1
            continue
        return start, end, first, last


def _region_start(query: Query, text: str, masked: str, index: int) -> int | None:
    if index == 0:
        return 0
    before, command = query.commands[index - 1].span, query.commands[index].span
    assert before is not None and command is not None
    pipe = masked.rfind("|", before.end, command.start)
    line = text.rfind("\n", 0, pipe) + 1
    if masked[line:pipe].strip():
        return None  # the stage before ends on this line
    # Comment lines above the `|` lead this stage (a re-parse attaches them to it).
    while line > 0:
        above = text.rfind("\n", 0, line - 1) + 1
        if above <= before.end or masked[above:line].strip():
            break
        line = above
    return line


def _region_end(query: Query, text: str, masked: str, index: int) -> int | None:
    if index == len(query.commands) - 1:
        return len(text)
    span = query.commands[index].span
    assert span is not None
    newline = text.find("\n", span.end)
    end = len(text) if newline < 0 else newline
    if text.startswith("\r", end - 1) and end > span.end:
        end -= 1
    if masked[span.end : end].strip():
        return None  # the next stage begins on this line
    return end


def _stages_text(
    query: Query, first: int, last: int, fragment: bool, options: FormatOptions
) -> str:
    commands = query.commands[first : last + 1]
    if first == 0:
        printed = _canonical(Query(commands=commands), options)
        return _with_leading_pipe(printed) if fragment else printed
    # Printed after a stand-in first stage, so that they come with their `| ` and the
    # comments that lead them; the stand-in's line is then dropped.
    printed = _canonical(Query(commands=(Command(name="x"), *commands)), options)
    return printed[printed.index("\n") + 1 :]


def _same_query(unit: QueryUnit, query: Query, text: str) -> bool:
    again = _parse(unit, text)
    return again is not None and again == query and _comments(again) == _comments(query)


def _comments(query: Query) -> list[str]:
    return sorted(c.text for node in query.walk() for c in node.comments)


def _with_leading_pipe(text: str) -> str:
    """A fragment keeps the ``|`` it begins with."""
    code = mask(text)
    first = len(code) - len(code.lstrip())
    if text.startswith("|", first):
        return text
    return text[:first] + "| " + text[first:]


def _uses_crlf(text: str) -> bool:
    newline = text.find("\n")
    return newline > 0 and text[newline - 1] == "\r"


def _line_ends(text: str, crlf: bool) -> str:
    """``text`` with its line breaks (not the newlines inside strings and comments) as
    ``\\r\\n`` when the file uses them."""
    if not crlf:
        return text
    pieces, last = [], 0
    for m in _NEWLINE.finditer(code_only(text)):
        i = m.start()
        if text[i - 1 : i] != "\r":
            pieces += [text[last:i], "\r\n"]
            last = i + 1
    pieces.append(text[last:])
    return "".join(pieces)


# ------------------------------------------------------------------ JSON documents
def _json_edits(
    model: FileModel, text: str, options: FormatOptions, selection: tuple[int, int] | None
) -> list[Edit]:
    document = model.document
    if document is None:
        return []
    edits: list[Edit] = []
    changes: list[SetValue] = []
    for unit in model.units:
        if unit.explore or not unit.text.strip():
            continue  # Explore queries are rewritten by the app from their settings
        if selection is not None and not (
            unit.file_start - 1 <= selection[1] and selection[0] <= unit.file_end + 1
        ):
            continue
        query = _parse(unit, unit.text)
        if query is None:
            continue
        formatted = _canonical(query, options)
        if formatted == unit.text:
            continue
        outer = unit.map.strings[0]
        window = (outer.start - 1, outer.end + 1)  # the file's string, quotes included
        changes.append(SetValue(unit.path, formatted))
        new = document.apply(changes[-1:])
        grown = len(new) - len(text)
        edit = minimal_edit(text[window[0] : window[1]], new[window[0] : window[1] + grown])
        if edit is not None:
            edits.append((window[0] + edit[0], window[0] + edit[1], edit[2]))
    edits.sort()
    if any(a[1] > b[0] for a, b in itertools.pairwise(edits)):
        # Queries of one embedded content string whose edits touch: one edit instead.
        combined = minimal_edit(text, document.apply(changes))
        return [combined] if combined is not None else []
    return edits
