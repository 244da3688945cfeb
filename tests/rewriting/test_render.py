"""Rendering dashboard variables: the app's strategies, made safe, and proven on the tree."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dqlbuild import FieldRef, Node, String, Variable, parse, parse_expression
from dqlbuild.errors import DQLError, DQLValueError
from dqlbuild.rewriting.render import render
from dqlbuild.rewriting.variables import SELECT_ALL

NOW = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


def text_of(template: str, values: dict[str, str | list[str]], **kw: object) -> str:
    return render(template, values, now=NOW, **kw).text  # type: ignore[arg-type]


# ---------------------------------------------------------------- the four strategies
def test_default_is_an_escaped_string() -> None:
    assert text_of("fetch logs | filter a == $K", {"K": 'say "hi" \\ bye'}) == (
        'fetch logs | filter a == "say \\"hi\\" \\\\ bye"'
    )


def test_noquote_is_the_value_itself() -> None:
    assert text_of("fetch logs | limit $N:noquote", {"N": "25"}) == "fetch logs | limit 25"


@pytest.mark.parametrize(
    "value", ["25", "2.5", "5m", "-3", "-1h", "true", "null", "host.name", "k8s.pod-name"]
)
def test_noquote_accepts_one_literal_name_or_negative_number(value: str) -> None:
    if value == "k8s.pod-name":
        # Within the app's characters, but `pod - name` is an expression: refused.
        with pytest.raises(DQLValueError, match="single literal"):
            render("fetch logs | fieldsAdd x = $V:noquote", {"V": value})
        return
    out = text_of("fetch logs | fieldsAdd x = $V:noquote", {"V": value})
    assert out == f"fetch logs | fieldsAdd x = {value}"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1 + 1",
        "a or b",
        "f(x)",
        "5 // c",
        "5 /* c */",
        "$Other",
        "a desc",
        "x = 1",
        '"open',
        '"s"',
        "`my field`",
        "5\n| limit 1",
    ],
)
def test_noquote_refuses_anything_else(value: str) -> None:
    with pytest.raises(DQLValueError, match="cannot be used for \\$V:noquote"):
        render("fetch logs | fieldsAdd x = $V:noquote", {"V": value})


@pytest.mark.parametrize("value", ['"s"', "`my field`", "a b", "é"])
def test_noquote_refuses_what_the_app_fails_on(value: str) -> None:
    with pytest.raises(DQLValueError, match=r"only letters, digits, `\.`, `_` and `-`"):
        render("fetch logs | fieldsAdd x = $V:noquote", {"V": value})


def test_noquote_negative_number_is_parenthesised_where_the_tree_needs_it() -> None:
    assert text_of("fetch logs | fieldsAdd y = $I:noquote[0]", {"I": "-5"}) == (
        "fetch logs | fieldsAdd y = (-5)[0]"
    )
    assert text_of("fetch logs | fieldsAdd y = a * $I:noquote", {"I": "-5"}) == (
        "fetch logs | fieldsAdd y = a * -5"
    )


def test_backtick_is_a_field_name() -> None:
    assert text_of("fetch logs | fields $F:backtick", {"F": "a`b\\c"}) == (
        "fetch logs | fields `a\\`b\\\\c`"
    )


def test_backtick_refuses_an_empty_name() -> None:
    with pytest.raises(DQLValueError, match="empty"):
        render("fetch logs | fields $F:backtick", {"F": ""})


def test_triplequote() -> None:
    assert text_of("fetch logs | parse c, $P:triplequote", {"P": 'LD "x" LD'}) == (
        'fetch logs | parse c, """LD "x" LD"""'
    )


@pytest.mark.parametrize("value", ['a """ b', 'ends with "'])
def test_triplequote_refuses_what_it_cannot_hold(value: str) -> None:
    with pytest.raises(DQLValueError, match="triplequote"):
        render("fetch logs | parse c, $P:triplequote", {"P": value})


