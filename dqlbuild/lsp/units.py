"""The DQL queries of an open file, each with the map from its text to the file.

A ``.dql`` file is one query. A dashboard or notebook holds one query per data tile or
DQL section, plus the DQL input of each query variable (as ``dqlbuild check-documents``
checks them). Any other JSON file holds none: the server leaves it alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dqlbuild.documents import Document, DocumentKind, Variable, load_document, parse_json
from dqlbuild.documents.jsontext import JsonNode, JsonText, parse_embedded
from dqlbuild.errors import DocumentError
from dqlbuild.lsp.embedding import OffsetMap, StringMap

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


def is_json(uri: str, language_id: str | None = None) -> bool:
    if language_id:
        return language_id.lower() in ("json", "jsonc")
    return uri.lower().split("?", 1)[0].endswith((".json", ".jsonc"))


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
    parsed = parse_json(text)
    units: list[QueryUnit] = []
    dashboard = doc.kind is DocumentKind.DASHBOARD
    variables = tuple(doc.variables())
    defined = frozenset(v.key for v in variables if v.key) if dashboard else None
    noun = "tile" if dashboard else "section"
    for loc in doc.queries:
        label = f'{noun} "{loc.title}"' if loc.title else f"{noun} {loc.id}"
        units.append(
            QueryUnit(
                loc.query, _map(parsed, loc.path), label, loc.path, defined, explore=loc.explore
            )
        )
    for i, variable in enumerate(variables):
        if variable.type == "query" and isinstance(variable.input, str):
            path = doc.content_path(f"/variables/{i}/input")
            label = f'variable "{variable.key}"'
            units.append(QueryUnit(variable.input, _map(parsed, path), label, path, defined))
    kind = "dashboard" if dashboard else "notebook"
    return FileModel(kind, tuple(units), variables, doc)


def _map(parsed: JsonText, path: tuple[str, ...]) -> OffsetMap:
    doc, strings = parsed, []
    for i, pointer in enumerate(path):
        node: JsonNode = doc.find(pointer)
        strings.append(StringMap.of(doc.text, node.start + 1, node.end - 1))
        if i < len(path) - 1:
            doc = parse_embedded(doc, node)
    return OffsetMap(tuple(strings))
