"""The text a query was parsed from, and which of its nodes still stand for that text."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dqlbuild.ast.base import Node
    from dqlbuild.ast.nodes import Command, Query


class SourceContext:
    """Source text plus the original parsed tree.

    A node counts as *original* when it is the very object the parser made (identity,
    not equality): nodes are immutable, so such a node still matches its text span. The
    original stages are kept alive here, so their object ids cannot be reused by new
    nodes. The query itself is only referenced weakly: it holds this context, and a
    strong reference back would make every parsed query a reference cycle, left for
    the garbage collector instead of freed when dropped.
    """

    __slots__ = ("_ids", "_root", "commands", "text")

    def __init__(self, text: str, root: Query) -> None:
        self.text = text
        self.commands: tuple[Command, ...] = root.commands
        self._root = weakref.ref(root)
        self._ids: frozenset[int] | None = None

    def is_root(self, node: Node) -> bool:
        """Whether ``node`` is the parsed query itself."""
        return self._root() is node

    def is_original(self, node: Node) -> bool:
        if self._ids is None:
            self._ids = frozenset(id(n) for command in self.commands for n in command.walk())
        return (id(node) in self._ids or self._root() is node) and node.span is not None

    def text_of(self, node: Node) -> str:
        span = node.span
        assert span is not None
        return self.text[span.start : span.end]
