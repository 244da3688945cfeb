"""The dashboard workflow: inspect a document, add a variable, filter every tile on it.

This module joins the lossless document layer (:mod:`dqlbuild.documents.loading`: where
the queries sit, edits that keep every other byte) with the query rewriter
(:mod:`dqlbuild.rewriting`: where a filter goes in one query). Nothing is written here:
every operation returns the new file text and a report; the caller writes it (the CLI
through :func:`dqlbuild.documents.io.atomic_write`).

The lower document modules must not import the rewriter; this one may.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from dqlbuild.analysis.checks import check
from dqlbuild.analysis.fieldflow import source_of
from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import Binary, Call, FieldRef, Query, String
from dqlbuild.building import F, expr, fetch, fn, lit
from dqlbuild.documents.jsontext import Edit, InsertMember, JsonValue, Remove, SetValue
from dqlbuild.documents.loading import (
    VARIABLE_TYPES,
    Document,
    DocumentKind,
    QueryLocation,
    StorageForm,
    check_new_variable_key,
)
from dqlbuild.documents.models import (
    CodeTile,
    DataTile,
    DqlSection,
    MarkdownSection,
    MarkdownTile,
    SloTile,
    Variable,
)
from dqlbuild.errors import DocumentError, DQLError, DQLSyntaxError, DQLValueError
from dqlbuild.printing import format as format_node
from dqlbuild.rewriting.inject import inject_filter_text
from dqlbuild.rewriting.render import RenderResult, render
from dqlbuild.rewriting.variables import BUILTIN_VARIABLES, SELECT_ALL, variable_filter, variables
from dqlbuild.syntax.lexical import code_only
from dqlbuild.syntax.parser import parse, parse_expression

LocationStatus = Literal[
    "filtered", "partially-filtered", "already-filtered", "skipped", "unparseable"
]
VariableAction = Literal["added", "unchanged", "updated", "replaced"]

# `$name` in text that is not DQL (markdown, titles, JavaScript): counts as a use only.
_TEXT_REFERENCE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_EXPLORE_REASON = (
    "Explore tile (subType/queryConfig): the Explore builder regenerates its query, "
    "so an edit would not last; turn it into a DQL tile first"
)

_EMPTY_REASON = "the query is empty (nothing but blanks and comments)"


# A batch of documents repeats its queries (copies of a tile, versions of a dashboard):
# what follows from a query's text alone is derived once per process. Only small results
# are kept (names, messages, texts), never trees, so memory stays bounded.
_MEMO_SIZE = 4096


@functools.lru_cache(maxsize=_MEMO_SIZE)
def _is_empty(query: str) -> bool:
    """No command at all: blank, or only comments (and stray string literals)."""
    return not code_only(query).strip()


@functools.lru_cache(maxsize=_MEMO_SIZE)
def _reference_names(text: str) -> tuple[str, ...]:
    """The names of the variables a query text references, in text order."""
    if "$" not in text:  # where every reference starts: most texts need no scan
        return ()
    return tuple(r.name for r in variables(text))


class _QueryFacts(NamedTuple):
    empty: bool
    error: DQLSyntaxError | None
    source: str | None
    data_object: str | None


@functools.lru_cache(maxsize=_MEMO_SIZE)
def _query_facts(text: str) -> _QueryFacts:
    """What inspecting a query reports about its text."""
    if _is_empty(text):
        return _QueryFacts(True, None, None, None)
    try:
        query = parse(text)
    except DQLSyntaxError as exc:
        return _QueryFacts(False, exc.with_traceback(None), None, None)
    return _QueryFacts(False, None, *_source(query))


# ---------------------------------------------------------------------------- inspect
@dataclass(frozen=True)
class TileInfo:
    """One tile (dashboards) or section (notebooks) as :func:`inspect_document` sees it.

    ``type`` is the stored type (``data``, ``markdown``, ``code``, ``slo``; ``dql``,
    ``markdown``, ``function`` for sections; anything else as written). For a query,
    ``source`` is its first command as a reader names it (``fetch spans``,
    ``timeseries``) and ``data_object`` what that command reads (the data object of
    ``fetch``, the first metric key of ``timeseries``). ``empty`` marks a query with
    nothing but blanks and comments (add-filter skips it). ``error`` and
    ``error_line``/``error_column`` (relative to the query) are set when the query does
    not parse. ``variables`` are the distinct ``$names`` referenced, in text order.
    """

    id: str
    title: str | None
    type: str
    explore: bool = False
    has_query: bool = False
    empty: bool = False
    source: str | None = None
    data_object: str | None = None
    error: str | None = None
    error_line: int | None = None
    error_column: int | None = None
    variables: tuple[str, ...] = ()

    @property
    def parse_status(self) -> str:
        """``ok``, ``empty``, ``line L, column C: message``, or ``-`` without a query."""
        if not self.has_query:
            return "-"
        if self.empty:
            return "empty"
        if self.error is None:
            return "ok"
        return f"line {self.error_line}, column {self.error_column}: {self.error}"


@dataclass(frozen=True)
class Inspection:
    """What a document holds and how its variables are used.

    ``undefined`` lists variables referenced from DQL (tile queries and query-variable
    inputs) that the document does not define (the built-in ``dt_timeframe_*`` are
    always defined). ``unused`` lists defined variables referenced nowhere: not in a
    query, a title, a markdown or code tile, nor another variable's input.
    """

    kind: DocumentKind
    form: StorageForm
    name: str | None
    tiles: tuple[TileInfo, ...]
    defined: tuple[str, ...]
    undefined: tuple[str, ...]
    unused: tuple[str, ...]


def inspect_document(doc: Document) -> Inspection:
    """Tiles or sections with their query's source, parse status and variables, and the
    document's variables: defined, referenced but undefined, defined but unused."""
    tiles = [_tile_info(*entry) for entry in _entries(doc)]
    used = [name for tile in tiles for name in tile.variables]
    dql_refs = [name for loc in doc.queries for name in _reference_names(loc.query)]
    defined = [v.key for v in doc.variables() if v.key is not None]
    for var in doc.variables():
        if var.input is None:
            continue
        if var.type == "query":
            names = list(_reference_names(var.input))
            dql_refs.extend(names)
        else:
            names = _TEXT_REFERENCE.findall(var.input)
        used.extend(n for n in names if n != var.key)
    known = set(defined) | set(BUILTIN_VARIABLES)
    return Inspection(
        kind=doc.kind,
        form=doc.form,
        name=doc.name,
        tiles=tuple(tiles),
        defined=tuple(dict.fromkeys(defined)),
        undefined=tuple(n for n in dict.fromkeys(dql_refs) if n not in known),
        unused=tuple(n for n in dict.fromkeys(defined) if n not in set(used)),
    )


