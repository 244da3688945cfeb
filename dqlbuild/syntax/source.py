"""The text a query was parsed from, and which of its nodes still stand for that text."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dqlbuild.ast.base import Node


class SourceContext:
    """Source text plus the original parsed tree.

    A node counts as *original* when it is the very object the parser made (identity,
    not equality): nodes are immutable, so such a node still matches its text span.
    The original root is kept alive here, so object ids cannot be reused by new nodes.
    """

    __slots__ = ("_ids", "root", "text")

    def __init__(self, text: str, root: Node) -> None:
        self.text = text
        self.root = root
        self._ids: frozenset[int] | None = None

    def is_original(self, node: Node) -> bool:
        if self._ids is None:
            self._ids = frozenset(id(n) for n in self.root.walk())
        return id(node) in self._ids and node.span is not None

    def text_of(self, node: Node) -> str:
        span = node.span
        assert span is not None
        return self.text[span.start : span.end]
