"""``dqlbuild check-documents``: check the DQL inside dashboards and notebooks.

Every data tile, every DQL section of a notebook and every query-type dashboard variable
is parsed and checked; findings point into the JSON file. Positions are exact: the query
offset is mapped back through the JSON string escapes (twice when the content is itself
a JSON string). ``.dql`` files given alongside are checked as ``dqlbuild check`` does, so
one pre-commit hook covers both.
"""

from __future__ import annotations

import argparse
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from dqlbuild.cli.check import (
    FileSpan,
    Finding,
    Reporter,
    add_format_option,
    check_files,
    dql_file_findings,
    file_failure,
    query_findings,
)
from dqlbuild.cli.common import STDIN_NAME, CliError, Input, expand_inputs, read_input

if TYPE_CHECKING:
    from dqlbuild.documents import Document
    from dqlbuild.documents.jsontext import JsonNode, JsonText


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "check-documents",
        help="check the queries inside dashboard and notebook JSON files",
        description="Parse and check every query of dashboards and notebooks (data tiles, "
        "notebook DQL sections, query variables) as `dqlbuild check` does; `.dql` files are "
        "checked as plain queries. Prints FILE:LINE:COL: SEVERITY: MESSAGE [CODE] (tile "
        '"TITLE") with the position inside the JSON file; exits 1 when there is an error. '
        "A dashboard's own variables count as defined; others are reported. Directories "
        "are searched for *.json and *.dql files; standard input ('-') is read as a "
        "document (or as DQL when it does not start like JSON).",
        epilog="examples:\n  dqlbuild check-documents dashboards/\n"
        "  dqlbuild check-documents --skip-non-documents $(git ls-files '*.json' '*.dql')\n"
        "  dqlbuild check-documents --format json notebook.json\n"
        "  curl -s $DASHBOARD_URL | dqlbuild check-documents -",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "files", nargs="+", metavar="FILE", help="JSON documents, .dql files or directories"
    )
    p.add_argument(
        "--skip-non-documents",
        action="store_true",
        help="quietly skip JSON files that are not dashboards or notebooks (package.json, "
        "JSONC, classic dashboards, ...); used by the pre-commit hook",
    )
    add_format_option(p)
    p.set_defaults(func=_check_documents)


@dataclass(frozen=True)
class _Query:
    """One query of a file and how to find its characters in the file."""

    text: str
    where: str | None  # 'tile "Errors"' etc.; None for a .dql file
    position: _Positions
    defined: frozenset[str] | None
    multi_select: frozenset[str] = frozenset()


def _check_documents(args: argparse.Namespace) -> int:
    names = expand_inputs(args.files, (".json", ".dql"), args._parser)
    reporter = Reporter(args.format, len(names))
    check_files(reporter, names, _check_file, skip_non_documents=args.skip_non_documents)
    return reporter.finish()


def _check_file(name: str, *, skip_non_documents: bool) -> Iterator[Finding]:
    from dqlbuild.documents import load_document
    from dqlbuild.errors import DocumentError

    try:
        source = read_input(name, strip_bom=False)
    except CliError as exc:
        yield file_failure(exc.filename, exc.error)
        return
    if not _is_document(source):
        yield from dql_file_findings(_without_bom(source))
        return
    try:
        doc = load_document(source.text)
    except DocumentError as exc:
        if skip_non_documents and not _looks_like_document(source.text):
            return
        span: FileSpan | None = None
        if exc.line is not None:
            line, column = exc.line, exc.column or 1
            offset = line_offset(source.text, line, column)
            span = _past_bom((offset, offset, line, column, line, column), source.text)
        failure = file_failure(source.name, exc)
        yield Finding(failure.file, span, "error", failure.message, None, failure.hint)
        return
    for query in _document_queries(doc):
        yield from query_findings(
            source.name,
            query.text,
            query.position,
            where=query.where,
            defined=query.defined,
            multi_select=query.multi_select,
        )


def _is_document(source: Input) -> bool:
    """A .json file, or standard input that starts like JSON."""
    if source.name == STDIN_NAME:
        return source.text.lstrip("\ufeff \t\r\n").startswith(("{", "["))
    return source.name.lower().endswith(".json")


def _without_bom(source: Input) -> Input:
    if not source.text.startswith("\ufeff"):
        return source
    return Input(source.name, source.path, source.text[1:], True, source.newline)


def _past_bom(span: FileSpan, text: str) -> FileSpan:
    """A span in ``text`` as one in the text without its byte-order mark, which editors do
    not show: positions in a .dql file count the same way."""
    if not text.startswith("\ufeff"):
        return span
    start, end, line, column, end_line, end_column = span
    return (
        max(start - 1, 0),
        max(end - 1, 0),
        line,
        max(column - (line == 1), 1),
        end_line,
        max(end_column - (end_line == 1), 1),
    )


def line_offset(text: str, line: int, column: int) -> int:
    """The offset of a 1-based line and column in ``text`` (clamped to the text)."""
    start = 0
    for _ in range(line - 1):
        newline = text.find("\n", start)
        if newline < 0:
            return len(text)
        start = newline + 1
    return min(start + max(column, 1) - 1, len(text))


