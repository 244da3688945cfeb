# ruff: noqa: E501  (tables of expected trees read better unwrapped)
"""The grammar: builds without conflicts, covers every construct, gives the right trees."""

from __future__ import annotations

import pytest
from lark import Lark, Token, Tree

import dqlbuild
from dqlbuild import (
    Access,
    Align,
    Assign,
    Binary,
    Block,
    Boolean,
    Brace,
    Call,
    Command,
    Double,
    Duration,
    FieldRef,
    In,
    Long,
    Named,
    Null,
    Query,
    Sorted,
    String,
    Unary,
    Variable,
    parse,
    parse_expression,
    parse_pipeline,
)
from dqlbuild.syntax.grammar import build_lark, plain_lark
from dqlbuild.syntax.parser import _Builder
from tests.fixtures_dql import identity_queries

E = parse_expression
a, b, c = FieldRef(name="a"), FieldRef(name="b"), FieldRef(name="c")


def test_grammar_builds_strictly_without_conflicts() -> None:
    lark = build_lark(strict=True)
    assert isinstance(lark, Lark)
    assert lark.options.parser == "lalr"
    assert lark.options.lexer == "contextual"


def test_grammar_ships_inside_the_package_or_checkout() -> None:
    from dqlbuild.syntax.grammar import grammar_text

    assert "query: command (PIPE command)*" in grammar_text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a or b and c", Binary(op="or", operands=(a, Binary(op="and", operands=(b, c))))),
        ("a xor b or c", Binary(op="or", operands=(Binary(op="xor", operands=(a, b)), c))),
        ("a and b xor c", Binary(op="xor", operands=(Binary(op="and", operands=(a, b)), c))),
        ("not a and b", Binary(op="and", operands=(Unary(op="not", operand=a), b))),
        ("not a == b", Unary(op="not", operand=Binary(op="==", operands=(a, b)))),
        ("a + b * c", Binary(op="+", operands=(a, Binary(op="*", operands=(b, c))))),
        ("a - b - c", Binary(op="-", operands=(a, b, c))),
        ("a or b or c", Binary(op="or", operands=(a, b, c))),
        # A change of operator nests, as the left fold reads; parentheses are trivia.
        ("a + b - c", Binary(op="-", operands=(Binary(op="+", operands=(a, b)), c))),
        ("(a or b) or c", Binary(op="or", operands=(a, b, c))),
        ("a or (b or c)", Binary(op="or", operands=(a, Binary(op="or", operands=(b, c))))),
        ("(a == b) == c", Binary(op="==", operands=(Binary(op="==", operands=(a, b)), c))),
        ("a / b % c", Binary(op="%", operands=(Binary(op="/", operands=(a, b)), c))),
        ("-a * b", Binary(op="*", operands=(Unary(op="-", operand=a), b))),
        ("a ~ b == c", Binary(op="==", operands=(Binary(op="~", operands=(a, b)), c))),
        ("a + b ~ c", Binary(op="~", operands=(Binary(op="+", operands=(a, b)), c))),
        # `@` binds tighter than + and -, looser than * (DQL_SPEC §2.1; open question Q1)
        ("a - b@d", Binary(op="-", operands=(a, Align(operand=b, unit="d")))),
        ("a * b@d", Align(operand=Binary(op="*", operands=(a, b)), unit="d")),
        ("-1w@w1", Align(operand=Unary(op="-", operand=Duration(value=1, unit="w")), unit="w1")),
        ("@3h", Align(unit="3h")),
        ("x@M", Align(operand=FieldRef(name="x"), unit="M")),
        ("a[0][k]", Access(base=Access(base=a, key=0), key="k")),
        ("a[-1]", Access(base=a, key=-1)),
        ("a[]", Access(base=a, key=None)),
        ("a[`x.y`]", Access(base=a, key="x.y")),
        ("left[span.id] == right[p]", Binary(op="==", operands=(Access(base=FieldRef(name="left"), key="span.id"), Access(base=FieldRef(name="right"), key="p")))),
        ("-x[0]", Unary(op="-", operand=Access(base=FieldRef(name="x"), key=0))),
        ("a == b in [fetch x]", In(operand=Binary(op="==", operands=(a, b)), block=Block(commands=(Command(name="fetch", args=(FieldRef(name="x"),)),)))),
        ("x = [fetch logs]", Assign(target="x", value=Block(commands=(Command(name="fetch", args=(FieldRef(name="logs"),)),)))),
        ("`a b` = 1", Assign(target="a b", value=Long(value=1))),
        ("by: {a, alias: b}", Named(name="by", value=Brace(items=(a, Named(name="alias", value=b))))),
        ("t desc", Sorted(expr=FieldRef(name="t"), direction="desc")),
        ("{}", Brace()),
        ("[]", Block()),
        ("f()", Call(name="f")),
        ("if(c, 1, else: 0)", Call(name="if", args=(c, Long(value=1), Named(name="else", value=Long(value=0))))),
        ("in(x, {1, 2})", Call(name="in", args=(FieldRef(name="x"), Brace(items=(Long(value=1), Long(value=2)))))),
    ],
)  # fmt: skip
def test_precedence_and_forms(text: str, expected: object) -> None:
    assert E(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"a\\"b\\\\c\\nd\\te\\u0041"', String(value='a"b\\c\nd\teA')),
        ('"raw\nnewline"', String(value="raw\nnewline")),
        ('"keep \\d unknown escapes"', String(value="keep \\d unknown escapes")),
        ('"""no \\n escapes "here" """', String(value='no \\n escapes "here" ')),
        ("42", Long(value=42)),
        ("0xFF", Long(value=255)),
        ("2.5", Double(value=2.5)),
        ("1e9", Double(value=1e9)),
        ("2.4e-2", Double(value=0.024)),
        ("1e+9", Double(value=1e9)),
        ("5m", Duration(value=5, unit="m")),
        ("5M", Duration(value=5, unit="M")),
        ("15min", Duration(value=15, unit="min")),
        ("100ns", Duration(value=100, unit="ns")),
        ("3q", Duration(value=3, unit="q")),
        ("TRUE", Boolean(value=True)),
        ("False", Boolean(value=False)),
        ("NULL", Null()),
        ("$Host", Variable(name="Host")),
        ("$N:noquote", Variable(name="N", modifier="noquote")),
        ("$F:backtick", Variable(name="F", modifier="backtick")),
        ("$T:triplequote", Variable(name="T", modifier="triplequote")),
        ("k8s.pod.name", FieldRef(name="k8s.pod.name")),
        ("a.0b", FieldRef(name="a.0b")),
        ("`count()`", FieldRef(name="count()")),
        ("`child_of[\\`dt.entity.x\\`]`", FieldRef(name="child_of[`dt.entity.x`]")),
        ("notes", FieldRef(name="notes")),
        ("android", FieldRef(name="android")),
        ("Array(1)", Call(name="array", args=(Long(value=1),))),
        ('matchesphrase(a, "x")', Call(name="matchesPhrase", args=(a, String(value="x")))),
    ],
)
def test_literals_names_and_variables(text: str, expected: object) -> None:
    assert E(text) == expected


