"""Random builder programs print to DQL that parses back to the same tree."""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import dqlbuild
from dqlbuild import Expression, F, Query, data, dur, fetch, fn, lit, parse, parse_expression, var

NAMES = st.sampled_from(
    ["a", "b.c", "k8s.pod.name", "my field", "and", "x`y", "1st", "dt.entity.host", "héllo"]
)
TARGETS = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)

LEAVES: st.SearchStrategy[Expression] = st.one_of(
    NAMES.map(F),
    st.integers(min_value=-(10**12), max_value=10**12).map(lit),
    st.floats(min_value=-1e30, max_value=1e30, allow_nan=False).map(lit),
    st.text(max_size=8).map(lit),
    st.booleans().map(lit),
    st.none().map(lit),
    st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400)).map(dur),
    st.sampled_from(["5m", "1M", "250ms", "-2h", "3min"]).map(dur),
    st.builds(var, st.sampled_from(["Hosts", "env_1"]), st.sampled_from([None, "noquote"])),
    st.just(fn.now()),
)

BINARY: list[Callable[[Any, Any], Any]] = [
    operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge,
    operator.add, operator.sub, operator.mul, operator.truediv, operator.mod,
    operator.and_, operator.or_, operator.xor,
]  # fmt: skip


def _extend(children: st.SearchStrategy[Expression]) -> st.SearchStrategy[Expression]:
    ops = st.sampled_from(BINARY)
    return st.one_of(
        st.builds(lambda op, a, b: op(a, b), ops, children, children),
        # a Python value on the left: the reflected operators
        st.builds(lambda op, a, b: op(a, b), ops, st.integers(0, 9), children),
        children.map(operator.invert),
        children.map(operator.neg),
        children.map(lambda e: e.is_null()),
        children.map(lambda e: e.is_not_null()),
        children.map(lambda e: e.at("d")),
        st.builds(lambda e, i: e[i], children, st.integers(-3, 3)),
        st.builds(lambda e, k: e.key(k), children, NAMES),
        children.map(lambda e: e.each()),
        children.map(lambda e: e.search("x*")),
        st.builds(lambda e, xs: e.in_(xs), children, st.lists(children, min_size=1, max_size=2)),
        children.map(lambda e: e.in_(fetch("hosts").fields("id"))),
        st.builds(lambda c, t: fn.if_(c, t, else_=0), children, children),
        st.lists(children, min_size=1, max_size=3).map(lambda xs: fn.coalesce(*xs)),
        children.map(lambda e: fn.round(e, decimals=2)),
        st.lists(children, max_size=2).map(lit),
    )


EXPRESSIONS = st.recursive(LEAVES, _extend, max_leaves=10)

Step = tuple[str, tuple[Any, ...], dict[str, Any]]

STEPS: st.SearchStrategy[Step] = st.one_of(
    EXPRESSIONS.map(lambda e: ("filter", (e,), {})),
    EXPRESSIONS.map(lambda e: ("filter_out", (e,), {})),
    st.sampled_from(["a > 1 and not b", 'isNull(x) or y ~ "*z"', "c in [fetch t]"]).map(
        lambda text: ("filter", (text,), {})
    ),
    st.builds(lambda t, e: ("fields_add", (), {t: e}), TARGETS, EXPRESSIONS),
    st.builds(lambda t, e: ("fields_add", ({t: e},), {}), NAMES, EXPRESSIONS),
    st.builds(
        lambda t, e, by: ("summarize", (), {t: fn.count_if(e), "by": by}),
        TARGETS,
        EXPRESSIONS,
        st.lists(st.one_of(NAMES.map(F), EXPRESSIONS), min_size=1, max_size=2),
    ),
    st.builds(lambda e, d: ("sort", (e.desc() if d else e.asc(),), {}), EXPRESSIONS, st.booleans()),
    st.integers(0, 10**6).map(lambda n: ("limit", (n,), {})),
    st.lists(NAMES.map(F), min_size=1, max_size=3).map(lambda fs: ("fields", tuple(fs), {})),
    st.lists(NAMES.map(F), min_size=1, max_size=2).map(lambda fs: ("dedup", (fs,), {})),
    NAMES.map(lambda n: ("expand", (F(n),), {})),
    st.builds(
        lambda sub, key: ("join", (sub,), {"on": [key], "kind": "leftOuter", "prefix": "r."}),
        st.just(fetch("other").fields("id")),
        NAMES.map(F),
    ),
    st.builds(lambda e: ("make_timeseries", (), {"n": fn.count(), "by": [e]}), EXPRESSIONS),
)

STARTS: st.SearchStrategy[Query] = st.one_of(
    NAMES.map(lambda n: fetch(F(n))),
    st.builds(lambda e: fetch("logs", from_=e), EXPRESSIONS),
    st.lists(EXPRESSIONS, min_size=1, max_size=2).map(
        lambda xs: data(*(fn.record(v=x) for x in xs))
    ),
)


@settings(max_examples=150, deadline=None)
@given(EXPRESSIONS)
def test_expressions_round_trip(expression: Expression) -> None:
    assert parse_expression(str(expression)) == expression.node


@settings(max_examples=80, deadline=None)
@given(STARTS, st.lists(STEPS, max_size=5))
def test_builder_programs_round_trip(start: Query, steps: list[Step]) -> None:
    query = start
    for name, args, named in steps:
        before = query
        query = getattr(query, name)(*args, **named)
        assert query.commands[: len(before.commands)] == before.commands
        assert all(a is b for a, b in zip(query.commands, before.commands, strict=False))
    assert len(query.commands) == 1 + len(steps)
    text = query.format()
    assert parse(text) == query
    assert parse(query.to_source()) == query
    assert dqlbuild.format(text) == text
    assert parse(query.format(width=30)) == query
