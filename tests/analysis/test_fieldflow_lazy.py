"""The lazy field flow: answers about one field, worked out from a stage's command and
text (``fate_of``, ``mentions``, ``may_contain_before``), agree with the full rules."""

from __future__ import annotations

import random
import re

import pytest

from dqlbuild import parse
from dqlbuild.analysis import analyze
from dqlbuild.analysis.binding import bind_command, leading_value
from dqlbuild.analysis.fieldflow import _written_parameter
from dqlbuild.catalog import get_catalog

QUERIES = [
    "fetch logs | filter k > 1 | fieldsAdd a = 1, k2 = k, kk | sort a",
    "fetch logs | fieldsAdd k = 1 | fieldsAdd `k` = 2, b = lower(k)",
    "fetch logs | fieldsAdd bucket = 1, x = k8s.pod | summarize c = count(), by: {a.k, k}",
    "fetch logs | summarize count(), by: {host.name}, alias: n | fields n, `count()`",
    "fetch logs | fieldsRename k = a, b, x | fieldsRename host.name, k | fields a, b",
    "fetch logs | expand k | expand a = b | expand tags",
    "fetch logs | parse content, \"LD 'x' INT:k\" | parse content, \"INT:a SPACE 'k':b\"",
    'fetch logs | parse content, """INT:k""" | parse content, $pattern | fields k',
    'fetch logs | parse content, "INT:\\u006b" | fields k, a',
    'fetch logs | fieldsRemove k, a | fieldsRemove "tmp.*" | fieldsRemove "k*"',
    'fetch logs | fieldsAdd `\\u006b` = 1, k2 = "\\u006b" | fieldsAdd a = 2',
    "fetch logs | makeTimeseries c = count(), by: {k} | filter timeframe > 1",
    "timeseries avg(cpu), by: {host.name} | fieldsAdd k = 1 | fields timeframe, k",
    "fetch logs | fieldsAdd TRUE, x = NULL | fields true, null, k",
    "fetch logs | lookup [fetch hosts | fields k], sourceField: a, lookupField: k",
    'fetch logs | lookup [fetch hosts], sourceField: a, lookupField: b, prefix: "" | fields k',
    "fetch logs | join [fetch hosts | fields k, a], on: {a} | fields right.k, k",
    "fetch logs | lookup [fetch hosts], sourceField: a, lookupField: a, fields: {k} | fields k",
    "fetch logs | fieldsKeep k, a | fieldsAdd b = k | summarize by: {k}",
    "fetch logs | fieldsAdd a = k // k in a comment\n| fieldsAdd /* k */ b = 1",
    "data record(k = 1), record(a = 2) | fieldsAdd b = k + 1 | fields a",
    'fetch logs | limit 10 | dedup k | sort k desc | filterOut a == 1 | search "k"',
    'fetch logs | lookup [fetch hosts | fields k], sourceField: a, lookupField: a, prefix: "h."',
    "fetch logs | fieldsAdd h.k = 1 | lookup [fetch hosts], sourceField: a, lookupField: a,"
    " prefix: h",
    'fetch logs | join [fetch hosts | fields k, a], on: {a}, prefix: "r_" | fieldsAdd x = 1',
    "fetch logs | join [fetch hosts | fields b], on: {a}, fields: {b, x = k} | fields k, x",
    'fetch logs | join [fetch hosts | fields k], on: {a}, prefix: "*k" | fields a',
    'fetch logs | fieldsFlatten r | fieldsFlatten r, prefix: "k" | fieldsFlatten r, fields: {a}',
    'fetch logs | fieldsFlatten r, prefix: "" | fieldsFlatten lower(r) | fieldsFlatten r.k',
    'fetch logs | fieldsKeep a, "x*" | fieldsKeep "k" | fieldsKeep b | fieldsAdd k = 1',
]
NAMES = ["k", "a", "b", "kk", "a.k", "host.name", "count()", "timeframe", "true", "x", "lookup.k"]
NAMES += ["h.k", "r.k", "r_k", "r.k.a", "kx", "xy"]


@pytest.mark.parametrize("text", QUERIES)
def test_fates_agree_with_the_rules(text: str) -> None:
    full = analyze(text)
    for name in NAMES:
        lazy = analyze(parse(text))
        for stage, known in zip(lazy.stages, full.stages, strict=True):
            fate = stage.fate_of(name)
            before, after = known.fields_before, known.fields_after
            if fate == "passes":
                assert after.may_contain(name) == before.may_contain(name), (name, known.index)
                assert after._has(name) == before._has(name)
                assert not known.creates(name) and not known.drops(name)
            elif fate == "dropped":
                assert not after.may_contain(name), (name, known.index)
                assert known.drops(name) and not known.creates(name)


