"""Locating and compiling the Lark grammar (once per process, cached on disk)."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from lark import Lark

START_SYMBOLS = ("query", "pipeline", "expression")
COMMENT_TERMINALS = ("LINE_COMMENT", "BLOCK_COMMENT")


def grammar_text() -> str:
    """The text of ``dql.lark``: inside the installed wheel, or in the source checkout."""
    packaged = resources.files("dqlbuild").joinpath("_grammar/dql.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[2] / "grammar" / "dql.lark"
    return checkout.read_text(encoding="utf-8")


def build_lark(*, strict: bool = False, cache: bool = True) -> Lark:
    """Compile the grammar. ``strict`` turns shift/reduce conflicts and terminal
    collisions into errors (used by the test-suite)."""
    return Lark(
        grammar_text(),
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
