"""Locating and compiling the Lark grammar (once per process, cached on disk)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lark import Lark

START_SYMBOLS = ("query", "pipeline", "expression")
COMMENT_TERMINALS = ("LINE_COMMENT", "BLOCK_COMMENT")


def grammar_text() -> str:
    """The text of ``dql.lark``: inside the installed wheel, or in the source checkout."""
    package = Path(__file__).resolve().parents[1]
    for path in (package / "_grammar" / "dql.lark", package.parent / "grammar" / "dql.lark"):
        if path.is_file():  # a plain file: read without importlib.resources (start-up)
            return path.read_text(encoding="utf-8")
    # An installation importlib reads from elsewhere (a zip archive).
    from importlib import resources

    return resources.files("dqlbuild").joinpath("_grammar/dql.lark").read_text(encoding="utf-8")


def build_lark(*, strict: bool = False, cache: bool = True, text: str | None = None) -> Lark:
    """Compile the grammar (``text``, else dql.lark). ``strict`` turns shift/reduce
    conflicts and terminal collisions into errors (used by the test-suite)."""
    from lark import Lark  # imported here: parsing runs on cached tables without it

    return Lark(
        grammar_text() if text is None else text,
        parser="lalr",
        lexer="contextual",
        start=list(START_SYMBOLS),
        maybe_placeholders=False,
        strict=strict,
        cache=cache and not strict,
    )


@functools.cache
def plain_lark() -> Lark:
    """A parser that builds Lark trees (no AST): for tools that want raw trees."""
    return build_lark()
