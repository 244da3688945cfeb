"""Argument binding (DQL_SPEC §3.2, §10 #7) and the DPL export scanner."""

from __future__ import annotations

import pytest

from dqlbuild import parse, parse_expression
from dqlbuild.analysis import bind_arguments, bind_call, dpl_exports, output_name
from dqlbuild.analysis.binding import BoundArguments, bind
from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import Call
from dqlbuild.catalog import Parameter, get_catalog


def bound(text: str) -> BoundArguments:
    return bind_arguments(parse(text).commands[-1])


def bound_call(text: str) -> BoundArguments:
    call = parse_expression(text)
    assert isinstance(call, Call)
    return bind_call(call, get_catalog().require_function(call.name))[0]


def layout(b: BoundArguments) -> list[tuple[str | None, str]]:
    return [(v.parameter.name if v.parameter else None, v.name) for v in b.values]


def problems(b: BoundArguments) -> list[tuple[str, str]]:
    return [(p.kind, p.name) for p in b.problems]


def test_variadic_positional_absorbs_values_after_named_ones() -> None:
    b = bound("fetch logs | summarize a = count(), by: {h}, b = max(x)")
    assert layout(b) == [("aggregation", "a"), ("by", "h"), ("aggregation", "b")]
    assert not b.problems


def test_variadic_named_takes_one_value_without_braces() -> None:
    b = bound("fetch logs | summarize by: h, count()")
    assert layout(b) == [("by", "h"), ("aggregation", "count()")]


def test_brace_groups_flatten_and_lift_named_parameters() -> None:
    b = bound("timeseries { {p50 = median(x), p90 = percentile(x, 90)}, filter: {le != 1} }")
    assert layout(b) == [("metric", "p50"), ("metric", "p90"), ("filter", "le != 1")]
    assert b.first("filter") is not None and b.first("filter").named  # type: ignore[union-attr]


def test_alias_names_the_value_before_it_in_its_group() -> None:
    b = bound("fetch logs | summarize c = count(), by: {{bin(timestamp, 1h), alias: ts}, kind}")
    assert layout(b) == [("aggregation", "c"), ("by", "ts"), ("by", "kind")]
    b = bound("fetch logs | fields cpu, host.name, alias: host, timeframe")
    assert [v.name for v in b.values] == ["cpu", "host", "timeframe"]


def test_two_variadic_positional_parameters_take_one_argument_each() -> None:
    b = bound(
        'smartscapeNodes "HOST" | traverse {"calls", "runs_on"}, {"SERVICE"}, direction: backward'
    )
    assert layout(b) == [
        ("edgeType", '"calls"'),
        ("edgeType", '"runs_on"'),
        ("targetType", '"SERVICE"'),
        ("direction", "backward"),
    ]


def test_traverse_named_spellings() -> None:
    b = bound("smartscapeNodes HOST | traverse edgeTypes: {runs_on}, targetTypes: {SERVICE}")
    assert [v.parameter.name for v in b.values if v.parameter] == ["edgeType", "targetType"]
    assert not b.problems


def test_unknown_and_duplicate_named_parameters() -> None:
    assert problems(bound("fetch logs, form: -2h")) == [("unknown-parameter", "form")]
    assert problems(bound("fetch logs, from: -2h, from: -1h")) == [("duplicate-parameter", "from")]
    # ``alias:`` is a pseudo-parameter, accepted anywhere.
    assert not bound("fetch logs | fieldsAdd x, alias: y").problems


def test_variadic_named_parameter_may_repeat() -> None:
    assert not bound(
        'fetch logs | sort a, direction: "descending", b, direction: "ascending"'
    ).problems


def test_positional_value_skips_parameters_given_by_name() -> None:
    b = bound_call('duration(a, b, unit: "m")')
    assert problems(b) == [("too-many-positional", "")]


def test_named_only_parameter_passed_positionally() -> None:
    b = bound_call('contains(s, "x", false)')
    assert problems(b) == [("named-only-positional", "caseSensitive")]


