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
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

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
    escape_token,
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
    explore: bool = False
    stale_copies: tuple[tuple[str, ...], ...] = ()
    _position: _Position | None = field(default=None, repr=False, compare=False)

    @property
    def line(self) -> int:
        return self._where()[0]

    @property
    def column(self) -> int:
        return self._where()[1]

    def _where(self) -> tuple[int, int]:
        if self._position is None:
            raise DocumentError(f"the position of query {self.id!r} is not known")
        return self._position.get()


class _Position:
    """Line and column of a string in the file, found when first asked for: most callers
    never ask, and finding it means reading the file's layout."""

    __slots__ = ("_file", "_found", "_pointer")

    def __init__(self, file: JsonText, pointer: str) -> None:
        self._file = file
        self._pointer = pointer
        self._found: tuple[int, int] | None = None

    def get(self) -> tuple[int, int]:
        if self._found is None:
            self._found = self._file.position(self._file.find(self._pointer).start)
        return self._found


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
        # The decoded values say where everything is; the text layout (offsets) is read
        # only for what needs it: edits, positions, error locations.
        value = self._json.to_python(root)
        assert isinstance(value, dict)
        content = self._find_content(value)
        model: type[DashboardContent] | type[NotebookContent] = (
            DashboardContent if self.kind is DocumentKind.DASHBOARD else NotebookContent
        )
        try:
            self.content = model.model_validate(content)
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
        self.queries = tuple(self._collect_queries(content))
        self._by_id: dict[str, QueryLocation] | None = None

    # -- loading -------------------------------------------------------------

    def _find_content(self, root: dict[str, Any]) -> dict[str, Any]:
        """Set where the content is and how it is stored; returns its decoded value."""
        kind = _classify(root)
        self.envelope = None
        self.content_embedded = False
        if kind is not None:
            self._set_content(kind, StorageForm.BARE, self._json, ("",), root, "")
            return root
        envelope, envelope_pointer = root, ""
        if "content" not in root:
            for key in WRAPPER_KEYS:
                wrapper = root.get(key)
                if isinstance(wrapper, dict) and "content" in wrapper:
                    envelope, envelope_pointer = wrapper, "/" + escape_token(key)
                    break
            else:
                raise DocumentError(
                    "not a dashboard or notebook: no 'tiles', 'sections' or 'content' at the "
                    "top level"
                )
        pointer = envelope_pointer + "/content"
        content = envelope["content"]
        cdoc = self._json
        base: tuple[str, ...] = (pointer,)
        if isinstance(content, str):
            cdoc = parse_embedded(self._json, self._json.find(pointer))
            content = cdoc.to_python(cdoc.root)
            base = (pointer, "")
            self.content_embedded = True
        if not isinstance(content, dict):
            raise DocumentError(
                f"'content' is a JSON {_kind(content)}, not a dashboard or notebook"
            )
        kind = _classify_checked(content)
        declared = envelope.get("type")
        if isinstance(declared, str):
            if declared not in ("dashboard", "notebook"):
                raise DocumentError(
                    f"documents of type {declared!r} are not supported "
                    "(only dashboards and notebooks)"
                )
            if declared != kind.value:
                raise DocumentError(
                    f"the envelope says type {declared!r} but the content is a {kind.value}"
                )
        meta = {k: v for k, v in envelope.items() if k != "content"}
        self.envelope = DocumentEnvelope.model_validate(meta)
        api = "owner" in envelope or "modificationInfo" in envelope
        form = StorageForm.DOCUMENT_API if api else StorageForm.ENVELOPE
        self._set_content(kind, form, cdoc, base, envelope, envelope_pointer)
        return content

    def _set_content(
        self,
        kind: DocumentKind,
        form: StorageForm,
        cdoc: JsonText,
        base: tuple[str, ...],
        holder: dict[str, Any],
        holder_pointer: str,
    ) -> None:
        """``holder`` has the document's name: the envelope, else the content itself
        (bare notebooks sometimes carry a top-level "name" of their own)."""
        self.kind, self.form = kind, form
        self._cdoc, self._base = cdoc, base
        self._prefix = base[-1]
        name = holder.get("name")
        self.name = name if isinstance(name, str) else None
        self._name_path: tuple[str, ...] | None = (
            (holder_pointer + "/name",) if self.name is not None else None
        )

    @cached_property
    def _cnode(self) -> JsonNode:
        return self._cdoc.find(self._prefix)

    # -- paths ---------------------------------------------------------------

    def content_path(self, pointer: str) -> tuple[str, ...]:
        """The file path of a pointer given relative to the content."""
        return (*self._base[:-1], self._base[-1] + pointer)

    def _node(self, pointer: str) -> JsonNode | None:
        return self._cdoc.get(self._prefix + pointer)

    @property
    def json_text(self) -> JsonText:
        """The file's lossless JSON layer (offsets, positions); its layout is read from
        the text as far as it is asked for."""
        return self._json

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

    def _collect_queries(self, content: dict[str, Any]) -> list[QueryLocation]:
        if self.kind is DocumentKind.DASHBOARD:
            return self._tile_queries(content)
        return self._section_queries(content)

    def _location(
        self,
        id_: str,
        kind: str,
        title: str | None,
        pointer: str,
        query: str,
        explore: bool,
        copies: list[str],
    ) -> QueryLocation:
        path = self.content_path(pointer)
        return QueryLocation(
            id=id_,
            kind=kind,
            title=title,
            path=path,
            content_pointer=pointer,
            query=query,
            explore=explore,
            stale_copies=tuple(self.content_path(c) for c in copies),
            # In the file: the query string, or the string holding embedded content.
            _position=_Position(self._json, path[0]),
        )

    def _tile_queries(self, content: dict[str, Any]) -> list[QueryLocation]:
        tiles = content.get("tiles")
        if not isinstance(tiles, dict):
            return []
        out = []
        for key, tile in tiles.items():
            if not isinstance(tile, dict) or tile.get("type") != "data":
                continue
            query = tile.get("query")
            if not isinstance(query, str):
                continue
            base = "/tiles/" + escape_token(key)
            copies = []
            inputs = _dig(tile, "davis", "componentState", "inputData")
            for name, analyzer in inputs.items() if isinstance(inputs, dict) else ():
                if isinstance(analyzer, dict) and isinstance(analyzer.get("query"), str):
                    inner = escape_token(name)
                    copies.append(f"{base}/davis/componentState/inputData/{inner}/query")
            explore = "subType" in tile or "queryConfig" in tile
            out.append(
                self._location(
                    key, "data", _str(tile, "title"), base + "/query", query, explore, copies
                )
            )
        return out

    def _section_queries(self, content: dict[str, Any]) -> list[QueryLocation]:
        sections = content.get("sections")
        if not isinstance(sections, list):
            return []
        ids = [_str(s, "id") if isinstance(s, dict) else None for s in sections]
        out = []
        for i, section in enumerate(sections):
            if not isinstance(section, dict) or section.get("type") != "dql":
                continue
            value = _dig(section, "state", "input", "value")
            if not isinstance(value, str):
                continue
            sid = ids[i]
            id_ = sid if sid is not None and ids.count(sid) == 1 else f"#{i}"
            copy = _dig(section, "state", "result", "input", "value")
            base = f"/sections/{i}/state"
            copies = [f"{base}/result/input/value"] if isinstance(copy, str) else []
            explore = "subType" in section or "queryConfig" in section
            out.append(
                self._location(
                    id_,
                    "dql",
                    _str(section, "title"),
                    f"{base}/input/value",
                    value,
                    explore,
                    copies,
                )
            )
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


