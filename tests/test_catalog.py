"""Tests of the generated DQL catalog, its loader and its generator."""

from __future__ import annotations

import importlib.util
import json
import keyword
import re
import sys
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import ValidationError

import dqlbuild.catalog as catalog_package
from dqlbuild.catalog import (
    FUNCTION_CONTEXTS,
    Catalog,
    DataObject,
    Function,
    FunctionContext,
    camel_from_snake,
    get_catalog,
    name_index,
    snake_case,
    suggest,
)
from dqlbuild.errors import DQLCatalogError

ROOT = Path(__file__).resolve().parent.parent
SHARED_CATALOG = ROOT.parent / "shared" / "catalog" / "dql-catalog.json"
needs_shared = pytest.mark.skipif(
    not SHARED_CATALOG.is_file(), reason="../shared reference material is absent"
)

START_COMMANDS = {
    "data",
    "describe",
    "fetch",
    "fieldsSnapshot",
    "load",
    "metrics",
    "smartscapeEdges",
    "smartscapeNodes",
    "timeseries",
}
# Parameters naming fields of the subquery or record, not of the stage's input.
OTHER_SIDE = {
    ("lookup", "lookupField"),
    ("lookup", "fields"),
    ("join", "fields"),
    ("joinNested", "fields"),
    ("fieldsFlatten", "fields"),
}


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_catalog", ROOT / "scripts" / "gen_catalog.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_catalog", module)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return get_catalog()


@pytest.fixture(scope="module")
def shared_raw() -> dict[str, Any]:
    if not SHARED_CATALOG.is_file():
        pytest.skip("../shared reference material is absent")
    data: dict[str, Any] = json.loads(SHARED_CATALOG.read_bytes())
    return data


# --- the committed file ---------------------------------------------------------


@needs_shared
def test_committed_catalog_is_up_to_date() -> None:
    committed = resources.files("dqlbuild.catalog").joinpath("catalog.json").read_text("utf-8")
    assert gen.generate(SHARED_CATALOG) == committed, "run: python scripts/gen_catalog.py"


def test_catalog_json_is_deterministic_and_sorted() -> None:
    text = resources.files("dqlbuild.catalog").joinpath("catalog.json").read_text("utf-8")
    data = json.loads(text)
    assert text == gen.render(Catalog.model_validate(data))
    assert list(data) == sorted(data)
    assert next(iter(data)) == "_generated_by"
    assert "gen_catalog.py" in data["_generated_by"]


def test_name_index_is_generated_from_the_committed_catalog(cat: Catalog) -> None:
    committed = resources.files("dqlbuild.catalog").joinpath("names.json").read_text("utf-8")
    assert committed == gen.render_names(cat), "run: python scripts/gen_catalog.py"
    commands, functions = name_index()
    assert commands == {c.name.lower(): c.name for c in cat.commands}
    assert commands["maketimeseries"] == "makeTimeseries"
    # Aliases keep their own spelling; a real name wins over an alias spelled alike.
    assert functions["first"] == "first" and functions["takefirst"] == "takeFirst"
    assert all(functions[f.name.lower()] == f.name for f in cat.functions)
    aliases = {a for f in cat.functions for a in f.aliases}
    assert set(functions.values()) == {f.name for f in cat.functions} | aliases


@pytest.mark.parametrize(
    "text", ["", "[]", '{"commands": {}}', '{"commands": [], "functions": {}}']
)
def test_a_damaged_name_index_is_a_catalog_error(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_package, "_catalog_text", lambda name="": text)
    name_index.cache_clear()
    try:
        with pytest.raises(DQLCatalogError, match="cannot load the bundled DQL catalog"):
            name_index()
    finally:
        name_index.cache_clear()


def test_loader_is_cached(cat: Catalog) -> None:
    assert get_catalog() is cat


# --- contents --------------------------------------------------------------------


def test_counts(cat: Catalog) -> None:
    assert len(cat.commands) == 34
    assert len(cat.functions) == 264
    assert len({f.name for f in cat.functions}) == 240
    assert len({f.key for f in cat.functions}) == 264


@needs_shared
def test_every_catalog_entry_is_present(cat: Catalog, shared_raw: dict[str, Any]) -> None:
    assert {c.key for c in cat.commands} == set(shared_raw["commands"])
    assert {f.key for f in cat.functions} == set(shared_raw["functions"])
    assert cat.source.commit == shared_raw["source"]["commit"]