# ---------------------------------------------------------------- multi-select
def test_a_list_is_comma_separated_without_brackets() -> None:
    assert text_of("fetch logs | filter in(h, array($H))", {"H": ["a", "b", 'c"']}) == (
        'fetch logs | filter in(h, array("a","b","c\\""))'
    )
    assert text_of("fetch logs | filter in(h, {$H})", {"H": ["a", "b"]}) == (
        'fetch logs | filter in(h, {"a","b"})'
    )


def test_a_list_under_a_modifier_renders_each_value() -> None:
    assert text_of("fetch logs | filter in(n, array($N:noquote))", {"N": ["1", "-2"]}) == (
        "fetch logs | filter in(n, array(1,-2))"
    )


def test_an_empty_list_renders_as_an_empty_string_and_warns() -> None:
    result = render("fetch logs | filter in(h, array($H))", {"H": []}, now=NOW)
    assert result.text == 'fetch logs | filter in(h, array(""))'
    assert any("no selected value" in w for w in result.warnings)


def test_several_values_where_one_is_expected_are_refused() -> None:
    with pytest.raises(DQLValueError, match="2 values") as info:
        render("fetch logs | filter h == $H", {"H": ["a", "b"]})
    assert (info.value.line, info.value.column) == (1, 26)


def test_a_one_element_list_is_fine_anywhere() -> None:
    assert text_of("fetch logs | filter h == $H", {"H": ["a"]}) == 'fetch logs | filter h == "a"'


def test_select_all_expands_to_every_value() -> None:
    out = text_of(
        "fetch logs | filter in(h, array($H))",
        {"H": [SELECT_ALL]},
        all_values={"H": ["x", "y"]},
    )
    assert out == 'fetch logs | filter in(h, array("x","y"))'


def test_select_all_without_the_list_of_values_is_a_clear_error() -> None:
    with pytest.raises(DQLValueError, match="select-all") as info:
        render("fetch logs | filter in(h, array($H))", {"H": SELECT_ALL})
    assert info.value.hint is not None and "all_values" in info.value.hint


def test_select_all_of_an_unreferenced_variable_is_not_needed() -> None:
    assert text_of("fetch logs | filter a == $A", {"A": "1", "H": [SELECT_ALL]}) == (
        'fetch logs | filter a == "1"'
    )


# ---------------------------------------------------------------- inside strings
def test_inside_a_string_the_raw_value_is_escaped_for_that_string() -> None:
    out = text_of('fetch logs | filter contains(c, "id=$Id:noquote; $Id")', {"Id": 'a"b'})
    assert out == 'fetch logs | filter contains(c, "id=a\\"b; a\\"b")'


def test_inside_a_string_a_list_is_comma_joined() -> None:
    assert text_of('fetch logs | fieldsAdd t = "hosts: $H"', {"H": ["a", "b"]}) == (
        'fetch logs | fieldsAdd t = "hosts: a,b"'
    )


def test_inside_a_triple_quoted_string_the_value_is_raw() -> None:
    out = text_of('fetch logs | parse c, """LD "$Sep" LD"""', {"Sep": "\\|"})
    assert out == 'fetch logs | parse c, """LD "\\|" LD"""'


def test_a_triple_quoted_string_that_cannot_hold_the_value() -> None:
    with pytest.raises(DQLValueError, match='"""'):
        render('fetch logs | parse c, """LD $Sep"""', {"Sep": 'x"'})


def test_an_escaped_dollar_is_left_alone() -> None:
    assert (
        text_of(r'fetch logs | filter x == "\$A"', {"A": "v"}) == r'fetch logs | filter x == "\$A"'
    )


def test_comments_and_backtick_names_are_left_alone() -> None:
    out = text_of("fetch logs // for $A\n| fields `$A`, b = $A", {"A": "v"})
    assert out == 'fetch logs // for $A\n| fields `$A`, b = "v"'


# ---------------------------------------------------------------- built-ins, undefined
def test_timeframe_built_ins_default_to_the_last_two_hours() -> None:
    out = text_of("fetch logs, from: $dt_timeframe_from, to: $dt_timeframe_to", {})
    assert out == 'fetch logs, from: "2024-05-06T05:08:09.123Z", to: "2024-05-06T07:08:09.123Z"'


