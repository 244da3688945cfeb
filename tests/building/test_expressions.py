"""Expression proxies: operators, helpers, guards, and agreement with the parser."""

from __future__ import annotations

import copy
import pickle

import pytest

from dqlbuild import Expression, F, expr, fetch, fn, lit, parse_expression, var
from dqlbuild.ast.nodes import Access, Assign, Binary, FieldRef, Long, Sorted, Unary, Variable
from dqlbuild.errors import DQLError, DQLSyntaxError, DQLValueError
from dqlbuild.printing.canonical import format_node


def same(built: Expression, text: str) -> None:
    """``built`` is the tree of ``text`` and prints as ``text``."""
    assert built.node == parse_expression(text)
    assert str(built) == text


def test_the_issue_example() -> None:
    built = (F("a") > 1) & ~(F("b") == 2)
    assert built.node == parse_expression("a > 1 and not b == 2")


@pytest.mark.parametrize(
    ("build", "text"),
    [
        (lambda: F("a") == 1, "a == 1"),
        (lambda: F("a") != "x", 'a != "x"'),
        (lambda: F("a") < 1, "a < 1"),
        (lambda: F("a") <= 1.5, "a <= 1.5"),
        (lambda: F("a") > -1, "a > -1"),
        (lambda: F("a") >= F("b"), "a >= b"),
        (lambda: F("a") + 1, "a + 1"),
        (lambda: F("a") - 1, "a - 1"),
        (lambda: F("a") * 2, "a * 2"),
        (lambda: F("a") / 2, "a / 2"),
        (lambda: F("a") % 2, "a % 2"),
        (lambda: F("a") & F("b"), "a and b"),
        (lambda: F("a") | F("b"), "a or b"),
        (lambda: F("a") ^ F("b"), "a xor b"),
        (lambda: ~F("a"), "not a"),
        (lambda: F("a").not_(), "not a"),
        (lambda: -F("a"), "-a"),
    ],
)
def test_operators(build: object, text: str) -> None:
    same(build(), text)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("build", "text"),
    [
        (lambda: 1 + F("a"), "1 + a"),
        (lambda: 1 - F("a"), "1 - a"),
        (lambda: 2 * F("a"), "2 * a"),
        (lambda: 1 / F("a"), "1 / a"),
        (lambda: 7 % F("a"), "7 % a"),
        (lambda: True & F("a"), "true and a"),
        (lambda: False | F("a"), "false or a"),
        (lambda: True ^ F("a"), "true xor a"),
        # Python turns a reflected comparison around: 1 < a is asked as a > 1.
        (lambda: 1 < F("a"), "a > 1"),  # noqa: SIM300
        (lambda: "x" == F("a"), 'a == "x"'),  # noqa: SIM300
    ],
)
def test_reflected_operators(build: object, text: str) -> None:
    same(build(), text)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("build", "text"),
    [
        (lambda: (F("a") | F("b")) & F("c"), "(a or b) and c"),
        (lambda: F("a") | (F("b") & F("c")), "a or b and c"),
        (lambda: F("a") - (F("b") - F("c")), "a - (b - c)"),
        (lambda: (F("a") - F("b")) - F("c"), "a - b - c"),
        (lambda: (F("a") + F("b")) * F("c"), "(a + b) * c"),
        (lambda: -(F("a") + 1), "-(a + 1)"),
        (lambda: ~(F("a") | F("b")), "not (a or b)"),
        (lambda: (F("a") < 1) == True, "(a < 1) == true"),  # noqa: E712 - builds DQL
        (lambda: F("a") == (F("b") == F("c")), "a == (b == c)"),
        (lambda: (~F("a")) == F("b"), "(not a) == b"),
        (lambda: (F("a") + 1).at("h"), "(a + 1)@h"),
        (lambda: (-F("a"))[0], "(-a)[0]"),
        (lambda: (F("a") | F("b")).in_("fetch x"), "(a or b) in [fetch x]"),
        (lambda: (F("a") + F("b")).search("x"), 'a + b ~ "x"'),
        (lambda: F("a") - -1, "a - -1"),
    ],
)
def test_parentheses_come_from_the_tree(build: object, text: str) -> None:
    same(build(), text)  # type: ignore[operator]


def test_helpers() -> None:
    same(F("a").is_null(), "isNull(a)")
    same(F("a").is_not_null(), "isNotNull(a)")
    same(F("a").search("err*"), 'a ~ "err*"')
    same(F("ts").at("d"), "ts@d")
    same(F("ts").at("15m"), "ts@15m")
    same(F("ts").at("w1"), "ts@w1")
    same(F("r").key("k"), "r[k]")
    same(F("r")["my key"], "r[`my key`]")
    same(F("r")[0], "r[0]")
    same(F("r")[-1], "r[-1]")
    same(F("r").each(), "r[]")
    same(F("a").in_(["x", "y"]), 'in(a, "x", "y")')
    same(F("a").in_(var("Hosts")), "in(a, $Hosts)")
    same(F("a").in_(fetch("hosts").fields("id")), "a in [fetch hosts | fields id]")
    same(F("a").in_("[fetch hosts]"), "a in [fetch hosts]")


def test_argument_forms_are_nodes() -> None:
    assert F("t").desc() == Sorted(expr=FieldRef(name="t"), direction="desc")
    assert F("t").asc() == parse_expression("t asc")
    assert (F("a") + 1).alias("b") == parse_expression("b = a + 1")
    assert isinstance(F("a").alias("my field"), Assign)
    with pytest.raises(DQLValueError):
        F("a").alias("")


