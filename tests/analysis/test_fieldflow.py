"""Field flow per command (DQL_SPEC §3.5): one case at least for each of the 34 commands."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dqlbuild import parse, parse_pipeline
from dqlbuild.analysis import FieldSet, QueryFlow, StageFlow, analyze
from dqlbuild.catalog import get_catalog
from dqlbuild.errors import DQLValueError


@dataclass(frozen=True)
class Case:
    """Expected effect of the last stage of ``query``."""

    query: str
    names: set[str]
    open: bool = False
    created: set[str] | None = None
    removed: set[str] | None = None
    renamed: tuple[tuple[str, str], ...] = ()
    resets: bool = False
    row_changing: bool = False
    source: str | None = None
    patterns: set[str] | None = None


CASES: dict[str, Case] = {
    "fetch": Case("fetch logs, from: -2h", set(), open=True, resets=True, source="logs"),
    "fetch-backticked": Case(
        "fetch `dt.entity.host`", set(), open=True, resets=True, source="dt.entity.host"
    ),
    "data": Case(
        "data record(a = 1, b = 2), record(a = 3, c = x + 1)",
        {"a", "b", "c"},
        created={"a", "b", "c"},
        resets=True,
    ),
    "data-unassigned": Case(
        "data record(a = 1, b, toString(c))", {"a", "b", "toString(c)"}, resets=True
    ),
    "data-json": Case(
        'data json: """[{"a": 1}, {"b": 2}]"""', {"a", "b"}, created={"a", "b"}, resets=True
    ),
    "data-json-unknown": Case("data json: $Json", set(), open=True, resets=True),
    "describe": Case("describe logs", set(), open=True, resets=True, source="logs"),
    "load": Case('load "/lookups/hosts"', set(), open=True, resets=True, source="/lookups/hosts"),
    "metrics": Case("metrics", set(), open=True, resets=True, source=None),
    "fieldsSnapshot": Case(
        "fieldsSnapshot logs, by: {dt.system.bucket}", set(), open=True, resets=True, source="logs"
    ),
    "smartscapeNodes": Case('smartscapeNodes "HOST"', set(), open=True, resets=True, source="HOST"),
    "smartscapeEdges": Case(
        "smartscapeEdges runs_on", set(), open=True, resets=True, source="runs_on"
    ),
    "timeseries": Case(
        "timeseries cpu = avg(dt.host.cpu.usage), max(dt.host.cpu.usage), by: {dt.entity.host}",
        {"cpu", "max(dt.host.cpu.usage)", "dt.entity.host", "timeframe", "interval"},
        resets=True,
        source="dt.host.cpu.usage",
    ),
    "timeseries-alias-group": Case(
        "timeseries { {p50 = median(x), p90 = percentile(x, 90)}, filter: {le != 1} },"
        " by: {{k8s.cluster.name, alias: cluster}}",
        {"p50", "p90", "cluster", "timeframe", "interval"},
        resets=True,
        source="x",
    ),
    "summarize": Case(
        "fetch logs | summarize c = count(), avg(duration), by: {h = host.name, loglevel}",
        {"c", "avg(duration)", "h", "loglevel"},
        created={"c", "avg(duration)", "h", "loglevel"},
        resets=True,
        row_changing=True,
    ),
    "summarize-alias-after-named": Case(
        "fetch logs | summarize count(), by: {bin(timestamp, 1d)}, alias: n",
        {"n", "bin(timestamp, 1d)"},
        resets=True,
        row_changing=True,
    ),
    "summarize-alias-after-group": Case(
        "fetch logs | summarize {percentile(d, 75)}, alias: p75, by: {page}",
        {"p75", "page"},
        resets=True,
        row_changing=True,
    ),
    "summarize-by-only": Case(
        "fetch logs | summarize by: {host.name}", {"host.name"}, resets=True, row_changing=True
    ),
    "makeTimeseries": Case(
        'fetch logs | makeTimeseries count(), errors = countIf(loglevel == "ERROR"),'
        " by: {host.name}, interval: 1m",
        {"count()", "errors", "host.name", "timeframe", "interval"},
        resets=True,
        row_changing=True,
    ),
    "fields": Case(
        "fetch logs | fields timestamp, sev = loglevel, lower(content)",
        {"timestamp", "sev", "lower(content)"},
        created={"sev", "lower(content)"},
        resets=True,
    ),
    "fieldsAdd": Case(
        "data record(a = 1) | fieldsAdd b = a + 1, a * 2, a",
        {"a", "b", "a * 2"},
        created={"b", "a * 2"},
    ),
    "fieldsAdd-alias": Case(
        "data record(a = 1) | fieldsAdd substring(a, from: 0), alias: `app ID`",
        {"a", "app ID"},
        created={"app ID"},
    ),
    "fieldsKeep-closed": Case(
        'data record(a = 1, ab = 2, b = 3) | fieldsKeep b, "a*"', {"a", "ab", "b"}, resets=True
    ),
    "fieldsKeep-pattern-narrows": Case(
        'data record(a = 1, ab = 2, b = 3) | fieldsKeep "a*"', {"a", "ab"}, resets=True
    ),
    "fieldsKeep-open": Case(
        'fetch logs | fieldsKeep timestamp, "dt.*"', {"timestamp"}, resets=True, patterns={"dt.*"}
    ),
    "fieldsRemove-closed": Case(
        'data record(a = 1, ab = 2, b = 3) | fieldsRemove b, "a*"',
        set(),
        removed={"a", "ab", "b"},
    ),
    "fieldsRemove-open": Case(
        'fetch logs | fieldsRemove content, "dt.*"', set(), open=True, removed={"content"}
    ),
    "fieldsRename": Case(
        "data record(a = 1, b = 2) | fieldsRename x = a, y = b",
        {"x", "y"},
        renamed=(("a", "x"), ("b", "y")),
    ),
    "fieldsRename-alias": Case(
        "data record(a = 1) | fieldsRename a, alias: x", {"x"}, renamed=(("a", "x"),)
    ),
    "fieldsRename-pairs": Case(
        "data record(a = 1, b = 2) | fieldsRename a, x, b, y",
        {"x", "y"},
        renamed=(("a", "x"), ("b", "y")),
    ),
    "fieldsFlatten": Case(
        "data record(r = record(k = 1)) | fieldsFlatten r", {"r"}, patterns={"r.*"}
    ),
    "fieldsFlatten-prefix": Case(
        'data record(r = record(k = 1)) | fieldsFlatten r, prefix: "p."', {"r"}, patterns={"p.*"}
    ),
    "fieldsFlatten-fields": Case(
        "data record(r = record(k = 1, m = 2)) | fieldsFlatten r, fields: {k, n = m}",
        {"r", "k", "n"},
        created={"k", "n"},
    ),
    "fieldsSummary": Case(
        "fetch logs | fieldsSummary loglevel, topValues: 5",
        {"field", "rawCount", "count", "values"},
        resets=True,
        row_changing=True,
    ),
    "filter": Case("data record(a = 1) | filter a > 0", {"a"}),
    "filterOut": Case("data record(a = 1) | filterOut a > 0", {"a"}),
    "search": Case('data record(a = "x") | search "x"', {"a"}),
    "sort": Case("data record(a = 1) | sort a desc", {"a"}),
    "limit": Case("data record(a = 1) | limit 5", {"a"}, row_changing=True),
    "dedup": Case("data record(a = 1) | dedup a, sort: {a desc}", {"a"}, row_changing=True),
    "failIf": Case('data record(a = 1) | failIf a > 1, "too big"', {"a"}),
    "experimentalSave": Case('data record(a = 1) | experimentalSave "t"', {"a"}),
    "expand": Case("data record(a = array(1, 2)) | expand a", {"a"}, row_changing=True),
    "expand-named": Case(
        "data record(a = array(1, 2)) | expand e = a, limit: 1",
        {"a", "e"},
        created={"e"},
        row_changing=True,
    ),
    "expand-alias": Case(
        "data record(a = array(1)) | expand a, alias: e",
        {"a", "e"},
        created={"e"},
        row_changing=True,
    ),
    "expand-computed": Case(
        'data record(a = "x,y") | expand splitString(a, ",")',
        {"a", 'splitString(a, ",")'},
        created={'splitString(a, ",")'},
        row_changing=True,
    ),
    "parse": Case(
        "data record(c = \"\") | parse c, \"INT:status ' ' LD:http.method KVP{LD:k '=' LD:v}:kv\"",
        {"c", "status", "http.method", "kv"},
        created={"status", "http.method", "kv"},
    ),
    "parse-unknown-pattern": Case("data record(c = 1) | parse c, $Pattern", {"c"}, open=True),
    "jsonExtract": Case(
        'data record(j = "{}") | jsonExtract j, conflicts: clash',
        {"j", "clash"},
        open=True,
        created={"clash"},
    ),
    "append": Case(
        "data record(a = 1) | append [data record(b = 2)]",
        {"a", "b"},
        created={"b"},
        row_changing=True,
    ),
    "join": Case(
        "data record(k = 1, a = 1) | join [data record(k = 1, b = 2)], on: {k}",
        {"k", "a", "right.k", "right.b"},
        created={"right.k", "right.b"},
        row_changing=True,
    ),
    "join-prefix-open": Case(
        'data record(k = 1) | join [fetch logs], on: {k}, prefix: "r_"',
        {"k"},
        row_changing=True,
        patterns={"r_*"},
    ),
    "join-fields": Case(
        "data record(k = 1) | join [data record(k = 1, b = 2)], on: {k}, fields: {b, c = k}",
        {"k", "b", "c"},
        created={"b", "c"},
        row_changing=True,
    ),
    "joinNested": Case(
        "data record(k = 1) | joinNested rs = [data record(k = 1)], on: {k}",
        {"k", "rs"},
        created={"rs"},
    ),
    "lookup": Case(
        "data record(k = 1, lookup.old = 0)"
        ' | lookup [data record(id = 1, name = "n")], sourceField: k, lookupField: id',
        {"k", "lookup.id", "lookup.name"},
        created={"lookup.id", "lookup.name"},
        removed={"lookup.old"},
        row_changing=True,
    ),
    "lookup-prefix-fields": Case(
        'data record(k = 1) | lookup [data record(id = 1, name = "n")],'
        " sourceField: k, lookupField: id, fields: {name, i = id}",
        {"k", "name", "i"},
        created={"name", "i"},
        row_changing=True,
    ),
    "traverse": Case(
        'smartscapeNodes "HOST" | traverse runs_on, SERVICE, fieldsKeep: {name, "tag*"}',
        {"dt.traverse.history", "name"},
        open=True,
        resets=True,
        row_changing=True,
        patterns={"tag*"},
    ),
}


def last_stage(text: str) -> StageFlow:
    return analyze(parse(text)).stages[-1]


@pytest.mark.parametrize("name", sorted(CASES))
def test_command_field_flow(name: str) -> None:
    case = CASES[name]
    stage = last_stage(case.query)
    after = stage.fields_after
    assert set(after.names) == case.names
    assert after.open is case.open
    assert stage.resets is case.resets
    assert stage.row_changing is case.row_changing
    assert stage.renamed == case.renamed
    if case.created is not None:
        assert set(stage.created) == case.created
    if case.removed is not None:
        assert set(stage.removed) == case.removed
    if case.patterns is not None:
        assert set(after.patterns) == case.patterns
    if stage.is_start:
        assert stage.source == case.source


def test_every_catalog_command_has_a_case() -> None:
    covered = {case.query.split("|")[-1].split()[0] for case in CASES.values()}
    assert {c.name for c in get_catalog().commands} <= covered


def test_fields_before_follows_the_stages() -> None:
    flow = analyze(parse("data record(a = 1) | fieldsAdd b = 2 | fields b"))
    assert flow.fields_before(0) == FieldSet()
    assert flow.fields_before(1).names == {"a"}
    assert flow.fields_before(2).names == {"a", "b"}
    assert flow.fields_before(3).names == {"b"}
    assert flow.fields_after.names == {"b"}
    with pytest.raises(DQLValueError):
        flow.fields_before(4)


def test_field_set_may_contain() -> None:
    assert FieldSet(frozenset({"a"})).may_contain("a")
    assert not FieldSet(frozenset({"a"})).may_contain("b")
    assert FieldSet(open=True).may_contain("anything")
    assert FieldSet(patterns=frozenset({"lookup.*"})).may_contain("lookup.x")
    assert "a" in FieldSet(frozenset({"a"}))


def test_pipeline_fragment_starts_open() -> None:
    flow = analyze(parse_pipeline("| fieldsAdd x = 1"))
    assert flow.input.open
    assert flow.fields_after.may_contain("content")
    assert flow.fields_after.names == {"x"}


def test_unknown_command_opens_the_field_set() -> None:
    stage = last_stage("data record(a = 1) | frobnicate a")
    assert not stage.known
    assert stage.fields_after.open
    assert stage.fields_after.names == {"a"}
    assert stage.row_changing


def test_subqueries_in_source_order() -> None:
    query = parse(
        "data record(k = 1) | filter k in [data record(k = 1)]"
        " and isNotNull(lookup([data record(id = 2)], lookupField: id))"
    )
    stage = analyze(query).stages[1]
    assert [s.fields_after.names for s in stage.subqueries] == [{"k"}, {"id"}]
    assert [s.block is not None and s.block.span is not None for s in stage.subqueries] == [
        True,
        True,
    ]
    assert analyze(query).block is None
    nested = analyze(
        parse("data record(a = 1) | append [data record(b = 1) | filter b in [data record(b = 1)]]")
    )
    flows = list(nested.flows())
    assert len(flows) == 3
    assert isinstance(flows[1], QueryFlow)
    assert flows[2].stages[0].command.name == "data"


def test_start_command_mid_pipeline_resets() -> None:
    stage = last_stage("data record(a = 1) | fetch logs")
    assert stage.resets and stage.fields_after.open
    assert stage.drops("a")


def test_drops_and_creates() -> None:
    flow = analyze(
        parse(
            'fetch logs | fieldsRename msg = content | fieldsRemove "tmp.*"'
            " | summarize c = count(), by: {host}"
            " | lookup [fetch dt.entity.host], sourceField: host, lookupField: id"
        )
    )
    rename, remove, summarize, lookup = flow.stages[1:]
    assert rename.drops("content") and rename.creates("msg") and not rename.drops("msg")
    assert remove.drops("tmp.x") and not remove.drops("msg")
    assert summarize.drops("msg") and not summarize.drops("host") and summarize.creates("c")
    assert lookup.creates("lookup.entity.name") and lookup.drops("lookup.old")
    assert not lookup.drops("host")


def test_traverse_drops_source_fields_although_open() -> None:
    stage = last_stage('smartscapeNodes "HOST" | traverse runs_on, SERVICE, fieldsKeep: {name}')
    assert stage.drops("tags") and not stage.drops("name")


def test_data_record_with_a_misused_name_is_open() -> None:
    stage = last_stage("data record(code: 200, label = 1)")
    assert stage.fields_after.open and stage.fields_after.names == {"label"}


@pytest.mark.parametrize("build", [parse, lambda text: parse(text).insert(1, "sort a")])
def test_blocks_and_named_arguments_of_parsed_and_edited_stages(build: object) -> None:
    # Parsed stages without ':' and '[' in their text are not walked; the result is the
    # same as for stages that are (the edited query's stages are copies: walked).
    text = (
        "fetch logs | filter a == 1 | lookup [fetch x | filter b > 0], sourceField: a, "
        'lookupField: a | summarize countIf(c, filter: d == "x:y"), by: {a}'
    )
    flow = analyze(build(text))  # type: ignore[operator]
    by_name = {stage.command.name: stage for stage in flow.stages}
    assert by_name["filter"].named == () and by_name["filter"].subqueries == ()
    assert [n.name for n in by_name["lookup"].named] == ["sourceField", "lookupField"]
    assert len(by_name["lookup"].subqueries) == 1
    assert [n.name for n in by_name["summarize"].named] == ["filter", "by"]
    assert by_name["summarize"].bound is not None  # bound on first use
