"""Load a dashboard or notebook file and edit its queries without reformatting it.

:func:`load_document` recognises the three storage forms Dynatrace files come
in (bare content, a ``{name, type, content}`` envelope, a full document-API
envelope; ``content`` may be an object or a JSON string) and lists where every
DQL query sits. :class:`Document` methods return the complete new file text;
only the bytes of what changed differ.

Several changes go into one output by collecting edits and applying them once::

    doc = load_document("dash.json")
    text = doc.apply([
        *doc.variable_edits("ModelVersion", "csv", "v1,v2"),
        *doc.name_edits("Model rollout"),
        *doc.query_edits({loc.id: rewrite(loc.query) for loc in doc.queries}),
    ])

All edit paths refer to the loaded text, so they combine freely. To build on
a result (for example to list the queries again), ``doc.reload(text)``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import ValidationError

from dqlbuild.documents.io import read_text
from dqlbuild.documents.jsontext import (
    Edit,
    InsertItem,
    InsertMember,
    JsonNode,
    JsonStyle,
    JsonText,
    JsonValue,
    SetValue,
    apply_edits,
    parse_embedded,
    parse_json,
    pointer_join,
)
from dqlbuild.documents.models import (
    DashboardContent,
    DocumentEnvelope,
    NotebookContent,
    Variable,
)
from dqlbuild.errors import DocumentError

VARIABLE_TYPES = ("query", "csv", "text", "code")
# The Dashboards app's rule for new keys (older files also contain "_").
_NEW_VARIABLE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]*")
# The rules for new keys, public for the command line's usage errors.
NEW_VARIABLE_KEY = _NEW_VARIABLE_KEY
RESERVED_VARIABLE_PREFIX = "dt_"
# Application wrappers seen around an envelope, e.g. {"id": ..., "dashboard": {...}}.
WRAPPER_KEYS = ("dashboard", "notebook", "document")


def check_new_variable_key(key: str) -> None:
    """Refuse a key the Dashboards app would not accept for a new variable."""
    if key.startswith("dt_"):
        raise DocumentError(
            f"invalid variable key {key!r}: keys starting with `dt_` are reserved for "
            "the built-in variables ($dt_timeframe_from, $dt_timeframe_to)"
        )
    if not _NEW_VARIABLE_KEY.fullmatch(key):
        raise DocumentError(
            f"invalid variable key {key!r}: the Dashboards app allows letters and digits "
            "only, starting with a letter (existing keys with `_` are read and kept)"
        )


class DocumentKind(StrEnum):
    DASHBOARD = "dashboard"
    NOTEBOOK = "notebook"


class StorageForm(StrEnum):
    """How the content is stored in the file."""

    #: The content object itself (UI download/upload, Monaco templates).
    BARE = "bare"
    #: ``{name, type, content}``, optionally ``id``/``isPrivate``/... (dtctl apply).
    ENVELOPE = "envelope"
    #: Full document-service metadata: ``owner``, ``modificationInfo``, ... (dtctl get).
    DOCUMENT_API = "document-api"


@dataclass(frozen=True, slots=True)
class QueryLocation:
    """Where one DQL query sits.

    ``id`` is the tile id (dashboards) or section id (notebooks; ``#<index>``
    when a section has none or shares it). ``path`` addresses the query string
    in the file: one pointer, or two when the content is a JSON string.
    ``content_pointer`` is the same place relative to the content.
    ``line``/``column`` point at the string in the file (at the ``content``
    string when the content is embedded). ``stale_copies`` are derived copies
    of the query (Davis analyzer input, cached notebook results) that a
    rewrite leaves as they are.
    """

    id: str
    kind: str
    title: str | None
    path: tuple[str, ...]
    content_pointer: str
    query: str
    line: int
    column: int
    explore: bool = False
    stale_copies: tuple[tuple[str, ...], ...] = ()


def load_document(source: str | os.PathLike[str]) -> Document:
    """Load a dashboard or notebook from a path or from JSON text.

    A ``str`` that starts with ``{`` or ``[`` (after whitespace) or contains a
    newline is taken as text, any other ``str`` as a path.
    """
    if isinstance(source, str) and (
        "\n" in source or source.lstrip("\ufeff \t\r").startswith(("{", "["))
    ):
        return Document(source)
    path = Path(source)
    return Document(read_text(path), path=path)


class Document:
    """A loaded dashboard or notebook; edits return new text, ``self`` never changes."""

    text: str
    path: Path | None
    kind: DocumentKind
    form: StorageForm
    #: The content is a JSON string inside the envelope (Terraform style).
    content_embedded: bool
    content: DashboardContent | NotebookContent
    envelope: DocumentEnvelope | None
    name: str | None
    queries: tuple[QueryLocation, ...]

    def __init__(self, text: str, *, path: Path | None = None) -> None:
        self.text = text
        self.path = path
        self._json = parse_json(text, what=str(path) if path else "the document")
        root = self._json.root
        if root.kind != "object":
            raise DocumentError(f"expected a JSON object at the top level, found {root.kind}")
        self._find_content(root)
        value = self._cdoc.to_python(self._cnode)
        model: type[DashboardContent] | type[NotebookContent] = (
            DashboardContent if self.kind is DocumentKind.DASHBOARD else NotebookContent
        )
        try:
            self.content = model.model_validate(value)
        except ValidationError as e:
            err = e.errors()[0]
            where = pointer_join(self._prefix, *_json_location(err["loc"]))
            bad = self._cdoc.get(where)
            at = bad.start if bad is not None and not self.content_embedded else None
            line, column = self._json.position(at) if at is not None else (None, None)
            raise DocumentError(
                f"not a valid {self.kind.value}: {err['msg']} at {where or '(root)'}",
                line=line,
                column=column,
            ) from None
        self.queries = tuple(self._collect_queries())
        self._by_id: dict[str, QueryLocation] | None = None

    # -- loading -------------------------------------------------------------

    def _find_content(self, root: JsonNode) -> None:
        kind = _classify(root)
        self.envelope = None
        self.content_embedded = False
        self._envelope_node: JsonNode | None = None
        if kind is not None:
            self._set_content(kind, StorageForm.BARE, self._json, root, ("",))
            return
        envelope = root
        content = root.member("content")
        if content is None:
            for key in WRAPPER_KEYS:
                m = root.member(key)
                inner = m.value.member("content") if m and m.value.kind == "object" else None
                if m is not None and inner is not None:
                    envelope, content = m.value, inner
                    break
        if content is None:
            raise DocumentError(
                "not a dashboard or notebook: no 'tiles', 'sections' or 'content' at the top level"
            )
        node = content.value
        cdoc, cnode = self._json, node
        base: tuple[str, ...] = (node.pointer,)
        if node.kind == "string":
            cdoc = parse_embedded(self._json, node)
            cnode, base = cdoc.root, (node.pointer, "")
            self.content_embedded = True
        if cnode.kind != "object":
            raise DocumentError(f"'content' is a JSON {cnode.kind}, not a dashboard or notebook")
        kind = _classify_checked(cnode)
        declared = envelope.member("type")
        if declared is not None and isinstance(declared.value.value, str):
            if declared.value.value not in ("dashboard", "notebook"):
                raise DocumentError(
                    f"documents of type {declared.value.value!r} are not supported "
                    "(only dashboards and notebooks)"
                )
            if declared.value.value != kind.value:
                raise DocumentError(
                    f"the envelope says type {declared.value.value!r} "
                    f"but the content is a {kind.value}"
                )
        meta = {
            m.key: self._json.to_python(m.value) for m in envelope.members if m.key != "content"
        }
        self.envelope = DocumentEnvelope.model_validate(meta)
        self._envelope_node = envelope
        api = any(envelope.member(k) for k in ("owner", "modificationInfo"))
        form = StorageForm.DOCUMENT_API if api else StorageForm.ENVELOPE
        self._set_content(kind, form, cdoc, cnode, base)

    def _set_content(
        self,
        kind: DocumentKind,
        form: StorageForm,
        cdoc: JsonText,
        cnode: JsonNode,
        base: tuple[str, ...],
    ) -> None:
        self.kind, self.form = kind, form
        self._cdoc, self._cnode, self._base = cdoc, cnode, base
        self._prefix = base[-1]
        # Bare notebooks sometimes carry a top-level "name" of their own.
        holder = self._envelope_node if self._envelope_node is not None else cnode
        name = holder.member("name")
        self._name_path: tuple[str, ...] | None = None
        self.name = None
        if name is not None and isinstance(name.value.value, str):
            self.name = name.value.value
            self._name_path = (name.value.pointer,)

    # -- paths ---------------------------------------------------------------

    def content_path(self, pointer: str) -> tuple[str, ...]:
        """The file path of a pointer given relative to the content."""
        return (*self._base[:-1], self._base[-1] + pointer)

    def _node(self, pointer: str) -> JsonNode | None:
        return self._cdoc.get(self._prefix + pointer)

    @property
    def style(self) -> JsonStyle:
        """Formatting of the text that holds the content (the inner text if embedded)."""
        return self._cdoc.style

    @property
    def has_templates(self) -> bool:
        """Whether Monaco ``{{ ... }}`` placeholders occur (inside strings)."""
        return "{{" in self.text

    # -- reading -------------------------------------------------------------

    @property
    def dashboard(self) -> DashboardContent:
        if not isinstance(self.content, DashboardContent):
            raise DocumentError("this document is a notebook, not a dashboard")
        return self.content

    @property
    def notebook(self) -> NotebookContent:
        if not isinstance(self.content, NotebookContent):
            raise DocumentError("this document is a dashboard, not a notebook")
        return self.content

    def variables(self) -> list[Variable]:
        """The dashboard variables in UI order (notebooks have none)."""
        return list(self.content.variables) if isinstance(self.content, DashboardContent) else []

    def query(self, location_id: str) -> QueryLocation:
        if self._by_id is None:
            self._by_id = {}
            for loc in self.queries:
                self._by_id.setdefault(loc.id, loc)
        found = self._by_id.get(location_id)
        if found is not None:
            return found
        known = ", ".join(loc.id for loc in self.queries) or "none"
        raise DocumentError(f"no query with id {location_id!r} (known: {known})")

    def _collect_queries(self) -> list[QueryLocation]:
        if self.kind is DocumentKind.DASHBOARD:
            return self._tile_queries()
        return self._section_queries()

    def _location(
        self,
        id_: str,
        kind: str,
        title: str | None,
        node: JsonNode,
        explore: bool,
        copies: list[JsonNode],
    ) -> QueryLocation:
        assert isinstance(node.value, str)
        at = node.start if not self.content_embedded else self._json.find(self._base[0]).start
        line, column = self._json.position(at)
        rel = node.pointer[len(self._prefix) :]
        return QueryLocation(
            id=id_,
            kind=kind,
            title=title,
            path=self.content_path(rel),
            content_pointer=rel,
            query=node.value,
            line=line,
            column=column,
            explore=explore,
            stale_copies=tuple(self.content_path(c.pointer[len(self._prefix) :]) for c in copies),
        )

    def _tile_queries(self) -> list[QueryLocation]:
        tiles = self._node("/tiles")
        if tiles is None or tiles.kind != "object":
            return []
        out = []
        last = {m.key: i for i, m in enumerate(tiles.members)}
        for i, m in enumerate(tiles.members):
            tile = m.value
            if last[m.key] != i or tile.kind != "object" or _str(tile, "type") != "data":
                continue
            query = tile.member("query")
            if query is None or query.value.kind != "string":
                continue
            copies = []
            inputs = _dig(tile, "davis", "componentState", "inputData")
            for analyzer in inputs.members if inputs and inputs.kind == "object" else ():
                q = analyzer.value.member("query") if analyzer.value.kind == "object" else None
                if q is not None and q.value.kind == "string":
                    copies.append(q.value)
            explore = tile.member("subType") is not None or tile.member("queryConfig") is not None
            out.append(
                self._location(m.key, "data", _str(tile, "title"), query.value, explore, copies)
            )
        return out

    def _section_queries(self) -> list[QueryLocation]:
        sections = self._node("/sections")
        if sections is None or sections.kind != "array":
            return []
        ids = [_str(s, "id") if s.kind == "object" else None for s in sections.items]
        out = []
        for i, section in enumerate(sections.items):
            if section.kind != "object" or _str(section, "type") != "dql":
                continue
            value = _dig(section, "state", "input", "value")
            if value is None or value.kind != "string":
                continue
            sid = ids[i]
            id_ = sid if sid is not None and ids.count(sid) == 1 else f"#{i}"
            copy = _dig(section, "state", "result", "input", "value")
            copies = [copy] if copy is not None and copy.kind == "string" else []
            explore = (
                section.member("subType") is not None or section.member("queryConfig") is not None
            )
            out.append(self._location(id_, "dql", _str(section, "title"), value, explore, copies))
        return out

    # -- editing -------------------------------------------------------------

    def apply(self, edits: Sequence[Edit]) -> str:
        """The new file text with all ``edits`` applied at once."""
        return apply_edits(self._json, edits)

    def reload(self, text: str) -> Document:
        """A document for ``text`` (typically the result of an edit), same path."""
        return Document(text, path=self.path)

    def query_edits(self, queries: Mapping[str, str]) -> list[Edit]:
        """Edits that set the queries named by location id (unchanged ones are skipped)."""
        edits: list[Edit] = []
        for location_id, text in queries.items():
            loc = self.query(location_id)
            if text != loc.query:
                edits.append(SetValue(loc.path, text))
        return edits

    def with_queries(self, queries: Mapping[str, str]) -> str:
        """The file text with the given queries replaced (ids as in :attr:`queries`)."""
        return self.apply(self.query_edits(queries))

    def name_edits(self, name: str) -> list[Edit]:
        """Edits that rename the document (its envelope ``name``)."""
        if self._name_path is None:
            where = (
                "bare content has no name: it lives in the Monaco config YAML, the "
                "document service, or the file name"
                if self.form is StorageForm.BARE
                else "the envelope has no string 'name'"
            )
            raise DocumentError(f"cannot set the name: {where}")
        return [] if name == self.name else [SetValue(self._name_path, name)]

    def set_name(self, name: str) -> str:
        """The file text with the document renamed."""
        return self.apply(self.name_edits(name))

    def variable_edits(
        self,
        key: str,
        type: str,
        input: str | None = None,
        *,
        multiple: bool = False,
        default: str | list[str] | None = None,
        visible: bool = True,
        editable: bool = True,
        version: int = 2,
    ) -> list[Edit]:
        """Edits that append a dashboard variable, shaped as the Dashboards app writes it.

        ``type`` is ``query`` (``input`` is DQL returning one column), ``csv``
        (``input`` is a comma-separated list), ``code`` (JavaScript) or
        ``text`` (free text, no ``input``). ``default`` is a string, or a list
        of strings for ``multiple``; :data:`~dqlbuild.documents.models.SELECT_ALL`
        selects everything.
        """
        if self.kind is not DocumentKind.DASHBOARD:
            raise DocumentError("notebooks have no variables")
        check_new_variable_key(key)
        if type not in VARIABLE_TYPES:
            raise DocumentError(
                f"unknown variable type {type!r} (expected one of {', '.join(VARIABLE_TYPES)})"
            )
        if any(v.key == key for v in self.variables()):
            raise DocumentError(f"the dashboard already has a variable {key!r}")
        var: dict[str, JsonValue] = {
            "version": version,
            "key": key,
            "type": type,
            "visible": visible,
            "editable": editable,
        }
        if type == "text":
            if input is not None or multiple:
                raise DocumentError("a text variable takes neither input nor multiple")
        else:
            if not input:
                raise DocumentError(f"a {type} variable needs an input")
            var["input"] = input
            var["multiple"] = multiple
        if default is not None:
            if multiple != isinstance(default, list):
                want = "a list of strings" if multiple else "a string"
                raise DocumentError(f"the default of this variable must be {want}")
            var["defaultValue"] = list(default) if isinstance(default, list) else default
        variables = self._node("/variables")
        if variables is not None:
            if variables.kind != "array":
                raise DocumentError(f"'variables' is a JSON {variables.kind}, not an array")
            return [InsertItem(self.content_path("/variables"), var)]
        keys = [m.key for m in self._cnode.members]
        if self.style.sort_keys:
            index = sum(k < "variables" for k in keys)
        else:
            index = keys.index("version") + 1 if "version" in keys else 0
        return [InsertMember(self.content_path(""), "variables", [var], index)]

    def add_variable(
        self,
        key: str,
        type: str,
        input: str | None = None,
        *,
        multiple: bool = False,
        default: str | list[str] | None = None,
        visible: bool = True,
        editable: bool = True,
        version: int = 2,
    ) -> str:
        """The file text with a new variable (see :meth:`variable_edits`)."""
        return self.apply(
            self.variable_edits(
                key,
                type,
                input,
                multiple=multiple,
                default=default,
                visible=visible,
                editable=editable,
                version=version,
            )
        )


def _json_location(loc: tuple[int | str, ...]) -> list[str]:
    """A pydantic error location without the union tags it inserts."""
    tags = ("data", "markdown", "code", "slo", "dql", "function", "other")
    return [
        str(item)
        for i, item in enumerate(loc)
        if not (i >= 2 and loc[i - 2] in ("tiles", "sections") and item in tags)
    ]


def _str(node: JsonNode, key: str) -> str | None:
    m = node.member(key)
    return m.value.value if m is not None and isinstance(m.value.value, str) else None


def _dig(node: JsonNode | None, *keys: str) -> JsonNode | None:
    for key in keys:
        if node is None or node.kind != "object":
            return None
        m = node.member(key)
        node = m.value if m is not None else None
    return node


def _classify(node: JsonNode) -> DocumentKind | None:
    """What an object is by its shape; raises for classic dashboards."""
    tiles = node.member("tiles")
    # Tiles as an object with a `version` is the platform (Gen3) shape, even when a stray
    # `dashboardMetadata` (left over from a conversion) sits next to them.
    gen3 = tiles is not None and tiles.value.kind == "object" and node.member("version") is not None
    if not gen3 and (
        node.member("dashboardMetadata") is not None
        or (tiles is not None and tiles.value.kind == "array")
    ):
        raise DocumentError(
            "this is a classic (Gen2) dashboard ('tiles' is an array / 'dashboardMetadata'); "
            "classic dashboards are not supported, only platform dashboards and notebooks"
        )
    if tiles is not None and tiles.value.kind == "object":
        return DocumentKind.DASHBOARD
    sections = node.member("sections")
    if sections is not None and sections.value.kind == "array":
        return DocumentKind.NOTEBOOK
    return None


def _classify_checked(node: JsonNode) -> DocumentKind:
    kind = _classify(node)
    if kind is None:
        raise DocumentError("the content has neither 'tiles' (dashboard) nor 'sections' (notebook)")
    return kind
