"""Differential test: generated pipelines over generated records give the same rows from
``dqlbuild.run`` as from the reference interpreter (tests/engine/reference.py).

Records have a fixed type per field (long, double, string, boolean, timestamp and
duration in the fields of those names, arrays of long or string, a record), nulls, and
fields missing from some records. Pipelines are built as DQL text, one command at a time,
tracking the field set and types so every expression is well-typed: fetch (with
from:/to:), filter, filterOut, search, fields, fieldsAdd, fieldsKeep, fieldsRemove (with
patterns), fieldsRename, fieldsFlatten, summarize, makeTimeseries, fieldsSummary, sort,
limit, dedup, expand, append, lookup, join, joinNested, and the operators and functions in
``expressions``. Rows are compared as multisets (numbers by value, doubles to 10
significant digits, a null field the same as a missing one), and in order where the query
ends in ``sort``. Where DQL leaves the result open the check is exactly as strong as
DQL's promise and no stronger: ``limit`` without a total order takes *some* rows (a
sub-multiset of the right size, in sort order), ``dedup`` always gets a ``sort:`` that
decides which record stays, and a ``lookup`` table has one record per key.

An open engine mismatch (an entry of .mismatches.md) is in ``KNOWN``: its repro is a
strict xfail, and generated cases that it explains (a narrow predicate) are rejected.

Run long: ``HYPOTHESIS_PROFILE=fuzz pytest tests/engine/test_differential.py`` (5,000
examples), or set ``DQL_DIFFERENTIAL_EXAMPLES``.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, note, reject, settings
from hypothesis import strategies as st

import dqlbuild
from dqlbuild import parse_expression
from dqlbuild.analysis.binding import output_name
from tests.engine import reference

pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

SOURCE = "logs"
SCALARS = ("long", "double", "string", "boolean")
TIMES = ("timestamp", "duration")  # only in the fields of those names (as the engine types them)
ORDERED = (*SCALARS, *TIMES)  # what sort, dedup and by: take
ARRAYS = ("array_long", "array_string")
UNORDERED = (*ARRAYS, "record", "array_record", "array_double", "timeframe")  # not sortable
NAMES = ("a", "b", "n", "x.y", "svc.name", "flag", "tags", "`my field`", "v2")
STRINGS = ("", "a", "b", "ab", "B", "ba", "abc", "é", "a b", "Z")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = datetime(2026, 1, 15, tzinfo=UTC)
KEYWORDS = {"true", "false", "null", "and", "or", "xor", "not", "in", "asc", "desc"}
MAX_EXAMPLES = int(os.environ.get("DQL_DIFFERENTIAL_EXAMPLES", "0")) or None


def _plain(name: str) -> str:
    return name[1:-1] if name.startswith("`") else name


def _text(name: str) -> str:
    """A field name as DQL text (backticks where the name needs them)."""
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*", name)
    if plain and name.lower() not in KEYWORDS:
        return name
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


# ------------------------------------------------------------------ records
def _value(kind: str) -> st.SearchStrategy[Any]:
    if kind == "timestamp":  # ISO-8601 with Z, microseconds, on one day
        return st.integers(0, 86_399_999_999).map(_iso)
    if kind == "duration":  # nanoseconds, whole microseconds
        return st.integers(0, 5_000_000).map(lambda us: us * 1000)
    if kind == "record":  # {k: long, s: string}, either key may be missing or null
        return st.fixed_dictionaries(
            {}, optional={"k": st.none() | _value("long"), "s": st.none() | _value("string")}
        )
    if kind == "long":
        return st.integers(-50, 50)
    if kind == "double":  # quarters: sums and products stay exact
        return st.integers(-200, 200).map(lambda k: k / 4)
    if kind == "string":
        return st.sampled_from(STRINGS)
    if kind == "boolean":
        return st.booleans()
    element = _value("long" if kind == "array_long" else "string")
    return st.lists(st.one_of(element, st.none()) if kind == "array_long" else element, max_size=3)


def _iso(micros: int) -> str:
    moment = DAY + timedelta(microseconds=micros)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@st.composite
def schemas(draw: st.DrawFn) -> dict[str, str]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True))
    kinds = st.sampled_from(SCALARS + SCALARS + ARRAYS)
    schema = {_plain(name): draw(kinds) for name in names}
    if draw(st.booleans()):
        schema["r"] = "record"
    for time in TIMES:
        if draw(st.booleans()):
            schema[time] = time
    return schema


@st.composite
def tables(draw: st.DrawFn, schema: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        row: dict[str, Any] = {}
        for name, kind in schema.items():
            presence = draw(st.sampled_from(("value", "value", "value", "null", "missing")))
            if presence == "value":
                row[name] = draw(_value(kind))
            elif presence == "null":
                row[name] = None
        rows.append(row)
    return rows


# ------------------------------------------------------------------ expressions
@dataclass
class Scope:
    fields: dict[str, str]
    counter: list[int] = field(default_factory=lambda: [0])

    def of(self, *kinds: str) -> list[str]:
        return [name for name, kind in self.fields.items() if kind in kinds]

    def fresh(self) -> str:
        self.counter[0] += 1
        return f"f{self.counter[0]}" if self.counter[0] % 3 else f"new.f{self.counter[0]}"


def _literal(kind: str) -> st.SearchStrategy[str]:
    if kind == "duration":
        return st.sampled_from(("1ms", "250ms", "1s", "3s", "500us", "0ns"))
    if kind == "timestamp":
        return st.integers(0, 23).map(lambda h: f'toTimestamp("2026-01-15T{h:02d}:30:00Z")')
    if kind == "long":
        return st.integers(0, 20).map(str)
    if kind == "double":
        return st.integers(0, 40).map(lambda k: repr(k / 4))
    if kind == "string":
        return st.sampled_from(STRINGS).map(lambda s: '"' + s + '"')
    return st.sampled_from(("true", "false"))


def _literals(kind: str) -> st.SearchStrategy[list[str]]:
    return st.lists(_literal(kind), min_size=1, max_size=3)


@st.composite
def expressions(draw: st.DrawFn, scope: Scope, kind: str, depth: int = 2) -> str:
    """DQL text of an expression of ``kind`` over the scope's fields."""
    fields = scope.of(kind)
    leaves: list[st.SearchStrategy[str]] = [_literal(kind)]
    if fields:
        leaves += [st.sampled_from(fields).map(_text)] * 3
    records = scope.of("record")
    if records and kind in ("long", "string"):
        key = "k" if kind == "long" else "s"
        leaves.append(st.sampled_from(records).map(lambda r: f"{_text(r)}[{key}]"))
    if depth <= 0 or draw(st.integers(0, 2)) == 0:
        return draw(st.one_of(leaves))
    sub: Callable[[str], str] = lambda k: draw(expressions(scope, k, depth - 1))  # noqa: E731
    options: list[Callable[[], str]] = []
    if kind in ("long", "double"):
        options += [
            lambda: f"({sub(kind)} {draw(st.sampled_from(['+', '-', '*']))} {sub('long')})",
            lambda: f"-{sub(kind)}",
            lambda: f"abs({sub(kind)})",
            lambda: f"if({sub('boolean')}, {sub(kind)}, else: {sub(kind)})",
            lambda: f"coalesce({sub(kind)}, {sub(kind)})",
        ]
        if kind == "long":
            options += [
                lambda: (
                    f"({sub('long')} {draw(st.sampled_from(['/', '%']))} "
                    f"{draw(st.sampled_from(['1', '2', '3', '7']))})"
                ),
                lambda: f"stringLength({sub('string')})",
                lambda: f"indexOf({sub('string')}, {sub('string')})",
                lambda: f"toLong({sub('double')})",
                lambda: f"{draw(st.sampled_from(['getHour', 'getMinute']))}({sub('timestamp')})",
            ]
            arrays = scope.of(*ARRAYS)
            if arrays:
                options.append(lambda: f"arraySize({_text(draw(st.sampled_from(arrays)))})")
        else:
            options += [
                lambda: f"({sub('double')} / {draw(st.sampled_from(['2', '4', '0.5']))})",
                lambda: f"toDouble({sub('long')})",
                lambda: f"({sub('double')} + {sub('long')})",
                lambda: f"round({sub('double')}, decimals: {draw(st.integers(0, 2))})",
                lambda: f"{draw(st.sampled_from(['floor', 'ceil', 'round']))}({sub('double')})",
                lambda: f"({sub('duration')} / {draw(st.sampled_from(['1ms', '1s']))})",
            ]
            arrays = scope.of("array_long")
            if arrays:
                options.append(lambda: f"arraySum({_text(draw(st.sampled_from(arrays)))})")
    elif kind == "duration":
        options += [
            lambda: f"({sub('duration')} {draw(st.sampled_from(['+', '-']))} {sub('duration')})",
            lambda: f"({sub('duration')} * {draw(st.sampled_from(['2', '3']))})",
            lambda: f"-{sub('duration')}",
            lambda: f"({sub('timestamp')} - {sub('timestamp')})",
            lambda: f"if({sub('boolean')}, {sub('duration')}, else: {sub('duration')})",
        ]
    elif kind == "timestamp":
        options += [
            lambda: f"({sub('timestamp')} {draw(st.sampled_from(['+', '-']))} {sub('duration')})",
            lambda: f"bin({sub('timestamp')}, {draw(st.sampled_from(['1h', '15m', '1d']))})",
            lambda: f"coalesce({sub('timestamp')}, {sub('timestamp')})",
        ]
    elif kind == "string":
        options += [
            lambda: f"lower({sub('string')})",
            lambda: f"upper({sub('string')})",
            lambda: f"toString({sub('long')})",
            lambda: f"if({sub('boolean')}, {sub('string')}, else: {sub('string')})",
            lambda: f"coalesce({sub('string')}, {sub('string')})",
            lambda: (
                f"substring({sub('string')}, from: {draw(st.integers(0, 3))}, to: "
                f"{draw(st.integers(0, 4))})"
            ),
            lambda: f"trim({sub('string')})",
            lambda: f"concat({sub('string')}, {sub('string')})",
            lambda: f'replaceString({sub("string")}, "{draw(st.sampled_from(STRINGS[1:]))}", "x")',
        ]
    else:
        comparable = draw(st.sampled_from(("long", "double", "string", *TIMES)))
        options += [
            lambda: (
                f"{sub(comparable)} {draw(st.sampled_from(['==', '!=', '<', '<=', '>', '>=']))}"
                f" {sub(comparable)}"
            ),
            lambda: (
                f"({sub('boolean')} {draw(st.sampled_from(['and', 'or', 'xor']))} {sub('boolean')})"
            ),
            lambda: f"not {sub('boolean')}",
            lambda: f"isNull({sub(draw(st.sampled_from(SCALARS)))})",
            lambda: f"isNotNull({sub(draw(st.sampled_from(SCALARS)))})",
            lambda: (
                f"{draw(st.sampled_from(['contains', 'startsWith', 'endsWith']))}"
                f"({sub('string')}, {sub('string')})"
            ),
            lambda: f"in({sub('long')}, {{{', '.join(draw(_literals('long')))}}})",
            lambda: f"in({sub('string')}, {{{', '.join(draw(_literals('string')))}}})",
            lambda: (
                f'matchesValue({sub("string")}, "{draw(st.sampled_from(["a*", "*b", "ab", "*"]))}")'
            ),
        ]
    return draw(st.sampled_from(options))()