@pytest.mark.parametrize("text", QUERIES)
def test_may_contain_before_agrees_with_the_field_sets(text: str) -> None:
    full = analyze(text)
    for name in NAMES:
        lazy = analyze(parse(text))
        for index in reversed(range(len(full.stages) + 1)):
            wanted = full.fields_before(index).may_contain(name)
            assert lazy.may_contain_before(index, name) == wanted, (name, index)


def test_a_lazy_flow_equals_the_full_one() -> None:
    for text in QUERIES:
        lazy, full = analyze(text), analyze(text)
        for stage in full.stages:
            assert stage.created is not None  # evaluated
        assert lazy == full


def test_mentions_is_about_whole_names() -> None:
    flow = analyze('fetch logs | fieldsAdd bucket = k8s, `a.k` = 1 | fieldsAdd x = "\\u006b"')
    add, escaped = flow.stages[1], flow.stages[2]
    assert not add.mentions("k")
    assert add.mentions("a.k")
    assert escaped.mentions("k")  # an escape may spell it
    assert add.mentions("a + b")  # not a plain name: no proof
    built = analyze(parse("fetch logs").append("fieldsAdd y = 1")).stages[1]
    assert built.mentions("k")  # no source text: no proof


def test_stage_flows_are_immutable() -> None:
    stage = analyze("fetch logs").stages[0]
    with pytest.raises(AttributeError):
        stage.index = 3


@pytest.mark.parametrize(
    ("text", "param"),
    [
        ("fetch logs", "dataObject"),
        ("fetch logs, from: -2h, to: now()", "dataObject"),
        ("fetch dataObject: logs", "dataObject"),
        ("fetch logs, dataObject: spans", "dataObject"),
        ("fetch {logs}, from: -1h", "dataObject"),
        ('load "/lookups/a.csv"', "tabularFile"),
        ("smartscapeNodes HOST, alias: h", "type"),
        ('fieldsFlatten r, prefix: "x."', "prefix"),
    ],
)
def test_leading_value_agrees_with_binding(text: str, param: str) -> None:
    command = parse(text).commands[0]
    spec = get_catalog().command(command.name)
    assert spec is not None
    leading = leading_value(command, spec, param)
    if leading is not None:
        bound = bind_command(command, spec).first(param)
        assert bound is not None and bound.expr is leading


@pytest.mark.parametrize(
    "text",
    [
        "fetch logs, from: -2h",
        "fetch dataObject: spans",
        'load "/lookups/a.csv"',
        "smartscapeNodes HOST",
        "timeseries avg(dt.host.cpu), by: {host.name}",
        "timeseries {a = sum(x), b = avg(y)}, filter: k == 1",
        "timeseries a = sum(x), by: {h}, filter: k == 1, interval: 1m",
        "timeseries sum(x), metric: avg(y)",
        "timeseries count(), avg(y)",
        "timeseries {{a = avg(x)}, sum(y)}, by: {h}",
        "timeseries {by: {h}, avg(x)}",
        'timeseries a = sum("x"), by: {h}',
        "describe logs",
        "metrics",
        "data record(a = 1)",
        "fetch logs | fieldsAdd a = 1",
    ],
)
def test_source_without_the_rule_agrees_with_it(text: str) -> None:
    lazy, full = analyze(text).stages, analyze(text).stages
    for stage, known in zip(lazy, full, strict=True):
        assert known.fields_after is not None  # evaluated: the rule's own answer
        assert stage.source == known.source


def test_written_parameter_agrees_with_a_case_blind_search() -> None:
    rnd = random.Random(11)
    letters = "fFiIlLtTeErR :\t\n\r\f|x"
    for _ in range(3000):
        text = "".join(rnd.choice(letters) for _ in range(rnd.randint(0, 16)))
        start = rnd.randint(0, len(text))
        end = rnd.randint(start, len(text))
        pattern = re.compile(r"filter[ \t\f\r\n]*:", re.IGNORECASE)
        wanted = pattern.search(text, start, end) is not None
        assert _written_parameter(text, start, end, "filter") == wanted, (text, start, end)
