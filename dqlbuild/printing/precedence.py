"""Operator precedence as the printers need it (mirrors the ladder in grammar/dql.lark).

Higher binds tighter. ``required_level`` tells which level a child must have to stand
in a slot without parentheses.
"""

from __future__ import annotations

from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import Access, Align, Binary, In, Unary

OR, XOR, AND, NOT, IN, COMPARE, SEARCH, ADD, ALIGN, MUL, NEG, POSTFIX, ATOM = range(1, 14)
ANY = OR

BINARY_LEVELS = {
    "or": OR,
    "xor": XOR,
    "and": AND,
    "==": COMPARE,
    "!=": COMPARE,
    "<": COMPARE,
    "<=": COMPARE,
    ">": COMPARE,
    ">=": COMPARE,
    "~": SEARCH,
    "+": ADD,
    "-": ADD,
    "*": MUL,
    "/": MUL,
    "%": MUL,
}
_NON_ASSOCIATIVE = {COMPARE, SEARCH}


def level(node: Node) -> int:
    if isinstance(node, Binary):
        return BINARY_LEVELS[node.op]
    if isinstance(node, Unary):
        return NOT if node.op == "not" else NEG
    if isinstance(node, In):
        return IN
    if isinstance(node, Align):
        return ALIGN if node.operand is not None else ATOM
    if isinstance(node, Access):
        return POSTFIX
    return ATOM


def required_level(parent: Node, field: str, index: int = 0) -> int:
    """The lowest level a child in ``parent.field`` (at ``index`` of a tuple field) may
    have without parentheses."""
    if isinstance(parent, Binary):
        # Left-associative: only the first operand may be a chain of the same level.
        own = BINARY_LEVELS[parent.op]
        if own in _NON_ASSOCIATIVE:
            return own + 1
        return own if index == 0 else own + 1
    if isinstance(parent, Unary):
        return NOT if parent.op == "not" else NEG
    if isinstance(parent, In):
        return COMPARE
    if isinstance(parent, Align):
        return ALIGN
    if isinstance(parent, Access):
        return POSTFIX
    return ANY
