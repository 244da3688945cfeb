"""The placement model, proved with the local engine: for every result with status
``filtered``, the injected query returns on the data what the original query returns on
the data restricted to the condition.

"The data restricted" is the records the query's rows come from (its main pipeline and
its ``append`` blocks) restricted to the condition; the tables it matches its records
against (``lookup``, ``join``, ``in [...]``) keep every record (docs/rewriting.md, "What
filtered means"). The original query reads the restricted records under another data
object name, so the engine runs both on the same records. Rows compare as multisets (a
null field the same as a missing one), and in order where the query ends in ``sort``
(maybe + ``limit``). ``skipped`` results are unchanged text.

Run long: ``HYPOTHESIS_PROFILE=fuzz`` (the profile's example count and every corpus
query), or set ``DQL_INJECT_EXAMPLES`` (examples of each property).
"""

from __future__ import annotations

import json
import os
import random
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import dqlbuild
from dqlbuild import Command, FieldRef, Query, parse
from dqlbuild.ast.nodes import Binary, Block, Call, Sorted, Unary
from dqlbuild.errors import DQLError
from dqlbuild.rewriting.inject import inject_filter_text
from dqlbuild.rewriting.variables import variables

run = getattr(dqlbuild, "run", None)
dataset = getattr(dqlbuild, "Dataset", None)
pytestmark = pytest.mark.skipif(run is None, reason="the local engine (dqlbuild.run) is absent")

RESTRICTED = "restricted_spans"
FUZZ = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
_EXAMPLES = int(os.environ.get("DQL_INJECT_EXAMPLES", "0"))


def examples(default: int) -> int:
    """The suite's modest count, unless a long run asks for more."""
    profile = settings.default
    return _EXAMPLES or (profile.max_examples if FUZZ and profile is not None else default)


VERSIONS = ["v1", "v2", "v3", None]
SINGLE = ("model.version == $V", {"V": "v1"}, lambda v: v == "v1")
MULTI = ("in(model.version, array($V))", {"V": ["v1", "v3"]}, lambda v: v in ("v1", "v3"))

# Stages of pipelines over spans the engine runs, chosen to cover every class of the
# model: row-wise stages, stages that look at several records, stages that give
# `model.version` other values, and the three kinds of execution blocks.
STAGES = [
    "filter cost > 300",
    'filter span.kind == "server"',
    "filterOut isNull(service)",
    "fieldsAdd d2 = cost * 2",
    'fieldsAdd model.version = coalesce(model.version, "unknown")',
    'fieldsAdd model.version = "x"',
    "fieldsAdd model.version = lower(service)",
    "fieldsRename mv = model.version",
    "fieldsRename model.version = service",
    "fields model.version, cost, service, trace.id, span.kind",
    "fields cost, service, trace.id",
    "fieldsRemove model.version",
    "sort cost desc, span.id asc",
    "limit 3",
    "dedup trace.id, sort: {span.id asc}",
    "dedup model.version, sort: {span.id asc}",
    "summarize c = count(), by: {model.version}",
    "summarize c = count(), d = sum(cost), by: {service}",
    "expand tags",
    'append [fetch spans | filter span.kind == "client"]',
    "append [fetch spans | sort span.id asc | limit 2]",
    'lookup [fetch spans | filter span.kind == "server" | fields trace.id, failed = true], '
    "sourceField: trace.id, lookupField: trace.id",
    "filter isNull(lookup.failed)",
    "filter trace.id in [fetch spans | filter cost > 500 | fields trace.id]",
    "filter model.version in [fetch spans | filter cost > 500 | fields model.version]",
    "lookup [fetch spans | summarize n = count(), by: {model.version}], "
    "sourceField: model.version, lookupField: model.version",
    "join [fetch spans | fields trace.id, model.version, x = cost], on: {trace.id, model.version}",
    "join [fetch spans | fields trace.id, y = cost], on: {trace.id}, kind: leftOuter",
    'filterOut model.version == "v2"',
    "fieldsKeep model.version, cost, span.id, trace.id",
    "fieldsAdd model.version = toString(cost)",
    "fieldsRename model.version = mv",
    'fieldsFlatten attrs, prefix: ""',
    "fieldsFlatten attrs",
    "summarize c = count(), by: {model.version, service}",
    "summarize c = count(), by: {mv = model.version}",
    "dedup model.version, service, sort: {span.id desc}",
    "makeTimeseries c = count(), by: {model.version}, interval: 1m",
    "makeTimeseries s = sum(cost), interval: 1m",
    "fieldsSummary model.version",
    "lookup [fetch spans | fields trace.id, model.version], sourceField: trace.id, "
    "lookupField: trace.id, fields: {model.version}",
    "lookup [fetch spans | fields trace.id, model.version], sourceField: trace.id, "
    'lookupField: trace.id, prefix: ""',
    "join [fetch spans | fields trace.id, z = cost], on: {trace.id}, kind: outer",
    'join [fetch spans | fields trace.id, model.version], on: {trace.id}, prefix: ""',
    "joinNested j = [fetch spans | fields trace.id, c = cost], on: {trace.id}",
    "filter not(trace.id in [fetch spans | filter isNull(model.version) | fields trace.id])",
]


