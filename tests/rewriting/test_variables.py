"""Finding ``$variable`` references lexically, and the variable filter conditions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dqlbuild import Variable, parse, parse_expression
from dqlbuild.errors import DQLValueError
from dqlbuild.rewriting.render import render
from dqlbuild.rewriting.variables import variable_filter, variables


def refs(text: str) -> list[tuple[str, str | None, bool]]:
    return [(r.name, r.modifier, r.in_string) for r in variables(text)]


def test_names_match_on_identifier_boundaries() -> None:
    text = "fetch logs | filter a == $Service or b == $Services or c == $Service_2"
    assert [r[0] for r in refs(text)] == ["Service", "Services", "Service_2"]


def test_modifiers() -> None:
    text = "fetch logs | limit $N:noquote | fields $F:backtick | filter j == $J:triplequote"
    assert refs(text) == [
        ("N", "noquote", False),
        ("F", "backtick", False),
        ("J", "triplequote", False),
    ]


def test_a_modifier_must_end_at_a_boundary() -> None:
    # `$k:noquotes` is `$k` followed by text, as in the Dashboards app's own pattern.
    assert refs('fetch logs | filter x == "$k:noquotes"') == [("k", None, True)]


def test_references_inside_strings() -> None:
    text = 'fetch logs | filter contains(content, "greater than $Soon:noquote days")'
    [ref] = variables(text)
    assert (ref.name, ref.modifier, ref.in_string) == ("Soon", "noquote", True)
    assert ref.string_style == "double"
    assert ref.string_span is not None
    assert text[ref.string_span.start : ref.string_span.end] == '"greater than $Soon:noquote days"'


def test_references_inside_triple_quoted_strings() -> None:
    text = 'fetch logs | parse content, """LD "$Key" LD:rest"""'
    [ref] = variables(text)
    assert (ref.name, ref.in_string, ref.string_style) == ("Key", True, "triple")


def test_an_escaped_dollar_in_a_string_is_not_a_reference() -> None:
    assert refs(r'fetch logs | filter x == "\$literal and $real"') == [("real", None, True)]


def test_comments_and_backtick_names_hold_no_references() -> None:
    text = (
        "fetch logs // filter on $Old\n"
        "/* $Block */ | fields `$not_a_var`, a = $Real\n"
        "| filter b == $Other // $Trailing"
    )
    assert refs(text) == [("Real", None, False), ("Other", None, False)]


def test_a_comment_marker_inside_a_string_is_text() -> None:
    assert refs('fetch logs | filter x == "http://$Host/path" and y == $Y') == [
        ("Host", None, True),
        ("Y", None, False),
    ]


def test_spans_have_offsets_lines_and_columns() -> None:
    text = "fetch logs\n| filter x == $Service:noquote"
    [ref] = variables(text)
    assert text[ref.span.start : ref.span.end] == "$Service:noquote" == ref.text
    assert (ref.span.line, ref.span.column, ref.span.end_line, ref.span.end_column) == (
        2,
        15,
        2,
        31,
    )


def test_text_that_does_not_parse_is_scanned_too() -> None:
    assert refs("fetch logs | filter x == $A |") == [("A", None, False)]


def test_a_parsed_query_is_scanned_in_its_own_text() -> None:
    text = "fetch logs  |  filter x == $A"
    [ref] = variables(parse(text))
    assert text[ref.span.start : ref.span.end] == "$A"


def test_a_built_query_is_scanned_in_its_printed_text() -> None:
    query = parse("fetch logs").append("filter x == $A")
    [ref] = variables(query)
    assert query.to_source()[ref.span.start : ref.span.end] == "$A"


def test_other_inputs_are_refused() -> None:
    with pytest.raises(DQLValueError):
        variables(parse_expression("$A"))


def test_dollar_signs_that_are_not_references() -> None:
    assert refs('fetch logs | filter x == "costs $5" and y == "end$"') == []


def test_single_select_filter() -> None:
    assert variable_filter("service.name", "Service") == parse_expression(
        "service.name == $Service"
    )


def test_multi_select_filter() -> None:
    assert variable_filter("dt.entity.host", "Host", multiple=True) == parse_expression(
        "in(dt.entity.host, array($Host))"
    )


def test_filter_on_a_name_that_needs_backticks() -> None:
    node = variable_filter("my field", "F")
    assert node == parse_expression("`my field` == $F")


def test_filter_on_an_expression() -> None:
    node = variable_filter(parse_expression("lower(name)"), "N")
    assert node == parse_expression("lower(name) == $N")


@pytest.mark.parametrize("key", ["", "a-b", "1a", "$a", "a:noquote"])
def test_a_key_must_be_an_identifier(key: str) -> None:
    with pytest.raises(DQLValueError):
        variable_filter("x", key)


def test_a_field_must_not_be_empty() -> None:
    with pytest.raises(DQLValueError):
        variable_filter("", "K")


# ---------------------------------------------------------------- one lexical truth
SEPARATORS = [" ", "\n", "\r\n", " // x $v\r", " // x $v\n", ' // "$v\r', " /* $v \n */ ", "\r"]
ATOMS = ["$v", "$w:noquote", '"s $v"', '"""t $v"""', "`f$v`", '"\\$v"', '"a\\"$v"', '"//$v"']


@st.composite
def lexical_layouts(draw: st.DrawFn) -> str:
    def pick(options: list[str]) -> str:
        return draw(st.sampled_from(options))

    return (
        f"fetch logs{pick(SEPARATORS)}| filter a == {pick(ATOMS)}{pick(SEPARATORS)}"
        f"or b == {pick(ATOMS)}{pick(SEPARATORS)}| limit 1{pick(SEPARATORS)}"
    )


@settings(max_examples=150, deadline=None)
@given(lexical_layouts())
def test_the_scan_and_the_parser_agree_on_every_reference(text: str) -> None:
    query = parse(text)
    nodes = [n.span.start for n in query.walk() if isinstance(n, Variable) and n.span]
    assert [r.span.start for r in variables(text) if not r.in_string] == sorted(nodes)
    rendered = render(text, {"v": "x", "w": "5"}).text
    assert not any(isinstance(n, Variable) for n in parse(rendered).walk())
    assert [c.name for c in parse(rendered).commands] == ["fetch", "filter", "limit"]