def test_start_commands(cat: Catalog) -> None:
    assert cat.start_commands == START_COMMANDS
    fetch, filter_ = cat.command("fetch"), cat.command("filter")
    assert fetch is not None and fetch.is_start
    assert filter_ is not None and not filter_.is_start


def test_case_insensitive_command_lookup(cat: Catalog) -> None:
    for spelling, name in [
        ("FETCH", "fetch"),
        ("filterout", "filterOut"),
        ("fieldsadd", "fieldsAdd"),
        ("makeTimeSeries", "makeTimeseries"),
        ("Limit", "limit"),
    ]:
        found = cat.command(spelling)
        assert found is not None and found.name == name
    assert cat.command("fetchh") is None


def test_case_insensitive_function_lookup(cat: Catalog) -> None:
    found = cat.function("matchesphrase")
    assert found is not None and found.name == "matchesPhrase"
    found = cat.function("Array")
    assert found is not None and found.key == "dql.function.array"
    assert cat.function("noSuchFunction") is None
    assert cat.functions_named("noSuchFunction") == ()


def test_case_insensitive_parameter_lookup(cat: Catalog) -> None:
    fetch = cat.command("fetch")
    assert fetch is not None
    found = fetch.parameter("SOURCEID")
    assert found is not None and found.name == "dataObject"
    assert fetch.parameter("FROM") is fetch.parameter("from")
    assert fetch.parameter("nope") is None


def test_kinds_and_types_are_short_names(cat: Catalog) -> None:
    append, summarize = cat.command("append"), cat.command("summarize")
    assert append is not None and summarize is not None
    assert append.parameters[0].kinds == ("nonEmptyExecutionBlock",)
    aggregation = summarize.parameter("aggregation")
    assert aggregation is not None
    assert aggregation.kinds == ("expressionWithFieldAccess", "aggregation")
    assert aggregation.assignment_support == "optional" and aggregation.variadic
    for command in cat.commands:
        for param in command.parameters:
            assert all("." not in k for k in (*param.kinds, *param.value_types))
    abs_ = cat.function("abs")
    assert abs_ is not None and abs_.category == "mathematical"
    assert abs_.signatures[0].outputs == ("double", "duration", "long")


def test_enum_values_are_unquoted_and_quoting_is_remembered(cat: Catalog) -> None:
    join, traverse = cat.command("join"), cat.command("traverse")
    assert join is not None and traverse is not None
    kind = join.parameter("kind")
    assert kind is not None
    assert kind.enum_values == ("leftOuter", "inner", "outer") and not kind.enum_quoted
    assert kind.default_value == "inner"
    direction = traverse.parameter("direction")
    assert direction is not None
    assert direction.enum_values == ("forward", "backward") and direction.enum_quoted
    assert direction.default_value == "forward"
    for command in cat.commands:
        for param in command.parameters:
            assert not any(v.startswith('"') for v in param.enum_values)
            if param.enum_values and param.default_value is not None:
                assert param.default_value in param.enum_values


def test_non_enum_defaults_stay_dql_text(cat: Catalog) -> None:
    lookup, dedup = cat.command("lookup"), cat.command("dedup")
    assert lookup is not None and dedup is not None
    prefix, push = lookup.parameter("prefix"), dedup.parameter("filterPushThrough")
    assert prefix is not None and prefix.default_value == '"lookup."'
    assert push is not None and push.default_value == "FALSE"


def test_limits_and_flags(cat: Catalog) -> None:
    fields_flatten, parse = cat.command("fieldsFlatten"), cat.command("parse")
    assert fields_flatten is not None and parse is not None
    depth = fields_flatten.parameter("depth")
    assert depth is not None and (depth.min_value, depth.max_value) == (1, 10)
    base_time = parse.parameter("baseTime")
    assert base_time is not None and base_time.experimental
    experimental_save = cat.command("experimentalSave")
    assert experimental_save is not None and experimental_save.experimental
    to_variant = cat.function("toVariant")
    assert to_variant is not None and to_variant.deprecated
    rename = cat.command("fieldsRename")
    assert rename is not None and rename.parameters[0].assignment_support == "mandatory"


# --- §10 corrections -------------------------------------------------------------


def test_sort_direction_is_a_real_named_parameter(cat: Catalog) -> None:
    sort = cat.command("sort")
    assert sort is not None
    direction = sort.parameter("direction")
    assert direction is not None
    assert not direction.hidden and direction.requires_name
    assert direction.enum_values == ("ascending", "descending") and direction.enum_quoted
    assert direction in sort.named_parameters
    assert [p.name for p in sort.positional_parameters] == ["expression"]
    assert [m.name for m in sort.parameters[0].modifiers] == ["asc", "desc"]
    # Only sort was corrected; dedup's direction is still set through asc/desc.
    dedup = cat.command("dedup")
    assert dedup is not None
    hidden = dedup.parameter("direction")
    assert hidden is not None and hidden.hidden