def _str(value: dict[str, Any], key: str) -> str | None:
    found = value.get(key)
    return found if isinstance(found, str) else None


def _dig(value: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _kind(value: object) -> str:
    """The JSON kind of a decoded value, named as :class:`JsonNode` names it."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "number"


def _classify(value: dict[str, Any]) -> DocumentKind | None:
    """What an object is by its shape; raises for classic dashboards."""
    tiles = value.get("tiles")
    # Tiles as an object with a `version` is the platform (Gen3) shape, even when a stray
    # `dashboardMetadata` (left over from a conversion) sits next to them.
    gen3 = isinstance(tiles, dict) and "version" in value
    if not gen3 and ("dashboardMetadata" in value or isinstance(tiles, list)):
        raise DocumentError(
            "this is a classic (Gen2) dashboard ('tiles' is an array / 'dashboardMetadata'); "
            "classic dashboards are not supported, only platform dashboards and notebooks"
        )
    if isinstance(tiles, dict):
        return DocumentKind.DASHBOARD
    if isinstance(value.get("sections"), list):
        return DocumentKind.NOTEBOOK
    return None


def _classify_checked(value: dict[str, Any]) -> DocumentKind:
    kind = _classify(value)
    if kind is None:
        raise DocumentError("the content has neither 'tiles' (dashboard) nor 'sections' (notebook)")
    return kind