def test_timeframe_built_ins_follow_now_in_utc() -> None:
    cest = timezone(timedelta(hours=2))
    out = render("fetch logs, to: $dt_timeframe_to", {}, now=datetime(2024, 1, 1, 2, tzinfo=cest))
    assert out.text == 'fetch logs, to: "2024-01-01T00:00:00.000Z"'


def test_timeframe_built_ins_can_be_given() -> None:
    out = text_of(
        "fetch logs, from: $dt_timeframe_from", {"dt_timeframe_from": "2020-01-01T00:00:00Z"}
    )
    assert out == 'fetch logs, from: "2020-01-01T00:00:00Z"'


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(DQLValueError, match="timezone"):
        render("fetch logs", {}, now=datetime(2024, 1, 1))


def test_undefined_variables_raise_in_strict_mode() -> None:
    with pytest.raises(DQLValueError, match=r"\$A, \$B") as info:
        render("fetch logs | filter a == $A\n| filter b == $B", {})
    assert (info.value.line, info.value.column) == (1, 26)


def test_undefined_variables_stay_with_a_warning_otherwise() -> None:
    result = render("fetch logs | filter a == $A and b == $B", {"B": "x"}, strict=False)
    assert result.text == 'fetch logs | filter a == $A and b == "x"'
    assert result.warnings == ("line 1, column 26: $A has no value; left as written",)


def test_values_must_be_strings() -> None:
    with pytest.raises(DQLValueError, match="strings"):
        render("fetch logs | limit $N:noquote", {"N": [5]})  # type: ignore[list-item]


# ---------------------------------------------------------------- warnings about the app
def warnings_for(template: str, values: dict[str, str | list[str]]) -> tuple[str, ...]:
    return render(template, values, now=NOW).warnings


def test_no_warning_when_the_app_would_do_the_same() -> None:
    assert (
        warnings_for("fetch logs | filter a == $A | limit $N:noquote", {"A": "x", "N": "3"}) == ()
    )


def test_a_quote_is_escaped_like_the_app_does_without_a_warning() -> None:
    # DQL_SPEC §5.2: the app escapes quotes for `$k`, so any text stays one literal.
    assert warnings_for("fetch logs\n| filter a == $A", {"A": 'x"y'}) == ()
    assert warnings_for("fetch logs | filter a == $A", {"A": 'x" or "1" == "1'}) == ()
    assert warnings_for("fetch logs | fields $A:backtick", {"A": "a`b"}) == ()


def test_warns_where_the_app_would_break_on_a_backslash() -> None:
    # The app escapes quotes only: a value ending in a backslash escapes the closing quote.
    [warning] = warnings_for("fetch logs\n| filter a == $A", {"A": "x\\"})
    assert warning.startswith("line 2, column 15: $A: ")
    assert "invalid" in warning


def test_warns_where_the_app_would_change_the_meaning() -> None:
    # `\n` written in the value is a backslash and an n; the app's literal decodes it.
    [warning] = warnings_for("fetch logs | filter a == $A", {"A": "x\\ny"})
    assert "meaning" in warning


def test_warns_about_substitution_inside_a_string() -> None:
    [warning] = warnings_for('fetch logs | filter contains(c, "v=$A")', {"A": "x"})
    assert "inside a string literal" in warning


def test_warns_about_a_comment_the_app_would_break() -> None:
    [warning] = warnings_for("fetch logs // $A\n| limit 1", {"A": "a\n| limit 2"})
    assert "inside a comment" in warning


def test_warns_about_backtick_names() -> None:
    [warning] = warnings_for("fetch logs | fields `$A`", {"A": "x"})
    assert "inside a backtick name" in warning


def test_warns_for_a_negative_number_in_a_tight_spot() -> None:
    [warning] = warnings_for("fetch logs | fieldsAdd y = $I:noquote[0]", {"I": "-1"})
    assert "meaning" in warning