_Entry = tuple[str, object, object, bool, QueryLocation | None, list[str | None]]


def _entries(doc: Document) -> Iterator[_Entry]:
    """Per tile or section: id, title, type, explore, its query and its non-DQL texts
    (title, markdown, code) that may mention variables."""
    by_prefix = {_location_prefix(loc): loc for loc in doc.queries}
    if doc.kind is DocumentKind.DASHBOARD:
        for tile_id, tile in doc.dashboard.tiles.items():
            texts = [tile.title if isinstance(tile.title, str) else None]
            if isinstance(tile, MarkdownTile):
                texts.append(tile.content)
            elif isinstance(tile, CodeTile | SloTile):
                texts.append(tile.input)
            explore = isinstance(tile, DataTile) and tile.is_explore
            loc = by_prefix.get(_pointer("tiles", tile_id))
            yield tile_id, tile.title, tile.type, explore, loc, texts
        return
    for index, section in enumerate(doc.notebook.sections):
        loc = by_prefix.get(_pointer("sections", index))
        sid = loc.id if loc is not None else section.id
        title = getattr(section, "title", None)
        texts = [title if isinstance(title, str) else None]
        if isinstance(section, MarkdownSection):
            texts.append(section.markdown)
        explore = isinstance(section, DqlSection) and section.is_explore
        section_id = sid if isinstance(sid, str) else f"#{index}"
        yield section_id, title, section.type, explore, loc, texts


def _tile_info(
    tile_id: str,
    title: object,
    type_: object,
    explore: bool,
    loc: QueryLocation | None,
    texts: Sequence[str | None],
) -> TileInfo:
    names = [n for t in texts if t for n in _TEXT_REFERENCE.findall(t)]
    title = title if isinstance(title, str) else None
    type_ = type_ if isinstance(type_, str) else "(none)" if type_ is None else str(type_)
    if loc is None:
        return TileInfo(tile_id, title, type_, explore, variables=tuple(dict.fromkeys(names)))
    names = [*_reference_names(loc.query), *names]
    facts = _query_facts(loc.query)
    error = facts.error
    return TileInfo(
        tile_id,
        title,
        type_,
        explore,
        has_query=True,
        empty=facts.empty,
        source=facts.source,
        data_object=facts.data_object,
        error=error.message if error is not None else None,
        error_line=error.line if error is not None else None,
        error_column=error.column if error is not None else None,
        variables=tuple(dict.fromkeys(names)),
    )


def _pointer(collection: str, key: str | int) -> str:
    token = str(key).replace("~", "~0").replace("/", "~1")
    return f"/{collection}/{token}/"


def _location_prefix(loc: QueryLocation) -> str:
    """``/tiles/<id>/`` or ``/sections/<index>/`` of a query location."""
    parts = loc.content_pointer.split("/")
    return "/".join(parts[:3]) + "/"


def _source(query: Query) -> tuple[str | None, str | None]:
    """The first command's name with what it reads, and the data object alone."""
    if not query.commands:
        return None, None
    first = query.commands[0]
    source = source_of(first)  # the first stage alone: inspecting many files stays quick
    if source is None:
        return first.name, None
    return f"{first.name} {source}", source


