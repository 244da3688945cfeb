"""The DQL queries of an open file, each with the map from its text to the file.

A ``.dql`` file is one query. A dashboard or notebook holds one query per data tile or
DQL section, plus the DQL input of each query variable (as ``dqlbuild check-documents``
checks them). Any other JSON file holds none: the server leaves it alone.
"""

from __future__ import annotations

import json.decoder
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from dqlbuild.documents import Document, DocumentKind, Variable, load_document, parse_json
from dqlbuild.documents.jsontext import JsonNode, JsonText, parse_embedded
from dqlbuild.errors import DocumentError
from dqlbuild.lsp.embedding import OffsetMap, StringMap
from dqlbuild.lsp.text import common_affixes

# The stdlib's own string decoder, so a string decodes exactly as json.loads does.
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]

_FRAGMENT = re.compile(r"(?:\s|//[^\r\n]*|/\*[\s\S]*?\*/)*\|")
# What a dashboard or notebook has near its top; a broken JSON file without any of these
# is somebody else's file, and its JSON errors are not ours to report.
_DOCUMENT_HINT = re.compile(r'"(?:tiles|sections|content)"\s*:')


@dataclass(frozen=True)
class QueryUnit:
    """One query of a file."""

    text: str
    map: OffsetMap
    label: str
    """How to name it to the user: ``tile "Errors"``, ``section 2``, ``variable "Host"``;
    empty for a ``.dql`` file."""
    path: tuple[str, ...] = ()
    """Where its string is in the JSON (see :mod:`dqlbuild.documents.jsontext`)."""
    defined: frozenset[str] | None = None
    """The dashboard's variables; ``None`` outside dashboards (nothing is reported)."""
    multi_select: frozenset[str] = frozenset()
    """The dashboard's multi-select variables (DQL303, DQL304)."""
    fragment: bool = False
    """A pipeline fragment (a ``.dql`` file that begins with ``|``)."""
    explore: bool = False
    """An Explore tile or section: the app rewrites its query from ``queryConfig``."""

    @property
    def file_start(self) -> int:
        return self.map.to_file(0)

    @property
    def file_end(self) -> int:
        return self.map.to_file(len(self.text))


@dataclass(frozen=True)
class FileModel:
    """The queries of one file, and what the editor needs around them."""

    kind: str
    """``dql``, ``dashboard``, ``notebook``, or ``json`` (no queries)."""
    units: tuple[QueryUnit, ...]
    variables: tuple[Variable, ...] = ()
    document: Document | None = None
    error: DocumentError | None = field(default=None)
    """Why a file that looks like a dashboard or notebook cannot be read."""

    def unit_at(self, offset: int) -> QueryUnit | None:
        """The query whose text holds a cursor at the file ``offset``."""
        for unit in self.units:
            if unit.map.contains(offset):
                return unit
        return None


def file_kind(uri: str, language_id: str | None = None) -> str | None:
    """``json`` (a possible dashboard or notebook), ``dql``, or ``None`` for a file the
    server does not read (say, plain text that an editor sends it along with ``.dql``)."""
    language = (language_id or "").lower()
    path = uri.lower().split("?", 1)[0]
    if language in ("json", "jsonc") or path.endswith((".json", ".jsonc")):
        return "json"
    if language == "dql" or path.endswith(".dql"):
        return "dql"
    return None


def is_fragment(text: str) -> bool:
    """A ``.dql`` text that begins with ``|`` (after comments) is a pipeline fragment."""
    return _FRAGMENT.match(text) is not None


def build_model(text: str, *, json: bool) -> FileModel:
    if not json:
        unit = QueryUnit(text, OffsetMap(), "", fragment=is_fragment(text))
        return FileModel("dql", (unit,))
    try:
        doc = load_document(text)
    except DocumentError as exc:
        looks_like_document = _DOCUMENT_HINT.search(text) is not None
        return FileModel("json", (), error=exc if looks_like_document else None)
    strings = _Strings(parse_json(text))
    units: list[QueryUnit] = []
    dashboard = doc.kind is DocumentKind.DASHBOARD
    variables = tuple(doc.variables())
    defined = frozenset(v.key for v in variables if v.key) if dashboard else None
    multi = frozenset(v.key for v in variables if v.key and v.multiple and dashboard)
    noun = "tile" if dashboard else "section"
    for loc in doc.queries:
        label = f'{noun} "{loc.title}"' if loc.title else f"{noun} {loc.id}"
        where = strings.map(loc.path)
        units.append(
            QueryUnit(loc.query, where, label, loc.path, defined, multi, explore=loc.explore)
        )
    for i, variable in enumerate(variables):
        if variable.type == "query" and isinstance(variable.input, str):
            path = doc.content_path(f"/variables/{i}/input")
            label = f'variable "{variable.key}"'
            units.append(QueryUnit(variable.input, strings.map(path), label, path, defined, multi))
    kind = "dashboard" if dashboard else "notebook"
    return FileModel(kind, tuple(units), variables, doc)


def after_edit(model: FileModel, old: str, new: str) -> FileModel | None:
    """The model of ``new`` derived from ``model`` (of ``old``) when the change between
    them lies inside one query string of a dashboard or notebook, as typing in a query
    does: that query is read again and the others move. ``None`` otherwise (the file
    must be read again). The result has no :attr:`FileModel.document`."""
    if model.kind not in ("dashboard", "notebook"):
        return None
    prefix, suffix = common_affixes(old, new)
    start, end = prefix, len(old) - suffix
    grown = len(new) - len(old)
    for i, unit in enumerate(model.units):
        if len(unit.map.strings) != 1:
            continue  # content inside a JSON string: its escapes are two levels deep
        string = unit.map.strings[0]
        if not (string.start <= start and end <= string.end):
            continue
        try:
            value, after = _scanstring(new, string.start, True)
        except ValueError:
            return None  # the edit broke the string
        if after != string.end + grown + 1:
            return None  # the string now ends elsewhere: the JSON around it changed
        changed = replace(
            unit, text=value, map=OffsetMap((StringMap.of(new, string.start, after - 1),))
        )
        units = [
            changed if j == i else _shifted(u, string.end, grown) for j, u in enumerate(model.units)
        ]
        return replace(model, units=tuple(units), document=None)
    return None


def _shifted(unit: QueryUnit, after: int, by: int) -> QueryUnit:
    """``unit`` moved ``by`` characters if its string comes after offset ``after``."""
    outer, *inner = unit.map.strings
    if outer.start <= after or not by:
        return unit
    return replace(unit, map=OffsetMap((outer.shifted(by), *inner)))


class _Strings:
    """The string nodes of a JSON text (and of JSON texts inside its strings) by JSON
    pointer: one walk, instead of a search per query through objects of many tiles."""

    def __init__(self, parsed: JsonText) -> None:
        self._parsed = parsed
        self._nodes: dict[int, dict[str, JsonNode]] = {}

    def _node(self, doc: JsonText, pointer: str) -> JsonNode:
        nodes = self._nodes.get(id(doc))
        if nodes is None:
            nodes = self._nodes[id(doc)] = {n.pointer: n for n in doc.walk() if n.kind == "string"}
        return nodes[pointer]

    def map(self, path: tuple[str, ...]) -> OffsetMap:
        doc, strings = self._parsed, []
        for i, pointer in enumerate(path):
            node = self._node(doc, pointer)
            strings.append(StringMap.of(doc.text, node.start + 1, node.end - 1))
            if i < len(path) - 1:
                doc = parse_embedded(doc, node)
        return OffsetMap(tuple(strings))