def test_structural_equality_ignores_layout_comments_parens_backticks_case() -> None:
    assert parse("fetch logs|limit 1") == parse("fetch logs\n| limit 1 // x")
    assert E("(a and b) or c") == E("a and b or c")
    assert E("`a.b`") == E("a.b")
    assert E("a AND b") == E("a and b")
    assert E("TRUE") == E("true")
    assert parse("FETCH logs | SORT x DESC") == parse("fetch logs | sort x desc")
    assert parse("fetch logs | fieldsadd x = 1") == parse("fetch logs | fieldsAdd x = 1")
    assert E('"""a"""') == E('"a"')
    assert E("0x10") == E("16")
    assert E("a == 1") != E("a == 2")
    assert E("1") != E("1.0")
    assert hash(E("(a + b)")) == hash(E("a+b"))


def test_unknown_commands_parse_and_keep_their_name() -> None:
    q = parse("fetch logs | futureCommand a, b: 1 | anotherOne")
    assert [c.name for c in q.commands] == ["fetch", "futureCommand", "anotherOne"]
    assert q.commands[1].args == (FieldRef(name="a"), Named(name="b", value=Long(value=1)))


def test_parse_pipeline_accepts_leading_pipe_and_any_first_command() -> None:
    q = parse_pipeline("| fieldsAdd x = 1\n| fieldsRemove y")
    assert [c.name for c in q.commands] == ["fieldsAdd", "fieldsRemove"]
    assert parse_pipeline('parse content, "LD:x"').commands[0].name == "parse"
    assert q.to_source() == "| fieldsAdd x = 1\n| fieldsRemove y"