# ---------------------------------------------------------------------------- variables
@dataclass(frozen=True)
class VariableResult:
    """What adding (or reusing) a dashboard variable does.

    ``action``: ``added`` (new), ``unchanged`` (a variable with the same definition
    exists), ``updated`` (same definition, new default) or ``replaced`` (another
    definition was replaced on request: its ``type``, ``input``, ``multiple`` and
    ``version`` are rewritten, a default that no longer fits is removed). ``edits`` go
    into :meth:`Document.apply`; ``text`` is the file with only them applied.
    """

    key: str
    action: VariableAction
    message: str
    edits: tuple[Edit, ...]
    text: str = field(repr=False)


def add_variable(
    doc: Document,
    key: str,
    type: str,
    input: str | None = None,
    *,
    multiple: bool = False,
    default: str | Sequence[str] | None = None,
    replace: bool = False,
) -> VariableResult:
    """Add the dashboard variable ``key`` (see :meth:`Document.variable_edits` for the
    shape written).

    A variable ``key`` that already exists with the same definition (same ``type``,
    ``multiple`` and ``input``; query inputs compare as DQL trees, CSV inputs item by
    item) is left as it is; ``default`` then updates its default value. One with another
    definition is an error unless ``replace``, which rewrites its ``type``, ``input``
    and ``multiple`` in place (its other keys and its position stay).
    """
    if doc.kind is not DocumentKind.DASHBOARD:
        raise DocumentError("notebooks have no variables")
    if type == "query" and input is not None:
        _check_query_input(input)
    return _variable_change(doc, key, type, input, multiple, default, replace)


def _check_query_input(text: str) -> None:
    try:
        parse(text)
    except DQLSyntaxError as exc:
        raise DQLSyntaxError(
            f"the variable's query does not parse: {exc.message}",
            line=exc.line,
            column=exc.column,
            offset=exc.offset,
            source=exc.source,
            expected=exc.expected,
            hint=exc.hint,
        ) from None


def _variable_change(
    doc: Document,
    key: str,
    type_: str,
    input_: str | None,
    multiple: bool,
    default: str | Sequence[str] | None,
    replace: bool,
) -> VariableResult:
    if type_ not in VARIABLE_TYPES:
        raise DocumentError(
            f"unknown variable type {type_!r} (expected one of {', '.join(VARIABLE_TYPES)})"
        )
    default_value = _default_value(default, multiple)
    found = [(i, v) for i, v in enumerate(doc.variables()) if v.key == key]
    if not found:
        edits = doc.variable_edits(key, type_, input_, multiple=multiple, default=default_value)
        message = f"added ({_describe_definition(type_, input_, multiple)})"
        return _variable_result(doc, key, "added", message, edits)
    index, existing = found[0]
    differences = _differences(existing, type_, input_, multiple)
    base = doc.content_path(f"/variables/{index}")
    if not differences:
        edits = _set_members(doc, existing, base, {"defaultValue": _json(default_value)})
        if default_value is None or not edits:
            return _variable_result(doc, key, "unchanged", "exists with this definition", [])
        return _variable_result(doc, key, "updated", "exists; default value set", edits)
    if not replace:
        raise DocumentError(
            f"the dashboard already has a variable {key!r} with another definition "
            f"({'; '.join(differences)})",
            hint="pass replace_variable=True (--replace-variable) to replace its definition, "
            "or choose another key",
        )
    # Version 2 variables run full DQL (the app's own choice for new variables).
    wanted: dict[str, JsonValue] = {"version": 2, "type": type_}
    if type_ == "text":
        wanted.update({"input": None, "multiple": None})
    else:
        wanted.update({"input": input_, "multiple": multiple})
    old_default = existing.default_value
    keeps_default = multiple and old_default == [SELECT_ALL]
    if default_value is not None:
        wanted["defaultValue"] = _json(default_value)
    elif old_default is not None and not keeps_default:
        # The old default belonged to the old definition.
        wanted["defaultValue"] = None
    edits = _set_members(doc, existing, base, wanted)
    message = (
        f"replaced ({'; '.join(differences)}; now {_describe_definition(type_, input_, multiple)})"
    )
    return _variable_result(doc, key, "replaced", message, edits)


def _variable_result(
    doc: Document, key: str, action: VariableAction, message: str, edits: Sequence[Edit]
) -> VariableResult:
    return VariableResult(key, action, message, tuple(edits), doc.apply(edits))


def _default_value(default: str | Sequence[str] | None, multiple: bool) -> str | list[str] | None:
    if default is None:
        return None
    if isinstance(default, str):
        return [default] if multiple else default
    items = list(default)
    if not all(isinstance(item, str) for item in items):
        raise DQLValueError("default values are strings")
    if multiple:
        return items
    if len(items) != 1:
        raise DQLValueError(
            f"a single-select variable has one default value, not {len(items)}",
            hint="make the variable multi-select (multiple=True, --multiple)",
        )
    return items[0]


