"""Printing DQL: the canonical formatter and the lossless printer."""

from __future__ import annotations

from dqlbuild.ast.base import Node
from dqlbuild.errors import DQLTypeError, DQLValueError
from dqlbuild.printing.canonical import format_node
from dqlbuild.printing.lossless import to_source
from dqlbuild.syntax.parser import parse


def format(query: Node | str, *, width: int = 100, indent: int = 2) -> str:
    """Canonical text of a query (or of any node); text is parsed first.

    One command per line, continuation lines start with ``| ``, long argument lists
    are wrapped and indented by ``indent`` steps, every comment kept.
    """
    if isinstance(query, str):
        query = parse(query)
    elif not isinstance(query, Node):
        kind = type(query).__name__
        raise DQLTypeError(f"format() takes a query, a node or DQL text, not {kind}")
    if width < 20:
        raise DQLValueError(f"width must be at least 20, got {width}")
    if indent < 1:
        raise DQLValueError(f"indent must be at least 1, got {indent}")
    return format_node(query, width=width, indent=indent)


__all__ = ["format", "format_node", "to_source"]
