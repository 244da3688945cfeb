"""A Pygments lexer for DQL: ``pygmentize -l dql``, ```` ```dql ```` blocks in Markdown.

Registered through the ``pygments.lexers`` entry point, so Pygments finds it by the
alias ``dql``, the file pattern ``*.dql`` and the MIME type ``text/x-dql`` once dqlbuild
is installed. Pygments is optional (``pip install 'dqlbuild[highlight]'``); nothing else
in dqlbuild imports this module.

The token patterns are the terminals of ``grammar/dql.lark`` (taken from the compiled
grammar, so the two cannot drift) and the command names come from the catalog. What a
lexer adds to them is position: a word is a command only where a command can start (the
beginning, after ``|``, and after the ``[`` of an execution block), a function only when
``(`` follows it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

try:
    from pygments.lexer import Lexer
    from pygments.token import (
        Comment,
        Error,
        Keyword,
        Name,
        Number,
        Operator,
        Punctuation,
        String,
        Whitespace,
        _TokenType,
    )
except ImportError as exc:  # pragma: no cover - exercised only without Pygments
    raise ImportError(
        "dqlbuild.highlight needs Pygments: pip install 'dqlbuild[highlight]'"
    ) from exc

from dqlbuild.catalog import get_catalog
from dqlbuild.syntax.grammar import plain_lark
from dqlbuild.syntax.lexical import STRING_ESCAPES

TokenStream = Iterator[tuple[int, _TokenType, str]]

# Grammar terminals in the order they are tried at each position (the first that matches
# wins, like Lark's priorities: longer literals before their prefixes, comments before
# `/`, `name:` and keywords before plain names). Every terminal of the grammar must be
# listed; tests/test_highlight.py checks that.
TERMINAL_ORDER = (
    "WS",
    "LINE_COMMENT",
    "BLOCK_COMMENT",
    "TRIPLE_STRING",
    "STRING",
    "QUOTED_NAME",
    "VARIABLE",
    "HEX",
    "DOUBLE",
    "DURATION",
    "INT",
    "AT_UNIT",
    "PARAM_NAME",
    "OR",
    "XOR",
    "AND",
    "NOT",
    "IN",
    "TRUE",
    "FALSE",
    "NULL",
    "SORT_DIR",
    "NAME",
    "CMP_OP",
    "EQUAL",
    "PLUS",
    "MINUS",
    "MUL_OP",
    "TILDE",
    "PIPE",
    "COMMA",
    "COLON",
    "LPAR",
    "RPAR",
    "LSQB",
    "RSQB",
    "LBRACE",
    "RBRACE",
)

# Terminals whose token is fixed. The others (names, keywords that may be function
# names, strings, variables, `@unit`) are split or decided in context below.
SIMPLE_TOKENS: dict[str, _TokenType] = {
    "WS": Whitespace,
    "LINE_COMMENT": Comment.Single,
    "BLOCK_COMMENT": Comment.Multiline,
    "HEX": Number.Hex,
    "DOUBLE": Number.Float,
    "DURATION": Number,
    "INT": Number.Integer,
    "PARAM_NAME": Name.Attribute,
    "TRUE": Keyword.Constant,
    "FALSE": Keyword.Constant,
    "NULL": Keyword.Constant,
    "SORT_DIR": Keyword,
    "CMP_OP": Operator,
    "EQUAL": Operator,
    "PLUS": Operator,
    "MINUS": Operator,
    "MUL_OP": Operator,
    "TILDE": Operator,
    "PIPE": Punctuation,
    "COMMA": Punctuation,
    "COLON": Punctuation,
    "LPAR": Punctuation,
    "RPAR": Punctuation,
    "LSQB": Punctuation,
    "RSQB": Punctuation,
    "LBRACE": Punctuation,
    "RBRACE": Punctuation,
}
OPERATOR_WORDS = frozenset({"OR", "XOR", "AND", "NOT", "IN"})
# After these a `[` indexes into a value (`x[0]`); elsewhere it opens an execution block.
_OPERAND_ENDS = frozenset(
    {"QUOTED_NAME", "VARIABLE", "STRING", "TRIPLE_STRING", "HEX", "DOUBLE", "DURATION"}
    | {"INT", "AT_UNIT", "TRUE", "FALSE", "NULL", "RPAR", "RSQB", "RBRACE"}
)
_TRIVIA = frozenset({"WS", "LINE_COMMENT", "BLOCK_COMMENT"})
_CALL_FOLLOWS = re.compile(r"\s*\(")


class _Tables:
    """Patterns and names the lexer needs, built once on first use (compiling the
    grammar and loading the catalog is too slow for import time)."""

    def __init__(self) -> None:
        terminals = {t.name: t.pattern.to_regexp() for t in plain_lark().terminals}
        self.pattern = re.compile(
            "|".join(f"(?P<{n}>{terminals[n]})" for n in TERMINAL_ORDER if n in terminals)
            + r"|(?P<ERROR>[\s\S])"
        )
        reference = terminals["VARIABLE"]
        # Inside "...": an escape pair first, so that `\$x` is no reference.
        self.in_string = re.compile(r"(?P<escape>\\u[0-9a-fA-F]{4}|\\[\s\S])|" + reference)
        self.in_triple = re.compile(reference)
        catalog = get_catalog()
        self.commands = frozenset(c.name.lower() for c in catalog.commands)
        self.functions = frozenset(f.name.lower() for f in catalog.functions)


@functools.cache
def _tables() -> _Tables:
    return _Tables()


# The escapes lexical.decode_string resolves; any other backslash pair stays as written.
_KNOWN_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|[" + re.escape("".join(STRING_ESCAPES)) + "])")


# Inside a backtick name only these pairs are escapes (lexical.decode_backtick).
_BACKTICK_ESCAPE = re.compile(r"\\[`\\]")


class DQLLexer(Lexer):
    """Dynatrace Query Language."""

    name = "DQL"
    aliases = ("dql",)
    filenames = ("*.dql",)
    mimetypes = ("text/x-dql",)
    url = "https://docs.dynatrace.com/docs/platform/grail/dynatrace-query-language"

    def get_tokens_unprocessed(self, text: str) -> TokenStream:
        tables = _tables()
        # A command may start here (beginning, after `|`, after a block's `[`).
        command_position = True
        # The last token ended an operand, so a `[` indexes rather than opens a block.
        after_operand = False
        for match in tables.pattern.finditer(text):
            kind = match.lastgroup
            assert kind is not None
            start, value = match.start(), match.group()
            if kind in _TRIVIA:
                yield start, SIMPLE_TOKENS[kind], value
                continue
            field = False
            if kind == "NAME":
                token = _name_token(tables, text, match, command_position)
                field = token is Name
                yield start, token, value
            elif kind in OPERATOR_WORDS:
                # `in(x, ...)` is the function, `x in [...]` the operator.
                is_call = value.lower() in tables.functions and _CALL_FOLLOWS.match(
                    text, match.end()
                )
                yield start, Name.Function if is_call else Operator.Word, value
            elif kind == "STRING":
                yield from _string(tables, start, value)
            elif kind == "TRIPLE_STRING":
                yield from _triple_string(tables, start, value)
            elif kind == "QUOTED_NAME":
                yield from _quoted_name(start, value)
            elif kind == "VARIABLE":
                yield from _variable(start, value)
            elif kind == "AT_UNIT":
                yield start, Operator, "@"
                yield start + 1, Number, value[1:]
            elif kind == "ERROR":
                yield start, Error, value
            else:
                yield start, SIMPLE_TOKENS[kind], value
            opens_block = kind == "LSQB" and not after_operand
            command_position = kind == "PIPE" or opens_block
            after_operand = kind in _OPERAND_ENDS or field


def _name_token(
    tables: _Tables, text: str, match: re.Match[str], command_position: bool
) -> _TokenType:
    if command_position:
        if match.group().lower() in tables.commands:
            return Keyword
        # `count()` shown on its own is an expression; an unknown command `foo (x)` is
        # still a command (the printer always puts a space after a command name).
        return Name.Function if text.startswith("(", match.end()) else Keyword.Pseudo
    return Name.Function if _CALL_FOLLOWS.match(text, match.end()) else Name


def _string(tables: _Tables, start: int, token: str) -> TokenStream:
    """A ``"..."`` literal: resolved escapes and dashboard variable references stand out."""
    yield start, String.Double, '"'
    body, at, last = token[1:-1], start + 1, 0
    for m in tables.in_string.finditer(body):
        escape = m.group("escape")
        if escape is not None and not _KNOWN_ESCAPE.fullmatch(escape):
            continue  # kept as written, so part of the string
        if m.start() > last:
            yield at + last, String.Double, body[last : m.start()]
        yield at + m.start(), String.Escape if escape else String.Interpol, m.group()
        last = m.end()
    if last < len(body):
        yield at + last, String.Double, body[last:]
    yield start + len(token) - 1, String.Double, '"'


def _triple_string(tables: _Tables, start: int, token: str) -> TokenStream:
    """A raw ``\"\"\"...\"\"\"`` literal: no escapes, but variable references."""
    last = 0
    for m in tables.in_triple.finditer(token):
        if m.start() > last:
            yield start + last, String, token[last : m.start()]
        yield start + m.start(), String.Interpol, m.group()
        last = m.end()
    if last < len(token):
        yield start + last, String, token[last:]


def _quoted_name(start: int, token: str) -> TokenStream:
    """A backtick-quoted field name; ``\\``` and ``\\\\`` are its escapes."""
    last = 0
    for m in _BACKTICK_ESCAPE.finditer(token):
        if m.start() > last:
            yield start + last, String.Backtick, token[last : m.start()]
        yield start + m.start(), String.Escape, m.group()
        last = m.end()
    yield start + last, String.Backtick, token[last:]


def _variable(start: int, token: str) -> TokenStream:
    """``$name`` with an optional ``:noquote``/``:backtick``/``:triplequote``."""
    name, colon, modifier = token.partition(":")
    yield start, Name.Variable, name
    if colon:
        yield start + len(name), Punctuation, colon
        yield start + len(name) + 1, Name.Attribute, modifier


__all__ = ["DQLLexer"]
