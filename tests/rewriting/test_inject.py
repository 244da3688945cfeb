"""Filter injection: the API, the rules beyond the fixtures, and properties."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dqlbuild import Block, FieldRef, Node, Query, parse, parse_expression
from dqlbuild.analysis.fieldflow import analyze
from dqlbuild.errors import DQLSyntaxError, DQLValueError
from dqlbuild.rewriting.inject import PLACEMENTS, Placement, inject_filter, inject_filter_text
from dqlbuild.rewriting.variables import variable_filter


@dataclass(frozen=True)
class Proxy:
    """Stands for a builder proxy: anything with a ``.node``."""

    node: Node


# ---------------------------------------------------------------- conditions
@pytest.mark.parametrize(
    "condition",
    [
        "svc == $Svc",
        parse_expression("svc == $Svc"),
        Proxy(parse_expression("svc == $Svc")),
        variable_filter("svc", "Svc"),
    ],
    ids=["text", "node", "proxy", "variable_filter"],
)
def test_condition_forms(condition: object) -> None:
    result = inject_filter(parse("fetch logs | limit 5"), condition)
    assert result.query == parse("fetch logs | filter svc == $Svc | limit 5")
    assert result.status == "filtered"


def test_an_assignment_is_not_a_condition() -> None:
    with pytest.raises(DQLValueError, match="=="):
        inject_filter("fetch logs", "svc = 1")


@pytest.mark.parametrize("condition", ["by: {a}", "a desc", 5.0, None])
def test_other_things_are_not_conditions(condition: object) -> None:
    with pytest.raises(DQLValueError):
        inject_filter("fetch logs", condition)


def test_a_condition_that_does_not_parse() -> None:
    with pytest.raises(DQLSyntaxError):
        inject_filter("fetch logs", "svc ==")


def test_an_unknown_placement() -> None:
    with pytest.raises(DQLValueError, match="placement"):
        inject_filter("fetch logs", "a == 1", placement="middle")  # type: ignore[arg-type]


def test_an_empty_query() -> None:
    with pytest.raises(DQLValueError, match="no stages"):
        inject_filter(Query(), "a == 1")


def test_a_stage_that_removes_a_field_stops_the_filter() -> None:
    result = inject_filter("fetch logs | fields a", "b == 1 and c == 2", placement="end")
    assert result.reason == (
        "`fields` (stage 2) removes `b`, `c`, so a filter after it would not restrict the "
        "records the query reads"
    )


def test_the_query_may_be_text_or_a_query() -> None:
    assert inject_filter("fetch logs", "a == 1").query == parse("fetch logs | filter a == 1")
    with pytest.raises(DQLValueError):
        inject_filter(42, "a == 1")  # type: ignore[arg-type]


# ---------------------------------------------------------------- results
def test_result_reports_every_execution_block() -> None:
    result = inject_filter(
        "fetch logs | append [fetch logs | lookup [data record(id = 1)], sourceField: id, "
        "lookupField: id] | filter env in [fetch logs | fields env]",
        "env == $Env",
    )
    statuses = [r.pipeline_status for r in result.results()]
    assert statuses == ["filtered", "filtered", "skipped", "filtered"]
    [append, in_block] = result.subqueries
    assert [r.status for r in append.subqueries] == ["skipped"]
    # `env in [...]` compares `env` with the block's only field: filtering it is neutral.
    assert in_block.query == parse("fetch logs | filter env == $Env | fields env")
    assert result.changed and result.status == "filtered"


def test_nothing_changed() -> None:
    result = inject_filter("data record(a = 1)", "a == 1")
    assert (result.status, result.changed) == ("skipped", False)
    assert result.text == "data record(a = 1)"


def test_the_text_of_an_ast_level_result_is_minimal_too() -> None:
    result = inject_filter(parse("fetch logs  // all\n|  limit 5"), "a == 1")
    assert result.text == "fetch logs  // all\n| filter a == 1\n|  limit 5"


def test_the_condition_is_parenthesised_only_where_needed() -> None:
    result = inject_filter_text("timeseries avg(m), filter: a or b, by: {c, d}", "c or d")
    assert result.text == "timeseries avg(m), filter: (a or b) and (c or d), by: {c, d}"
    result = inject_filter_text("timeseries avg(m), filter: a and b, by: {c}", "c == 1")
    assert result.text == "timeseries avg(m), filter: a and b and c == 1, by: {c}"


def test_already_filtered_on_a_conjunct_of_a_timeseries_filter() -> None:
    result = inject_filter("timeseries avg(m), filter: a == 1 and in(h, array($H))", "b == $H")
    assert result.status == "already-filtered"


def test_a_filter_inside_an_aggregation_is_not_the_commands_filter() -> None:
    result = inject_filter_text("timeseries sum(m, filter: ok == true), by: {h}", "h == $H")
    assert result.text == "timeseries sum(m, filter: ok == true), by: {h}, filter: h == $H"


def test_the_variable_inside_a_string_counts_as_filtered() -> None:
    result = inject_filter('fetch logs | filter contains(content, "$Svc")', "svc == $Svc")
    assert result.status == "already-filtered"


def test_using_the_variable_outside_a_filter_does_not_count() -> None:
    result = inject_filter("fetch logs | fieldsAdd s = $Svc", "svc == $Svc")
    assert result.status == "filtered"


def test_a_field_of_a_subquery_in_the_condition_is_not_the_querys_field() -> None:
    # `x` is needed; `y` belongs to the execution block of the condition.
    result = inject_filter(
        "fetch logs | fields x", "x in [fetch spans | fields y]", into_subqueries=False
    )
    assert result.query == parse("fetch logs | filter x in [fetch spans | fields y] | fields x")


def test_a_condition_with_a_subquery_is_idempotent() -> None:
    # The condition's own execution block is not a subquery to filter.
    condition = "x in [fetch spans | fields x]"
    first = inject_filter_text("fetch logs | append [fetch logs]", condition)
    assert first.text == (
        "fetch logs | filter x in [fetch spans | fields x] "
        "| append [fetch logs | filter x in [fetch spans | fields x]]"
    )
    second = inject_filter_text(first.text, condition)
    assert second.text == first.text
    assert [r.pipeline_status for r in second.results()] == ["already-filtered"] * 2


def test_the_latest_creator_wins() -> None:
    result = inject_filter(
        "fetch logs | fieldsAdd s = 1 | fieldsAdd t = 2 | fieldsAdd s = s + t", "s == 3"
    )
    assert result.query == parse(
        "fetch logs | fieldsAdd s = 1 | fieldsAdd t = 2 | fieldsAdd s = s + t | filter s == 3"
    )


def test_an_append_is_not_a_creator() -> None:
    # The appended records get the filter in their own subquery.
    result = inject_filter("fetch logs | append [fetch logs | fields svc]", "svc == $S")
    assert result.query == parse(
        "fetch logs | filter svc == $S | append [fetch logs | filter svc == $S | fields svc]"
    )


def test_data_object_matches_exactly() -> None:
    result = inject_filter("fetch dt.entity.host", "a == 1", data_object="dt.entity")
    assert result.status == "skipped"
    assert "not `fetch dt.entity`" in result.reason


def test_placement_source_on_timeseries_uses_the_filter_parameter() -> None:
    result = inject_filter("timeseries avg(m), by: {h}", "h == $H", placement="source")
    assert result.query == parse("timeseries avg(m), by: {h}, filter: h == $H")


def test_placement_end_on_a_skipped_source() -> None:
    result = inject_filter("describe logs", "a == 1", placement="end")
    assert result.status == "skipped"


def test_the_edited_text_is_checked() -> None:
    # The result parses back to exactly the AST-level result.
    result = inject_filter_text("fetch logs\n// end\n", "a == 1")
    assert parse(result.text) == result.query


# ---------------------------------------------------------------- properties
STAGES = [
    'filter loglevel == "ERROR"',
    'filterOut contains(content, "x")',
    "fieldsAdd svc = lower(service)",
    'parse content, "LD:svc"',
    "fieldsRemove svc",
    "fieldsRename svc2 = svc",
    "summarize c = count(), by: {svc}",
    "summarize c = count(), by: {host}",
    "sort timestamp desc",
    "limit 10",
    "fields svc, host",
    "expand tags",
    "dedup host",
    "append [fetch spans | fields svc, host]",
]
CONDITIONS = [
    "svc == $Svc",
    "svc in [fetch spans | fields svc]",
    "in(host, array($Host))",
    'svc == $Svc and host == "h"',
    "c > 5",
    'tags == "x"',
    "isNotNull(svc2)",
]
SEPARATORS = [" | ", "\n| ", "\n  | ", "|", " // note\n| ", "\n/* b */ | ", "\n\n|\t"]
EDGES = ["", "  ", "\n", "// head\n", "/* h */ "]


@st.composite
def layouts(draw: st.DrawFn) -> str:
    def pick(options: list[str]) -> str:
        return draw(st.sampled_from(options))

    stages = draw(st.lists(st.sampled_from(STAGES), max_size=5))
    text = pick(EDGES) + "fetch logs"
    for stage in stages:
        text += pick(SEPARATORS) + stage
    return text + pick([*EDGES, " // tail"])


def outer_fields(node: Node) -> list[str]:
    """Field names of a condition outside its execution blocks."""
    if isinstance(node, FieldRef):
        return [node.name]
    if isinstance(node, Block):
        return []
    return [name for child in node.children() for name in outer_fields(child)]


def single_insertion(old: str, new: str) -> bool:
    """``new`` is ``old`` with one piece of text inserted somewhere."""
    prefix = 0
    while prefix < len(old) and old[prefix] == new[prefix]:
        prefix += 1
    return new.endswith(old[prefix:])


@settings(max_examples=120, deadline=None)
@given(layouts(), st.sampled_from(CONDITIONS), st.sampled_from(PLACEMENTS))
def test_injection_is_one_stage_inserted_and_idempotent(
    text: str, condition: str, placement: Placement
) -> None:
    result = inject_filter_text(text, condition, placement=placement, into_subqueries=False)
    original = parse(text)
    if result.status != "filtered":
        assert result.text == text
    else:
        assert single_insertion(text, result.text), result.text
        commands = result.query.commands
        [position] = [
            i
            for i in range(len(commands))
            if i >= len(original.commands) or commands[i] != original.commands[i]
        ][:1]
        assert commands[position] == parse(f"fetch x | filter {condition}").commands[1]
        assert result.query.remove(position) == original
        # Every field of the condition may exist where the filter stands.
        flow = analyze(result.query)
        for name in outer_fields(parse_expression(condition)):
            assert flow.fields_before(position).may_contain(name)
    again = inject_filter_text(
        result.text,
        condition,
        placement=placement,
        into_subqueries=False,
    )
    assert again.text == result.text
    assert again.status != "filtered"


@settings(max_examples=60, deadline=None)
@given(layouts(), st.sampled_from(CONDITIONS))
def test_injection_into_subqueries_is_idempotent(text: str, condition: str) -> None:
    first = inject_filter_text(text, condition)
    second = inject_filter_text(first.text, condition)
    assert second.text == first.text
    assert [r.status for r in second.results()].count("filtered") == 0
    assert len(list(second.results())) == len(list(first.results()))


def test_a_subquery_is_not_filtered_on_the_fields_its_stage_creates_from_it() -> None:
    text = (
        "fetch logs\n| lookup [fetch dt.entity.host | fields id, entity.name], "
        "sourceField: dt.entity.host, lookupField: id"
    )
    result = inject_filter_text(text, "lookup.entity.name == $H")
    assert result.text == text + "\n| filter lookup.entity.name == $H"
    (inner,) = result.subqueries
    assert inner.status == "skipped" and "`fetch dt.entity.host`" in inner.reason
    joined = "fetch logs | join [fetch spans | fields trace.id, name], on: {trace.id}"
    result = inject_filter_text(joined, "right.name == $S")
    assert "[fetch spans | fields trace.id, name]" in result.text
    assert result.subqueries[0].status == "skipped"


def test_comment_check_looks_at_the_edited_part() -> None:
    from dqlbuild.rewriting.inject import _keeps_comments

    old = "fetch logs // a\n| filter x == 1 /* b */ | limit 3 // c"
    head, tail = old.index("| filter"), len(old) - old.index(" | limit")
    kept = (head, tail)
    same = old[:head] + "| filter x == 1 /* b */ | filter k == $K" + old[len(old) - tail :]
    lost = old[:head] + "| filter x == 1 | filter k == $K" + old[len(old) - tail :]
    assert _keeps_comments(old, same, kept) and _keeps_comments(old, same, None)
    assert not _keeps_comments(old, lost, kept) and not _keeps_comments(old, lost, None)
    # Comments outside the edited part are those of the kept text on both sides.
    assert _keeps_comments(old, old[:head] + "| sort a" + old[len(old) - tail :], (head, 0)) is (
        _keeps_comments(old, old[:head] + "| sort a" + old[len(old) - tail :], None)
    )