# Stages without execution blocks, for the pipelines inside generated blocks.
FLAT = [stage for stage in STAGES if "[" not in stage and "lookup." not in stage]


def spans_of(rows: Sequence[tuple[int, int, int, int, int]]) -> list[dict[str, Any]]:
    return [
        {
            "span.id": f"s{i:02d}",
            "trace.id": f"t{trace}",
            "span.kind": ("server", "client", "internal")[kind],
            "service": ("Cart", "web", None)[service],
            "model.version": VERSIONS[version],
            "cost": 100 * (i % 7) + 50 * version,
            "tags": [f"k{i % 3}", f"k{(i + 1) % 3}"],
            "timestamp": f"2026-01-15T10:{i % 5:02d}:{i:02d}Z",
            # `fieldsFlatten attrs, prefix: ""` gives some records another `model.version`.
            # (Every record has the key: the engine types a record by all its keys.)
            "attrs": {"a": i % 2, "model.version": "v2" if i % 4 == 1 else None},
        }
        for i, (trace, kind, service, version, _) in enumerate(rows)
    ]


SPAN_ROWS = st.lists(
    st.tuples(
        st.integers(0, 3), st.integers(0, 2), st.integers(0, 2), st.integers(0, 3), st.just(0)
    ),
    min_size=1,
    max_size=12,
)


def restricted_sources(query: Query, data_object: str = "spans") -> Query:
    """The query with the sources its rows come from (the main pipeline and `append`
    blocks, recursively) reading the restricted records of ``data_object``."""

    def pipeline(commands: tuple[Command, ...]) -> tuple[Command, ...]:
        out = list(commands)
        first = out[0]
        if first.name == "fetch" and first.args and first.args[0] == FieldRef(name=data_object):
            out[0] = first.model_copy(update={"args": (FieldRef(name=RESTRICTED), *first.args[1:])})
        for index, command in enumerate(out):
            if command.name == "append":
                out[index] = command.transform(
                    lambda n: (
                        n.model_copy(update={"commands": pipeline(n.commands)})
                        if isinstance(n, Block)
                        else None
                    )
                )
        return tuple(out)

    return Query(commands=pipeline(query.commands))


def multiset(rows: Sequence[dict[str, Any]]) -> Counter[str]:
    """Rows as a multiset, a null field the same as a missing one (DQL shows them alike;
    the engine types an empty data object without fields, so an ``append`` of none of its
    records adds no null columns)."""
    return Counter(
        json.dumps({k: v for k, v in row.items() if v is not None}, sort_keys=True, default=str)
        for row in rows
    )


def check(
    text: str,
    spans: list[dict[str, Any]],
    condition: tuple[str, dict[str, Any], Callable[[Any], bool]],
    **options: Any,
) -> str:
    assert run is not None
    source, variables, keep = condition
    result = inject_filter_text(text, source, **options)
    event(result.status)
    if result.status == "skipped":
        assert result.text == text
        return result.status
    if result.status != "filtered":
        return result.status
    restricted = [s for s in spans if keep(s.get("model.version"))]
    try:
        expected = run(
            restricted_sources(parse(text)),
            {"spans": spans, RESTRICTED: restricted},
            variables=variables,
        )
        got = run(result.text, {"spans": spans}, variables=variables)
    except DQLError:  # a query the engine does not run (an unsupported combination)
        assume(False)
    assert_same(got.rows, expected.rows, parse(text), (text, result.text))
    return result.status