def _document_queries(doc: Document) -> Iterator[_Query]:
    from dqlbuild.documents import DocumentKind

    file = _File(doc.text, doc.json_text)
    defined: frozenset[str] | None = None
    multi: frozenset[str] = frozenset()
    if doc.kind is DocumentKind.DASHBOARD:
        defined = frozenset(v.key for v in doc.variables() if v.key)
        multi = frozenset(v.key for v in doc.variables() if v.key and v.multiple)
    for loc in doc.queries:
        if not loc.query.strip():
            continue  # an empty tile or section has nothing to run, so nothing to check
        noun = "tile" if doc.kind is DocumentKind.DASHBOARD else "section"
        label = f'{noun} "{loc.title}"' if loc.title else f"{noun} {loc.id}"
        yield _Query(loc.query, label, _Positions(file, loc.path), defined, multi)
    for i, variable in enumerate(doc.variables()):
        if variable.type == "query" and variable.input and variable.input.strip():
            path = doc.content_path(f"/variables/{i}/input")
            label = f'variable "{variable.key}"'
            yield _Query(variable.input, label, _Positions(file, path), defined, multi)


def query_locator(document_text: str, path: tuple[str, ...]) -> Callable[[int, int], FileSpan]:
    """Maps a span of the query at ``path`` (a document's query location) to its span in
    ``document_text``, as ``check-documents`` reports it."""
    return _Positions(_File(document_text), path)


class _Positions:
    """Maps a span of a query to the span of its characters in the file.

    The JSON is parsed again only when a query has something to report (loading keeps
    its parse to itself, and most queries are clean)."""

    def __init__(self, file: _File, path: tuple[str, ...]) -> None:
        self._file = file
        self._path = path  # where the query string is (a pointer into embedded JSON too)

    @cached_property
    def _offsets(self) -> Callable[[int], int]:
        """The file offset of a query character (of its end, past the last one)."""
        from dqlbuild.documents.jsontext import parse_embedded

        doc = self._file.json
        node = doc.find(self._path[0])
        outer = StringOffsets(doc.text, node)
        if len(self._path) == 1:
            return outer
        # The content is a JSON string; the query is a string in it.
        inner = parse_embedded(doc, node)
        within = StringOffsets(inner.text, inner.find(self._path[1]))
        return lambda index: outer(within(index))

    def __call__(self, start: int, end: int) -> FileSpan:
        offsets = self._offsets
        first, last = offsets(start), offsets(end)
        position = self._file.json.position
        return _past_bom((first, last, *position(first), *position(last)), self._file.text)


class _File:
    def __init__(self, text: str, parsed: JsonText | None = None) -> None:
        self.text = text
        self._parsed = parsed  # the loaded document's own, when there is one

    @cached_property
    def json(self) -> JsonText:
        from dqlbuild.documents import parse_json

        return self._parsed if self._parsed is not None else parse_json(self.text)


# An escape in a JSON string: a surrogate pair (one character from two escapes, as
# json.loads decodes it), another \u escape, or a backslash and one character.
_ESCAPE = re.compile(
    r"\\(?:u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)", re.S
)


class StringOffsets:
    """Maps an index into the value of the string ``node`` to the offset in ``text``
    where that character's (possibly escaped) spelling starts; the length of the value
    maps to the closing quote, and larger indexes are clamped to it. Only the escapes
    are listed: a query with findings may be long and have few of them."""

    def __init__(self, text: str, node: JsonNode) -> None:
        start, self._end = node.start + 1, node.end - 1
        self._start = start
        # Per escape: the index of its character in the value, and where it ends.
        self._indexes: list[int] = []
        self._ends: list[int] = []
        shrink = 0  # characters of spelling beyond one per value character so far
        for m in _ESCAPE.finditer(text, start, self._end):
            self._indexes.append(m.start() - start - shrink)
            self._ends.append(m.end())
            shrink += m.end() - m.start() - 1
        self._length = self._end - start - shrink

    def __call__(self, index: int) -> int:
        index = min(max(index, 0), self._length)
        # The last escape before the character: plain characters follow it one by one.
        k = bisect_left(self._indexes, index)
        if k == 0:
            return self._start + index
        return self._ends[k - 1] + index - self._indexes[k - 1] - 1


def _looks_like_document(text: str) -> bool:
    """Whether JSON text has the shape of a dashboard or notebook (a broken one is still
    reported under --skip-non-documents; package.json and friends are not)."""
    from dqlbuild.documents import parse_json
    from dqlbuild.documents.loading import WRAPPER_KEYS
    from dqlbuild.errors import DocumentError

    try:
        root = parse_json(text).root
    except DocumentError:
        return False
    if root.kind != "object":
        return False
    holders = [root]
    for key in WRAPPER_KEYS:  # application wrappers around an envelope
        member = root.member(key)
        if member is not None and member.value.kind == "object":
            holders.append(member.value)
    for node in holders:  # grows by the content objects found on the way
        kind = node.member("type")
        if kind is not None and kind.value.value in ("dashboard", "notebook"):
            return True
        content = node.member("content")
        if content is not None and content.value.kind == "object":
            holders.append(content.value)
        if _has_document_keys(node):
            return True
    return False


def _has_document_keys(node: JsonNode) -> bool:
    tiles, sections = node.member("tiles"), node.member("sections")
    return (tiles is not None and tiles.value.kind == "object") or (
        sections is not None and sections.value.kind == "array"
    )
