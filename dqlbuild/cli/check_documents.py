"""``dqlbuild check-documents``: check the DQL inside dashboards and notebooks.

Every data tile, every DQL section of a notebook and every query-type dashboard variable
is parsed and checked; findings point into the JSON file. Positions are exact: the query
offset is mapped back through the JSON string escapes (twice when the content is itself
a JSON string). ``.dql`` files given alongside are checked as ``dqlbuild check`` does, so
one pre-commit hook covers both.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from dqlbuild.analysis.checks import check
from dqlbuild.cli.check import SYNTAX_CODE
from dqlbuild.cli.common import EXIT_FAILURE, EXIT_OK, CliError, Progress, emit, read_input
from dqlbuild.documents import Document, DocumentKind, load_document, parse_json
from dqlbuild.documents.jsontext import JsonNode, JsonText, parse_embedded
from dqlbuild.documents.loading import WRAPPER_KEYS
from dqlbuild.errors import DocumentError, DQLError, DQLSyntaxError
from dqlbuild.syntax.parser import parse


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "check-documents",
        help="check the queries inside dashboard and notebook JSON files",
        description="Parse and check every query of dashboards and notebooks (data tiles, "
        "notebook DQL sections, query variables) as `dqlbuild check` does; `.dql` files are "
        "checked as plain queries. Prints FILE:LINE:COL: SEVERITY: MESSAGE [CODE] (tile "
        '"TITLE") with the position inside the JSON file; exits 1 when there is an error. '
        "A dashboard's own variables count as defined; others are reported.",
        epilog="examples:\n  dqlbuild check-documents dashboards/*.json\n"
        "  dqlbuild check-documents --skip-non-documents $(git ls-files '*.json' '*.dql')\n"
        "  dqlbuild check-documents --format json notebook.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="JSON documents or .dql files")
    p.add_argument(
        "--skip-non-documents",
        action="store_true",
        help="quietly skip JSON files that are not dashboards or notebooks (package.json, "
        "JSONC, classic dashboards, ...); used by the pre-commit hook",
    )
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text lines (default) or one JSON list of all findings",
    )
    p.set_defaults(func=_check_documents)


@dataclass(frozen=True)
class _Query:
    """One query of a file and how to find its characters in the file."""

    text: str
    where: str | None  # 'tile "Errors"' etc.; None for a .dql file
    position: _Positions
    defined: frozenset[str] | None
    multi_select: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Finding:
    file: str
    at: tuple[int, int] | None  # line and column in the file
    severity: str
    message: str
    code: str | None  # None: the file itself failed (unreadable, not a valid document)
    hint: str | None
    where: str | None
    snippet: str | None = None

    def text(self) -> str:
        place = f"{self.file}:{self.at[0]}:{self.at[1]}" if self.at else self.file
        head = f"{place}: {self.severity}: {self.message}"
        if self.code:
            head += f" [{self.code}]"
        if self.where:
            head += f" ({self.where})"
        lines = [head]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        if self.snippet:
            lines.extend("  " + line for line in self.snippet.splitlines())
        return "\n".join(lines)

    def record(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.at[0] if self.at else None,
            "column": self.at[1] if self.at else None,
            "severity": self.severity,
            "message": self.message,
            "code": self.code,
            "hint": self.hint,
            "query": self.where,
        }


def _check_documents(args: argparse.Namespace) -> int:
    findings: list[_Finding] = []
    progress = Progress(len(args.files))
    for name in args.files:
        progress.step(name)
        for found in _check_file(name, skip_non_documents=args.skip_non_documents):
            findings.append(found)
            if args.format == "text":
                progress.clear()
                emit(found.text(), sys.stdout)
    progress.clear()
    if args.format == "json":
        sys.stdout.write(json.dumps([f.record() for f in findings], indent=2) + "\n")
    return EXIT_FAILURE if any(f.severity == "error" for f in findings) else EXIT_OK


def _check_file(name: str, *, skip_non_documents: bool) -> Iterator[_Finding]:
    try:
        source = read_input(name)
    except CliError as exc:
        message = exc.error.message if isinstance(exc.error, DQLError) else exc.error
        yield _Finding(name, None, "error", message, None, None, None)
        return
    if not name.lower().endswith(".json"):
        queries = [_Query(source.text, None, _Positions(_File(source.text)), None)]
    else:
        try:
            doc = load_document(source.text)
        except DocumentError as exc:
            if skip_non_documents and not _looks_like_document(source.text):
                return
            at = (exc.line, exc.column or 1) if exc.line is not None else None
            yield _Finding(name, at, "error", exc.message, None, exc.hint, None)
            return
        queries = list(_document_queries(doc))
    for query in queries:
        yield from _check_query(name, query)


def _check_query(name: str, query: _Query) -> Iterator[_Finding]:
    try:
        tree = parse(query.text)
    except DQLError as exc:
        offset = exc.offset if isinstance(exc, DQLSyntaxError) else 0
        # Inside JSON the line shown is the query's own, not the escaped file line.
        snippet = exc.snippet() if isinstance(exc, DQLSyntaxError) else None
        yield _Finding(
            name,
            query.position(offset),
            "error",
            exc.message,
            SYNTAX_CODE,
            exc.hint,
            query.where,
            snippet,
        )
        return
    for found in check(tree, defined_variables=query.defined, multi_select=query.multi_select):
        yield _Finding(
            name,
            query.position(found.span.start) if found.span else None,
            found.severity,
            found.message,
            found.code,
            found.hint,
            query.where,
        )


def _document_queries(doc: Document) -> Iterator[_Query]:
    file = _File(doc.text)
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


class _Positions:
    """Maps a character offset in a query to a (line, column) of its file.

    The JSON is parsed again only when a query has something to report (loading keeps
    its parse to itself, and most queries are clean)."""

    def __init__(self, file: _File, path: tuple[str, ...] | None = None) -> None:
        self._file = file
        self._path = path  # where the query string is; None: the file is the query

    @cached_property
    def _offsets(self) -> list[int]:
        """The file offset of each query character, plus one for its end."""
        assert self._path is not None
        doc = self._file.json
        node = doc.find(self._path[0])
        offsets = _string_offsets(doc.text, node)
        if len(self._path) == 2:  # the content is a JSON string; the query is a string in it
            inner = parse_embedded(doc, node)
            inner_node = inner.find(self._path[1])
            offsets = [offsets[i] for i in _string_offsets(inner.text, inner_node)]
        return offsets

    def __call__(self, offset: int) -> tuple[int, int]:
        if self._path is None:
            text = self._file.text
            line = text.count("\n", 0, offset) + 1
            return line, offset - (text.rfind("\n", 0, offset) + 1) + 1
        offsets = self._offsets
        return self._file.json.position(offsets[min(offset, len(offsets) - 1)])


class _File:
    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def json(self) -> JsonText:
        return parse_json(self.text)


def _string_offsets(text: str, node: JsonNode) -> list[int]:
    """For each character of the string ``node``'s value, the offset in ``text`` where
    its (possibly escaped) spelling starts; one more entry for the closing quote."""
    offsets: list[int] = []
    i, end = node.start + 1, node.end - 1
    while i < end:
        offsets.append(i)
        if text[i] != "\\":
            i += 1
        elif text[i + 1] != "u":
            i += 2
        elif _is_surrogate_pair(text, i):
            i += 12  # one character from two escapes, as json.loads decodes it
        else:
            i += 6
    offsets.append(end)
    return offsets


def _is_surrogate_pair(text: str, i: int) -> bool:
    high = text[i + 2 : i + 6].lower()
    low = text[i + 8 : i + 12].lower()
    return (
        "d800" <= high <= "dbff"
        and text.startswith("\\u", i + 6)
        and len(low) == 4
        and "dc00" <= low <= "dfff"
    )


def _looks_like_document(text: str) -> bool:
    """Whether JSON text has the shape of a dashboard or notebook (a broken one is still
    reported under --skip-non-documents; package.json and friends are not)."""
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