# ------------------------------------------------------------------ pipelines
@dataclass
class Pipeline:
    stages: list[str]
    scope: Scope
    ends_sorted_by: list[tuple[str, bool]] | None = None
    """Sort keys (field, descending) when the query ends in ``sort`` (maybe + ``limit``)."""
    limit: int | None = None

    @property
    def text(self) -> str:
        return "\n| ".join(self.stages)


def _scalar_fields(scope: Scope) -> list[str]:
    return scope.of(*ORDERED)


@st.composite
def _assignment(draw: st.DrawFn, scope: Scope) -> tuple[str, str, str]:
    """``(text, name, kind)`` of one ``name = expr`` or unnamed expression."""
    kind = draw(st.sampled_from(SCALARS + TIMES))
    expr = draw(expressions(scope, kind))
    if draw(st.booleans()):
        name = scope.fresh()
        return f"{_text(name)} = {expr}", name, kind
    return expr, output_name(parse_expression(expr)), kind


def _fields_like(draw: st.DrawFn, scope: Scope, replace: bool) -> str:
    items: list[tuple[str, str, str]] = []
    names: dict[str, str] = {}
    for _ in range(draw(st.integers(1, 3))):
        text, name, kind = draw(_assignment(scope))
        if name not in names:  # one value per name
            items.append((text, name, kind))
            names[name] = kind
    if replace:
        scope.fields = names
        return "fields " + ", ".join(text for text, _, _ in items)
    scope.fields = {**{k: v for k, v in scope.fields.items() if k not in names}, **names}
    return "fieldsAdd " + ", ".join(text for text, _, _ in items)


