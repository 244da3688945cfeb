"""check(): every diagnostic code, with a query that has it and a close one that does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dqlbuild import Command, FieldRef, Query, parse, parse_pipeline
from dqlbuild.analysis.checks import check
from dqlbuild.analysis.diagnostics import CODES, Diagnostic

# code -> (query with the problem, corrected query without it)
CASES: dict[str, tuple[str, str]] = {
    "DQL101": ("fetch logs | filtr a == 1", "fetch logs | filter a == 1"),
    "DQL122": ("fetch span | limit 1", "fetch spans | limit 1"),
    "DQL102": ('fetch logs | filter startWith(a, "x")', 'fetch logs | filter startsWith(a, "x")'),
    "DQL103": ("fetch logs, form: -2h", "fetch logs, from: -2h"),
    "DQL104": ("fetch logs, from: -2h, from: -1h", "fetch logs, from: -2h, to: -1h"),
    "DQL105": (
        "fetch logs | lookup [fetch dt.entity.host], sourceField: dt.entity.host",
        "fetch logs | lookup [fetch dt.entity.host], sourceField: dt.entity.host, lookupField: id",
    ),
    "DQL106": ("fetch logs | limit 10, 20", "fetch logs | limit 10"),
    "DQL107": (
        'fetch logs | fieldsAdd s = if(a > 1, "big", "small")',
        'fetch logs | fieldsAdd s = if(a > 1, "big", else: "small")',
    ),
    "DQL108": (
        "fetch logs | join [fetch spans], on: {trace.id}, kind: left",
        "fetch logs | join [fetch spans], on: {trace.id}, kind: leftOuter",
    ),
    "DQL109": ("filter a == 1 | limit 1", "fetch logs | filter a == 1 | limit 1"),
    "DQL110": ("fetch logs | fetch spans", "fetch logs | append [fetch spans]"),
    "DQL111": (
        "fetch logs | summarize count(), by: {h} | sort count() desc",
        "fetch logs | summarize count(), by: {h} | sort `count()` desc",
    ),
    "DQL112": ('fetch logs | filter loglevel = "ERROR"', 'fetch logs | filter loglevel == "ERROR"'),
    "DQL113": (
        "fetch spans | filter in(trace.id, [fetch logs | fields trace.id])",
        "fetch spans | filter trace.id in [fetch logs | fields trace.id]",
    ),
    "DQL114": (
        "fetch spans | filter trace.id in []",
        'fetch spans | filter in(trace.id, {"a", "b"})',
    ),
    "DQL115": (
        'fetch logs, from: -2h, timeframe: "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z"',
        'fetch logs, timeframe: "2024-01-01T00:00:00Z/2024-01-02T00:00:00Z"',
    ),
    "DQL116": ("fetch logs | limit n = 10", "fetch logs | limit 10"),
    "DQL117": (
        "fetch logs | joinNested [fetch spans], on: {trace.id}",
        "fetch logs | joinNested spans = [fetch spans], on: {trace.id}",
    ),
    "DQL118": (
        'fetch logs | filter contains(content, "err", false)',
        'fetch logs | filter contains(content, "err", caseSensitive: false)',
    ),
    "DQL121": (
        "fetch logs | summarize first(content)",
        "fetch logs | summarize takeFirst(content)",
    ),
    "DQL201": (
        'fetch logs | summarize c = count(), by: {host.name} | filter loglevel == "ERROR"',
        'fetch logs | filter loglevel == "ERROR" | summarize c = count(), by: {host.name}',
    ),
    "DQL301": ("fetch logs | filter host.name == $Hots", "fetch logs | filter host.name == $Host"),
    "DQL302": (
        'fetch logs | filter matchesPhrase(content, "$Hots")',
        'fetch logs | filter matchesPhrase(content, "$Host")',
    ),
    "DQL303": (
        "fetch logs | filter host.name == $Hosts",
        "fetch logs | filter in(host.name, array($Hosts))",
    ),
    "DQL304": (
        "fetch logs | filter in(host.name, $Hosts)",
        "fetch logs | filter in(host.name, array($Hosts))",
    ),
}
VARIABLES = ["Host", "Hosts"]
MULTI_SELECT = ["Hosts"]


def codes(text: str) -> list[str]:
    found = check(parse(text), defined_variables=VARIABLES, multi_select=MULTI_SELECT)
    return [d.code for d in found]


def test_every_code_has_a_case() -> None:
    assert set(CASES) == set(CODES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_code_is_reported(code: str) -> None:
    bad, _good = CASES[code]
    found = [
        d
        for d in check(parse(bad), defined_variables=VARIABLES, multi_select=MULTI_SELECT)
        if d.code == code
    ]
    assert len(found) == 1
    assert found[0].severity == CODES[code].severity
    assert found[0].span is not None


@pytest.mark.parametrize("code", sorted(CASES))
def test_corrected_query_is_clean(code: str) -> None:
    _bad, good = CASES[code]
    assert codes(good) == []


def test_messages_and_hints() -> None:
    (found,) = check(parse("fetch logs | filtr a == 1"))
    assert found.message == "unknown command `filtr`"
    assert found.hint == "did you mean `filter`?"
    assert (found.line, found.column) == (1, 14)
    (found,) = check(parse('fetch logs | filter loglevel = "ERROR"'))
    assert found.hint == 'write `loglevel == "ERROR"`'
    (found,) = check(parse("fetch logs | fields level: loglevel, content"))
    assert found.code == "DQL103"
    assert found.hint == "to name a value, write `level = ...`"
    (found,) = check(parse("fetch logs, form: -2h"))
    assert found.hint == "did you mean `from:`?"
    # The missing value of `fieldsAdd a: 1` is the misused name: one finding, not two.
    assert codes("fetch logs | fieldsAdd a: 1") == ["DQL103"]
    (found,) = check(parse("fetch logs | filter in(x)"))
    assert found.code == "DQL105"
    assert found.hint is not None and "in(x, array($V))" in found.hint


def test_subquery_must_begin_with_a_start_command() -> None:
    found = check(parse("fetch logs | append [filter a == 1]"))
    assert [d.code for d in found] == ["DQL109"]
    assert "a subquery" in found[0].message


def test_fragment_may_begin_with_any_command() -> None:
    fragment = parse_pipeline('| parse content, "LD:x" | fieldsAdd y = x')
    assert check(fragment, fragment=True) == []
    assert [d.code for d in check(fragment)] == ["DQL109"]


def test_aggregation_context_follows_the_parameter() -> None:
    # Scalar calls around an aggregation keep its context; by: is not an aggregation.
    assert codes("fetch logs | summarize r = toDouble(count()) / 2, by: {h}") == []
    assert codes("fetch logs | summarize count(), by: {m = max(x)}") == ["DQL111"]
    # An entry of another context: summarize-only functions in makeTimeseries.
    assert codes("fetch logs | makeTimeseries collectDistinct(h)") == ["DQL111"]
    assert codes("timeseries avg(dt.host.cpu.usage, rollup: max)") == []
    assert codes("fetch logs | makeTimeseries avg(duration), by: {h}") == []


def test_undocumented_alias_is_checked_as_its_function() -> None:
    (found,) = check(parse("fetch logs | summarize FIRST(content)"))
    assert (found.code, found.severity) == ("DQL121", "info")
    # Known names are stored in catalog case, aliases too (`FIRST` parses as `first`).
    assert found.message == "`first()` is not a documented DQL function"
    assert found.hint == "the documented name is `takeFirst()`"
    # Out of its context it is the aggregation takeFirst() is (this used to crash).
    found = check(parse("fetch logs | fieldsAdd y = first(x)"))
    assert [d.code for d in found] == ["DQL121", "DQL111"]
    assert found[1].hint is not None and found[1].hint.startswith("it belongs in summarize")
    assert codes("fetch logs | summarize first(a, b)") == ["DQL121", "DQL106"]


def test_enum_values_accept_identifier_and_string_forms() -> None:
    assert codes('fetch logs | sort a, direction: "descending"') == []
    assert codes("fetch logs | join [fetch spans], on: {k}, kind: leftOuter") == []
    assert codes('fetch logs | join [fetch spans], on: {k}, kind: "leftOuter"') == []
    assert codes("timeseries avg(m), rollup: avg") == []
    assert codes('smartscapeNodes HOST | traverse runs_on, SERVICE, direction: "sideways"') == [
        "DQL108"
    ]


def test_condition_assignment_in_functions() -> None:
    assert codes('fetch logs | fieldsAdd x = if(a = 1, "y", else: "n")') == ["DQL112"]
    assert codes("fetch logs | summarize countIf(a = 1)") == ["DQL112"]
    assert codes("data record(a = 1, b = 2)") == []


def test_removed_field_only_in_closed_sets() -> None:
    # After fetch every field may exist: nothing to say.
    assert codes("fetch logs | filter anything == 1") == []
    # A field that never existed is not "removed" (the flow may not know it).
    assert codes("data record(a = 1) | filter b == 1") == []
    found = check(parse("fetch logs\n| fields a, b\n| sort c"))
    assert [d.code for d in found] == ["DQL201"]
    assert found[0].message == "field `c` does not exist here: `fields` (line 2) removed it"
    # Fields on the other side of a lookup or join are not input references.
    assert (
        codes(
            "data record(k = 1) | lookup [data record(id = 1, n = 2)], sourceField: k,"
            " lookupField: id, fields: {n}"
        )
        == []
    )
    # A renamed field is gone, its new name exists.
    assert codes("data record(a = 1) | fieldsRename b = a | filter b == 1") == []
    assert codes("data record(a = 1) | fieldsRename b = a | filter a == 1") == ["DQL201"]


def test_variables_are_checked_only_when_defined_names_are_given() -> None:
    query = parse("fetch logs | filter a == $X and b == $dt_timeframe_from")
    assert check(query) == []
    assert [d.code for d in check(query, defined_variables=[])] == ["DQL301"]
    assert check(query, defined_variables=["X"]) == []
    assert check(query, defined_variables="X") == []


def test_in_string_variable_boundaries() -> None:
    query = parse('fetch logs | filter contains(a, "$Service and $Services")')
    found = check(query, defined_variables=["Service"])
    assert [d.message.split()[0] for d in found] == ["`$Services`"]


def test_diagnostics_are_sorted_and_serialisable() -> None:
    found = check(parse("fetch logs | filtr a | limit n = 1 | frob"))
    assert [d.code for d in found] == ["DQL101", "DQL116", "DQL101"]
    assert [d.span.start for d in found if d.span] == sorted(d.span.start for d in found if d.span)
    record = found[0].to_dict()
    assert json.loads(json.dumps(record))["code"] == "DQL101"
    assert str(found[0]).startswith("1:14: error: unknown command `filtr` [DQL101]")


def test_diagnostic_is_frozen() -> None:
    found = Diagnostic("DQL101", "error", "m")
    with pytest.raises(AttributeError):
        found.code = "x"  # type: ignore[misc]


def test_docs_describe_every_code() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "checks.md"
    text = docs.read_text(encoding="utf-8")
    for code in [*CODES, "DQL001"]:
        assert f"## {code}" in text, code


def test_built_queries_without_positions() -> None:
    query = Query(
        commands=(Command(name="fetch", args=(FieldRef(name="logs"),)), Command(name="filtr"))
    )
    (found,) = check(query)
    assert found.code == "DQL101" and found.span is None and found.line is None
    assert str(found) == "error: unknown command `filtr` [DQL101] (did you mean `filter`?)"


def test_data_objects_come_from_the_catalog() -> None:
    (found,) = check("fetch span")
    assert (found.code, found.severity) == ("DQL122", "warning")
    assert found.message == "unknown data object `span`"
    assert found.hint == "did you mean `spans`?"
    # Names compare ignoring case; families take any member; strings and `describe` count.
    for text in ("fetch bizEvents", "fetch dt.entity.host", "fetch `dt.entity.sql:db`"):
        assert codes(text) == [], text
    assert codes('fetch "logs"') == []
    assert codes("describe logz") == ["DQL122"]
    # A variable is not judged; a data object named like a command gets a pointed hint.
    assert check("fetch $Source") == []
    (metrics,) = check("fetch metrics")
    assert metrics.hint == "`metrics` is a command: begin the query with it instead of `fetch`"
    (other,) = check("fetch zzzzzz")
    assert other.hint is not None and other.hint.startswith("known data objects: logs, ")
    assert other.hint.endswith("dt.entity.*")


def test_the_aggregation_hint_shows_the_field_name_in_backticks() -> None:
    (found,) = check("fetch logs | summarize count(), by: {h} | sort count() desc")
    assert found.code == "DQL111"
    assert found.hint is not None
    assert found.hint.endswith("to read the field it named, write `` `count()` ``")


def test_check_and_analyze_accept_text() -> None:
    from dqlbuild import analyze
    from dqlbuild.errors import DQLSyntaxError, DQLTypeError

    assert [d.code for d in check("fetch logs | filtr a == 1")] == ["DQL101"]
    assert check("| fields a | filtr b", fragment=True)[0].code == "DQL101"
    assert analyze("fetch logs | fields a, b").fields_after.names == {"a", "b"}
    with pytest.raises(DQLSyntaxError):
        check("fetch logs |")
    with pytest.raises(DQLTypeError):
        check(123)  # type: ignore[arg-type]
    with pytest.raises(DQLTypeError):
        analyze(b"fetch logs")  # type: ignore[arg-type]


def test_entity_selector_is_an_undocumented_alias() -> None:
    text = 'fetch dt.entity.host | filter in(id, entitySelector("type(host)"))'
    (found,) = check(text)
    assert (found.code, found.hint) == (
        "DQL121",
        "the documented name is `classicEntitySelector()`",
    )


def test_variables_are_found_however_the_query_was_made() -> None:
    # Text without `$` is not walked; an escape or an edit still gets its variables seen.
    assert check("fetch logs | filter a == 1", defined_variables=[]) == []
    (escaped,) = check('fetch logs | filter a == "\\u0024Host"', defined_variables=[])
    assert escaped.code == "DQL302"
    edited = parse("fetch logs").insert(1, "filter a == $Y")
    assert [d.code for d in check(edited, defined_variables=[])] == ["DQL301"]
    built = Query(commands=(Command(name="fetch", args=(FieldRef(name="logs"),)),))
    assert check(built, defined_variables=[]) == []