def assert_same(
    got: Sequence[dict[str, Any]], expected: Sequence[dict[str, Any]], query: Query, why: object
) -> None:
    """The same rows, and in the same order of the final sort's keys."""
    assert multiset(got) == multiset(expected), why
    keys = sorted_by(query)
    if keys:
        assert [[row.get(k) for k in keys] for row in got] == [
            [row.get(k) for k in keys] for row in expected
        ], why


def sorted_by(query: Query) -> list[str]:
    """The fields the query's rows are ordered by: those of a final ``sort`` (maybe
    followed by ``limit``)."""
    commands = list(query.commands)
    while commands and commands[-1].name == "limit":
        commands.pop()
    if len(commands) < 2 or commands[-1].name != "sort":
        return []
    keys = [arg.expr if isinstance(arg, Sorted) else arg for arg in commands[-1].args]
    return [key.name for key in keys if isinstance(key, FieldRef)]


@st.composite
def pipelines(draw: st.DrawFn, stages: Sequence[str] = STAGES, blocks: bool = True) -> str:
    """Up to four stages; a quarter of them (with ``blocks``) an ``append`` or a
    ``lookup`` of a generated pipeline of stages without blocks of their own."""
    drawn = []
    for _ in range(draw(st.integers(1, 4))):
        if blocks and draw(st.integers(0, 3)) == 0:
            inner = draw(pipelines(FLAT, blocks=False))
            drawn.append(
                draw(
                    st.sampled_from(
                        [
                            f"append [{inner}]",
                            f"lookup [{inner}], sourceField: trace.id, lookupField: trace.id",
                            f"lookup [{inner}], sourceField: model.version, "
                            "lookupField: model.version",
                        ]
                    )
                )
            )
        else:
            drawn.append(draw(st.sampled_from(stages)))
    return " | ".join(["fetch spans", *drawn])


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pipelines(),
    SPAN_ROWS,
    st.sampled_from([SINGLE, MULTI]),
    st.sampled_from(["auto", "auto", "source", "end"]),
)
def test_a_filtered_query_returns_the_original_on_the_restricted_data(
    text: str, rows: list[tuple[int, int, int, int, int]], condition: Any, placement: str
) -> None:
    check(text, spans_of(rows), condition, data_object="spans", placement=placement)


def inserted_at(original: Query, injected: Query) -> int:
    """Where the new stage stands in the injected main pipeline."""
    old, new = original.commands, injected.commands
    return next(i for i in range(len(new)) if i >= len(old) or new[i] != old[i])


# Appended records are covered with a data object (they would need a restriction each).
WITHOUT_APPEND = [stage for stage in STAGES if not stage.startswith("append")]


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pipelines(WITHOUT_APPEND, blocks=False), SPAN_ROWS, st.sampled_from([SINGLE, MULTI]))
def test_without_a_data_object_the_filter_restricts_records_where_it_stands(
    text: str, rows: list[tuple[int, int, int, int, int]], condition: Any
) -> None:
    """Without a data object the condition is about the field as the query makes it: the
    filter stands where the field gets its values, after stages that each handle one
    record. So the query returns the original's result on the records whose field, as
    made up to that point, meets the condition (each record is run alone through the
    stages before the filter)."""
    assert run is not None
    source, variables, keep = condition
    result = inject_filter_text(text, source)
    event(result.status)
    if result.status == "skipped":
        assert result.text == text
    if result.status != "filtered":  # partially: an outer `join` adds its table's records
        return
    spans = spans_of(rows)
    original = parse(text)
    position = inserted_at(original, result.query)
    prefix = Query(commands=original.commands[:position])
    restricted = []
    try:
        for record in spans:
            # Alone: only its own records; match tables still read every record.
            made = run(restricted_sources(prefix), {"spans": spans, RESTRICTED: [record]}).rows
            values = {keep(row.get("model.version")) for row in made}
            assume(len(values) <= 1)  # one record made into rows that disagree
            if values != {False}:
                restricted.append(record)
        expected = run(restricted_sources(original), {"spans": spans, RESTRICTED: restricted})
        got = run(result.text, {"spans": spans}, variables=variables)
    except DQLError:  # a query the engine does not run (an unsupported combination)
        assume(False)
    assert_same(got.rows, expected.rows, original, (text, result.text))


# ---------------------------------------------------------------- the corpus
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "queries.jsonl"
# Every query of the corpus takes minutes; the default run checks every STRIDE-th query
# (the `fuzz` hypothesis profile checks them all).
STRIDE = 1 if FUZZ else 60
_NUMERIC = {"sum", "avg", "min", "max", "percentile", "median", "stddev", "round", "abs"}
_COMPARING = {"<", "<=", ">", ">=", "+", "-", "*", "/", "%"}