def _keep_remove(draw: st.DrawFn, scope: Scope) -> str:
    names = list(scope.fields)
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
    patterns = []
    for name in chosen:
        if len(name) > 1 and re.fullmatch(r"[\w. ]+", name) and draw(st.booleans()):
            patterns.append('"' + name[: draw(st.integers(1, len(name) - 1))] + '*"')
        else:
            patterns.append(_text(name))
    keep = draw(st.booleans())

    def matches(name: str) -> bool:
        return any(
            reference._matches(name, p[1:-1] if p.startswith('"') else _plain(p)) for p in patterns
        )

    scope.fields = {k: v for k, v in scope.fields.items() if matches(k) == keep}
    return ("fieldsKeep " if keep else "fieldsRemove ") + ", ".join(patterns)


def _rename(draw: st.DrawFn, scope: Scope) -> str:
    old = draw(st.sampled_from(list(scope.fields)))
    new = scope.fresh()
    scope.fields = {(new if k == old else k): v for k, v in scope.fields.items()}
    return f"fieldsRename {_text(new)} = {_text(old)}"


AGGREGATIONS = (
    "count", "countIf", "sum", "avg", "min", "max", "distinct", "takeMin", "takeMax",
    "median", "percentile", "stddev",
)  # fmt: skip
STATISTICS = ("median", "percentile", "stddev")