def test_a_template_that_is_not_dql_is_rendered_and_flagged() -> None:
    # `$F:backtick = ...` names a field; our grammar has no variable there.
    result = render("fetch logs | fieldsAdd $F:backtick = 1", {"F": "x"}, now=NOW)
    assert result.text == "fetch logs | fieldsAdd `x` = 1"
    assert any("not valid DQL before substitution" in w for w in result.warnings)


def test_a_template_that_stays_invalid_raises_its_syntax_error() -> None:
    with pytest.raises(DQLError):
        render("fetch logs | filter a == $A |", {"A": "x"})


# ---------------------------------------------------------------- the property
def expected_tree(template: str, values: dict[str, str]) -> Node:
    """The template's tree with each Variable replaced by the node its value stands for."""

    def replace(node: Node) -> Node | None:
        if not isinstance(node, Variable):
            return None
        value = values[node.name]
        if node.modifier == "backtick":
            return FieldRef(name=value)
        if node.modifier == "noquote":
            parsed: Node = parse_expression(value)
            return parsed
        return String(value=value)

    result: Node = parse(template).transform(replace)
    return result


TEMPLATES = [
    "fetch logs | filter service == $A and not contains(content, $B)",
    "fetch logs, from: $A | fieldsAdd x = if(a > 1, $B, else: $A) | limit 3",
    "timeseries avg(m), by: {h}, filter: h == $A | fieldsAdd $B:backtick",
    "fetch logs | parse content, $A:triplequote | sort $B:backtick desc",
    "fetch logs | fieldsAdd r = record(k = $A) | filter r[k] == $B",
    "fetch logs | lookup [fetch x | filter y == $A], sourceField: $B:backtick, lookupField: y",
]
text_values = st.text(st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(TEMPLATES), text_values, text_values)
def test_rendering_any_values_is_the_template_with_those_values(
    template: str, a: str, b: str
) -> None:
    values = {"A": a, "B": b}
    try:
        result = render(template, values, now=NOW)
    except DQLValueError:
        # Only modifiers can refuse a value; the default strategy takes anything.
        assert ":backtick" in template or ":triplequote" in template
        return
    assert parse(result.text) == expected_tree(template, values)


noquote_values = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(["1.5", "-2.5", "5m", "-1h", "true", "null", "a.b", "`x y`", '"s"']),
    text_values,
)


@settings(max_examples=150, deadline=None)
@given(
    noquote_values,
    st.sampled_from(["$N:noquote", "-$N:noquote", "$N:noquote[0]", "x - $N:noquote"]),
)
def test_noquote_renders_exactly_the_value_or_refuses(value: str, place: str) -> None:
    template = f"fetch logs | fieldsAdd y = {place}"
    try:
        result = render(template, {"N": value}, now=NOW)
    except DQLValueError:
        return
    assert parse(result.text) == expected_tree(template, {"N": value})


@settings(max_examples=100, deadline=None)
@given(st.lists(text_values, min_size=1, max_size=4))
def test_a_list_becomes_exactly_those_arguments(items: Sequence[str]) -> None:
    result = render("fetch logs | filter in(h, array($H))", {"H": list(items)}, now=NOW)
    array = ", ".join(f"s{i}" for i in range(len(items)))
    expected = parse(f"fetch logs | filter in(h, array({array}))").transform(
        lambda n: (
            String(value=items[int(n.name[1:])])
            if isinstance(n, FieldRef) and n.name[0] == "s"
            else None
        )
    )
    assert parse(result.text) == expected


@settings(max_examples=100, deadline=None)
@given(text_values, st.sampled_from(["double", "triple"]))
def test_a_string_holding_a_reference_gets_exactly_the_value(value: str, style: str) -> None:
    literal = '"pre $A post"' if style == "double" else '"""pre $A post"""'
    try:
        result = render(f"fetch logs | filter x == {literal}", {"A": value}, now=NOW)
    except DQLValueError:
        assert style == "triple"
        return
    assert parse(result.text) == parse('fetch logs | filter x == ""').transform(
        lambda n: String(value=f"pre {value} post") if isinstance(n, String) else None
    )