def test_traverse_type_aliases(cat: Catalog) -> None:
    traverse = cat.command("traverse")
    assert traverse is not None
    edge, target = traverse.parameter("edgeTypes"), traverse.parameter("TargetTypes")
    assert edge is not None and edge is traverse.parameter("edgeType")
    assert target is not None and target is traverse.parameter("targetType")
    assert edge.kinds == ("identifierForEdgeType",)
    assert target.kinds == ("identifierForNodeType",)


def test_alias_is_a_pseudo_parameter(cat: Catalog) -> None:
    assert cat.is_pseudo_parameter("alias") and cat.is_pseudo_parameter("ALIAS")
    assert not cat.is_pseudo_parameter("by")
    for command in cat.commands:
        assert command.parameter("alias") is None


def test_min_is_a_duration_unit(cat: Catalog) -> None:
    assert "min" in cat.duration_units
    assert {"ns", "ms", "m", "h", "d", "M", "q", "y"} <= set(cat.duration_units)
    assert "min" in cat.time_alignment_units and "w1" in cat.time_alignment_units
    duration = cat.function("duration")
    assert duration is not None
    unit = duration.parameter("unit")
    assert unit is not None and "min" in unit.enum_values and unit.enum_quoted


def test_fetch_bucket_is_named(cat: Catalog) -> None:
    fetch = cat.command("fetch")
    assert fetch is not None
    bucket = fetch.parameter("bucket")
    assert bucket is not None and bucket.requires_name and bucket.variadic
    assert not bucket.required
    assert [p.name for p in fetch.positional_parameters] == ["dataObject"]


def test_case_sensitive_stays_named_only(cat: Catalog) -> None:
    for name in ("contains", "startsWith", "endsWith"):
        fn = cat.function(name)
        assert fn is not None
        param = fn.parameter("caseSensitive")
        assert param is not None and param.requires_name


def test_summarize_keys_only_and_empty_constructors(cat: Catalog) -> None:
    summarize = cat.command("summarize")
    assert summarize is not None
    aggregation = summarize.parameter("aggregation")
    assert aggregation is not None and not aggregation.required
    for name in ("array", "record"):
        fn = cat.function(name)
        assert fn is not None and fn.category == "create"
        (param,) = fn.signatures[0].parameters
        assert param.variadic and not param.required
    # Other constructors keep their required parameters.
    duration = cat.function("duration")
    assert duration is not None
    assert [p.required for p in duration.signatures[0].parameters] == [True, True]


def test_function_aliases(cat: Catalog) -> None:
    take_first = cat.function("takeFirst")
    assert take_first is not None
    assert take_first.aliases == take_first.undocumented_aliases == ("first",)
    assert cat.function("FIRST") is take_first
    assert cat.function("first", "summarize") is take_first
    assert cat.functions_named("First") == (take_first,)
    assert cat.require_function("first") is take_first
    assert take_first.is_undocumented_alias("First")
    assert not take_first.is_undocumented_alias("takeFirst")
    # Hints suggest documented names only.
    assert cat.suggest_function("firs") != "first"
    aliased = {a.lower() for f in cat.functions for a in f.aliases}
    assert not aliased & {f.name.lower() for f in cat.functions}


def test_undocumented_aliases_must_be_aliases() -> None:
    with pytest.raises(ValueError, match="not aliases"):
        Function(key="k", name="f", category="c", undocumented_aliases=("g",))


def test_other_side_and_pair_flags(cat: Catalog) -> None:
    other_side = {
        (c.name, p.name) for c in cat.commands for p in c.parameters if p.names_other_side
    }
    assert other_side == OTHER_SIDE
    pairs = {(c.name, p.name) for c in cat.commands for p in c.parameters if p.accepts_pairs}
    assert pairs == {("fieldsRename", "field")}


def _raw_command(name: str, *params: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "parameters": list(params)}