def _json(value: str | list[str] | None) -> JsonValue:
    return list[JsonValue](value) if isinstance(value, list) else value


# JSON names of the variable members this module writes, and the model's field names.
_MEMBER_FIELDS = {
    "version": "version",
    "type": "type",
    "input": "input",
    "multiple": "multiple",
    "defaultValue": "default_value",
}


def _set_members(
    doc: Document, var: Variable, base: tuple[str, ...], values: Mapping[str, JsonValue]
) -> list[Edit]:
    """Edits that give the variable at ``base`` these members; ``None`` removes one."""
    edits: list[Edit] = []
    for name, value in values.items():
        present = _MEMBER_FIELDS[name] in var.model_fields_set
        current = getattr(var, _MEMBER_FIELDS[name])
        path = (*base[:-1], f"{base[-1]}/{name}")
        if value is None:
            if present:
                edits.append(Remove(path))
        elif not present:
            edits.append(InsertMember(base, name, value))
        elif current != value or type(current) is not type(value):
            edits.append(SetValue(path, value))
    return edits


def _differences(var: Variable, type_: str, input_: str | None, multiple: bool) -> list[str]:
    found: list[str] = []
    if var.type != type_:
        found.append(f"it is a {var.type} variable, not a {type_} variable")
        return found
    if type_ == "text":
        return found
    if bool(var.multiple) != multiple:
        found.append("it is multi-select" if var.multiple else "it is single-select")
    if not _same_input(type_, var.input, input_):
        found.append(f"its input is {var.input or ''!r}")
    return found


def _same_input(type_: str, old: str | None, new: str | None) -> bool:
    if old == new:
        return True
    if old is None or new is None:
        return False
    if type_ == "csv":
        return [v.strip() for v in old.split(",")] == [v.strip() for v in new.split(",")]
    if type_ == "query":
        try:
            return parse(old) == parse(new)
        except DQLSyntaxError:
            return False
    return False


def _describe_definition(type_: str, input_: str | None, multiple: bool) -> str:
    """A variable's definition in full, its input on one line (a report quotes it)."""
    if type_ == "text":
        return "text"
    flat = " ".join(line.strip() for line in (input_ or "").splitlines() if line.strip())
    return f"{type_}, {_selection_name(multiple)}: {flat}"


@functools.lru_cache(maxsize=64)
def _variable_input(data_object: str, field_name: str, where: str | None) -> str:
    """The text of :func:`variable_query`: every document of a batch asks for the same."""
    return variable_query(data_object, field_name, where=where).format()


def variable_query(
    data_object: str, field_name: str | FieldRef, *, where: str | Node | None = None
) -> Query:
    """The input of a query variable listing the values of a field:
    ``fetch OBJ | filter [WHERE and ]isNotNull(FIELD) | summarize values =
    collectDistinct(FIELD) | expand values`` (one column, one value per record).
    ``data_object`` and a ``str`` ``field_name`` are names as they are (no backticks)."""
    target = F(field_name.name if isinstance(field_name, FieldRef) else field_name)
    present = target.is_not_null()
    if where is None:
        condition = present
    else:
        condition = (expr(where) if isinstance(where, str) else lit(where)) & present
    return (
        fetch(FieldRef(name=data_object))
        .filter(condition)
        .summarize(values=fn.collectDistinct(target))
        .expand("values")
    )


# ---------------------------------------------------------------------------- add-filter
@dataclass(frozen=True)
class LocationReport:
    """What :func:`add_filter` did to one query.

    ``status``: ``filtered`` (the condition was added, in the query or in one of its
    execution blocks), ``already-filtered``, ``skipped`` (``reason`` says why) or
    ``unparseable`` (left byte-identical; ``error_line``/``error_column`` are relative
    to the query). ``query`` is the query's new text.
    """

    id: str
    title: str | None
    kind: str
    status: LocationStatus
    reason: str
    query: str
    error_line: int | None = None
    error_column: int | None = None