def test_spans_report_offsets_lines_and_columns() -> None:
    text = "fetch logs\n| filter  status >= 500"
    q = parse(text)
    cond = q.commands[1].args[0]
    assert isinstance(cond, Binary)
    assert cond.span is not None
    assert text[cond.span.start : cond.span.end] == "status >= 500"
    assert (cond.span.line, cond.span.column) == (2, 11)
    assert (cond.span.end_line, cond.span.end_column) == (2, 24)
    assert q.commands[1].span is not None
    assert (q.commands[1].span.line, q.commands[1].span.column) == (2, 3)
    # A parenthesised node's span covers its parentheses.
    inner = E("(a + b) * c")
    assert isinstance(inner, Binary) and inner.operands[0].span is not None
    assert (inner.operands[0].span.start, inner.operands[0].span.end) == (0, 7)


def test_multiline_token_spans() -> None:
    text = 'fetch x | fieldsAdd s = """one\ntwo""", t = 1'
    q = parse(text)
    assign = q.commands[1].args[0]
    assert isinstance(assign, Assign) and assign.value.span is not None
    assert (assign.value.span.end_line, assign.value.span.end_column) == (2, 7)
    t = q.commands[1].args[1]
    assert t.span is not None and (t.span.line, t.span.column) == (2, 9)


def test_walk_children_and_transform_share_unchanged_subtrees() -> None:
    q = parse("fetch logs | filter a == 1 | limit 5")
    kinds = [type(n).__name__ for n in q.walk()]
    assert kinds == ["Query", "Command", "FieldRef", "Command", "Binary", "FieldRef", "Long",
                     "Command", "Long"]  # fmt: skip

    def bump(node: dqlbuild.Node) -> dqlbuild.Node | None:
        if isinstance(node, Long) and node.value == 1:
            return Long(value=2)
        return None

    new = q.transform(bump)
    assert new == parse("fetch logs | filter a == 2 | limit 5")
    assert new.commands[0] is q.commands[0]
    assert new.commands[2] is q.commands[2]
    assert q == parse("fetch logs | filter a == 1 | limit 5")
    assert q.transform(lambda n: None) is q


def test_nodes_are_immutable() -> None:
    q = parse("fetch logs")
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        q.commands = ()  # type: ignore[misc]


def test_json_round_trip_keeps_structure_and_positions() -> None:
    q = parse("fetch logs // c\n| filter a == $V:noquote")
    back = Query.model_validate_json(q.model_dump_json())
    assert back == q
    assert back.commands[1].span == q.commands[1].span
    assert back.commands[0].comments == q.commands[0].comments


def _from_lark_tree(item: object, builder: _Builder) -> object:
    if isinstance(item, Token):
        return (item.type, str(item), item.start_pos, item.line, item.column)
    assert isinstance(item, Tree)
    children = [_from_lark_tree(child, builder) for child in item.children]
    return getattr(builder, str(item.data))(children)


def lark_reference_parse(text: str) -> Query:
    """The same grammar run by Lark's own runtime, for differential testing."""
    tree = plain_lark().parse(text, start="query")
    query = _from_lark_tree(tree, _Builder())
    assert isinstance(query, Query)
    return query


@pytest.mark.parametrize("text", identity_queries())
def test_engine_agrees_with_larks_own_parser(text: str) -> None:
    ours = parse(text)
    reference = lark_reference_parse(text)
    assert ours == reference
    assert [n.span for n in ours.walk()][1:] == [n.span for n in reference.walk()][1:]


def test_child_fields_are_derived_from_the_declarations() -> None:
    from dqlbuild.ast.nodes import NODE_TYPES

    table = {cls.__name__: cls.child_fields() for cls in NODE_TYPES}
    assert table == {
        "String": (), "Long": (), "Double": (), "Duration": (), "Boolean": (), "Null": (),
        "FieldRef": (), "Variable": (), "Call": ("args",), "Unary": ("operand",),
        "Binary": ("operands",), "Align": ("operand",), "In": ("operand", "block"),
        "Access": ("base",), "Sorted": ("expr",), "Assign": ("value",), "Brace": ("items",),
        "Block": ("commands",), "Named": ("value",), "Command": ("args",),
        "Query": ("commands",),
    }  # fmt: skip


def test_function_aliases_are_case_insensitive_but_keep_their_name() -> None:
    assert E("FIRST(x)") == E("first(x)") == Call(name="first", args=(FieldRef(name="x"),))
