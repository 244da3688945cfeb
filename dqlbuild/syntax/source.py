"""The text a query was parsed from, and which of its nodes still stand for that text."""

from __future__ import annotations

import weakref
from bisect import bisect_right
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

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

    __slots__ = ("_ids", "_root", "_stages", "_starts", "commands", "text")

    def __init__(self, text: str, root: Query) -> None:
        self.text = text
        self.commands: tuple[Command, ...] = root.commands
        self._root: Callable[[], Query | None] = weakref.ref(root)
        self._empty_caches()

    def _empty_caches(self) -> None:
        # Filled on first use: most queries are never edited.
        self._stages: dict[int, int] | None = None
        self._starts: list[int] | None = None
        self._ids: dict[int, frozenset[int]] = {}

    # Pickled with its query (which holds it; pickle's memo shares the objects), so a
    # query sent to another process keeps its text and layout for lossless printing.
    def __getstate__(self) -> dict[str, object]:
        return {"text": self.text, "commands": self.commands, "root": self._root()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.text = state["text"]
        self.commands = state["commands"]
        root = state["root"]
        self._root = weakref.ref(root) if root is not None else _gone
        self._empty_caches()

    def is_root(self, node: Node) -> bool:
        """Whether ``node`` is the parsed query itself."""
        return self._root() is node

    def stage_index(self, command: Node) -> int | None:
        """The position of ``command`` among the parsed stages, if it is one of them."""
        if self._stages is None:
            self._stages = {id(c): k for k, c in enumerate(self.commands)}
        index = self._stages.get(id(command))
        return index if index is not None and self.commands[index] is command else None

    def is_original(self, node: Node) -> bool:
        span = node.span
        if span is None:  # copies and built nodes have none
            return False
        if self._root() is node or self.stage_index(node) is not None:
            return True
        # Any other parsed node lies inside one stage, and inside that stage's span (the
        # parser's spans cover their tokens; stages do not overlap): only the nodes of
        # the stage whose span holds this one's are looked at, so an edit costs the
        # stages it touches, not a walk of the whole tree.
        if self._starts is None:
            self._starts = [c.span.start if c.span is not None else -1 for c in self.commands]
        k = bisect_right(self._starts, span.start) - 1
        if k < 0:
            return False
        stage = self.commands[k]
        if stage.span is None or span.end > stage.span.end:
            return False
        ids = self._ids.get(k)
        if ids is None:
            ids = self._ids[k] = frozenset(id(n) for n in stage.walk())
        return id(node) in ids

    def text_of(self, node: Node) -> str:
        span = node.span
        assert span is not None
        return self.text[span.start : span.end]


def _gone() -> None:
    # Stands for a weak reference whose query was already gone when pickled.
    return None
