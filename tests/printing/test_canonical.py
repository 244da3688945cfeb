"""The canonical formatter: fixtures, invariants, comments, width."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dqlbuild import DQLValueError, Query, String, format, parse, parse_expression
from dqlbuild.printing.canonical import format_node
from dqlbuild.syntax.lexical import decode_string, encode_name, encode_string
from tests.fixtures_dql import identity_queries, pretty_pairs
from tests.strategies import expressions, queries


@pytest.mark.parametrize("text", identity_queries())
def test_canonical_queries_format_to_themselves(text: str) -> None:
    assert format(text) == text


@pytest.mark.parametrize(("source", "expected"), pretty_pairs())
def test_pretty_fixtures(source: str, expected: str) -> None:
    assert format(source) == expected
    assert parse(expected) == parse(source)
    assert format(expected) == expected


@given(queries)
def test_generated_trees_survive_format_and_parse(query: Query) -> None:
    text = format(query)
    assert parse(text) == query
    assert format(text) == text


@given(queries, st.integers(min_value=20, max_value=120), st.integers(min_value=1, max_value=4))
def test_any_width_and_indent_keeps_the_tree(query: Query, width: int, indent: int) -> None:
    text = format(query, width=width, indent=indent)
    assert parse(text) == query
    assert format(text, width=width, indent=indent) == text


@given(expressions)
def test_generated_expressions_print_with_only_needed_parentheses(expr: object) -> None:
    text = format_node(expr)  # type: ignore[arg-type]
    assert parse_expression(text) == expr


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=("Cs",))))
def test_any_python_string_round_trips_through_a_literal(value: str) -> None:
    assert decode_string(encode_string(value)) == value
    node = parse_expression(format_node(String(value=value)))
    assert isinstance(node, String) and node.value == value
    tripled = parse_expression(format_node(String(value=value, style="triple")))
    assert isinstance(tripled, String) and tripled.value == value


@given(st.text(min_size=1))
def test_any_field_name_round_trips_through_backticks(name: str) -> None:
    from dqlbuild import FieldRef

    assert parse_expression(encode_name(name)) == FieldRef(name=name)


def test_keywords_lower_case_and_catalog_spelling() -> None:
    assert format("FETCH logs | FIELDSADD x = ARRAY(TRUE, NULL) | SORT x DESC") == (
        "fetch logs\n| fieldsAdd x = array(true, null)\n| sort x desc"
    )


def test_names_get_backticks_only_when_needed() -> None:
    assert format("fetch logs | fields `a.b`, `a b`, `not`, `x-y`") == (
        "fetch logs\n| fields a.b, `a b`, `not`, `x-y`"
    )


def test_width_wraps_long_argument_lists() -> None:
    text = "fetch logs | fields " + ", ".join(f"field_number_{i}" for i in range(12))
    narrow = format(text, width=60)
    assert all(len(line) <= 60 for line in narrow.splitlines())
    assert narrow.splitlines()[1] == "| fields field_number_0,"
    assert narrow.splitlines()[2] == "    field_number_1,"
    wide = format(text, width=400)
    assert len(wide.splitlines()) == 2
    assert format(text, width=60, indent=4).splitlines()[2] == "        field_number_1,"


def test_every_comment_is_kept_exactly_once() -> None:
    text = """// a
fetch logs /* b */ // c
// d
| filter x == 1, // e
    /* f */ y // g
| fieldsAdd z = f(1, // h
  2)
// i"""
    out = format(text)
    for mark in "abcdefghi":
        assert out.count(f"// {mark}") + out.count(f"/* {mark} */") == 1, (mark, out)
    assert format(out) == out


def test_bad_options_are_value_errors() -> None:
    with pytest.raises(DQLValueError):
        format("fetch logs", width=5)
    with pytest.raises(DQLValueError):
        format("fetch logs", indent=0)


def test_format_accepts_nodes_and_text() -> None:
    assert format(parse_expression("a+b")) == "a + b"
    assert parse("fetch logs|limit 1").format() == "fetch logs\n| limit 1"


def _code_spaces(text: str) -> list[int]:
    """Offsets of spaces between tokens (not inside strings, names or comments)."""
    from dqlbuild.syntax.lexical import code_only

    blanked = code_only(text.replace(" ", "\0"))  # real spaces survive as \0
    return [i for i, ch in enumerate(blanked) if ch == "\0"]


@given(
    st.sampled_from(identity_queries()),
    st.lists(st.tuples(st.integers(0, 10_000), st.booleans()), min_size=1, max_size=4),
)
def test_comments_anywhere_are_kept_once_and_formatting_stays_stable(
    text: str, inserts: list[tuple[int, bool]]
) -> None:
    spaces = _code_spaces(text)
    chosen = sorted({spaces[i % len(spaces)]: line for i, line in inserts}.items(), reverse=True)
    marks = []
    for n, (at, line) in enumerate(chosen):
        mark = f"note{n}"
        marks.append(mark)
        comment = f" // {mark}\n" if line else f" /* {mark} */ "
        text = text[:at] + comment + text[at + 1 :]
    query = parse(text)
    assert query.to_source() == text
    out = format(query)
    assert parse(out) == query
    assert format(out) == out
    for mark in marks:
        assert out.count(mark) == 1, (mark, out)


def test_numbers_keep_their_meaning() -> None:
    # A long beyond the signed range is only valid DQL in hexadecimal.
    assert format("fetch x | fieldsAdd a = 0xFFFFFFFFFFFFFFFF, b = 0x1F") == (
        "fetch x\n| fieldsAdd a = 0xffffffffffffffff, b = 31"
    )


def test_crlf_line_comments_do_not_keep_the_carriage_return() -> None:
    text = "fetch logs\r\n| filter a == 1 // c\r\n| limit 5\r\n"
    assert format(text) == "fetch logs\n| filter a == 1 // c\n| limit 5"
    assert parse(text).to_source() == text
