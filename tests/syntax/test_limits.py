"""Input size and shape never crash anything: long chains are flat, real nesting has a
clean limit, lone surrogates are errors, error snippets stay short.

Long inputs run under a recursion limit only a few hundred frames above the test's own
stack, so any code that recursed once per chain element or per list item would fail here
(no timings: speed lives in benchmarks/).
"""

from __future__ import annotations

import functools
import json
import operator
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from dqlbuild import (
    Binary,
    F,
    Query,
    analyze,
    check,
    fetch,
    fn,
    lit,
    parse,
    parse_expression,
)
from dqlbuild.ast.base import MAX_DEPTH, depth
from dqlbuild.errors import DQLError, DQLSyntaxError, DQLValueError
from dqlbuild.rewriting import inject_filter, inject_filter_text, render


@contextmanager
def shallow_stack(frames: int = 250) -> Iterator[None]:
    """Allow only ``frames`` more frames than the caller already uses."""
    used = 0
    frame = sys._getframe()
    while frame is not None:
        used += 1
        frame = frame.f_back  # type: ignore[assignment]
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(used + frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def _everything(text: str) -> None:
    """Every operation of the library on ``text``: none may recurse per element."""
    q = parse(text)
    assert parse(q.format()) == q
    assert q.to_source() == text
    assert q.commands[-1].model_copy(update={}) == q.commands[-1]
    edited = q.insert(1, "filter isNotNull(z)")
    assert edited.to_source().count("isNotNull(z)") == 1
    hash(q)
    assert Query.model_validate_json(q.model_dump_json()) == q
    analyze(q)
    check(q)
    result = inject_filter_text(text, "k == $K")
    assert result.changed
    assert render(text, {"K": "v"}).text == text


@pytest.mark.parametrize("op", ["and", "or", "+", "*", "xor"])
def test_long_chains_of_one_operator_are_flat(op: str) -> None:
    terms = 3000
    text = "fetch logs | filter x == 1 and (" + f" {op} ".join(f"a{i}" for i in range(terms)) + ")"
    with shallow_stack():
        _everything(text)
    condition = parse(text).commands[1].args[0]
    assert isinstance(condition, Binary)
    chain = condition.operands[1]
    assert isinstance(chain, Binary) and chain.op == op and len(chain.operands) == terms


@pytest.mark.parametrize(
    "shape",
    [
        "fetch logs | fields " + ", ".join(f"f{i}" for i in range(3000)),
        "fetch logs | filter in(x, array(" + ", ".join(f'"v{i}"' for i in range(3000)) + "))",
        "fetch logs" + "".join(f"\n| fieldsAdd a{i} = {i} // c{i}" for i in range(500)),
        "fetch logs | filter a == 1 " + " ".join(f"/* c{i} */" for i in range(2000)),
        'fetch logs | filter a == "' + "x" * 200_000 + '"',
    ],
    ids=["fields", "array", "pipeline-with-comments", "comments", "string"],
)
def test_long_lists_pipelines_comments_and_literals(shape: str) -> None:
    with shallow_stack():
        _everything(shape)


@pytest.mark.parametrize(
    ("opening", "closing"),
    [("(", ")"), ("f(", ")"), ("array(", ")"), ("[fetch x | filter a in ", "]"),
     ("-", ""), ("not ", ""), ("x + 1 - ", "")],
)  # fmt: skip
def test_ten_thousand_levels_of_real_nesting_are_a_clean_syntax_error(
    opening: str, closing: str
) -> None:
    text = "fetch logs | filter " + opening * 10_000 + "a" + closing * 10_000
    with shallow_stack(), pytest.raises(DQLSyntaxError) as caught:
        parse(text)
    assert "deeper" in caught.value.message
    assert len(str(caught.value)) < 1000


def test_postfix_and_alternating_chains_count_as_nesting() -> None:
    for text in (
        "fetch logs | filter x" + "[0]" * 10_000 + " == 1",
        "fetch logs | filter x == " + " + 1 - ".join("1" for _ in range(10_000)),
    ):
        with shallow_stack(), pytest.raises(DQLSyntaxError, match="nests deeper"):
            parse(text)


_DENSE = {
    "unary minus": lambda n: "-" * n + "1",
    "not": lambda n: "not " * n + "true",
    "calls": lambda n: "f(" * n + "1" + ")" * n,
    "postfix": lambda n: "x" + "[0]" * n,
}


@pytest.mark.parametrize("shape", _DENSE)
def test_the_depth_limit_is_exact_for_the_densest_texts(shape: str) -> None:
    # A few characters per level: the parser's depth check skips subtrees whose text is
    # too short to reach the limit, and must still refuse exactly beyond it.
    deepest = None
    for n in range(MAX_DEPTH - 10, MAX_DEPTH + 2):
        try:
            query = parse("fetch logs | filter " + _DENSE[shape](n))
        except DQLSyntaxError as caught:
            assert "nests deeper" in caught.message
            break
        deepest = depth(query)
    else:
        pytest.fail("never refused")
    assert deepest == MAX_DEPTH


def test_builder_chains_are_flat_and_round_trip() -> None:
    condition = functools.reduce(operator.or_, [F("h") == str(i) for i in range(1000)])
    q = fetch("logs").filter(condition)
    with shallow_stack():
        text = q.format()
        assert parse(text) == q
        assert q.to_source() == text
        hash(q)
        assert Query.model_validate_json(q.model_dump_json()) == q
        check(q)
        assert inject_filter(q, "k == $K").changed
    assert isinstance(condition.node, Binary) and len(condition.node.operands) == 1000


def test_builder_nesting_has_the_parsers_limit() -> None:
    steps = {
        "unary": lambda e: -e,
        "call": lambda e: fn.abs(e),
        "mixed chain": lambda e: e + 1 - 2,
    }
    for step in steps.values():
        node = F("x")
        with pytest.raises(DQLValueError, match=f"deeper than {MAX_DEPTH}"):
            for _ in range(10_000):
                node = step(node)
    # As deep as a parsed query may be, it prints, dumps and parses back.
    for step in steps.values():
        node = F("x")
        for _ in range((MAX_DEPTH - 4) // (2 if step is steps["mixed chain"] else 1)):
            node = step(node)
        q = fetch("logs").filter(node)
        assert parse(q.format()) == q
        assert Query.model_validate_json(q.model_dump_json()) == q


def test_a_surrogate_pair_escape_is_one_character() -> None:
    q = parse('fetch logs | filter a == "\\ud83d\\ude00!" or b == "\\uD83D\\uDE00"')
    values = [n.value for n in q.walk() if type(n).__name__ == "String"]
    assert values == ["\U0001f600!", "\U0001f600"]
    dumped = json.loads(q.model_dump_json())  # valid JSON: no lone surrogates
    assert dumped["commands"][1]["args"][0]["operands"][0]["operands"][1]["value"] == "\U0001f600!"
    assert parse(q.format()) == q


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ('fetch logs | filter a == "ab\\ud800"', 29),
        ('fetch logs | filter a == "\\udc00\\ud83d"', 27),
        ('fetch logs | filter a == "x\ud800"', 28),
        ("fetch logs // \udfff", 15),
        ("fetch logs | filter `a\ud800` == 1", 23),
    ],
)
def test_a_lone_surrogate_is_a_syntax_error(text: str, column: int) -> None:
    with pytest.raises(DQLSyntaxError, match="lone surrogate") as caught:
        parse(text)
    assert caught.value.column == column
    str(caught.value).encode("utf-8")  # printable: the snippet shows U+FFFD instead


