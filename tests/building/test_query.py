"""Builder queries are ordinary Query objects: immutable, shared, editable, printable."""

from __future__ import annotations

from dqlbuild import F, Query, fetch, fn, parse, stage
from dqlbuild.ast.nodes import Binary, Command


def test_every_call_returns_a_new_query_and_keeps_the_receiver() -> None:
    base = fetch("logs")
    before = base.model_dump()
    filtered = base.filter(F("a") > 1)
    limited = filtered.limit(5)
    assert base.model_dump() == before
    assert len(base.commands) == 1
    assert len(filtered.commands) == 2
    assert len(limited.commands) == 3
    assert filtered is not base and limited is not filtered


def test_unchanged_stages_and_expressions_are_shared() -> None:
    condition = (F("a") > 1) & F("b").is_null()
    base = fetch("logs").filter(condition)
    longer = base.sort(F("t").desc()).limit(3)
    assert longer.commands[0] is base.commands[0]
    assert longer.commands[1] is base.commands[1]
    assert base.commands[1].args[0] is condition.node
    # operators share their operands too
    assert isinstance(condition.node, Binary)
    bigger = condition | F("c")
    assert isinstance(bigger.node, Binary)
    assert bigger.node.operands[0] is condition.node


def test_branches_from_one_query_do_not_interfere() -> None:
    base = fetch("logs").filter("a > 1")
    errors = base.filter(F("level") == "ERROR")
    warnings = base.filter(F("level") == "WARN")
    assert errors.commands[:2] == warnings.commands[:2]
    assert errors.commands[1] is warnings.commands[1]
    assert errors != warnings


def test_editing_methods_take_builder_stages() -> None:
    q = fetch("logs").limit(10)
    q = q.insert(1, stage("filter", F("a") > 1))
    assert q == parse("fetch logs | filter a > 1 | limit 10")
    q = q.replace(2, stage("limit", 5))
    assert q == parse("fetch logs | filter a > 1 | limit 5")
    q = q.remove(1)
    assert q == parse("fetch logs | limit 5")
    tail = fetch("x").summarize(n=fn.count()).sort("n desc")
    combined = fetch("logs").filter("a") + list(tail.commands[1:])
    assert combined == parse("fetch logs | filter a | summarize n = count() | sort n desc")
    assert all(isinstance(c, Command) for c in combined.commands)


def test_builder_methods_on_a_parsed_query_keep_its_text() -> None:
    text = 'fetch logs   // all logs\n| filter  loglevel == "ERROR"'
    q = parse(text).fields_add(n=F("a") + 1)
    printed = q.to_source()
    assert printed.startswith(text)
    assert printed.endswith("fieldsAdd n = a + 1")
    assert parse(printed) == q


def test_built_nodes_have_no_positions() -> None:
    q = fetch("logs").filter("a > 1 and b").fields_add(x="f(y)")
    assert all(node.span is None for node in q.walk())


def test_a_built_query_is_a_plain_query() -> None:
    q = fetch("logs").summarize(n=fn.count(), by=["host"])
    assert type(q) is Query
    assert q.to_source() == q.format() == "fetch logs\n| summarize n = count(), by: {host}"
    assert Query.model_validate(q.model_dump()) == q