def test_too_many_positional_is_reported_once() -> None:
    b = bound("fetch logs | limit 1, 2, 3")
    assert problems(b) == [("too-many-positional", "")]


def test_missing_required_and_excluded_parameters() -> None:
    assert problems(bound("fetch logs | lookup [fetch x], sourceField: a")) == [
        ("missing-required", "lookupField")
    ]
    excluded = bound('fetch logs, from: -1h, to: -1m, timeframe: "2024-01-01/2024-01-02"')
    assert [
        (p.kind, p.name, p.parameter.name if p.parameter else None) for p in excluded.problems
    ] == [
        ("excluded-together", "timeframe", "from"),
        ("excluded-together", "timeframe", "to"),
    ]
    # One of two mutually exclusive required parameters is enough.
    assert not bound('data json: "[]"').problems
    assert not bound("data record(a = 1)").problems


def test_summarize_without_aggregation_and_empty_constructors() -> None:
    assert not bound("fetch logs | summarize by: {host}").problems
    b = bound_call("array()")
    assert not b.problems
    b = bound_call("in(x)")
    assert problems(b) == [("missing-required", "haystack")]


def test_rename_pairs_become_aliases() -> None:
    b = bound("fetch logs | fieldsRename a, x, b = c, d")
    assert [(v.expr.name, v.assigned_name) for v in b.values] == [  # type: ignore[attr-defined]
        ("a", "x"),
        ("c", "b"),
        ("d", None),
    ]


def test_pairs_follow_the_catalog_flag() -> None:
    args = parse("fetch logs | fieldsRename a, x").commands[-1].args
    plain = Parameter(name="field", variadic=True, assignment_support="mandatory")
    assert [v.assigned_name for v in bind(args, [plain]).values] == [None, None]
    pairs = plain.model_copy(update={"accepts_pairs": True})
    (value,) = bind(args, [pairs]).values
    assert (output_name(value.expr), value.assigned_name) == ("a", "x")


def test_function_braces_are_values() -> None:
    b = bound_call('in(x, {"a", "b"})')
    assert [v.node.kind for v in b.values] == ["field", "brace"]


def test_plain_values_bind_as_by_the_full_rules() -> None:
    """Lists without `name:` or brace groups bind by their count's remembered outcome:
    the same values, parameters and problems (at the same values) as the full rules."""
    from dqlbuild.analysis.binding import _bind, _plan
    from dqlbuild.ast.nodes import FieldRef

    catalog = get_catalog()
    lists = [s.parameters for f in catalog.functions for s in f.signatures]
    lists += [c.parameters for c in catalog.commands]
    for parameters in lists:
        for count in range(5):
            for flatten in (False, True):
                # Twice each: the first list is bound by the full rules and remembered.
                for prefix in ("a", "b"):
                    args = [FieldRef(name=f"{prefix}{i}") for i in range(count)]
                    full = _bind(args, _plan(parameters), flatten)
                    fast = bind(args, parameters, flatten=flatten)
                    assert fast == full
                    assert [p.node for p in fast.problems] == [p.node for p in full.problems]
    # One node given twice: the problem stays at the value where it arises.
    x, y = FieldRef(name="x"), FieldRef(name="y")
    contains = catalog.require_function("contains").signatures[0].parameters
    too_many = [x, y, y, x, y, x]
    assert bind(too_many, contains, flatten=False) == _bind(too_many, _plan(contains), False)
    again = [FieldRef(name=f"v{i}") for i in range(6)]
    fast, full = bind(again, contains, flatten=False), _bind(again, _plan(contains), False)
    assert fast == full
    assert [p.node for p in fast.problems if p.node is not None] == [again[2]]


def test_unknown_command_binds_nothing() -> None:
    b = bound("fetch logs | frobnicate a, b: 1")
    assert all(v.parameter is None for v in b.values) and not b.problems


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("status", "status"),
        ("`my field`", "my field"),
        ("count()", "count()"),
        ("bin(timestamp,1h)", "bin(timestamp, 1h)"),
        ("a+b", "a + b"),
        ("max(x,default:99.9)", "max(x, default: 99.9)"),
    ],
)
def test_output_names_are_canonical(text: str, name: str) -> None:
    assert output_name(parse_expression(text)) == name


