"""Syntax errors: specific messages, positions, and nothing but DQLSyntaxError escapes."""

from __future__ import annotations

import contextlib
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dqlbuild import DQLError, DQLSyntaxError, parse, parse_expression, parse_pipeline
from dqlbuild.ast.base import MAX_DEPTH
from dqlbuild.syntax.parser import MAX_NESTING
from tests.fixtures_dql import identity_queries


def error_of(text: str) -> DQLSyntaxError:
    with pytest.raises(DQLSyntaxError) as info:
        parse(text)
    return info.value


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ('fetch logs | filter a == "open', 1, 26, "unterminated string"),
        ('fetch logs | fieldsAdd s = """open', 1, 28, 'unterminated string: `"""`'),
        ("fetch logs | filter `open == 1", 1, 21, "unterminated name"),
        ("fetch logs | filter a == 'x'", 1, 26, "single-quoted strings are not DQL"),
        ("fetch logs\n| filter a == 1\nlimit 5", 3, 1, "missing `|` before `limit`"),
        ("fetch logs | limit 5 sort a", 1, 22, "missing `|` before `sort`"),
        ("fetch logs |", 1, 12, "trailing `|`"),
        ("fetch logs | filter a == 1 |  \n", 1, 28, "trailing `|`"),
        ("fetch logs | filter (a == 1", 1, 21, "unbalanced `(`"),
        ("fetch logs | filter f(a))", 1, 25, "unbalanced `)`"),
        ("fetch logs | fields {a, b", 1, 21, "unbalanced `{`"),
        ("fetch logs | lookup [fetch x", 1, 21, "unbalanced `[`"),
        ("", 1, 1, "empty query"),
        ("   \n // only a comment\n", 1, 1, "empty query"),
        ("fetch logs | filter {{ .field }} == 1", 1, 21, "unrendered template"),
        ("fetch logs | filter x == ${VALUE}", 1, 26, "unrendered template"),
        ("fetch logs | filter countIf({{FIELD}} == true)", 1, 29, "unrendered template"),
        ("fetch logs | filter a < b < c", 1, 27, "comparisons do not chain"),
        ("fetch logs | filter a <> b", 1, 23, "`<>` is not DQL"),
        ("fetch logs | filter a && b", 1, 23, "`&&` is not DQL"),
        ("fetch logs | filter x in (1, 2)", 1, 26, "`in` operator takes a subquery"),
        ('fetch logs | filter x in ["a"]', 1, 27, "holds a query, not a list"),
        ("fetch logs | filter x == 5xyz", 1, 26, "`5xyz` is not a number or a duration"),
        ("fetch logs, from: -1H", 1, 20, "`1H` is not a number or a duration"),
        ("fetch logs | fieldsAdd z = 1e400", 1, 28, "`1e400` is too large for a double"),
        ("fetch logs | fields now() @ d", 1, 27, "`@` must be followed directly"),
        ("fetch logs | summarize count() by host", 1, 32, "unexpected `by`"),
        ("| fetch logs", 1, 1, "a query cannot begin with `|`"),
        ("fetch logs || limit 1", 1, 13, "a `|` cannot follow another `|`"),
        ("fetch logs | fieldsRemove dt.*", 1, 29, "unexpected `.`"),
        ("fetch logs | fields *", 1, 21, "unexpected `*`"),
        ("fetch logs, from: <START>", 1, 19, "unexpected `<START>`"),
        ("fetch logs | filter $ == 1", 1, 21, "invalid variable reference"),
        ("fetch logs | filter a == 1 # comment", 1, 28, "`#` is not DQL"),
        ("fetch logs | filter x == \u00e9", 1, 26, "unexpected character `\u00e9`"),
    ],
)
def test_specific_messages_with_positions(text: str, line: int, column: int, words: str) -> None:
    err = error_of(text)
    assert words in err.message, err.message
    assert (err.line, err.column) == (line, column), str(err)


def test_error_carries_expected_words_and_a_caret_snippet() -> None:
    err = error_of("fetch logs\n| filter a ==\n| limit 5")
    assert err.line == 3 and err.column == 1
    assert "an expression" in err.expected
    shown = str(err)
    assert "line 3, column 1" in shown
    assert shown.endswith("| limit 5\n^")
    assert "Token(" not in shown and "LPAR" not in shown


def test_hints_name_the_fix() -> None:
    assert error_of("fetch logs | filter a == 'x'").hint == 'use double quotes: "text"'
    assert "!=" in (error_of("fetch logs | filter a <> b").hint or "")
    assert "`by: {field}`" in (error_of("fetch logs | summarize count() by host").hint or "")


def test_errors_are_dql_errors_and_pickle() -> None:
    err = error_of("fetch logs | filter (")
    assert isinstance(err, DQLError)
    back = pickle.loads(pickle.dumps(err))
    assert (back.line, back.column, back.message) == (err.line, err.column, err.message)


def test_entry_points_reject_what_they_do_not_accept() -> None:
    with pytest.raises(DQLSyntaxError, match="empty expression"):
        parse_expression("  ")
    with pytest.raises(DQLSyntaxError):
        parse_expression("a, b")
    with pytest.raises(DQLSyntaxError):
        parse_pipeline("|")
    with pytest.raises(TypeError):
        parse(b"fetch logs")  # type: ignore[arg-type]


def test_nesting_limits_are_syntax_errors_not_recursion_errors() -> None:
    deep_brackets = (
        "fetch logs | filter " + "f(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1)
    )
    with pytest.raises(DQLSyntaxError, match="nest deeper"):
        parse(deep_brackets)
    # A change of operator nests (`a + b - c` is `(a + b) - c`): alternating, it is deep.
    mixed_chain = "fetch logs | filter x == " + " + 1 - ".join("1" for _ in range(MAX_DEPTH))
    with pytest.raises(DQLSyntaxError, match="nests deeper"):
        parse(mixed_chain)
    minus_chain = "fetch logs | filter x == " + "-" * (MAX_DEPTH + 5) + "1"
    with pytest.raises(DQLSyntaxError, match="nests deeper"):
        parse(minus_chain)


def test_queries_at_the_nesting_limits_still_work_end_to_end() -> None:
    from dqlbuild import Query, format

    calls = MAX_DEPTH - 4  # within the query and the filter command
    deep = "fetch logs | filter " + "f(" * calls + "a" + ")" * calls
    # A chain of one operator is one node: its length is not depth.
    chain = "fetch logs | filter " + " or ".join(f"a{i} + 1 + b" for i in range(1000))
    mixed = "fetch logs | filter x == " + " + 1 - ".join("1" for _ in range(MAX_DEPTH // 2 - 6))
    for text in (deep, chain, mixed):
        q = parse(text)
        assert parse(format(q)) == q
        assert Query.model_validate_json(q.model_dump_json()) == q
        assert q.to_source() == text
        hash(q)


@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_dql_syntax_errors(text: str) -> None:
    for entry in (parse, parse_pipeline, parse_expression):
        try:
            entry(text)
        except DQLSyntaxError as err:
            assert 1 <= err.line <= text.count("\n") + 1
            assert err.column >= 1


_ALPHABET = st.sampled_from([*"()[]{}|,:=\"'`$@/*-+<>!~ \n.0123456789aAzZ_", "//", "/*"])


@given(
    st.sampled_from(identity_queries()),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3), _ALPHABET), max_size=4),
)
def test_mutated_valid_queries_raise_only_dql_syntax_errors(
    text: str, edits: list[tuple[int, int, str]]
) -> None:
    for position, delete, insert in edits:
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at + delete :]
    with contextlib.suppress(DQLSyntaxError):
        parse(text)
