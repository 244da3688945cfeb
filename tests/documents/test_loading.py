"""Loading dashboards and notebooks and editing them through :class:`Document`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dqlbuild.documents import (
    SELECT_ALL,
    DashboardContent,
    Document,
    NotebookContent,
    StorageForm,
    load_document,
)
from dqlbuild.documents.models import (
    CodeTile,
    DataTile,
    DqlSection,
    FunctionSection,
    GenericTile,
    MarkdownSection,
    MarkdownTile,
    SloTile,
)
from dqlbuild.errors import DocumentError

from .conftest import (
    FIXTURES,
    VALID_FIXTURES,
    assert_pure_insertion,
    fixture_text,
    loads,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ai-observability.dashboard.json"


def content_of(text: str) -> dict:  # type: ignore[type-arg]
    data = loads(text)
    if "content" in data:
        inner = data["content"]
        return json.loads(inner) if isinstance(inner, str) else inner  # type: ignore[no-any-return]
    return data  # type: ignore[no-any-return]


@pytest.mark.parametrize(("name", "kind", "form", "embedded"), VALID_FIXTURES)
def test_fixtures_load_with_kind_and_form(name: str, kind: str, form: str, embedded: bool) -> None:
    doc = load_document(FIXTURES / name)
    assert (doc.kind.value, doc.form.value, doc.content_embedded) == (kind, form, embedded)
    assert doc.path == FIXTURES / name
    assert doc.text == fixture_text(name)
    content = content_of(doc.text)
    if kind == "dashboard":
        assert isinstance(doc.content, DashboardContent)
        expected = [
            (tid, t["query"]) for tid, t in content["tiles"].items() if t.get("type") == "data"
        ]
    else:
        assert isinstance(doc.content, NotebookContent)
        expected = [
            (s["id"], s["state"]["input"]["value"])
            for s in content["sections"]
            if s["type"] == "dql"
        ]
    assert [(q.id, q.query) for q in doc.queries] == expected


def test_load_from_text_and_names() -> None:
    assert load_document(fixture_text("dashboard-2space.json")).name is None
    assert load_document(fixture_text("envelope.json")).name == "Checkout – overview"
    api = load_document(fixture_text("document-api.json"))
    assert api.name == "Checkout <prod>"
    assert api.envelope is not None
    assert api.envelope.version == 38
    assert api.dashboard.version == 21
    assert api.envelope.modification_info is not None
    assert load_document(fixture_text("notebook-envelope.json")).name == "Rollout notebook"


def test_query_locations() -> None:
    doc = load_document(FIXTURES / "dashboard-2space.json")
    q = doc.query("1")
    assert (q.kind, q.title, q.path, q.content_pointer) == (
        "data",
        "Errors – by service",
        ("/tiles/1/query",),
        "/tiles/1/query",
    )
    assert q.line == doc.text[: doc.text.index('"query"')].count("\n") + 1
    assert doc.text.split("\n")[q.line - 1][q.column - 1 :].startswith('"fetch logs')
    assert doc.query("2").title == "Response time"
    with pytest.raises(DocumentError, match="known: 1, 2"):
        doc.query("9")
    env = load_document(FIXTURES / "envelope.json")
    assert env.query("1").path == ("/content/tiles/1/query",)
    nested = load_document(FIXTURES / "string-content.json")
    assert nested.query("1").path == ("/content", "/tiles/1/query")
    assert nested.query("1").content_pointer == "/tiles/1/query"
    assert nested.query("1").line == 4


def test_models_cover_tile_kinds_and_keep_unknown_keys() -> None:
    doc = load_document(FIXTURES / "dashboard-go.json")
    tiles = doc.dashboard.tiles
    assert isinstance(tiles["0"], MarkdownTile)
    assert isinstance(tiles["1"], DataTile)
    assert isinstance(tiles["3"], SloTile)
    assert tiles["3"].input == "{{.slo_id}}"
    assert doc.has_templates
    [var] = doc.variables()
    assert (var.key, var.type, var.multiple, var.version) == ("Service", "query", False, 1)
    raw = {
        "version": 21,
        "tiles": {
            "a": {"type": "code", "input": "export default () => 1"},
            "b": {"type": "bubbleMap", "query": "fetch logs", "weird": [1]},
        },
        "layouts": {"a": {"x": 0, "y": 0, "w": 1, "h": 1}},
        "futureKey": {"x": 1},
    }
    d = load_document(json.dumps(raw))
    assert isinstance(d.dashboard.tiles["a"], CodeTile)
    generic = d.dashboard.tiles["b"]
    assert isinstance(generic, GenericTile)
    assert generic.model_extra == {"query": "fetch logs", "weird": [1]}
    assert d.dashboard.model_extra == {"futureKey": {"x": 1}}
    # Unknown tile kinds are not DQL tiles.
    assert d.queries == ()


def test_explore_tiles_and_stale_copies_are_reported() -> None:
    doc = load_document(FIXTURES / "dashboard-explore-novars.json")
    assert doc.query("2").explore
    tile = doc.dashboard.tiles["2"]
    assert isinstance(tile, DataTile) and tile.is_explore
    q1 = doc.query("1")
    assert not q1.explore
    assert q1.stale_copies == (
        (
            "/tiles/1/davis/componentState/inputData/"
            "dt.statistics.ui.anomaly_detection.AutoAdaptiveAnomalyDetectionAnalyzer/query",
        ),
    )


def test_notebook_sections() -> None:
    doc = load_document(FIXTURES / "notebook.json")
    nb = doc.notebook
    assert [type(s) for s in nb.sections] == [
        MarkdownSection,
        DqlSection,
        FunctionSection,
        DqlSection,
    ]
    section = nb.sections[1]
    assert isinstance(section, DqlSection)
    assert section.query == doc.queries[0].query
    assert doc.queries[0].path == ("/sections/1/state/input/value",)
    assert doc.queries[0].stale_copies == (("/sections/1/state/result/input/value",),)
    assert doc.queries[1].title is None
    assert doc.variables() == []
    with pytest.raises(DocumentError, match="notebooks have no variables"):
        doc.add_variable("X", "csv", "a")
    with pytest.raises(DocumentError, match="notebook, not a dashboard"):
        _ = doc.dashboard


def test_notebook_sections_without_unique_ids_get_index_ids() -> None:
    raw = {
        "version": "7",
        "sections": [
            {"type": "dql", "state": {"input": {"value": "fetch logs"}}},
            {"id": "x", "type": "dql", "state": {"input": {"value": "fetch spans"}}},
            {"id": "x", "type": "dql", "state": {"input": {"value": "fetch events"}}},
        ],
    }
    doc = load_document(json.dumps(raw, indent=2))
    assert [q.id for q in doc.queries] == ["#0", "#1", "#2"]
    new = doc.with_queries({"#2": "fetch bizevents"})
    assert loads(new)["sections"][2]["state"]["input"]["value"] == "fetch bizevents"


# -- refusals ----------------------------------------------------------------------


def test_classic_dashboard_is_refused() -> None:
    with pytest.raises(DocumentError, match=r"classic \(Gen2\) dashboard.*not supported"):
        load_document(FIXTURES / "classic.json")
    # Classic: metadata with tiles as an object but no version.
    with pytest.raises(DocumentError, match="classic"):
        load_document('{"dashboardMetadata": {"name": "x"}, "tiles": {}}')


def test_a_gen3_dashboard_with_stray_classic_metadata_is_gen3() -> None:
    text = (
        '{"version": 21, "dashboardMetadata": {"name": "old"}, "variables": [], '
        '"tiles": {"1": {"type": "data", "title": "t", "query": "fetch logs"}}}'
    )
    doc = load_document(text)
    assert doc.kind.value == "dashboard" and doc.query("1").query == "fetch logs"


def test_templated_file_is_refused_with_line() -> None:
    with pytest.raises(DocumentError, match="Monaco") as info:
        load_document(FIXTURES / "monaco-outside-string.json")
    assert info.value.line == 6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "JSON object at the top level"),
        ('{"a": 1}', "not a dashboard or notebook"),
        ('{"name": "x", "type": "launchpad", "content": {"tiles": {}}}', "launchpad"),
        ('{"name": "x", "type": "notebook", "content": {"tiles": {}}}', "content is a dashboard"),
        ('{"content": "{\\"tiles\\": ["}', "embedded|'content' string"),
        ('{"content": 3}', "not a dashboard or notebook"),
        ('{"tiles": {"1": {"type": "data", "query": 3}}}', "not a valid dashboard"),
    ],
)
def test_other_refusals(text: str, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        load_document(text)


def test_missing_file() -> None:
    with pytest.raises(DocumentError, match="cannot read"):
        load_document("/nonexistent/dashboard.json")


# -- editing -------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kind", "form", "embedded"), VALID_FIXTURES)
def test_with_queries_changes_only_the_queries(
    name: str, kind: str, form: str, embedded: bool
) -> None:
    doc = load_document(FIXTURES / name)
    assert doc.with_queries({q.id: q.query for q in doc.queries}) == doc.text
    new = doc.with_queries({q.id: q.query + "\n| limit 1" for q in doc.queries})
    again = doc.reload(new)
    assert [q.query for q in again.queries] == [q.query + "\n| limit 1" for q in doc.queries]
    expected = loads(doc.text)
    got = loads(new)
    if embedded:
        inner = json.loads(expected.pop("content"))
        for tile in inner["tiles"].values():
            if tile["type"] == "data":
                tile["query"] += "\n| limit 1"
        assert json.loads(got.pop("content")) == inner
    else:
        content = expected.get("content", expected)
        if kind == "dashboard":
            for tile in content["tiles"].values():
                if tile["type"] == "data":
                    tile["query"] += "\n| limit 1"
        else:
            for s in content["sections"]:
                if s["type"] == "dql":
                    s["state"]["input"]["value"] += "\n| limit 1"
    assert got == expected


@pytest.mark.parametrize(
    "name",
    [name for name, kind, *_ in VALID_FIXTURES if kind == "dashboard"],
)
def test_add_variable_everywhere(name: str) -> None:
    doc = load_document(FIXTURES / name)
    new = doc.add_variable("ModelVersion", "csv", "v1,v2", multiple=True, default=[SELECT_ALL])
    var = {
        "version": 2,
        "key": "ModelVersion",
        "type": "csv",
        "visible": True,
        "editable": True,
        "input": "v1,v2",
        "multiple": True,
        "defaultValue": [SELECT_ALL],
    }
    expected = content_of(doc.text)
    expected.setdefault("variables", []).append(var)
    assert content_of(new) == expected
    if not doc.content_embedded:
        assert_pure_insertion(doc.text, new)
    added = doc.reload(new).variables()[-1]
    assert (added.key, added.default_value) == ("ModelVersion", [SELECT_ALL])


def test_variable_object_shape_and_order() -> None:
    doc = load_document(FIXTURES / "dashboard-2space.json")
    text_var = loads(doc.add_variable("TopN", "text", default="10"))["variables"][0]
    assert list(text_var) == ["version", "key", "type", "visible", "editable", "defaultValue"]
    query_var = loads(
        doc.add_variable("Model", "query", "fetch spans | fields m", visible=False, version=1)
    )["variables"][0]
    assert query_var == {
        "version": 1,
        "key": "Model",
        "type": "query",
        "visible": False,
        "editable": True,
        "input": "fetch spans | fields m",
        "multiple": False,
    }


def test_variables_key_is_added_after_version_when_absent() -> None:
    doc = load_document(FIXTURES / "dashboard-explore-novars.json")
    new = doc.add_variable("A", "csv", "x")
    assert list(loads(new))[:3] == ["version", "variables", "tiles"]
    sorted_doc = load_document(
        json.dumps({"layouts": {}, "tiles": {}, "version": 17}, indent=2, sort_keys=True)
    )
    assert list(loads(sorted_doc.add_variable("A", "csv", "x"))) == [
        "layouts",
        "tiles",
        "variables",
        "version",
    ]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("Service", "csv", "a"), {}, "already has a variable 'Service'"),
        (("dt_x", "csv", "a"), {}, "invalid variable key"),
        (("Model_1", "csv", "a"), {}, "invalid variable key"),
        (("1abc", "csv", "a"), {}, "invalid variable key"),
        (("M", "list", "a"), {}, "unknown variable type"),
        (("M", "csv"), {}, "needs an input"),
        (("M", "text", "a"), {}, "neither input nor multiple"),
        (("M", "csv", "a"), {"multiple": True, "default": "a"}, "list of strings"),
        (("M", "csv", "a"), {"default": ["a"]}, "must be a string"),
    ],
)
def test_add_variable_errors(args: tuple[str, ...], kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    doc = load_document(FIXTURES / "dashboard-go.json")
    with pytest.raises(DocumentError, match=message):
        doc.add_variable(*args, **kwargs)


def test_set_name() -> None:
    env = load_document(FIXTURES / "envelope.json")
    new = env.set_name("Checkout <EU>")
    assert loads(new)["name"] == "Checkout <EU>"
    assert env.set_name(env.name or "") == env.text
    nested = load_document(FIXTURES / "string-content.json")
    assert "Renamed \\u003cx\\u003e" in nested.set_name("Renamed <x>")
    with pytest.raises(DocumentError, match="bare content has no name"):
        load_document(FIXTURES / "dashboard-2space.json").set_name("x")


def test_chained_edits_in_one_output() -> None:
    doc = load_document(FIXTURES / "document-api.json")
    new = doc.apply(
        [
            *doc.variable_edits("ModelVersion", "csv", "v1,v2"),
            *doc.name_edits("Checkout – models"),
            *doc.query_edits(
                {q.id: q.query + "\n| filter model.version == $ModelVersion" for q in doc.queries}
            ),
        ]
    )
    again = doc.reload(new)
    assert again.name == "Checkout – models"
    assert [v.key for v in again.variables()] == ["ModelVersion"]
    assert all(q.query.endswith("$ModelVersion") for q in again.queries)
    # Metadata outside the content, including the revision, is untouched.
    before, after = loads(doc.text), loads(new)
    for key in ("id", "owner", "version", "modificationInfo", "isPrivate", "type"):
        assert before[key] == after[key]
    assert doc.form is StorageForm.DOCUMENT_API


def test_document_is_not_mutated_by_edits() -> None:
    doc = load_document(FIXTURES / "dashboard-2space.json")
    text = doc.text
    doc.add_variable("A", "csv", "x")
    doc.with_queries({"1": "fetch logs"})
    assert doc.text == text
    assert doc.variables() == []
    assert isinstance(doc, Document)


# -- the shipped example -------------------------------------------------------------


def test_example_dashboard() -> None:
    doc = load_document(EXAMPLE)
    assert doc.form is StorageForm.BARE
    dash = doc.dashboard
    assert dash.version == 21
    assert dash.variables == []
    assert set(dash.layouts) == set(dash.tiles)
    assert doc.style.indent == "  " and doc.text.endswith("}\n")
    queries = [q.query for q in doc.queries]
    assert len(queries) >= 10
    assert any(q.startswith("timeseries ") for q in queries)
    assert any("//" in q for q in queries)
    assert any(isinstance(t, MarkdownTile) for t in dash.tiles.values())
    for field in (
        "gen_ai.system",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.request.temperature",
        "duration",
        "model.version",
    ):
        assert any(field in q for q in queries), field
    for command in ("filter", "summarize", "makeTimeseries", "fieldsAdd", "sort", "limit"):
        assert any(f"| {command} " in q for q in queries), command
    assert any("by: {" in q for q in queries)


def test_example_queries_parse_when_a_parser_is_available() -> None:
    parser = pytest.importorskip("dqlbuild.syntax.parser")
    parse = getattr(parser, "parse", None)
    if parse is None:
        pytest.skip("no DQL parser yet")
    for q in load_document(EXAMPLE).queries:
        parse(q.query)