def test_field_names_are_names_not_text() -> None:
    same(F("a.b"), "a.b")
    same(F("my field"), "`my field`")
    same(F("and"), "`and`")
    same(F("a`b"), "`a\\`b`")
    same(F("1abc"), "`1abc`")
    with pytest.raises(DQLValueError):
        F("")


def test_variables() -> None:
    assert var("ModelVersion").node == Variable(name="ModelVersion")
    same(var("Field", modifier="backtick"), "$Field:backtick")
    same(var("$Hosts", "noquote"), "$Hosts:noquote")
    for bad in ("", "1a", "a-b", "$", "a b"):
        with pytest.raises(DQLValueError):
            var(bad)
    with pytest.raises(DQLValueError) as info:
        var("a", modifier="backtik")
    assert info.value.hint == "did you mean 'backtick'?"


def test_expr_parses_text() -> None:
    same(expr("duration > 1s") & F("a"), "duration > 1s and a")
    assert expr("a").node.span is None  # positions of the fragment are not kept
    with pytest.raises(DQLValueError):
        expr("t desc")
    with pytest.raises(DQLSyntaxError):
        expr("a >")


def test_bool_raises() -> None:
    with pytest.raises(DQLError, match="no truth value"):
        if F("a") == 1:
            pass
    with pytest.raises(DQLValueError):
        bool(F("a"))
    with pytest.raises(DQLValueError):
        _ = F("a") == 1 and F("b") == 2
    with pytest.raises(DQLValueError):
        _ = 1 < F("a") < 5  # a chained comparison asks for a truth value


def test_no_accidental_iteration_or_membership() -> None:
    with pytest.raises(DQLValueError):
        list(F("a"))
    with pytest.raises(DQLValueError):
        _ = 1 in F("a")
    with pytest.raises(DQLValueError):
        F("a")[1.5]  # type: ignore[index]
    with pytest.raises(DQLValueError):
        F("a")[True]


def test_expressions_are_immutable_and_unhashable() -> None:
    a = F("a")
    with pytest.raises(AttributeError):
        a._node = Long(value=1)  # type: ignore[misc]
    with pytest.raises(TypeError):
        hash(a)
    b = a + 1
    assert a.node == FieldRef(name="a")
    assert isinstance(b.node, Binary)
    assert b.node.operands[0] is a.node  # shared, not copied


def test_expressions_copy_and_pickle() -> None:
    e = (F("a") > 1) & fn.contains(F("b"), "x")
    assert copy.copy(e).node is e.node
    assert copy.deepcopy(e).node == e.node
    assert pickle.loads(pickle.dumps(e)).node == e.node


def test_operands_must_be_expressions() -> None:
    with pytest.raises(DQLValueError):
        _ = F("a") + F("b").desc()
    with pytest.raises(DQLValueError):
        _ = F("a") == fetch("x")
    with pytest.raises(DQLValueError):
        _ = F("a") + object()
    with pytest.raises(DQLValueError):
        Expression(Sorted(expr=FieldRef(name="a"), direction="asc"))


def test_alignment_units_are_checked() -> None:
    with pytest.raises(DQLValueError) as info:
        F("t").at("minuts")
    assert info.value.hint == "did you mean 'minutes'?"
    with pytest.raises(DQLValueError):
        F("t").at("")


def test_repr_and_str() -> None:
    e = (F("a") > 1) & F("b").is_null()
    assert str(e) == "a > 1 and isNull(b)"
    assert repr(e) == "Expression('a > 1 and isNull(b)')"
    assert format_node(e.node) == str(e)


def test_lit_and_unary_minus_agree_with_the_parser() -> None:
    assert lit(-5).node == Unary(op="-", operand=Long(value=5)) == parse_expression("-5")
    assert (-lit(5)).node == lit(-5).node
    same(fn.abs(-lit(2.5)), "abs(-2.5)")


def test_access_nodes() -> None:
    assert F("a")[0].node == Access(base=FieldRef(name="a"), key=0)
    assert F("a").key("0").node == parse_expression("a[`0`]")


def test_operator_chains_are_flat_like_the_parsed_ones() -> None:
    import functools
    import operator

    terms = [F("h") == str(i) for i in range(5)]
    built = functools.reduce(operator.or_, terms)
    assert isinstance(built.node, Binary) and len(built.node.operands) == 5
    assert built.node == parse_expression(str(built))
    # A change of operator nests; a parenthesised right operand stays a node of its own.
    same(F("a") + 1 - 2, "a + 1 - 2")
    same(F("a") - (F("b") - 1), "a - (b - 1)")
    assert (F("a") + 1 - 2).node.operands[0] == parse_expression("a + 1")


def test_binary_nodes_check_their_operand_count() -> None:
    a, b, c = FieldRef(name="a"), FieldRef(name="b"), FieldRef(name="c")
    with pytest.raises(ValueError, match="exactly two operands"):
        Binary(op="==", operands=(a, b, c))
    with pytest.raises(ValueError, match="at least 2"):
        Binary(op="or", operands=(a,))
    nested = Binary(op="or", operands=(Binary(op="or", operands=(a, b)), c))
    assert nested.operands == (a, b, c)
    with pytest.raises(DQLValueError, match="exactly two operands"):
        Binary(op="<", operands=(a, b)).model_copy(update={"operands": (a, b, c)})