def _summarize(draw: st.DrawFn, scope: Scope) -> str:
    numeric = scope.of("long", "double", "duration")
    aggs: list[tuple[str, str, str]] = []
    for _ in range(draw(st.integers(1, 3))):
        choice = draw(st.sampled_from(AGGREGATIONS))
        if choice == "count" or (choice in ("sum", "avg", *STATISTICS) and not numeric):
            aggs.append(("count()", "long", "count()"))
        elif choice == "countIf":
            aggs.append((f"countIf({draw(expressions(scope, 'boolean', 1))})", "long", ""))
        elif choice in ("sum", "avg"):
            target = draw(st.sampled_from(numeric))
            # sum() too is a double: its catalog output types are double and duration
            kind = "duration" if scope.fields[target] == "duration" else "double"
            aggs.append((f"{choice}({_text(target)})", kind, ""))
        elif choice in STATISTICS:
            # stddev takes long and double only (catalog), median/percentile durations too
            plain = scope.of("long", "double")
            target = draw(st.sampled_from(plain if choice == "stddev" and plain else numeric))
            if choice == "stddev" and scope.fields[target] == "duration":
                aggs.append(("count()", "long", ""))
                continue
            if choice == "stddev" or scope.fields[target] != "duration":
                kind = "double"
            else:
                kind = "duration"
            argument = f", {draw(st.sampled_from([0, 25, 50, 90, 100]))}" * (choice == "percentile")
            aggs.append((f"{choice}({_text(target)}{argument})", kind, ""))
        elif choice in ("min", "max", "takeMin", "takeMax"):
            candidates = scope.of("long", "double", "string", *TIMES)
            if not candidates:
                aggs.append(("count()", "long", ""))
                continue
            target = draw(st.sampled_from(candidates))
            aggs.append((f"{choice}({_text(target)})", scope.fields[target], ""))
        elif scope.fields:
            target = draw(st.sampled_from(_scalar_fields(scope) or list(scope.fields)))
            aggs.append((f"countDistinct({_text(target)})", "long", ""))
        else:
            aggs.append(("count()", "long", ""))
    texts, result = [], {}
    for expr, kind, _ in aggs:
        name = scope.fresh() if draw(st.booleans()) else output_name(parse_expression(expr))
        if name in result:
            name = scope.fresh()
        unnamed = name == output_name(parse_expression(expr))
        texts.append(expr if unnamed else f"{_text(name)} = {expr}")
        result[name] = kind
    keys: dict[str, str] = {}
    key_texts = []
    scalars = _scalar_fields(scope)
    for _ in range(draw(st.integers(0, 2))):
        if scalars and draw(st.integers(0, 3)):
            key = draw(st.sampled_from(scalars))
            if key in keys or key in result:
                continue
            keys[key] = scope.fields[key]
            key_texts.append(_text(key))
        else:
            text, name, kind = draw(_assignment(scope))
            if name in keys or name in result:
                continue
            keys[name] = kind
            key_texts.append(text)
    scope.fields = {**keys, **result}
    by = f", by: {{{', '.join(key_texts)}}}" if key_texts else ""
    return "summarize " + ", ".join(texts) + by