def test_a_lone_surrogate_in_builder_input_is_a_dql_error() -> None:
    for build in (
        lambda: lit("a\ud800"),
        lambda: F("x\udc00"),
        lambda: F("x")["k\ud800"],
        lambda: fetch("logs").fields_add(**{"a\ud800": 1}),
        lambda: fn.concat(parse_expression("x"), "\udbff"),
    ):
        with pytest.raises(DQLError, match="lone surrogate"):
            build()


def test_snippets_of_long_lines_are_windows_around_the_caret() -> None:
    terms = " or ".join(f"a{i} == {i}" for i in range(3000))
    text = f"fetch logs\n| filter {terms} + + {terms}\n| limit 1"
    with pytest.raises(DQLSyntaxError) as caught:
        parse(text)
    error = caught.value
    line, caret = error.snippet().splitlines()
    assert line.startswith("…") and line.endswith("…")
    assert len(line) <= 102
    # The caret points at the same character in the window as in the text.
    assert line[len(caret) - 1] == "+"
    assert error.column == len("| filter " + terms + " + ") + 1
    assert len(str(error)) < 400


def test_parsing_leaves_the_garbage_collector_as_it_found_it() -> None:
    import gc

    assert gc.isenabled()
    parse("fetch logs")
    with pytest.raises(DQLSyntaxError):
        parse("fetch logs | filter (")
    assert gc.isenabled()
    gc.disable()
    try:
        parse("fetch logs")
        assert not gc.isenabled()
    finally:
        gc.enable()
