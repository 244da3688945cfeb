"""The dashboard workflow: inspect, add-variable, add-filter, render (Python API).

Fixtures: the per-style files of tests/documents/fixtures, the tile-kind, unparseable and
existing-variable dashboards of fixtures/workflow, and the bundled example. The corpus test
rewrites every file of ../shared/corpus/dashboards (skipped when it is absent).
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import dqlbuild
from dqlbuild.documents import load_document
from dqlbuild.documents.jsontext import parse_json
from dqlbuild.documents.loading import Document
from dqlbuild.documents.models import SELECT_ALL
from dqlbuild.documents.workflow import (
    AddFilterResult,
    add_filter,
    add_variable,
    document_values,
    inspect_document,
    parse_field,
    render_document,
    variable_query,
)
from dqlbuild.errors import DocumentError, DQLError, DQLSyntaxError, DQLValueError
from dqlbuild.syntax.lexical import encode_name

from .conftest import FIXTURES, VALID_FIXTURES, get_pointer, loads, set_pointer

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = FIXTURES / "workflow"
EXAMPLE = REPO / "examples" / "ai-observability.dashboard.json"
CORPUS = REPO.parent / "shared" / "corpus" / "dashboards"

MODEL_INPUT = (
    "fetch spans\n| filter isNotNull(model.version)\n"
    "| summarize values = collectDistinct(model.version)\n| expand values"
)
ONE_LINE = " ".join(MODEL_INPUT.split("\n"))


def workflow_doc(name: str) -> Document:
    return load_document(WORKFLOW / name)


def statuses(result: AddFilterResult) -> dict[str, str]:
    return {loc.id: loc.status for loc in result.locations}


def content_pointer(doc: Document) -> str:
    """The pointer of the content object in the file (content not embedded)."""
    return doc.content_path("")[0]


def assert_only_expected_changes(doc: Document, result: AddFilterResult) -> None:
    """The parsed file equals the old one with the new queries and the added variable,
    and every old line that holds neither is byte-identical and in place."""
    assert not doc.content_embedded
    before, after = loads(doc.text), loads(result.text)
    expected = copy.deepcopy(before)
    changed_lines: set[int] = set()
    for loc in result.locations:
        old = doc.query(loc.id)
        set_pointer(expected, old.path[0], loc.query)
        if loc.query != old.query:
            changed_lines.add(old.line)
    base = content_pointer(doc)
    variable = result.variable
    region: tuple[int, int] | None = None
    if variable is not None and variable.action == "added":
        new_var = get_pointer(after, base + "/variables")[-1]
        assert new_var["key"] == variable.key and new_var["type"] == "query"
        source = dqlbuild.parse(new_var["input"]).commands[0].args[0]
        assert isinstance(source, dqlbuild.FieldRef)
        field = dqlbuild.parse_expression(result.condition.split(" == ")[0]).name  # type: ignore[attr-defined]
        assert new_var["input"] == variable_query(source.name, field).format()
        content = get_pointer(expected, base) if base else expected
        content.setdefault("variables", []).append(new_var)
        parsed = parse_json(doc.text)
        node = parsed.get(base + "/variables") or parsed.get(base)
        assert node is not None
        region = parsed.position(node.start)[0], parsed.position(node.end)[0]
    else:
        assert variable is None or variable.action == "unchanged"
    assert after == expected
    # Line by line: outside the variables array, old line n is new line n (n + the lines
    # the array grew by, after it), and only the lines of changed queries differ.
    old_lines = doc.text.splitlines(keepends=True)
    new_lines = result.text.splitlines(keepends=True)
    grown = len(new_lines) - len(old_lines)
    if region is None:
        assert grown == 0
    for number, line in enumerate(old_lines, 1):
        if region is not None and region[0] <= number <= region[1]:
            continue
        shift = grown if region is not None and number > region[1] else 0
        if number not in changed_lines:
            assert new_lines[number - 1 + shift] == line, f"line {number} changed"


# ---------------------------------------------------------------- inspect
def test_inspect_lists_every_tile_kind_with_source_status_and_variables() -> None:
    inspection = inspect_document(workflow_doc("kinds.dashboard.json"))
    rows = {
        t.id: (t.type, t.explore, t.source, t.parse_status, t.variables) for t in inspection.tiles
    }
    assert rows == {
        "1": ("markdown", False, None, "-", ("Provider",)),
        "2": ("data", False, "fetch spans", "ok", ("Provider",)),
        "3": ("data", False, "timeseries dt.service.request.response_time", "ok", ("Service",)),
        "4": ("data", False, "fetch logs", "ok", ()),
        "5": ("data", True, "fetch logs", "ok", ()),
        "6": ("code", False, None, "-", ("Provider",)),
        "7": ("slo", False, None, "-", ()),
        "8": ("someFutureTile", False, None, "-", ()),
        "9": ("data", False, "data", "ok", ()),
        "10": ("data", False, "fetch spans", "ok", ()),
    }
    assert inspection.tiles[1].data_object == "spans"
    assert inspection.tiles[2].data_object == "dt.service.request.response_time"
    assert inspection.defined == ("Provider", "Unused", "Model")
    # $Service is used in DQL but defined nowhere; Model's own input uses $Provider.
    assert inspection.undefined == ("Service",)
    assert inspection.unused == ("Unused", "Model")


def test_inspect_reports_syntax_errors_relative_to_the_query() -> None:
    tiles = {t.id: t for t in inspect_document(workflow_doc("unparseable.dashboard.json")).tiles}
    assert tiles["1"].parse_status == "ok"
    assert (tiles["2"].error_line, tiles["2"].error_column) == (2, 20)
    assert tiles["2"].parse_status == "line 2, column 20: single-quoted strings are not DQL"
    assert tiles["3"].empty and tiles["3"].parse_status == "empty"
    assert tiles["4"].error is not None and "{{ .limit }}" in tiles["4"].error
    assert tiles["2"].source is None


def test_inspect_notebook_sections() -> None:
    inspection = inspect_document(load_document(FIXTURES / "notebook.json"))
    assert [(t.type, t.source) for t in inspection.tiles] == [
        ("markdown", None),
        ("dql", "fetch logs"),
        ("function", None),
        ("dql", "fetch spans"),
    ]
    assert inspection.defined == () and inspection.unused == ()


def test_inspect_undefined_excludes_builtins() -> None:
    doc = load_document(
        '{"version": 21, "variables": [], "tiles": {"1": {"type": "data", "title": "t", '
        '"query": "fetch logs, from: $dt_timeframe_from | filter x == $Missing"}}, '
        '"layouts": {}}'
    )
    assert inspect_document(doc).undefined == ("Missing",)


# ---------------------------------------------------------------- add-filter: styles
DASHBOARD_STYLES = [name for name, kind, _, embedded in VALID_FIXTURES if kind == "dashboard"]


@pytest.mark.parametrize("name", DASHBOARD_STYLES)
def test_add_filter_keeps_every_style(name: str) -> None:
    doc = load_document(FIXTURES / name)
    # The timeseries tile has the dimension in its `by:`, so it is filtered too.
    options = {"variable": "ServiceId", "field": "dt.entity.service", "data_object": "logs"}
    result = add_filter(doc, **options)
    explore = doc.query("2").explore
    assert statuses(result) == {"1": "filtered", "2": "skipped" if explore else "filtered"}
    new = load_document(result.text)
    assert new.query("1").query.count("dt.entity.service == $ServiceId") == 1
    # timeseries: into its filter: parameter (added, or merged with `and`).
    merged = re.search(r"filter: \{?.*entity\.service == \$ServiceId\}?$", new.query("2").query)
    assert (merged is None) == explore
    variables = [v for v in new.variables() if v.key == "ServiceId"]
    assert (
        len(variables) == 1
        and variables[0].input == variable_query("logs", "dt.entity.service").format()
    )
    assert result.variable is not None and result.variable.action == "added"
    if not doc.content_embedded:
        assert_only_expected_changes(doc, result)
    # The file's conventions survive: newline style, BOM, final newline, escaping.
    assert result.text.startswith("\ufeff") == doc.text.startswith("\ufeff")
    assert ("\r\n" in result.text) == ("\r\n" in doc.text)
    assert result.text.endswith("\n") == doc.text.endswith("\n")
    assert ("\\u003c" in result.text) == ("\\u003c" in doc.text)
    # The second run finds the data object in the variable it added.
    again = add_filter(new, variable="ServiceId", field="dt.entity.service")
    assert again.text == result.text
    assert set(statuses(again).values()) == (
        {"already-filtered", "skipped"} if explore else {"already-filtered"}
    )
    assert again.variable is not None and again.variable.action == "unchanged"


@pytest.mark.parametrize("name", ["notebook.json", "notebook-envelope.json"])
def test_add_filter_on_notebooks_injects_the_literal_value(name: str) -> None:
    doc = load_document(FIXTURES / name)
    result = add_filter(doc, variable="ModelVersion", field="model.version", values=["v2"])
    # Without a data object only sections that use the field themselves are filtered.
    assert [loc.status for loc in result.locations] == ["filtered", "skipped"]
    result = add_filter(
        doc, variable="ModelVersion", field="model.version", values=["v2"], data_object="spans"
    )
    assert [loc.status for loc in result.locations] == ["skipped", "filtered"]
    result = add_filter(
        doc, variable="ModelVersion", field="model.version", values=["v2"], data_object="logs"
    )
    assert [loc.status for loc in result.locations] == ["filtered", "skipped"]
    result = add_filter(
        doc,
        variable="ModelVersion",
        field="gen_ai.request.model",
        values=["v2"],
        data_object="spans",
    )
    assert result.variable is None
    assert all('gen_ai.request.model == "v2"' in loc.query for loc in result.locations[1:])
    assert_only_expected_changes(doc, result)
    # The cached result keeps its (now stale) copy of the old query.
    copies = [p for loc in doc.queries for p in loc.stale_copies]
    assert copies and all(
        get_pointer(loads(result.text), p[0]) == get_pointer(loads(doc.text), p[0]) for p in copies
    )
    again = add_filter(
        load_document(result.text),
        variable="M",
        field="gen_ai.request.model",
        values=["v2"],
        data_object="spans",
    )
    assert again.text == result.text


def test_notebook_without_values_is_refused_with_the_reason() -> None:
    doc = load_document(FIXTURES / "notebook.json")
    with pytest.raises(DQLValueError, match="notebooks have no variables") as info:
        add_filter(doc, variable="ModelVersion", field="model.version")
    assert info.value.hint is not None and "--value" in info.value.hint


def test_notebook_with_several_values_uses_in_array() -> None:
    doc = load_document(FIXTURES / "notebook.json")
    result = add_filter(doc, variable="M", field="model.version", values=["v2", 'v"3'])
    assert result.condition == 'in(model.version, array("v2", "v\\"3"))'
    one = add_filter(doc, variable="M", field="model.version", values=["v2"], multiple=True)
    assert one.condition == 'in(model.version, array("v2"))'


# ---------------------------------------------------------------- add-filter: tile kinds
def test_add_filter_per_tile_kind() -> None:
    doc = workflow_doc("kinds.dashboard.json")
    result = add_filter(doc, variable="ModelVersion", field="model.version", data_object="spans")
    assert statuses(result) == {
        "2": "filtered",
        "3": "skipped",
        "4": "filtered",
        "5": "skipped",
        "9": "skipped",
        "10": "filtered",
    }
    reasons = {loc.id: loc.reason for loc in result.locations}
    assert reasons["5"].startswith("Explore tile")
    assert reasons["9"] == "it reads `data`, not `fetch spans`"
    assert reasons["3"].startswith("the dimensions of the metric")
    assert reasons["4"] == "subquery 1: inserted after `fetch spans`"
    queries = {loc.id: loc.query for loc in result.locations}
    assert "append [fetch spans | filter model.version == $ModelVersion | summarize" in queries["4"]
    # The filter goes before the stage that ends with a comment, not into the comment.
    assert queries["10"] == (
        "fetch spans\n| filter model.version == $ModelVersion\n"
        "| summarize n = count() // every span"
    )
    assert result.untouched == {"markdown": 1, "code": 1, "slo": 1, "someFutureTile": 1}
    before, after = loads(doc.text), loads(result.text)
    for tile_id in ("1", "3", "5", "6", "7", "8", "9"):
        assert after["tiles"][tile_id] == before["tiles"][tile_id]
    assert_only_expected_changes(doc, result)
    # The second run knows the data object from the variable the first one added.
    again = add_filter(load_document(result.text), variable="ModelVersion", field="model.version")
    assert again.text == result.text
    assert "filtering the queries that fetch `spans`, the data object of $ModelVersion" in (
        again.notes
    )


def test_without_a_data_object_only_tiles_that_use_the_field_are_filtered() -> None:
    doc = workflow_doc("kinds.dashboard.json")
    result = add_filter(doc, variable="Service", field="dt.entity.service")
    # The timeseries has it as a dimension; no other tile shows it holds the field.
    assert statuses(result)["3"] == "already-filtered"
    assert {s for k, s in statuses(result).items() if k != "3"} == {"skipped"}
    reasons = {loc.id: loc.reason for loc in result.locations}
    assert reasons["2"] == (
        "nothing in it shows that the records of `fetch spans` carry `dt.entity.service`, and "
        "no data object was named"
    )
    assert any(note.startswith("no data object was named") for note in result.notes)
    used = add_filter(doc, variable="Model", field="gen_ai.request.model", multiple=True)
    # $Model's own query fetches spans: that is the data object.
    assert statuses(used)["2"] == "filtered" and statuses(used)["4"] == "filtered"
    assert used.variable is not None and used.variable.action == "unchanged"


def test_timeseries_filter_parameter_with_a_subquery_is_filtered_once() -> None:
    # The subquery inside `filter:` compares `pg` with its only field: it is filtered too,
    # in the same run, and a second run changes nothing.
    query = (
        "timeseries m = avg(dt.process.memory.usage), by: {pg},\n"
        "  filter: { pg in [fetch dt.entity.process_group | fields pg] }"
    )
    text = json.dumps(
        {"version": 21, "tiles": {"1": {"type": "data", "title": "t", "query": query}}}
    )
    options = {"variable": "V", "field": "pg", "values_from": "dt.entity.process_group"}
    result = add_filter(load_document(text), **options)
    new = load_document(result.text).query("1").query
    assert new.count("pg == $V") == 2
    assert add_filter(load_document(result.text), **options).text == result.text


def test_data_object_restricts_and_names_the_values_source() -> None:
    doc = workflow_doc("kinds.dashboard.json")
    result = add_filter(doc, variable="ModelVersion", field="model.version", data_object="logs")
    assert statuses(result)["4"] == "filtered" and statuses(result)["2"] == "skipped"
    assert "it reads `fetch spans`, not `fetch logs`" in {loc.reason for loc in result.locations}
    new = load_document(result.text)
    assert new.variables()[-1].input == variable_query("logs", "model.version").format()
    # Tile 4's subquery fetches spans and is left alone.
    assert "append [fetch spans | summarize" in new.query("4").query


def test_values_from_where_and_multiple() -> None:
    doc = workflow_doc("kinds.dashboard.json")
    result = add_filter(
        doc,
        variable="ModelVersion",
        field="model.version",
        data_object="spans",
        values_from="`dt.entity.sql:oracle`",
        where='gen_ai.system == "openai" or gen_ai.system == "anthropic"',
        multiple=True,
    )
    new = load_document(result.text)
    var = new.variables()[-1]
    assert var.multiple is True
    assert var.input == (
        "fetch `dt.entity.sql:oracle`\n"
        '| filter (gen_ai.system == "openai" or gen_ai.system == "anthropic")'
        " and isNotNull(model.version)\n"
        "| summarize values = collectDistinct(model.version)\n| expand values"
    )
    assert result.condition == "in(model.version, array($ModelVersion))"
    assert "| filter in(model.version, array($ModelVersion))" in new.query("2").query


def test_no_fetching_tile_needs_values_from() -> None:
    text = (
        '{"version": 21, "variables": [], "tiles": {"1": {"type": "data", "title": "t", '
        '"query": "timeseries avg(dt.host.cpu.usage), by: {host.name}"}}, "layouts": {}}'
    )
    with pytest.raises(DQLValueError, match="cannot come from one") as info:
        add_filter(load_document(text), variable="Host", field="host.name")
    assert info.value.hint is not None and "values_from" in info.value.hint
    result = add_filter(load_document(text), variable="Host", field="host.name", values_from="logs")
    assert "filter: host.name == $Host" in result.text


def test_variable_is_not_added_when_no_tile_uses_it() -> None:
    doc = workflow_doc("kinds.dashboard.json")
    result = add_filter(
        doc, variable="ModelVersion", field="model.version", data_object="bizevents"
    )
    assert result.text == doc.text and result.variable is None
    assert "$ModelVersion was not added: no tile filters on it" in result.notes
    assert "no query was changed" in result.notes


def test_values_on_a_dashboard_become_the_default() -> None:
    doc = workflow_doc("kinds.dashboard.json")
    options = {"variable": "ModelVersion", "field": "model.version", "data_object": "spans"}
    result = add_filter(doc, **options, values=["v2"])
    assert load_document(result.text).variables()[-1].default_value == "v2"
    with pytest.raises(DQLValueError, match="one default value"):
        add_filter(doc, **options, values=["v1", "v2"])
    many = add_filter(doc, **options, values=["v1", "v2"], multiple=True)
    new = load_document(many.text)
    assert new.variables()[-1].default_value == ["v1", "v2"]
    # Same definition, another default: only the default changes.
    other = add_filter(new, **options, values=[SELECT_ALL], multiple=True)
    assert other.variable is not None and other.variable.action == "updated"
    assert load_document(other.text).variables()[-1].default_value == [SELECT_ALL]
    assert other.count("filtered") == 0


# ---------------------------------------------------------------- refusals
def test_unparseable_tiles_are_named_and_nothing_changes() -> None:
    doc = workflow_doc("unparseable.dashboard.json")
    with pytest.raises(DocumentError) as info:
        add_filter(doc, variable="ModelVersion", field="model.version")
    message = info.value.message
    assert "2 data tiles' queries do not parse" in message
    assert "tile 2 'Single quotes' (line 2, column 20" in message
    assert "tile 4 'Monaco limit'" in message and "tile 3" not in message
    assert info.value.hint is not None and "--skip-unparseable" in info.value.hint


def test_skip_unparseable_leaves_those_tiles_byte_identical() -> None:
    doc = workflow_doc("unparseable.dashboard.json")
    result = add_filter(
        doc,
        variable="ModelVersion",
        field="model.version",
        data_object="logs",
        skip_unparseable=True,
    )
    assert statuses(result) == {
        "1": "filtered",
        "2": "unparseable",
        "3": "skipped",
        "4": "unparseable",
    }
    failed = {loc.id: (loc.error_line, loc.error_column) for loc in result.locations}
    assert failed["2"] == (2, 20) and failed["4"] == (2, 9)
    assert {loc.id: loc.reason for loc in result.locations}["3"].startswith("the query is empty")
    for tile_id in ("2", "3", "4"):
        line = doc.text.splitlines()[doc.query(tile_id).line - 1]
        assert line in result.text.splitlines()
    assert_only_expected_changes(doc, result)


def test_an_existing_list_variable_is_used_as_it_is() -> None:
    doc = workflow_doc("existing-variable.dashboard.json")
    options = {"variable": "ModelVersion", "field": "model.version", "data_object": "spans"}
    result = add_filter(doc, **options, multiple=True)
    assert result.variable is not None and result.variable.action == "unchanged"
    assert result.variable.message == "exists (csv, multi-select: v1,v2,v3); used as it is"
    assert statuses(result) == {"1": "already-filtered", "2": "filtered"}
    assert "fetch spans | filter in(model.version, array($ModelVersion))" in result.text
    # The user edits the list: running again changes nothing.
    edited = load_document(result.text.replace('"v1,v2,v3"', '"v1,v2,v3,v4"'))
    assert add_filter(edited, **options, multiple=True).text == edited.text


def test_another_selection_is_reported_with_both_definitions_in_full() -> None:
    doc = workflow_doc("existing-variable.dashboard.json")
    with pytest.raises(DocumentError) as info:
        add_filter(doc, variable="ModelVersion", field="model.version", data_object="spans")
    assert info.value.message == (
        "the dashboard already has a variable 'ModelVersion' that this filter cannot use: it "
        "is csv, multi-select: v1,v2,v3; the filter needs query, single-select: " + ONE_LINE
    )
    assert info.value.hint == (
        "pass replace_variable=True (--replace-variable) to replace it, or filter as "
        "multi-select to use it (with --multiple), or choose another key"
    )


def test_replace_variable_rewrites_the_definition_in_place() -> None:
    doc = workflow_doc("existing-variable.dashboard.json")
    options = {"variable": "ModelVersion", "field": "model.version", "data_object": "spans"}
    result = add_filter(doc, **options, replace_variable=True)
    assert result.variable is not None and result.variable.action == "replaced"
    # Tile 1's multi-select filter is rewritten for the single-select variable.
    assert statuses(result) == {"1": "filtered", "2": "filtered"}
    assert "fetch spans\n| filter model.version == $ModelVersion\n" in (
        load_document(result.text).query("1").query
    )
    var = loads(result.text)["content"]["variables"][0]
    # Same position, same key order; the list default belonged to the CSV definition.
    assert list(var) == ["key", "type", "input", "multiple", "visible", "editable", "version"]
    assert var["type"] == "query" and var["input"] == MODEL_INPUT
    assert (var["multiple"], var["version"]) == (False, 2)
    again = add_filter(load_document(result.text), variable="ModelVersion", field="model.version")
    assert again.text == result.text and again.variable is not None
    assert again.variable.action == "unchanged"


def test_switching_to_multi_select_rewrites_the_filters_and_reports_other_uses() -> None:
    doc = workflow_doc("kinds.dashboard.json")
    options = {"variable": "ModelVersion", "field": "model.version", "data_object": "spans"}
    single = load_document(add_filter(doc, **options).text)
    # A tile that also uses the variable for one value.
    text = single.text.replace(
        "| summarize n = count() // every span",
        "| fieldsAdd picked = $ModelVersion\\n| summarize n = count() // every span",
    )
    single = load_document(text)
    with pytest.raises(DocumentError, match="it is query, single-select"):
        add_filter(single, **options, multiple=True)
    multi = add_filter(single, **options, multiple=True, replace_variable=True)
    assert statuses(multi)["2"] == "filtered"
    assert {loc.id: loc.reason for loc in multi.locations}["2"] == (
        "`filter` (stage 3) filtered on `model.version == $ModelVersion`; rewritten to "
        "`in(model.version, array($ModelVersion))`, the form of the variable's selection"
    )
    new = load_document(multi.text)
    assert "== $ModelVersion" not in new.query("2").query
    assert new.variables()[-1].multiple is True
    assert (
        "tile 10 'All spans': line 3, column 22: `$ModelVersion` is multi-select, but stands "
        "where one value is expected: with two values selected the query is not valid"
    ) in multi.notes
    back = add_filter(new, **options, replace_variable=True)
    assert load_document(back.text).query("2").query == single.query("2").query


def test_same_definition_compares_queries_as_trees() -> None:
    doc = workflow_doc("kinds.dashboard.json")
    one_line = " ".join(MODEL_INPUT.split("\n"))
    text = add_variable(doc, "ModelVersion", "query", one_line).text
    result = add_filter(load_document(text), variable="ModelVersion", field="model.version")
    assert result.variable is not None and result.variable.action == "unchanged"
    with pytest.raises(DocumentError, match="it is query, single-select"):
        add_filter(
            load_document(text), variable="ModelVersion", field="model.version", multiple=True
        )


def test_bad_field_and_where_are_refused() -> None:
    doc = workflow_doc("kinds.dashboard.json")
    with pytest.raises(DQLValueError, match="not a field name"):
        add_filter(doc, variable="V", field="a - b")
    with pytest.raises(DQLValueError, match="where condition does not parse"):
        add_filter(doc, variable="V", field="a", where="x ==")
    with pytest.raises(DQLError):
        add_filter(doc, variable="dt_mine", field="a")
    assert parse_field("`my field`").name == "my field"


# ---------------------------------------------------------------- copy-title
def test_copy_title_renames_envelopes_and_notes_what_it_cannot() -> None:
    envelope = load_document(FIXTURES / "envelope.json")
    result = add_filter(envelope, variable="V", field="model.version", copy_title="Copy – v2")
    assert load_document(result.text).name == "Copy – v2"
    assert_only_expected_changes_but_name(envelope, result)
    api = load_document(FIXTURES / "document-api.json")
    noted = add_filter(api, variable="V", field="model.version", copy_title="Copy")
    assert any("keeps id" in note for note in noted.notes)
    bare = load_document(FIXTURES / "dashboard-2space.json")
    untitled = add_filter(bare, variable="V", field="model.version", copy_title="Copy")
    assert any(note.startswith("not retitled") for note in untitled.notes)


def assert_only_expected_changes_but_name(doc: Document, result: AddFilterResult) -> None:
    renamed = json.loads(result.text)
    renamed["name"] = doc.name
    original = json.loads(doc.text)
    content = renamed["content"]
    content["variables"] = original["content"]["variables"]
    for loc in result.locations:
        set_pointer(renamed, doc.query(loc.id).path[0], doc.query(loc.id).query)
    assert renamed == original


# ---------------------------------------------------------------- add-variable
def test_add_variable_types_and_idempotence() -> None:
    doc = workflow_doc("kinds.dashboard.json")
    csv = add_variable(doc, "Region", "csv", "eu, us", multiple=True, default=[SELECT_ALL])
    assert csv.action == "added"
    var = load_document(csv.text).variables()[-1]
    assert (var.type, var.input, var.multiple, var.default_value) == (
        "csv",
        "eu, us",
        True,
        [SELECT_ALL],
    )
    text = add_variable(doc, "TopN", "text", default="10")
    assert load_document(text.text).variables()[-1].default_value == "10"
    same = add_variable(load_document(csv.text), "Region", "csv", "eu,us", multiple=True)
    assert same.action == "unchanged" and same.text == csv.text
    with pytest.raises(DocumentError, match="another definition"):
        add_variable(load_document(csv.text), "Region", "csv", "eu,us,ap", multiple=True)
    with pytest.raises(DQLSyntaxError, match="the variable's query does not parse"):
        add_variable(doc, "Bad", "query", "fetch logs | filter status == 'x'")
    with pytest.raises(DocumentError, match="notebooks have no variables"):
        add_variable(load_document(FIXTURES / "notebook.json"), "K", "text")


def test_add_variable_replace_from_csv_to_text_drops_input_and_multiple() -> None:
    doc = workflow_doc("existing-variable.dashboard.json")
    result = add_variable(doc, "ModelVersion", "text", replace=True, default="v1")
    var = loads(result.text)["content"]["variables"][0]
    assert var == {
        "key": "ModelVersion",
        "type": "text",
        "visible": True,
        "editable": True,
        "defaultValue": "v1",
        "version": 2,
    }


# ---------------------------------------------------------------- render
def test_render_document_uses_given_values_then_defaults() -> None:
    doc = workflow_doc("kinds.dashboard.json")
    values, every = document_values(doc, {"Service": "checkout"})
    assert values == {"Service": "checkout", "Provider": "openai", "Model": [SELECT_ALL]}
    assert every == {"Provider": ["openai", "anthropic"]}
    rendered = {loc.id: r.text for loc, r in render_document(doc, {"Service": "checkout"})}
    assert rendered["2"].startswith('fetch spans\n| filter gen_ai.system == "openai"\n')
    assert 'dt.entity.service == "checkout"' in rendered["3"]
    given = dict(
        (loc.id, r.text) for loc, r in render_document(doc, {"Service": "a", "Provider": "x"})
    )
    assert 'gen_ai.system == "x"' in given["2"]


def test_render_document_errors_name_the_tile() -> None:
    doc = workflow_doc("kinds.dashboard.json")
    with pytest.raises(DQLValueError) as info:
        render_document(doc, {})
    assert info.value.message == "tile 3 'Service response time': no value for $Service"
    # The position is within the tile's query.
    assert (info.value.line, info.value.column) == (1, 107)
    lenient = render_document(doc, {}, strict=False)
    assert any(r.warnings for _, r in lenient)
    with pytest.raises(DQLValueError, match="tile 2"):
        render_document(doc, {"Service": "s"}, defaults=False)


# ---------------------------------------------------------------- the bundled example
def test_bundled_example_end_to_end() -> None:
    doc = load_document(EXAMPLE)
    result = dqlbuild.add_filter(
        doc, variable="ModelVersion", field="model.version", data_object="spans"
    )
    assert Counter(statuses(result).values()) == {"filtered": 10, "skipped": 1}
    assert statuses(result)["11"] == "skipped"
    assert result.untouched == {"markdown": 1}
    new = load_document(result.text)
    assert new.query("1").query == (
        "fetch spans\n| filter isNotNull(gen_ai.system)\n| filter model.version == $ModelVersion\n"
        "| summarize requests = count()"
    )
    # Tile 9 creates fields with fieldsAdd, but not model.version: the filter stays early.
    assert new.query("9").query.split("\n")[2] == "| filter model.version == $ModelVersion"
    assert new.variables()[0].input == MODEL_INPUT
    assert_only_expected_changes(doc, result)
    assert (
        dqlbuild.add_filter(
            new, variable="ModelVersion", field="model.version", data_object="spans"
        ).text
        == result.text
    )
    inspection = dqlbuild.inspect_document(new)
    assert inspection.defined == ("ModelVersion",) and inspection.unused == ()
    rendered = dict(
        (loc.id, r.text) for loc, r in dqlbuild.render_document(new, {"ModelVersion": "v2"})
    )
    assert 'model.version == "v2"' in rendered["1"]


# ---------------------------------------------------------------- the corpus
def test_corpus_add_filter_changes_only_queries_and_the_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if not CORPUS.is_dir():
        pytest.skip("shared corpus not available")
    counts: Counter[str] = Counter()
    for path in sorted(CORPUS.glob("*.json")):
        doc = load_document(path)
        options: dict[str, Any] = {
            "variable": "ModelVersion",
            "field": "model.version",
            "skip_unparseable": True,
        }
        if doc.kind.value == "notebook":
            options["values"] = ["v2"]
        # The data object most tiles fetch (a dashboard filter is about one).
        fetched = Counter(
            t.data_object
            for t in inspect_document(doc).tiles
            if t.source is not None and t.source.startswith("fetch ")
        )
        if fetched:
            options["data_object"] = encode_name(fetched.most_common(1)[0][0] or "")
        assert "ModelVersion" not in doc.text
        try:
            result = add_filter(doc, **options)
        except DQLValueError as exc:
            # Only timeseries (or other non-fetch) tiles: the values need a named source.
            assert "cannot come from one" in exc.message, f"{path.name}: {exc}"
            counts["needed values_from"] += 1
            options["values_from"] = "spans"
            result = add_filter(doc, **options)
        counts["files"] += 1
        counts[doc.kind.value] += 1
        counts.update(loc.status for loc in result.locations)
        # Unparseable means: the parser refuses it on its own.
        for loc in result.locations:
            if loc.status == "unparseable":
                with pytest.raises(DQLSyntaxError):
                    dqlbuild.parse(doc.query(loc.id).query)
            elif loc.status == "skipped" and doc.query(loc.id).explore:
                counts["skipped (explore)"] += 1
        try:
            assert_only_expected_changes(doc, result)
        except AssertionError as exc:
            raise AssertionError(f"{path.name}: {exc}") from None
        again = add_filter(load_document(result.text), **options)
        assert again.text == result.text, f"{path.name}: a second run changed the file"
    with capsys.disabled():
        print(f"\ncorpus add-filter: {dict(sorted(counts.items()))}")
    assert counts["filtered"] > 0 and counts["files"] == len(list(CORPUS.glob("*.json")))


def test_render_document_rejects_values_that_are_not_strings() -> None:
    doc = load_document(str(EXAMPLE))
    for value in (5, None, [1]):
        with pytest.raises(DQLValueError, match="must be a string or a list of strings"):
            render_document(doc, {"ModelVersion": value})  # type: ignore[dict-item]


def test_reserved_and_invalid_new_variable_keys_say_why() -> None:
    doc = load_document(str(EXAMPLE))
    with pytest.raises(DQLError, match="reserved for the built-in variables"):
        add_filter(doc, variable="dt_x", field="a")
    with pytest.raises(DQLError, match="letters and digits only"):
        add_filter(doc, variable="My_Key", field="a")