def _sort_keys(draw: st.DrawFn, scope: Scope) -> list[tuple[str, bool]]:
    names = draw(
        st.lists(st.sampled_from(_scalar_fields(scope)), min_size=1, max_size=3, unique=True)
    )
    return [(name, draw(st.booleans())) for name in names]


def _sort_text(keys: Sequence[tuple[str, bool]]) -> str:
    return ", ".join(_text(name) + (" desc" if desc else "") for name, desc in keys)


def _dedup(draw: st.DrawFn, scope: Scope) -> list[str]:
    """``dedup`` with a ``sort:`` over every field, so the kept record is determined
    (arrays and records cannot be sorted on, so they are removed first)."""
    stages: list[str] = []
    arrays = scope.of(*UNORDERED)
    if len(arrays) == len(scope.fields):
        return stages
    if arrays:
        stages.append("fieldsRemove " + ", ".join(_text(a) for a in arrays))
        scope.fields = {k: v for k, v in scope.fields.items() if k not in arrays}
    keys = draw(st.lists(st.sampled_from(list(scope.fields)), min_size=1, max_size=2, unique=True))
    order = [(name, draw(st.booleans())) for name in scope.fields]
    stages.append(f"dedup {', '.join(_text(k) for k in keys)}, sort: {{{_sort_text(order)}}}")
    return stages


def _expand(draw: st.DrawFn, scope: Scope) -> str:
    array = draw(st.sampled_from(scope.of(*ARRAYS)))
    element = "long" if scope.fields[array] == "array_long" else "string"
    limit = f", limit: {draw(st.integers(1, 3))}" if draw(st.booleans()) else ""
    if draw(st.booleans()):
        name = scope.fresh()
        scope.fields = {**scope.fields, name: element}
        return f"expand {_text(name)} = {_text(array)}{limit}"
    scope.fields = {**scope.fields, array: element}
    return f"expand {_text(array)}{limit}"


def _append(draw: st.DrawFn, scope: Scope, base: dict[str, str]) -> str:
    """``append`` a filtered copy of the source: its fields must agree in type with
    fields of the same name so far (else the union would have mixed types)."""
    inner = Scope(dict(base), scope.counter)
    condition = draw(expressions(inner, "boolean", 1))
    agreeing = [n for n, k in base.items() if scope.fields.get(n, k) == k]
    picked = draw(st.lists(st.sampled_from(agreeing), min_size=1, max_size=3, unique=True))
    scope.fields = {**scope.fields, **{n: base[n] for n in picked}}
    return f"append [fetch {SOURCE} | filter {condition} | fields {', '.join(map(_text, picked))}]"


def _key_pair(draw: st.DrawFn, scope: Scope, base: dict[str, str]) -> tuple[str, str] | None:
    """A scalar field of the pipeline and a source field of the same type, to match on."""
    pairs = [(a, b) for a in _scalar_fields(scope) for b in base if base[b] == scope.fields[a]]
    return draw(st.sampled_from(pairs)) if pairs else None


def _lookup(draw: st.DrawFn, scope: Scope, base: dict[str, str]) -> str | None:
    """``lookup`` of a table with one record per key (so "first match" is determined)."""
    pair = _key_pair(draw, scope, base)
    if pair is None:
        return None
    source, key = pair
    aggregation = draw(st.sampled_from(("c = count()", "m = countDistinct")))
    if aggregation.startswith("m"):
        target = draw(st.sampled_from(list(base)))
        aggregation = f"m = countDistinct({_text(target)})"
    table = f"fetch {SOURCE} | summarize {aggregation}, by: {{{_text(key)}}}"
    table_fields = {key: base[key], aggregation[0]: "long"}
    if draw(st.booleans()):
        condition = draw(expressions(Scope(dict(table_fields), scope.counter), "boolean", 1))
        table += f" | filter {condition}"
    text = f"lookup [{table}], sourceField: {_text(source)}, lookupField: {_text(key)}"
    if draw(st.booleans()):
        alias = scope.fresh()
        text += f", fields: {{{_text(alias)} = {aggregation[0]}}}"
        scope.fields = {**{k: v for k, v in scope.fields.items() if k != alias}, alias: "long"}
        return text
    prefix = draw(st.sampled_from((None, "lk.", "")))
    if prefix is not None:
        text += f', prefix: "{prefix}"'
    prefix = "lookup." if prefix is None else prefix
    kept = {k: v for k, v in scope.fields.items() if not k.startswith(prefix)}
    added = {prefix + k: v for k, v in table_fields.items()}
    scope.fields = {**{k: v for k, v in kept.items() if k not in added}, **added}
    return text