@dataclass(frozen=True)
class AddFilterResult:
    """The new file text of :func:`add_filter` and what happened where."""

    document: Document = field(repr=False)
    text: str = field(repr=False)
    condition: str
    locations: tuple[LocationReport, ...]
    variable: VariableResult | None = None
    notes: tuple[str, ...] = ()
    #: Tiles or sections that hold no DQL (markdown, code, slo, ...): type -> count.
    untouched: Mapping[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.text != self.document.text

    def count(self, status: LocationStatus) -> int:
        return sum(1 for loc in self.locations if loc.status == status)


def add_filter(
    doc: Document,
    *,
    variable: str,
    field: str,
    data_object: str | None = None,
    where: str | None = None,
    multiple: bool = False,
    values: Sequence[str] | None = None,
    values_from: str | None = None,
    replace_variable: bool = False,
    copy_title: str | None = None,
    skip_unparseable: bool = False,
) -> AddFilterResult:
    """Filter every data tile (or notebook DQL section) of ``doc`` on ``field``.

    Dashboards: the condition is ``field == $variable`` (``in(field, array($variable))``
    with ``multiple``). An existing query or csv variable ``variable`` is used as it is
    (another type or selection raises :class:`~dqlbuild.DocumentError` quoting both
    definitions, unless ``replace_variable``); otherwise the query variable is added when
    a tile uses it, with the input :func:`variable_query` builds from ``values_from``
    (default: the data object). ``values`` become the variable's default. Notebooks have
    no variables: ``values`` is required and the condition is ``field == "v"``, or
    ``in(field, array("v1", ...))`` with ``multiple`` or several values.

    ``data_object`` names the data object whose records carry ``field``; without it,
    :func:`data_object_of` finds it in the document, and when that finds nothing only
    queries that use ``field`` themselves are filtered. Each query gets the condition
    where :func:`~dqlbuild.inject_filter` puts it (docs/rewriting.md), as a minimal text
    edit; a filter in the other selection form is rewritten. Explore tiles are skipped.
    A query that does not parse makes the call raise :class:`~dqlbuild.DocumentError`
    naming every such tile, unless ``skip_unparseable``: they are then left
    byte-identical and reported. ``copy_title`` renames the document when it has a name.
    Running the same call on the result changes nothing.
    """
    target = parse_field(field)
    given_values_from = values_from
    # Names as the field flow reports them: decoded, so `x` and x are the same object.
    data_object = parse_field(data_object).name if data_object is not None else None
    values_from = parse_field(values_from).name if values_from is not None else None
    notes: list[str] = []
    is_notebook = doc.kind is DocumentKind.NOTEBOOK
    default: str | list[str] | None = None
    existing: tuple[int, Variable] | None = None
    if is_notebook:
        if not values:
            raise DQLValueError(
                "this is a notebook: notebooks have no variables, so there is no "
                f"${variable} to filter on",
                hint="give the value(s) to filter on (values=[...], --value V); every DQL "
                f'section then gets `{format_node(target)} == "V"`',
            )
        condition = _literal_condition(target, values, multiple)
        condition_key: tuple[object, ...] = ("values", field, tuple(values), multiple)
        if where is not None or values_from is not None:
            notes.append("notebooks have no variables: --where/--values-from are not used")
    else:
        if where is not None:
            _check_where(where)
        condition = variable_filter(target, variable, multiple=multiple)
        condition_key = ("variable", field, variable, multiple)
        default = _default_value(values, multiple) if values else None
        existing = next(((i, v) for i, v in enumerate(doc.variables()) if v.key == variable), None)
        if existing is None:
            check_new_variable_key(variable)
    condition_text = format_node(condition)
    known = data_object
    if known is None:
        known = data_object_of(doc, variable, values_from=given_values_from)
        if known is not None and values_from is None:
            notes.append(
                f"filtering the queries that fetch `{known}`, the data object of ${variable}"
            )
    if known is None:
        notes.append(
            f"no data object was named or found in the dashboard: only queries that use "
            f"{format_node(target)} themselves were filtered (name it with data_object=..., "
            "--data-object)"
        )

    reports: list[LocationReport] = []
    sources: dict[str, str | None] = {}
    new_queries: dict[str, str] = {}
    for loc in doc.queries:
        report, new_text, fetched = _filter_location(doc, loc, condition, condition_key, known)
        reports.append(report)
        sources[loc.id] = fetched
        if new_text != loc.query:
            new_queries[loc.id] = new_text
    failed = [r for r in reports if r.status == "unparseable"]
    if failed and not skip_unparseable:
        noun = _noun(doc, len(failed))
        listing = "; ".join(
            f"{_label(doc, r.id, r.title)} (line {r.error_line}, column {r.error_column}: "
            f"{r.reason})"
            for r in failed
        )
        raise DocumentError(
            f"{len(failed)} {noun} not parse, so nothing was changed: {listing}",
            hint="fix the queries, or pass skip_unparseable=True (--skip-unparseable) to "
            "leave them as they are",
        )

    edits: list[Edit] = list(doc.query_edits(new_queries))
    var_result: VariableResult | None = None
    if not is_notebook:
        uses = [r for r in reports if r.status != "skipped" and r.status != "unparseable"]
        source = values_from or known or _most_fetched(uses, sources)
        wanted = _variable_input(source, target.name, where) if source is not None else None
        if existing is not None and not replace_variable:
            var_result = _reuse_variable(doc, *existing, wanted, multiple, default)
        elif uses and wanted is None:
            raise DQLValueError(
                f"no filtered tile fetches a data object, so the values of ${variable} "
                "cannot come from one",
                hint="name it: values_from=... (--values-from OBJ) or data_object=...",
            )
        elif wanted is not None and (uses or existing is not None):
            var_result = _variable_change(
                doc, variable, "query", wanted, multiple, default, replace_variable
            )
            if var_result.action == "added" and not (values_from or data_object):
                notes.append(f"the values of ${variable} come from `fetch {source}`")
        elif existing is None:
            notes.append(f"${variable} was not added: no tile filters on it")
        if var_result is not None:
            edits.extend(var_result.edits)
        if multiple:
            notes.extend(_single_value_uses(doc, variable, new_queries))
    if not any(r.status in ("filtered", "partially-filtered") for r in reports) and reports:
        notes.append("no query was changed")
    if copy_title is not None:
        edits.extend(_title_edits(doc, copy_title, notes))

    text = doc.apply(edits)
    if text != doc.text:
        _verify(doc, text, new_queries)
    untouched = _untouched(doc)
    return AddFilterResult(
        document=doc,
        text=text,
        condition=condition_text,
        locations=tuple(reports),
        variable=var_result,
        notes=tuple(notes),
        untouched=untouched,
    )


def data_object_of(doc: Document, variable: str, *, values_from: str | None = None) -> str | None:
    """The data object whose records carry the filtered field, as the document says it:
    ``values_from`` (a name as written, the variable's values come from there), else the
    data object the dashboard's existing query variable ``variable`` fetches; None when
    neither says."""
    if doc.kind is not DocumentKind.DASHBOARD:
        return None
    if values_from is not None:
        return parse_field(values_from).name
    for var in doc.variables():
        if var.key == variable and var.type == "query" and var.input:
            try:
                return _fetched(parse(var.input))
            except DQLSyntaxError:
                return None
    return None


def _reuse_variable(
    doc: Document,
    index: int,
    var: Variable,
    wanted: str | None,
    multiple: bool,
    default: str | list[str] | None,
) -> VariableResult:
    """The user's own query or list variable, used as it is when it has the selection the
    filter needs; its default is set when one is given."""
    key = var.key or ""
    old = _describe_definition(var.type or "(no type)", var.input, bool(var.multiple))
    if var.type not in ("query", "csv") or bool(var.multiple) != multiple:
        new = (
            _describe_definition("query", wanted, multiple)
            if wanted is not None
            else f"a query or csv variable, {_selection_name(multiple)}"
        )
        raise DocumentError(
            f"the dashboard already has a variable {key!r} that this filter cannot use: "
            f"it is {old}; the filter needs {new}",
            hint="pass replace_variable=True (--replace-variable) to replace it"
            + (
                f", or filter as {_selection_name(not multiple)} to use it"
                f" ({'with' if not multiple else 'without'} --multiple)"
                if var.type in ("query", "csv")
                else ""
            )
            + ", or choose another key",
        )
    same = var.type == "query" and _same_input("query", var.input, wanted)
    exists = "exists with this definition" if same else f"exists ({old}); used as it is"
    base = doc.content_path(f"/variables/{index}")
    edits = _set_members(doc, var, base, {"defaultValue": _json(default)})
    if default is None or not edits:
        return _variable_result(doc, key, "unchanged", exists, [])
    return _variable_result(doc, key, "updated", f"{exists}; default value set", edits)


def _selection_name(multiple: bool) -> str:
    return "multi-select" if multiple else "single-select"


def _single_value_uses(doc: Document, variable: str, new: Mapping[str, str]) -> Iterator[str]:
    """Notes on places where the now multi-select variable stands for one value."""
    for loc in doc.queries:
        try:
            query = parse(new.get(loc.id, loc.query))
        except DQLSyntaxError:
            continue
        for found in check(query, multi_select={variable}):
            if found.code in ("DQL303", "DQL304"):
                where = f"line {found.line}, column {found.column}: " if found.span else ""
                yield f"{_label(doc, loc.id, loc.title)}: {where}{found.message}"


def parse_field(text: str) -> FieldRef:
    """The field named by ``text`` (``model.version``, `` `my field` ``); anything else
    raises :class:`~dqlbuild.DQLValueError`."""
    if not isinstance(text, str) or not text:
        raise DQLValueError("a field name must not be empty")
    try:
        node = parse_expression(text)
    except DQLSyntaxError:
        node = None
    if not isinstance(node, FieldRef):
        raise DQLValueError(
            f"{text!r} is not a field name",
            hint="write a name that is not a plain identifier in backticks: `my field`",
        )
    return node


def _check_where(text: str) -> None:
    try:
        expr(text)
    except DQLError as exc:
        raise DQLValueError(
            f"the variable's where condition does not parse: {exc.message}",
            line=exc.line,
            column=exc.column,
            hint=exc.hint,
        ) from None


def _literal_condition(target: FieldRef, values: Sequence[str], multiple: bool) -> Node:
    if not all(isinstance(v, str) for v in values):
        raise DQLValueError("filter values are strings")
    if multiple or len(values) > 1:
        array = Call(name="array", args=tuple(String(value=v) for v in values))
        return Call(name="in", args=(target, array))
    return Binary(op="==", operands=(target, String(value=values[0])))


def _filter_location(
    doc: Document,
    loc: QueryLocation,
    condition: Node,
    condition_key: tuple[object, ...],
    data_object: str | None,
) -> tuple[LocationReport, str, str | None]:
    """The report, the new query text and the fetched data object of one query.
    Without ``data_object`` only pipelines that use the fields themselves are filtered:
    a document's tiles read many data objects, and a filter on a field another one
    lacks would empty its tile."""

    def report(status: LocationStatus, reason: str, text: str = loc.query) -> LocationReport:
        return LocationReport(loc.id, loc.title, loc.kind, status, reason, text)

    if loc.explore:
        return report("skipped", _EXPLORE_REASON), loc.query, None
    if _is_empty(loc.query):
        return report("skipped", _EMPTY_REASON), loc.query, None
    try:
        result = _injected(loc.query, condition_key, condition, data_object)
    except DQLError as exc:
        raise DocumentError(
            f"{_label(doc, loc.id, loc.title)}: the filter could not be added: {exc.message}",
            hint=exc.hint,
        ) from None
    if isinstance(result, DQLSyntaxError):
        # Only the query's own text is parsed as text here: the condition is a node.
        failed = LocationReport(
            loc.id,
            loc.title,
            loc.kind,
            "unparseable",
            result.message,
            loc.query,
            result.line,
            result.column,
        )
        return failed, loc.query, None
    return report(result.status, result.reason, result.text), result.text, result.fetched


class _Injection(NamedTuple):
    status: LocationStatus
    reason: str
    text: str
    fetched: str | None


@functools.lru_cache(maxsize=_MEMO_SIZE)
def _injected(
    text: str, condition_key: tuple[object, ...], condition: Node, data_object: str | None
) -> _Injection | DQLSyntaxError:
    """The filtered query text, or why the text does not parse. ``condition_key`` is what
    the condition was made from: the node compares without its layout (a backticked name
    equals a plain one), the new text does not."""
    try:
        result = inject_filter_text(
            text, condition, data_object=data_object, infer_data_object=False
        )
    except DQLSyntaxError as exc:
        return exc.with_traceback(None)
    return _Injection(result.status, result.reason, result.text, _fetched(result.query))


def _fetched(query: Query) -> str | None:
    """The data object a query fetches (the first argument of a leading ``fetch``)."""
    first = query.commands[0] if query.commands else None
    if first is None or first.name != "fetch" or not first.args:
        return None
    target = first.args[0]
    return target.name if isinstance(target, FieldRef) else None


def _noun(doc: Document, n: int) -> str:
    if doc.kind is DocumentKind.DASHBOARD:
        return "data tile's query does" if n == 1 else "data tiles' queries do"
    return "DQL section does" if n == 1 else "DQL sections do"


def _label(doc: Document, location_id: str, title: str | None) -> str:
    what = "tile" if doc.kind is DocumentKind.DASHBOARD else "section"
    return f"{what} {location_id}" + (f" {title!r}" if title else "")


def _most_fetched(uses: Sequence[LocationReport], sources: Mapping[str, str | None]) -> str | None:
    counts = Counter(sources[r.id] for r in uses if sources.get(r.id))
    if not counts:
        counts = Counter(s for s in sources.values() if s)
    if not counts:
        return None
    # most_common keeps first-seen order among equal counts.
    name: str | None = counts.most_common(1)[0][0]
    return name


def _title_edits(doc: Document, title: str, notes: list[str]) -> list[Edit]:
    if doc.name is None:
        notes.append(
            "not retitled: the file has no name (bare content: the name lives in the Monaco "
            "config, the document service or the file name)"
        )
        return []
    edits = doc.name_edits(title)
    envelope_id = doc.envelope.id if doc.envelope is not None else None
    if envelope_id:
        notes.append(
            f"the envelope keeps id {envelope_id!r}: uploading the file replaces that "
            "document; remove the id to create a copy"
        )
    return edits


def _verify(doc: Document, text: str, new_queries: Mapping[str, str]) -> None:
    """The new text loads as the same kind of document, with exactly the new queries."""
    new = doc.reload(text)
    expected = [new_queries.get(loc.id, loc.query) for loc in doc.queries]
    if new.kind is not doc.kind or [loc.query for loc in new.queries] != expected:
        raise DocumentError(
            "the edited file does not hold the edited queries",
            hint="this is a dqlbuild bug; please report the file",
        )


def _untouched(doc: Document) -> dict[str, int]:
    counts: Counter[str] = Counter()
    if doc.kind is DocumentKind.DASHBOARD:
        for tile in doc.dashboard.tiles.values():
            if not isinstance(tile, DataTile):
                counts[tile.type if isinstance(tile.type, str) else "unknown"] += 1
            elif not isinstance(tile.query, str):
                counts["data without a query"] += 1
    else:
        for section in doc.notebook.sections:
            if not isinstance(section, DqlSection):
                counts[section.type if isinstance(section.type, str) else "unknown"] += 1
    return dict(counts)


# ---------------------------------------------------------------------------- render
def _value_of(key: str, value: object) -> str | list[str]:
    if isinstance(value, str):
        return value
    return _items_of(key, value)


def _items_of(key: str, value: object) -> list[str]:
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise DQLValueError(
        f"the value of ${key} must be a string or a list of strings, not {type(value).__name__}"
    )


def document_values(
    doc: Document,
    values: Mapping[str, str | Sequence[str]],
    all_values: Mapping[str, Sequence[str]] | None = None,
) -> tuple[dict[str, str | list[str]], dict[str, list[str]]]:
    """``values`` completed from the dashboard's variables, and the ``all_values`` for
    select-all: a variable without a given value takes its ``defaultValue``, else (CSV)
    the first item of its list, as the app selects it. The select-all token resolves to
    a CSV variable's list; a query variable's values are unknown here."""
    merged = {k: _value_of(k, v) for k, v in values.items()}
    every = {k: _items_of(k, v) for k, v in (all_values or {}).items()}
    for var in doc.variables():
        key = var.key
        if key is None:
            continue
        items = (
            [v.strip() for v in var.input.split(",") if v.strip()]
            if var.type == "csv" and var.input
            else None
        )
        if items is not None:
            every.setdefault(key, items)
        if key in merged:
            continue
        default = var.default_value
        if isinstance(default, str):
            merged[key] = [default] if var.multiple else default
        elif isinstance(default, list) and all(isinstance(d, str) for d in default):
            merged[key] = [d for d in default if isinstance(d, str)]
        elif items:
            merged[key] = [items[0]] if var.multiple else items[0]
    return merged, every


def render_document(
    doc: Document,
    values: Mapping[str, str | Sequence[str]],
    *,
    strict: bool = True,
    defaults: bool = True,
    all_values: Mapping[str, Sequence[str]] | None = None,
    now: datetime | None = None,
) -> list[tuple[QueryLocation, RenderResult]]:
    """Every query of ``doc`` with the variables rendered (see :func:`~dqlbuild.render`).

    With ``defaults``, variables without a given value use the dashboard's defaults
    (:func:`document_values`). Without ``now``, the moment of the call serves every
    query, so all tiles show the same timeframe. The first query that cannot be rendered
    raises; the error names the tile, and its line and column are relative to that
    tile's query.
    :func:`render_each` renders the others too.
    """
    out: list[tuple[QueryLocation, RenderResult]] = []
    for loc, result in render_each(
        doc, values, strict=strict, defaults=defaults, all_values=all_values, now=now
    ):
        if isinstance(result, DQLError):
            raise result
        out.append((loc, result))
    return out


def render_each(
    doc: Document,
    values: Mapping[str, str | Sequence[str]],
    *,
    strict: bool = True,
    defaults: bool = True,
    all_values: Mapping[str, Sequence[str]] | None = None,
    now: datetime | None = None,
) -> Iterator[tuple[QueryLocation, RenderResult | DQLValueError]]:
    """Like :func:`render_document`, but a query that cannot be rendered gives its error
    (naming the tile) in place of the result, and the others are still rendered."""
    if defaults:
        merged, every = document_values(doc, values, all_values)
    else:
        merged = {k: _value_of(k, v) for k, v in values.items()}
        every = {k: _items_of(k, v) for k, v in (all_values or {}).items()}
    # One moment for every query: the document's tiles show the same timeframe.
    moment = now if now is not None else datetime.now(UTC)
    given = _frozen(merged)
    lists = tuple((k, tuple(v)) for k, v in every.items())
    for loc in doc.queries:
        result = _rendered(loc.query, given, lists, strict, moment)
        if isinstance(result, DQLError):
            exc = result
            yield (
                loc,
                DQLValueError(
                    f"{_label(doc, loc.id, loc.title)}: {exc.message}",
                    line=exc.line,
                    column=exc.column,
                    hint=exc.hint,
                ),
            )
            continue
        yield loc, result


def _frozen(values: Mapping[str, str | list[str]]) -> tuple[tuple[str, str | tuple[str, ...]], ...]:
    # A list stays a sequence (multi-select) and a string a string (single-select).
    return tuple((k, v if isinstance(v, str) else tuple(v)) for k, v in values.items())


@functools.lru_cache(maxsize=_MEMO_SIZE)
def _rendered(
    text: str,
    values: tuple[tuple[str, str | tuple[str, ...]], ...],
    all_values: tuple[tuple[str, tuple[str, ...]], ...],
    strict: bool,
    now: datetime,
) -> RenderResult | DQLError:
    """One query rendered, or why it cannot be."""
    try:
        return render(text, dict(values), strict=strict, all_values=dict(all_values), now=now)
    except DQLError as exc:
        return exc.with_traceback(None)


__all__ = [
    "AddFilterResult",
    "Inspection",
    "LocationReport",
    "LocationStatus",
    "TileInfo",
    "VariableResult",
    "add_filter",
    "add_variable",
    "data_object_of",
    "document_values",
    "inspect_document",
    "parse_field",
    "render_document",
    "render_each",
    "variable_query",
]
