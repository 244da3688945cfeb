"""Attach comments to the command or argument they belong to.

Rules, for a comment between two elements of a list (stages of a query, arguments of
a command, a call or a brace group): a comment on the same line as the element before
it trails that element; otherwise it leads the element after it. A comment inside an
expression (``a + /* x */ b``) trails the argument that contains it. So every comment
is kept exactly once, close to what it talks about.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from dqlbuild.ast.base import Comment, Node
from dqlbuild.ast.nodes import Block, Brace, Call, Command, Query
from dqlbuild.syntax.engine import Tok

_SEQUENCE_HOLDERS = (Query, Block, Command, Call, Brace)


def attach_comments(root: Query, tokens: Sequence[Tok], text: str) -> None:
    for token in tokens:
        node, placement = _target(root, token[2], root, text)
        # Parse-time only: the tree is not yet visible to anyone, so filling in the
        # (trivia) comments field in place is safe.
        # Built without validation (the token is a comment): validating would load
        # pydantic's plugin discovery, a large part of a short command's start-up.
        comment = Comment.model_construct(text=token[1], placement=placement)
        node.__dict__["comments"] = (*node.comments, comment)


def _target(
    node: Node, pos: int, anchor: Node, text: str
) -> tuple[Node, Literal["before", "after"]]:
    kids = [k for k in node.children() if k.span is not None]
    holder = isinstance(node, _SEQUENCE_HOLDERS)
    for kid in kids:
        span = kid.span
        assert span is not None
        if span.start <= pos < span.end:
            return _target(kid, pos, kid if holder else anchor, text)
    if not holder or not kids:
        return anchor, "after"
    before = [k for k in kids if k.span is not None and k.span.end <= pos]
    after = [k for k in kids if k.span is not None and k.span.start > pos]
    if before and (not after or not _newline_between(text, before[-1], pos)):
        return before[-1], "after"
    if after:
        return after[0], "before"
    return anchor, "after"


def _newline_between(text: str, prev: Node, pos: int) -> bool:
    assert prev.span is not None
    return "\n" in text[prev.span.end : pos]