def _join(draw: st.DrawFn, scope: Scope, base: dict[str, str]) -> str | None:
    pair = _key_pair(draw, scope, base)
    if pair is None:
        return None
    left, right = pair
    picked = draw(st.lists(st.sampled_from(list(base)), min_size=0, max_size=2, unique=True))
    picked = [right, *(p for p in picked if p != right)]
    table = f"fetch {SOURCE} | fields {', '.join(map(_text, picked))}"
    on = (
        f"{{{_text(left)}}}"
        if left == right and draw(st.booleans())
        else f"{{left[{_text(left)}] == right[{_text(right)}]}}"
    )
    kind = draw(st.sampled_from(("inner", "leftOuter", "outer", None)))
    text = f"join [{table}], on: {on}" + (f", kind: {kind}" if kind else "")
    prefix = draw(st.sampled_from((None, "r.")))
    if prefix is not None:
        text += f', prefix: "{prefix}"'
    prefix = "right." if prefix is None else prefix
    added = {prefix + p: base[p] for p in picked}
    if any(name in scope.fields and scope.fields[name] != kind for name, kind in added.items()):
        return None
    scope.fields = {**scope.fields, **added}
    return text


def _flatten(draw: st.DrawFn, scope: Scope) -> str:
    record = draw(st.sampled_from(scope.of("record")))
    kinds = {"k": "long", "s": "string"}
    if draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(["k", "s"]), min_size=1, unique=True))
        named = {key: (scope.fresh() if draw(st.booleans()) else key) for key in keys}
        parts = [key if name == key else f"{_text(name)} = {key}" for key, name in named.items()]
        scope.fields = {**scope.fields, **{named[key]: kinds[key] for key in keys}}
        return f"fieldsFlatten {_text(record)}, fields: {{{', '.join(parts)}}}"
    prefix = draw(st.sampled_from((None, "p_")))
    start = f"{record}." if prefix is None else prefix
    scope.fields = {**scope.fields, **{start + key: kind for key, kind in kinds.items()}}
    return f"fieldsFlatten {_text(record)}" + ("" if prefix is None else f', prefix: "{prefix}"')


def _join_nested(draw: st.DrawFn, scope: Scope, base: dict[str, str]) -> str | None:
    pair = _key_pair(draw, scope, base)
    if pair is None:
        return None
    left, right = pair
    name = scope.fresh()
    picked = draw(st.lists(st.sampled_from(_scalar_fields(Scope(base))), max_size=2, unique=True))
    fields = f", fields: {{{', '.join(map(_text, picked))}}}" if picked else ""
    scope.fields = {**scope.fields, name: "array_record"}
    return (
        f"joinNested {_text(name)} = [fetch {SOURCE}], "
        f"on: {{left[{_text(left)}] == right[{_text(right)}]}}{fields}"
    )


def _fields_summary(draw: st.DrawFn, scope: Scope) -> str:
    names = draw(st.lists(st.sampled_from(list(scope.fields)), min_size=1, max_size=2, unique=True))
    scope.fields = {
        "field": "string",
        "rawCount": "long",
        "count": "long",
        "values": "array_record",
    }
    return "fieldsSummary " + ", ".join(map(_text, names))


def _make_timeseries(draw: st.DrawFn, scope: Scope) -> str | None:
    """``makeTimeseries`` with an ``interval:`` (``bins:`` picks an interval from a ladder
    the DQL docs do not give)."""
    if scope.fields.get("timestamp") != "timestamp":
        return None
    numeric = scope.of("long", "double")
    aggs: dict[str, tuple[str, str]] = {}
    for _ in range(draw(st.integers(1, 2))):
        choice = draw(st.sampled_from(("count", "sum", "avg", "min", "max")))
        if choice == "count" or not numeric:
            expr, kind = "count()", "array_long"
        else:
            target = draw(st.sampled_from(numeric))
            expr = f"{choice}({_text(target)})"
            plain = choice in ("min", "max") and scope.fields[target] == "long"
            kind = "array_long" if plain else "array_double"
        name = scope.fresh() if draw(st.booleans()) else output_name(parse_expression(expr))
        aggs.setdefault(name, (expr, kind))
    groupable = scope.of("string", "boolean", "long")
    keys = draw(st.lists(st.sampled_from(groupable), max_size=1)) if groupable else []
    by = f", by: {{{', '.join(map(_text, keys))}}}" if keys else ""
    interval = draw(st.sampled_from(("1h", "6h", "1d", "30m")))
    parts = [expr if output_name(parse_expression(expr)) == n else f"{_text(n)} = {expr}"
             for n, (expr, _) in aggs.items()]  # fmt: skip
    scope.fields = {
        **{k: scope.fields[k] for k in keys},
        "timeframe": "timeframe",
        "interval": "duration",
        **{n: kind for n, (_, kind) in aggs.items()},
    }
    return f"makeTimeseries {', '.join(parts)}{by}, interval: {interval}"