def test_corrections_apply_to_upstream_shapes() -> None:
    # The shared catalog already has some fixes merged; the generator must not rely on that.
    upstream_units = ['"ns"', '"us"', '"ms"', '"s"', '"m"', '"h"', '"d"']
    raw: dict[str, Any] = {
        "commands": {
            "dql.command.fetch": _raw_command(
                "fetch",
                {"name": "dataObject", "requiresName": False},
                {
                    "name": "name",
                    "required": True,
                    "requiresName": False,
                    "variadic": True,
                    "parameterValueTypes": ["dql.parameterValueType.bucket"],
                },
            ),
            "dql.command.sort": _raw_command(
                "sort", {"name": "direction", "hidden": True, "requiresName": True}
            ),
            "dql.command.traverse": _raw_command(
                "traverse",
                {
                    "name": "edgeType",
                    "parameterValueTypes": ["dql.parameterValueType.identifierForEdgeType"],
                },
                {
                    "name": "targetType",
                    "parameterValueTypes": ["dql.parameterValueType.identifierForNodeType"],
                },
            ),
            "dql.command.summarize": _raw_command(
                "summarize", {"name": "by"}, {"name": "aggregation", "required": True}
            ),
            "dql.command.fieldsRename": _raw_command("fieldsRename", {"name": "field"}),
            "dql.command.lookup": _raw_command(
                "lookup", {"name": "sourceField"}, {"name": "lookupField"}, {"name": "fields"}
            ),
            "dql.command.join": _raw_command("join", {"name": "on"}, {"name": "fields"}),
            "dql.command.joinNested": _raw_command("joinNested", {"name": "fields"}),
            "dql.command.fieldsFlatten": _raw_command(
                "fieldsFlatten", {"name": "expression"}, {"name": "fields"}
            ),
        },
        "functions": {
            "dql.function.duration": {
                "name": "duration",
                "category": "dql.functionCategory.create",
                "signatures": [
                    {
                        "parameters": [
                            {"name": "value", "required": True},
                            {"name": "unit", "allowedEnumValues": list(upstream_units)},
                        ]
                    }
                ],
            },
            "dql.function.array": {
                "name": "array",
                "category": "dql.functionCategory.create",
                "signatures": [
                    {"parameters": [{"name": "expression", "required": True, "variadic": True}]}
                ],
            },
            "dql.function.takeFirst": {"name": "takeFirst", "signatures": []},
            "dql.function.classicEntitySelector": {
                "name": "classicEntitySelector",
                "signatures": [],
            },
        },
        "operators": {
            "dql.operator.timeAlignmentAt": {
                "signatures": [
                    {"parameters": [{"name": "u", "allowedEnumValues": ["ms", "m", "h"]}]}
                ]
            }
        },
    }
    for correction in gen.CORRECTIONS:
        correction(raw)
    bucket = raw["commands"]["dql.command.fetch"]["parameters"][1]
    assert bucket["name"] == "bucket" and bucket["requiresName"] and not bucket["required"]
    assert "hidden" not in raw["commands"]["dql.command.sort"]["parameters"][0]
    edge, target = raw["commands"]["dql.command.traverse"]["parameters"]
    assert edge["aliases"] == ["edgeTypes"] and target["aliases"] == ["targetTypes"]
    value, unit = raw["functions"]["dql.function.duration"]["signatures"][0]["parameters"]
    assert unit["allowedEnumValues"] == [*upstream_units[:5], '"min"', '"h"', '"d"']
    align = raw["operators"]["dql.operator.timeAlignmentAt"]["signatures"][0]["parameters"][0]
    assert align["allowedEnumValues"] == ["ms", "m", "min", "h"]
    commands = raw["commands"]
    by, aggregation = commands["dql.command.summarize"]["parameters"]
    assert aggregation["required"] is False and "required" not in by
    # Only the variadic parameters of constructors become optional.
    array = raw["functions"]["dql.function.array"]["signatures"][0]["parameters"][0]
    assert array["required"] is False and value["required"] is True
    take_first = raw["functions"]["dql.function.takeFirst"]
    assert take_first["aliases"] == take_first["undocumentedAliases"] == ["first"]
    selector = raw["functions"]["dql.function.classicEntitySelector"]
    assert selector["aliases"] == selector["undocumentedAliases"] == ["entitySelector"]
    assert commands["dql.command.fieldsRename"]["parameters"][0]["acceptsPairs"] is True
    other_side = {
        (command["name"], param["name"])
        for command in commands.values()
        for param in command["parameters"]
        if param.get("namesOtherSide")
    }
    assert other_side == OTHER_SIDE
    gen.check_function_aliases(raw)
    # Idempotent: a second run adds nothing.
    for correction in gen.CORRECTIONS:
        correction(raw)
    assert edge["aliases"] == ["edgeTypes"]
    assert unit["allowedEnumValues"].count('"min"') == 1
    assert take_first["aliases"] == take_first["undocumentedAliases"] == ["first"]
    assert selector["aliases"] == ["entitySelector"]


