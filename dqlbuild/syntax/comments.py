"""Attach comments to the command or argument they belong to.

Rules, for a comment between two elements of a list (stages of a query, arguments of
a command, a call or a brace group): a comment on the same line as the element before
it trails that element; otherwise it leads the element after it. A comment inside an
expression (``a + /* x */ b``) trails the argument that contains it. So every comment
is kept exactly once, close to what it talks about.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Literal

from dqlbuild.ast.base import Comment, Node
from dqlbuild.ast.nodes import Block, Brace, Call, Command, Query
from dqlbuild.syntax.engine import Tok

_SEQUENCE_HOLDERS = (Query, Block, Command, Call, Brace)
_comment = Comment.maker()


class _Children:
    """A node's children with spans, and their start offsets for bisection."""

    __slots__ = ("kids", "starts")

    def __init__(self, node: Node) -> None:
        self.kids = [k for k in node.children() if k.span is not None]
        self.starts = [k.span.start for k in self.kids]  # type: ignore[union-attr]


def attach_comments(root: Query, tokens: Sequence[Tok], text: str) -> None:
    # Each comment descends from the root by bisection over the children of the nodes
    # on its way (computed once per node), so n comments cost O(n log n), not O(n²).
    children: dict[int, _Children] = {}
    newline_after: dict[int, int] = {}
    attached: dict[int, tuple[Node, list[Comment]]] = {}
    for token in tokens:
        node, placement = _target(root, token[2], text, children, newline_after)
        entry = attached.get(id(node))
        if entry is None:
            entry = attached[id(node)] = (node, [])
        # Not validated: the text is a comment token of a text already checked.
        entry[1].append(_comment(text=token[1], placement=placement))
    for node, comments in attached.values():
        # Parse-time only: the tree is not yet visible to anyone, so filling in the
        # (trivia) comments field in place is safe.
        object.__setattr__(node, "comments", (*node.comments, *comments))


def _target(
    root: Query,
    pos: int,
    text: str,
    children: dict[int, _Children],
    newline_after: dict[int, int],
) -> tuple[Node, Literal["before", "after"]]:
    node: Node = root
    anchor: Node = root
    while True:
        found = children.get(id(node))
        if found is None:
            found = children[id(node)] = _Children(node)
        kids = found.kids
        holder = isinstance(node, _SEQUENCE_HOLDERS)
        i = bisect_right(found.starts, pos)  # kids[:i] start at or before pos
        if i and pos < kids[i - 1].span.end:  # type: ignore[union-attr]
            node = kids[i - 1]
            if holder:
                anchor = node
            continue
        if not holder or not kids:
            return anchor, "after"
        before = kids[i - 1] if i else None
        after = kids[i] if i < len(kids) else None
        if before is not None and (
            after is None or not _newline_between(text, before, pos, newline_after)
        ):
            return before, "after"
        if after is not None:
            return after, "before"
        return anchor, "after"


def _newline_between(text: str, prev: Node, pos: int, newline_after: dict[int, int]) -> bool:
    """Whether a line break lies between ``prev`` and ``pos`` (the first one after each
    element is found once, however many comments follow it)."""
    newline = newline_after.get(id(prev))
    if newline is None:
        assert prev.span is not None
        newline = newline_after[id(prev)] = text.find("\n", prev.span.end)
    return 0 <= newline < pos