STAGES = (
    "makeTimeseries",
    "makeTimeseries",
    "flatten",
    "joinNested",
    "fieldsSummary",
    "search",
    "lookup",
    "join",
    "filter",
    "filterOut",
    "fields",
    "fieldsAdd",
    "keepRemove",
    "rename",
    "summarize",
    "dedup",
    "expand",
    "append",
)


@st.composite
def pipelines(draw: st.DrawFn, schema: dict[str, str]) -> Pipeline:
    scope = Scope(dict(schema))
    stages = [f"fetch {SOURCE}"]
    if "timestamp" in schema and draw(st.booleans()):
        start, end = sorted(draw(st.lists(st.integers(0, 23), min_size=2, max_size=2)))
        end += 1
        stages[0] += f', from: "2026-01-15T{start:02d}:00:00Z"' if start else ""
        stages[0] += f', to: "2026-01-15T{end:02d}:00:00Z"' if end < 24 else ""
    appended = False
    for _ in range(draw(st.integers(0, 4))):
        stage = draw(st.sampled_from(STAGES))
        if not scope.fields and stage not in ("fields", "fieldsAdd", "summarize", "append"):
            continue
        if stage in ("filter", "filterOut"):
            stages.append(f"{stage} {draw(expressions(scope, 'boolean'))}")
        elif stage in ("fields", "fieldsAdd"):
            stages.append(_fields_like(draw, scope, stage == "fields"))
        elif stage == "keepRemove":
            stages.append(_keep_remove(draw, scope))
        elif stage == "rename":
            stages.append(_rename(draw, scope))
        elif stage == "summarize":
            stages.append(_summarize(draw, scope))
        elif stage == "dedup":
            stages.extend(_dedup(draw, scope))
        elif stage == "expand" and scope.of(*ARRAYS):
            stages.append(_expand(draw, scope))
        elif stage == "append" and not appended:
            appended = True
            stages.append(_append(draw, scope, schema))
        elif stage in ("lookup", "join", "joinNested"):
            builder = {"lookup": _lookup, "join": _join, "joinNested": _join_nested}[stage]
            text = builder(draw, scope, schema)
            if text is not None:
                stages.append(text)
        elif stage == "flatten" and scope.of("record"):
            stages.append(_flatten(draw, scope))
        elif stage == "makeTimeseries":
            text = _make_timeseries(draw, scope)
            if text is not None:
                stages.append(text)
        elif stage == "fieldsSummary":
            stages.append(_fields_summary(draw, scope))
        elif stage == "search":
            stages.append(f'search "{draw(st.sampled_from(STRINGS[1:]))}"')
    pipeline = Pipeline(stages, scope)
    if _scalar_fields(scope) and draw(st.booleans()):
        keys = _sort_keys(draw, scope)
        stages.append(f"sort {_sort_text(keys)}")
        pipeline.ends_sorted_by = keys
    if draw(st.sampled_from((False, False, False, True))):
        pipeline.limit = draw(st.integers(0, 5))
        stages.append(f"limit {pipeline.limit}")
    return pipeline


