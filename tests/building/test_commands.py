"""Every DQL command through the builder: one example per command, checked against the
parser and the canonical printer, plus the argument rules and their errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import dqlbuild
from dqlbuild import (
    F,
    Query,
    data,
    describe,
    dur,
    fetch,
    fields_snapshot,
    fn,
    lit,
    load,
    metrics,
    parse,
    smartscape_edges,
    smartscape_nodes,
    stage,
    timeseries,
    var,
)
from dqlbuild.ast.nodes import FieldRef, Named, String
from dqlbuild.building import START_FUNCTIONS
from dqlbuild.catalog import get_catalog, snake_case
from dqlbuild.errors import DQLCatalogError, DQLError, DQLSyntaxError, DQLValueError

LOGS = fetch("logs")

# command name -> (builder, the DQL it must equal, in canonical form)
EXAMPLES: dict[str, tuple[Callable[[], Query], str]] = {
    "fetch": (
        lambda: fetch("logs", from_=dur("-2h"), scan_limit_gbytes=100, bucket=["default_logs"]),
        'fetch logs, from: -2h, scanLimitGBytes: 100, bucket: {"default_logs"}',
    ),
    "data": (
        lambda: data(fn.record(a=1, b="x"), fn.record(a=2, b="y")),
        'data record(a = 1, b = "x"), record(a = 2, b = "y")',
    ),
    "timeseries": (
        lambda: timeseries(
            cpu=fn.avg(F("dt.host.cpu.usage"), rollup="max"),
            by=["dt.entity.host"],
            interval=dur("5m"),
        ),
        "timeseries cpu = avg(dt.host.cpu.usage, rollup: max), by: {dt.entity.host}, interval: 5m",
    ),
    "describe": (lambda: describe("dt.entity.host"), "describe dt.entity.host"),
    "load": (lambda: load("/lookups/hosts", offset=10), 'load "/lookups/hosts", offset: 10'),
    "metrics": (lambda: metrics(from_=dur("-1d")), "metrics from: -1d"),
    "smartscapeNodes": (lambda: smartscape_nodes("HOST"), "smartscapeNodes HOST"),
    "smartscapeEdges": (
        lambda: smartscape_edges(lit("runs_on"), from_=dur("-1h")),
        'smartscapeEdges "runs_on", from: -1h',
    ),
    "fieldsSnapshot": (lambda: fields_snapshot("logs"), "fieldsSnapshot logs"),
    "append": (
        lambda: LOGS.append_(fetch("events").fields("timestamp")),
        "fetch logs\n| append [fetch events | fields timestamp]",
    ),
    "dedup": (
        lambda: LOGS.dedup(["host.name"], sort=[F("timestamp").desc()]),
        "fetch logs\n| dedup {host.name}, sort: {timestamp desc}",
    ),
    "expand": (
        lambda: LOGS.expand(tag=F("tags"), limit=5),
        "fetch logs\n| expand tag = tags, limit: 5",
    ),
    "experimentalSave": (
        lambda: LOGS.experimental_save("/lookups/out", overwrite=True),
        'fetch logs\n| experimentalSave "/lookups/out", overwrite: true',
    ),
    "failIf": (
        lambda: LOGS.fail_if(F("count") > 100, lit("too many")),
        'fetch logs\n| failIf count > 100, "too many"',
    ),
    "fields": (
        lambda: LOGS.fields("timestamp", F("content"), level=fn.upper(F("loglevel"))),
        "fetch logs\n| fields timestamp, content, level = upper(loglevel)",
    ),
    "fieldsAdd": (
        lambda: LOGS.fields_add(total=F("a") + F("b"), ratio=F("a") / F("b")),
        "fetch logs\n| fieldsAdd total = a + b, ratio = a / b",
    ),
    "fieldsFlatten": (
        lambda: LOGS.fields_flatten("attributes", prefix="attr.", depth=2),
        'fetch logs\n| fieldsFlatten attributes, prefix: "attr.", depth: 2',
    ),
    "fieldsKeep": (
        lambda: LOGS.fields_keep("timestamp", lit("dt.*")),
        'fetch logs\n| fieldsKeep timestamp, "dt.*"',
    ),
    "fieldsRemove": (
        lambda: LOGS.fields_remove("content", '"k8s.*"'),
        'fetch logs\n| fieldsRemove content, "k8s.*"',
    ),
    "fieldsRename": (
        lambda: LOGS.fields_rename(host="host.name"),
        "fetch logs\n| fieldsRename host = host.name",
    ),
    "fieldsSummary": (
        lambda: LOGS.fields_summary("loglevel", top_values=3),
        "fetch logs\n| fieldsSummary loglevel, topValues: 3",
    ),
    "filter": (
        lambda: LOGS.filter((F("loglevel") == "ERROR") & F("content").search("*timeout*")),
        'fetch logs\n| filter loglevel == "ERROR" and content ~ "*timeout*"',
    ),
    "filterOut": (
        lambda: LOGS.filter_out(F("host.name").in_(["a", "b"])),
        'fetch logs\n| filterOut in(host.name, "a", "b")',
    ),
    "join": (
        lambda: LOGS.join(
            fetch("events").fields("id", "kind"), kind="inner", on=["id"], prefix="ev."
        ),
        'fetch logs\n| join [fetch events | fields id, kind], kind: inner, on: {id}, prefix: "ev."',
    ),
    "joinNested": (
        lambda: LOGS.join_nested(events="fetch events", on=["left[id] == right[id]"]),
        "fetch logs\n| joinNested events = [fetch events], on: {left[id] == right[id]}",
    ),
    "jsonExtract": (
        lambda: LOGS.json_extract("content", conflicts="overwrite"),
        "fetch logs\n| jsonExtract content, conflicts: overwrite",
    ),
    "limit": (lambda: LOGS.limit(10), "fetch logs\n| limit 10"),
    "lookup": (
        lambda: LOGS.lookup(
            fetch("hosts"),
            source_field="host.id",
            lookup_field="id",
            prefix="h.",
            execution_order="leftFirst",
        ),
        "fetch logs\n| lookup [fetch hosts], sourceField: host.id, lookupField: id,"
        ' prefix: "h.", executionOrder: leftFirst',
    ),
    "makeTimeseries": (
        lambda: LOGS.make_timeseries(
            errors=fn.countIf(F("loglevel") == "ERROR"), by=["host"], interval=dur("1m")
        ),
        'fetch logs\n| makeTimeseries errors = countIf(loglevel == "ERROR"), by: {host},'
        " interval: 1m",
    ),
    "parse": (
        lambda: LOGS.parse("content", "LD 'user=' LD:user", preserve_fields_on_failure=True),
        "fetch logs\n| parse content, \"LD 'user=' LD:user\", preserveFieldsOnFailure: true",
    ),
    "search": (
        lambda: LOGS.search(lit("timeout"), case_sensitive=False, scope="values"),
        'fetch logs\n| search "timeout", caseSensitive: false, scope: "values"',
    ),
    "sort": (
        lambda: LOGS.sort(F("timestamp").desc(), "host.name asc"),
        "fetch logs\n| sort timestamp desc, host.name asc",
    ),
    "summarize": (
        lambda: LOGS.summarize(n=fn.count(), p95=fn.percentile(F("duration"), 95), by=["host"]),
        "fetch logs\n| summarize n = count(), p95 = percentile(duration, 95), by: {host}",
    ),
    "traverse": (
        lambda: smartscape_nodes("SERVICE").traverse("calls", "SERVICE", direction="backward"),
        # The catalog writes this enum quoted (real queries also write it bare).
        'smartscapeNodes SERVICE\n| traverse calls, SERVICE, direction: "backward"',
    ),
}


def test_every_catalog_command_has_an_example() -> None:
    assert set(EXAMPLES) == {c.name for c in get_catalog().commands}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_command(name: str) -> None:
    build, expected = EXAMPLES[name]
    query = build()
    assert isinstance(query, Query)
    assert query == parse(expected)
    assert query.format(width=200) == expected
    assert query.commands[-1].name == name
    assert parse(query.to_source()) == query


def test_every_command_is_reachable_by_its_python_name() -> None:
    for command in get_catalog().commands:
        python_name = snake_case(command.name)
        if command.is_start:
            starter = START_FUNCTIONS[python_name]
            assert getattr(dqlbuild, python_name) is starter
            continue
        if python_name == "append":  # Query.append edits stages; the command is append_
            python_name = "append_"
        method = getattr(Query, python_name)
        built = method(fetch("logs"), "[fetch x]" if command.name in {"append"} else "x")
        assert built.commands[-1].name == command.name


def test_no_method_without_a_catalog_command() -> None:
    from dqlbuild.ast.pipeline_methods import PipelineMethods

    methods = {n.rstrip("_") for n in vars(PipelineMethods) if not n.startswith("_")}
    pipeline = {snake_case(c.name) for c in get_catalog().commands if not c.is_start}
    assert methods - {"pipe"} == pipeline


def test_start_functions_are_the_start_commands() -> None:
    starts = {snake_case(c.name) for c in get_catalog().commands if c.is_start}
    assert set(START_FUNCTIONS) == starts


def test_parsed_queries_have_the_pipeline_methods() -> None:
    query = parse("fetch logs").filter("a > 1").summarize(n=fn.count(), by=["host"])
    assert query == parse("fetch logs | filter a > 1 | summarize n = count(), by: {host}")


def test_the_model_version_example() -> None:
    q = (
        fetch("spans")
        .filter(F("gen_ai.system").is_not_null() & F("model.version").is_not_null())
        .summarize(versions=fn.collectDistinct(F("model.version")))
        .expand("versions")
    )
    assert q.format() == (
        "fetch spans\n"
        "| filter isNotNull(gen_ai.system) and isNotNull(model.version)\n"
        "| summarize versions = collectDistinct(model.version)\n"
        "| expand versions"
    )


def test_fetch_equals_parse() -> None:
    assert fetch("logs").limit(5) == parse("fetch logs | limit 5")
    assert type(fetch("logs")) is type(parse("fetch logs"))


# ------------------------------------------------------------------ what a str means
def test_str_is_dql_text_in_commands() -> None:
    q = fetch("logs").filter("duration > 1s and not isNull(x)")
    assert q == parse("fetch logs | filter duration > 1s and not isNull(x)")
    assert fetch("dt.entity.host") == parse("fetch dt.entity.host")
    # The value of an assignment keyword is text too.
    assert LOGS.fields_add(x="a + 1") == parse("fetch logs | fieldsAdd x = a + 1")


def test_str_text_is_one_argument_only() -> None:
    with pytest.raises(DQLSyntaxError):
        fetch("logs, from: -2h | fields a")
    with pytest.raises(DQLSyntaxError):
        LOGS.filter("a > 1 | fetch secrets")


def test_named_argument_given_as_text() -> None:
    q = fetch("logs", "from: -2h")
    assert q == parse("fetch logs, from: -2h")
    with pytest.raises(DQLCatalogError) as info:
        fetch("logs", "frm: -2h")
    assert info.value.hint == "did you mean 'from'?"


def test_catalog_string_parameters_take_the_str_as_value() -> None:
    # prefix, DPL patterns, bucket and file names are string constants, whatever they hold.
    q = LOGS.join(fetch("x"), on=["id"], prefix='r" | fetch secrets //')
    named = q.commands[-1].args[-1]
    assert named == Named(name="prefix", value=String(value='r" | fetch secrets //'))
    assert parse(q.format()) == q
    assert load('a"b').commands[0].args[0] == String(value='a"b')


def test_enum_parameters_take_their_values() -> None:
    # unquoted enum (kind: inner) and quoted enum (scope: "names"), any case
    join = LOGS.join(fetch("x"), on=["id"], kind="INNER").commands[-1]
    assert Named(name="kind", value=FieldRef(name="inner")) in join.args
    search = LOGS.search(lit("x"), scope="Names").commands[-1]
    assert Named(name="scope", value=String(value="names")) in search.args
    with pytest.raises(DQLValueError) as info:
        LOGS.join(fetch("x"), on=["id"], kind="innr")
    assert info.value.hint == "did you mean 'inner'?"


def test_subquery_parameters_take_query_text() -> None:
    with_brackets = LOGS.join("[fetch x | fields id]", on=["id"])
    without = LOGS.join("fetch x | fields id", on=["id"])
    built = LOGS.join(fetch("x").fields("id"), on=["id"])
    assert with_brackets == without == built
    with pytest.raises(DQLSyntaxError):
        LOGS.join("[fetch x] | fields a", on=["id"])


# ------------------------------------------------------------------ keywords
def test_keywords_are_parameters_or_assignments() -> None:
    q = LOGS.summarize(by_host=fn.count(), by=["host"])
    assert q == parse("fetch logs | summarize by_host = count(), by: {host}")
    # A field whose name is a parameter name: a dict (or .alias) makes the assignment.
    q = LOGS.summarize({"by": fn.count()}, by={"h": F("host.name")})
    assert q == parse("fetch logs | summarize by = count(), by: {h = host.name}")
    assert LOGS.summarize(fn.count().alias("by")) == parse("fetch logs | summarize by = count()")
    # The parameter that holds the assignments is not a keyword there.
    assert LOGS.fields_add(expression=1) == parse("fetch logs | fieldsAdd expression = 1")


def test_keyword_spelling() -> None:
    a = fetch("logs", from_=dur("-1h"), sampling_ratio=10)
    b = fetch("logs", **{"from": dur("-1h")}, samplingRatio=10)
    assert a == b == parse("fetch logs, from: -1h, samplingRatio: 10")
    # aliases keep their catalog spelling
    assert fetch(sourceId="logs") == parse("fetch sourceId: logs")


def test_unknown_keyword_on_a_command_without_assignments() -> None:
    with pytest.raises(DQLCatalogError) as info:
        LOGS.lookup(fetch("x"), source_feld="a", lookup_field="b")
    assert info.value.hint == "did you mean 'sourceField'?"
    assert isinstance(info.value, DQLError)
    assert "lookup" in str(info.value)


def test_pseudo_parameter_alias() -> None:
    q = LOGS.summarize(fn.count(), alias="n")
    assert q.commands[-1].args[-1] == Named(name="alias", value=FieldRef(name="n"))
    # a str is the field name as is, never text
    q = LOGS.summarize(fn.count(), alias="n or x")
    assert q.commands[-1].args[-1] == Named(name="alias", value=FieldRef(name="n or x"))


def test_lists_become_brace_groups_only_where_several_values_go() -> None:
    assert LOGS.summarize(fn.count(), by=("a", F("b"))) == parse(
        "fetch logs | summarize count(), by: {a, b}"
    )
    assert LOGS.dedup(["a", "b"]) == parse("fetch logs | dedup {a, b}")
    with pytest.raises(DQLValueError) as info:
        LOGS.limit([1, 2])
    assert info.value.hint == "use lit([...]) for an array value"
    with pytest.raises(DQLValueError):
        fetch("logs", from_=[1])
    assert LOGS.filter(F("a") == lit([1, 2])) == parse("fetch logs | filter a == array(1, 2)")


def test_assignments_only_where_the_command_takes_them() -> None:
    with pytest.raises(DQLValueError):
        LOGS.filter({"a": 1})
    with pytest.raises(DQLValueError):
        LOGS.filter(F("a").alias("b"))
    with pytest.raises(DQLValueError):
        LOGS.sort("a = 1")


def test_too_many_positional_arguments() -> None:
    with pytest.raises(DQLValueError, match="takes 1 positional argument"):
        LOGS.limit(1, 2)
    # named arguments in text take no positional slot
    assert LOGS.expand("tags", "limit: 3") == parse("fetch logs | expand tags, limit: 3")


def test_python_values_in_commands() -> None:
    assert LOGS.limit(5) == parse("fetch logs | limit 5")
    q = LOGS.filter(True).fields_add(none=None, neg=-1.5, d=dur(2, "h"))
    assert q == parse("fetch logs | filter true | fieldsAdd none = null, neg = -1.5, d = 2h")
    with pytest.raises(DQLValueError):
        LOGS.limit(object())
    with pytest.raises(DQLValueError):
        LOGS.filter(stage("limit", 1))


def test_pipe_and_stage() -> None:
    q = LOGS.pipe("filter_out", "a > 1").pipe("fieldsAdd", x=1)
    assert q == parse("fetch logs | filterOut a > 1 | fieldsAdd x = 1")
    # A command the catalog does not know: no checks, keywords are named parameters.
    q = LOGS.pipe("brandNew", "x", option=["a", "b"])
    assert q == parse("fetch logs | brandNew x, option: {a, b}")
    assert stage("limit", 3) == parse("limit 3").commands[0]
    with pytest.raises(DQLValueError):
        stage("not a name")
    with pytest.raises(DQLValueError):
        stage(3)  # type: ignore[arg-type]


def test_variables_in_commands() -> None:
    q = LOGS.filter(F("host").in_(var("Hosts"))).limit(var("Limit", modifier="noquote"))
    assert q == parse("fetch logs | filter in(host, $Hosts) | limit $Limit:noquote")