@pytest.mark.parametrize(
    ("pattern", "exports"),
    [
        ("INT:status ' ' LD:msg", ("status", "msg")),
        ("LD 'a:b' INT:n", ("n",)),
        ("TIMESTAMP('yyyy-MM-dd HH:mm:ss'):ts LD JSON:settings", ("ts", "settings")),
        ("LD:http.method SPACE", ("http.method",)),
        ("KVP{ LD:key '=' LD:value ' '? }:pairs", ("pairs",)),
        ("JSON {JSON {STRING:id}:payload}:all", ("all",)),
        ("INT{1,3}:digits", ("digits",)),
        ("[[:alpha:]]+:word LD:rest", ("word", "rest")),
        ("LD:'quoted name' // comment INT:nope\nINT:n", ("quoted name", "n")),
        ("/* INT:no */ INT:yes", ("yes",)),
        ("INT:a INT:a", ("a",)),
        ("(INT:a | LD:b) EOL", ("a", "b")),
        ("LD 'no exports'", ()),
    ],
)
def test_dpl_exports(pattern: str, exports: tuple[str, ...]) -> None:
    assert dpl_exports(pattern) == exports


def test_lists_of_one_shape_bind_as_by_the_full_rules() -> None:
    """Lists with `name:` arguments or brace groups bind by their shape's remembered
    outcome: the same values, parameters and problems (at the same nodes) as the full
    rules, for every catalog list and shapes made of its own parameter names."""
    from dqlbuild.analysis.binding import _bind, _plan
    from dqlbuild.ast.nodes import Brace, FieldRef, Named

    def shapes(names: list[str], prefix: str) -> list[list[Node]]:
        def f(i: int) -> FieldRef:
            return FieldRef(name=f"{prefix}{i}")

        first, second = [*names, "nope", "nope"][:2]
        return [
            [f(0), Named(name=first, value=f(1))],
            [Named(name=first, value=f(0)), f(1), f(2)],
            [Named(name=second, value=Brace(items=(f(0), f(1)))), f(2)],
            [f(0), Named(name="alias", value=f(1)), Named(name=first, value=f(2))],
            [Brace(items=(f(0), Named(name=second, value=f(1)))), Brace(items=(f(2),))],
            [Named(name=first, value=f(0)), Named(name=first.upper(), value=f(1))],
            [Named(name="unknown", value=f(0)), f(1), f(2), f(3), f(4)],
            [Named(name=n, value=f(i)) for i, n in enumerate(names)],
        ]

    catalog = get_catalog()
    lists = [s.parameters for f in catalog.functions for s in f.signatures]
    lists += [c.parameters for c in catalog.commands]
    for parameters in lists:
        names = [p.name for p in parameters]
        for flatten in (False, True):
            # Twice each: the first list is bound by the full rules and remembered.
            for prefix in ("a", "b"):
                for args in shapes(names, prefix):
                    full = _bind(args, _plan(parameters), flatten)
                    fast = bind(args, parameters, flatten=flatten)
                    assert fast == full
                    assert [p.node for p in fast.problems] == [p.node for p in full.problems]
                    assert [v.carrier for v in fast.values] == [v.carrier for v in full.values]
    # One `name:` node given twice is no duplicate, though a list of that shape with
    # two such nodes is.
    fetch = catalog.require_command("fetch").parameters
    logs, once = FieldRef(name="logs"), Named(name="from", value=FieldRef(name="x"))
    other = Named(name="from", value=FieldRef(name="y"))
    assert [p.kind for p in bind([logs, once, other], fetch).problems] == ["duplicate-parameter"]
    assert bind([logs, once, once], fetch) == _bind([logs, once, once], _plan(fetch), True)
    assert not bind([logs, once, once], fetch).problems