def field_kinds(query: Query) -> dict[str, str]:
    """What the records need for each field the query reads: a number where it is
    compared or computed with, an array where it is expanded, a boolean where it is a
    condition, else a string."""
    kinds: dict[str, str] = {}
    for node in query.walk():
        if isinstance(node, FieldRef):
            kinds.setdefault(node.name, "string")
    for node in query.walk():
        operands: tuple[Any, ...] = ()
        kind = ""
        if isinstance(node, Binary) and node.op in _COMPARING:
            operands, kind = node.operands, "number"
        elif isinstance(node, Binary) and node.op in ("and", "or", "xor"):
            operands, kind = node.operands, "boolean"
        elif isinstance(node, Unary) and node.op == "not":
            operands, kind = (node.operand,), "boolean"
        elif isinstance(node, Call) and node.name in _NUMERIC:
            operands, kind = node.args, "number"
        elif isinstance(node, Command) and node.name in ("filter", "filterOut"):
            operands, kind = node.args, "boolean"
        elif isinstance(node, Command) and node.name == "expand":
            operands, kind = node.args[:1], "array"
        for operand in operands:
            if isinstance(operand, FieldRef):
                kinds[operand.name] = kind
    return kinds


def corpus_records(query: Query, seed: int) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    make: dict[str, Callable[[], Any]] = {
        "number": lambda: rnd.randint(0, 5),
        "boolean": lambda: rnd.choice([True, False]),
        "array": lambda: [rnd.choice("ab"), rnd.choice("ab")],
        "string": lambda: rnd.choice(["a", "b", "c"]),
    }
    kinds = field_kinds(query)
    records = []
    for i in range(8):
        record = {name: make[kind]() for name, kind in kinds.items()}
        record["timestamp"] = f"2026-01-15T10:{i:02d}:00Z"
        record["model.version"] = rnd.choice(["v1", "v2", "v3", None])
        records.append(record)
    return records


def fetched(query: Query) -> set[str]:
    return {
        node.args[0].name
        for node in query.walk()
        if isinstance(node, Command)
        and node.name == "fetch"
        and node.args
        and isinstance(node.args[0], FieldRef)
    }


def test_every_supported_corpus_query() -> None:
    """The property over the public corpus: each query's main data object is the data
    object, records carry the fields the query reads, other variables get a value."""
    if not CORPUS.exists():
        pytest.skip("shared corpus not available")
    assert run is not None
    outcome: Counter[str] = Counter()
    with CORPUS.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number % STRIDE:
                continue
            record = json.loads(line)
            # Single- and multi-select conditions, by turns.
            condition = (SINGLE, MULTI)[(number // STRIDE) % 2]
            outcome[corpus_case(record["id"], record["query"], condition)] += 1
    print(f"\ncorpus differential (every {STRIDE}th query): {dict(outcome)}")
    assert outcome["same result"] > 0


def corpus_case(
    query_id: str, text: str, condition: tuple[str, dict[str, Any], Callable[[Any], bool]]
) -> str:
    assert run is not None and dataset is not None
    source, selected, keep = condition
    try:
        query = parse(text)
    except DQLError:
        return "does not parse"
    first = query.commands[0]
    if first.name != "fetch" or not first.args or not isinstance(first.args[0], FieldRef):
        return "not fetch"
    data_object = first.args[0].name
    result = inject_filter_text(text, source, data_object=data_object)
    if result.status != "filtered":
        if result.status == "skipped":
            assert result.text == text
        return result.status
    data = {
        name: corpus_records(query, zlib.crc32(f"{query_id}/{name}".encode()))
        for name in fetched(query)
    }
    restricted = [r for r in data[data_object] if keep(r["model.version"])]
    values: dict[str, Any] = {
        ref.name: "1" if ref.modifier == "noquote" else "a" for ref in variables(text)
    }
    values.update(selected)
    try:
        with dataset({**data, RESTRICTED: restricted}) as loaded:
            expected = run(restricted_sources(query, data_object), loaded, variables=values)
            got = run(result.text, loaded, variables=values)
    except DQLError as exc:  # unsupported, or records of types the query does not take
        return f"not run by the engine ({type(exc).__name__})"
    assert_same(got.rows, expected.rows, query, (query_id, text, result.text))
    return "same result"