def test_data_objects_name_their_evidence_and_match_ignoring_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalog = get_catalog()
    names = [d.name for d in catalog.data_objects]
    assert {"logs", "spans", "events", "bizevents", "security.events", "user.events"} <= set(names)
    assert all(d.evidence for d in catalog.data_objects)
    assert catalog.data_object("BizEvents") is not None
    family = catalog.data_object("dt.entity.kubernetes_cluster")
    assert family is not None and family.name == "dt.entity.*" and family.is_family
    assert catalog.data_object("dt.entity.") is None and catalog.data_object("span") is None
    assert catalog.suggest_data_object("user.event") == "user.events"
    monkeypatch.setattr(gen, "DATA_OBJECTS", (*gen.DATA_OBJECTS, ("LOGS", "twice")))
    with pytest.raises(gen.CatalogFormatError):
        gen.data_objects()


def test_families_name_their_common_members() -> None:
    catalog = get_catalog()
    names = catalog.data_object_names
    assert "dt.entity.host" in names and "logs" in names and "dt.entity.*" not in names
    assert len(set(names)) == len(names)
    assert catalog.suggest_data_object("dt.entty.host") == "dt.entity.host"
    with pytest.raises(ValidationError, match="not members"):
        DataObject(name="dt.entity.*", evidence="e", members=("dt.system.events",))
    with pytest.raises(ValidationError, match="not members"):
        DataObject(name="logs", evidence="e", members=("logs",))


def test_min_is_not_added_to_other_enums() -> None:
    rollup = {"name": "rollup", "allowedEnumValues": ["min", "max", "sum", "avg", "total"]}
    kind = {"name": "kind", "allowedEnumValues": ["leftOuter", "inner"]}
    raw: dict[str, Any] = {"commands": {"c": _raw_command("c", rollup, kind)}, "functions": {}}
    gen.add_min_unit(raw)
    assert rollup["allowedEnumValues"] == ["min", "max", "sum", "avg", "total"]
    assert kind["allowedEnumValues"] == ["leftOuter", "inner"]


def test_real_alias_parameter_is_rejected() -> None:
    raw: dict[str, Any] = {
        "commands": {"c": _raw_command("c", {"name": "Alias"})},
        "functions": {},
    }
    with pytest.raises(gen.CatalogFormatError):
        gen.check_names(raw)


def test_project_keys_must_not_come_from_upstream() -> None:
    # Upstream modelling one of these facts itself means a correction needs a look.
    raw: dict[str, Any] = {
        "commands": {"c": _raw_command("c", {"name": "p", "acceptsPairs": True})},
        "functions": {},
    }
    with pytest.raises(gen.CatalogFormatError, match="upstream sets"):
        gen.check_project_keys(raw)
    raw = {"commands": {}, "functions": {"f": {"name": "f", "aliases": ["g"], "signatures": []}}}
    with pytest.raises(gen.CatalogFormatError, match="upstream sets"):
        gen.check_project_keys(raw)


@pytest.mark.parametrize(
    ("functions", "message"),
    [
        ({"f": {"name": "f", "aliases": ["G"]}, "g": {"name": "g"}}, "is a function"),
        ({"f": {"name": "f", "aliases": ["h"]}, "g": {"name": "g", "aliases": ["H"]}}, "two"),
        ({"f": {"name": "f", "undocumentedAliases": ["h"]}}, "not an alias"),
    ],
)
def test_bad_function_aliases_are_rejected(functions: dict[str, Any], message: str) -> None:
    with pytest.raises(gen.CatalogFormatError, match=message):
        gen.check_function_aliases({"functions": functions})


@needs_shared
def test_build_does_not_modify_its_input(shared_raw: dict[str, Any]) -> None:
    before = json.dumps(shared_raw, sort_keys=True)
    gen.build(shared_raw, "0" * 64)
    assert json.dumps(shared_raw, sort_keys=True) == before


# --- function contexts -----------------------------------------------------------