# ------------------------------------------------------------------ comparison
def normalize(value: Any) -> Any:
    """A hashable, comparable form: numbers by value (doubles rounded), booleans apart
    from numbers, arrays as tuples (of records: sorted, as a multiset), records as sorted
    pairs without their nulls (the engine's records have every key of their type)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    # the engine returns timestamps as UTC datetimes (microseconds), durations as
    # nanosecond counts
    if isinstance(value, reference.Timestamp):
        return ("timestamp", value.ns // 1000)
    if isinstance(value, datetime):
        return ("timestamp", (value - EPOCH) // timedelta(microseconds=1))
    if isinstance(value, reference.Duration):
        value = value.ns
    if isinstance(value, int | float):
        number = float(value)
        if math.isfinite(number) and number != 0:
            number = round(number, 9 - math.floor(math.log10(abs(number))))
        return ("number", number + 0.0)
    if isinstance(value, list | tuple):
        items = [normalize(v) for v in value]
        if value and all(isinstance(v, dict) for v in value):  # joinNested, fieldsSummary
            return ("records", tuple(sorted(items, key=repr)))
        return tuple(items)
    if isinstance(value, dict) and set(value) == {"value", "count"}:  # fieldsSummary
        return (("count", normalize(value["count"])), ("value", _summary_value(value["value"])))
    if isinstance(value, dict):  # a null key is a missing key, as in rows
        return tuple(sorted((k, normalize(v)) for k, v in value.items() if v is not None))
    return ("other", repr(value))


def _summary_value(value: Any) -> Any:
    """A fieldsSummary value, as itself or as its text: the engine writes the values as
    text when the summarized fields' types differ, which it decides by column types the
    reference does not track (docs/running.md, "fieldsSummary")."""
    if isinstance(value, str):
        moment = reference.Timestamp.parse(value) if value.endswith("Z") else None
        if moment is not None:
            return normalize(moment)
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return normalize(value)


def row_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """A row without its null fields: DQL does not distinguish a null from a missing
    field in a result record."""
    return tuple(sorted((k, normalize(v)) for k, v in row.items() if v is not None))


@dataclass(frozen=True)
class Known:
    """An open engine mismatch (an entry of .mismatches.md): its minimal repro, and the
    narrowest description of the generated cases it explains."""

    id: str
    query: str
    data: list[dict[str, Any]]
    expected: list[dict[str, Any]]
    explains: Callable[[Pipeline, list[dict[str, Any]], Exception], bool]


# Open mismatches (entries of .mismatches.md not yet FIXED; M1-M16 are).
KNOWN: tuple[Known, ...] = ()

# Open mismatches outside what the generator builds: only their repro runs.
REPROS: tuple[Known, ...] = ()


def check(pipeline: Pipeline, table: list[dict[str, Any]]) -> None:
    try:
        _check(pipeline, table)
    except Exception as exc:
        if any(known.explains(pipeline, table, exc) for known in KNOWN):
            reject()  # an open mismatch with its own strict-xfail repro below
        raise


def _check(pipeline: Pipeline, table: list[dict[str, Any]]) -> None:
    data = {SOURCE: table}
    note(pipeline.text)
    expected = reference.run(pipeline.text, data)
    actual = dqlbuild.run(pipeline.text, data).rows
    if pipeline.limit is None:
        assert Counter(map(row_key, actual)) == Counter(map(row_key, expected))
        if pipeline.ends_sorted_by:
            keys = [name for name, _ in pipeline.ends_sorted_by]
            assert [tuple(normalize(r.get(k)) for k in keys) for r in actual] == [
                tuple(normalize(r.get(k)) for k in keys) for r in expected
            ]
        return
    # limit: some rows of the unlimited result, as many as asked for, in sort order
    unlimited = reference.run("\n| ".join(pipeline.stages[:-1]), data)
    assert len(actual) == min(pipeline.limit, len(unlimited))
    assert not Counter(map(row_key, actual)) - Counter(map(row_key, unlimited))
    if pipeline.ends_sorted_by:
        keys = [name for name, _ in pipeline.ends_sorted_by]
        assert [tuple(normalize(r.get(k)) for k in keys) for r in actual] == [
            tuple(normalize(r.get(k)) for k in keys) for r in expected
        ]


@st.composite
def cases(draw: st.DrawFn) -> tuple[Pipeline, list[dict[str, Any]]]:
    schema = draw(schemas())
    return draw(pipelines(schema)), draw(tables(schema))


@settings(max_examples=MAX_EXAMPLES) if MAX_EXAMPLES else (lambda f: f)
@given(cases())
def test_engine_matches_reference(case: tuple[Pipeline, list[dict[str, Any]]]) -> None:
    pipeline, table = case
    check(pipeline, table)


@pytest.mark.parametrize(
    "known",
    [
        pytest.param(k, id=k.id.split(":")[0], marks=pytest.mark.xfail(strict=True, reason=k.id))
        for k in KNOWN + REPROS
    ],
)
def test_known_mismatch(known: Known) -> None:
    """Each open mismatch, exactly as filed: fails while it is open; passes (and so fails
    this strict xfail) once the engine is fixed, to remove it from KNOWN."""
    data = {SOURCE: known.data}
    assert reference.run(known.query, data) == known.expected
    assert dqlbuild.run(known.query, data).rows == known.expected