def test_function_lookup_by_context(cat: Catalog) -> None:
    expected: dict[FunctionContext | None, str] = {
        None: "dql.function.avg",
        "summarize": "dql.function.avg",
        "makeTimeseries": "dql.function.expressionTimeseriesAvg",
        "timeseries": "dql.function.metricTimeseriesAvg",
    }
    for context, key in expected.items():
        found = cat.function("AVG", context)
        assert found is not None and found.key == key
    assert [f.key for f in cat.functions_named("avg")] == [
        "dql.function.avg",
        "dql.function.expressionTimeseriesAvg",
        "dql.function.metricTimeseriesAvg",
    ]
    metric = cat.function("avg", "timeseries")
    assert metric is not None
    assert metric.signatures[0].parameters[0].kinds == ("metricKey",)
    assert metric.parameter("rollup") is not None
    with pytest.raises(ValueError):
        cat.function("avg", "fieldsAdd")  # type: ignore[arg-type]


def test_scalar_functions_are_found_in_any_context(cat: Catalog) -> None:
    for context in (None, *FUNCTION_CONTEXTS):
        found = cat.function("abs", context)
        assert found is not None and not found.is_aggregation


def test_context_only_functions_fall_back(cat: Catalog) -> None:
    start = cat.function("start")
    assert start is not None and start.is_aggregation
    metric_start = cat.function("start", "timeseries")
    assert metric_start is not None and metric_start.key == "dql.function.metricTimeseriesStart"


def test_aggregation_categories(cat: Catalog) -> None:
    categories = {f.category: f.context for f in cat.functions if f.is_aggregation}
    assert categories == {
        "aggregation": "summarize",
        "expression timeseries": "makeTimeseries",
        "timeseries": "timeseries",
    }
    count = cat.function("count")
    assert count is not None and count.is_aggregation and count.category == "aggregation"
    upper = cat.function("upper")
    assert upper is not None and not upper.is_aggregation and upper.context is None


def test_parameter_function_context(cat: Catalog) -> None:
    contexts = {
        ("summarize", "aggregation"): "summarize",
        ("summarize", "by"): None,
        ("makeTimeseries", "aggregation"): "makeTimeseries",
        ("timeseries", "metric"): "timeseries",
        ("fieldsAdd", "expression"): None,
    }
    for (command_name, param_name), context in contexts.items():
        command = cat.command(command_name)
        assert command is not None
        param = command.parameter(param_name)
        assert param is not None and param.function_context == context


# --- did you mean ---------------------------------------------------------------


def test_suggest() -> None:
    commands = [c.name for c in get_catalog().commands]
    assert suggest("fitler", commands) == "filter"
    assert suggest("summarise", commands) == "summarize"
    assert suggest("fieldAdd", commands) == "fieldsAdd"
    assert suggest("FIELDSADD", commands) == "fieldsAdd"
    assert suggest("qwerty", commands) is None
    assert suggest("filter", []) is None


def test_catalog_suggestions(cat: Catalog) -> None:
    assert cat.suggest_function("matchesPhrse") == "matchesPhrase"
    assert cat.suggest_command("makeTimeserie") == "makeTimeseries"
    sort = cat.command("sort")
    assert sort is not None and sort.suggest_parameter("direcion") == "direction"
    with pytest.raises(DQLCatalogError) as info:
        cat.require_command("fitler")
    assert info.value.hint is not None and "'filter'" in info.value.hint
    with pytest.raises(DQLCatalogError):
        cat.require_function("nosuchthing")
    assert cat.require_function("COUNT", "makeTimeseries").key == (
        "dql.function.expressionTimeseriesCount"
    )


# --- snake_case names ---------------------------------------------------------------


def test_snake_case_examples() -> None:
    pairs = {
        "fieldsAdd": "fields_add",
        "makeTimeseries": "make_timeseries",
        "smartscapeNodes": "smartscape_nodes",
        "filterOut": "filter_out",
        "fetch": "fetch",
        "isIpV4": "is_ip_v4",
        "log10": "log10",
        "iAny": "i_any",
        "isNaN": "is_nan",
        "in": "in_",
        "if": "if_",
    }
    for camel, snake in pairs.items():
        assert snake_case(camel) == snake
        assert camel_from_snake(snake) == camel


@pytest.mark.parametrize("kind", ["commands", "functions"])
def test_snake_case_is_a_bijection(cat: Catalog, kind: str) -> None:
    names = {e.name for e in getattr(cat, kind)}
    snakes = {snake_case(n) for n in names}
    assert len(snakes) == len(names)
    for name in names:
        snake = snake_case(name)
        assert re.fullmatch(r"[a-z][a-z0-9_]*", snake), snake
        assert snake.isidentifier() and not keyword.iskeyword(snake)
        assert camel_from_snake(snake) == name
