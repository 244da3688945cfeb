"""Text to AST: Lark LALR with the AST built inside the parser (no intermediate tree)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedInput, VisitError

from dqlbuild.ast.base import Node, Span, set_private
from dqlbuild.ast.nodes import (
    Access,
    Align,
    Arg,
    Assign,
    Binary,
    Block,
    Boolean,
    Brace,
    Call,
    Command,
    Double,
    Duration,
    FieldRef,
    In,
    Long,
    Named,
    Null,
    Query,
    Sorted,
    String,
    Unary,
    Variable,
)
from dqlbuild.errors import DQLSyntaxError
from dqlbuild.syntax import names
from dqlbuild.syntax.comments import attach_comments
from dqlbuild.syntax.errors import syntax_error_from_lark, syntax_error_at
from dqlbuild.syntax.grammar import COMMENTS, build_lark
from dqlbuild.syntax.lexical import decode_backtick, decode_string, decode_triple_string
from dqlbuild.syntax.source import SourceContext

# Nesting deeper than this is refused with a DQLSyntaxError instead of risking
# Python's recursion limit in the printer and in tree walks. Real queries nest < 30.
MAX_NESTING = 200


def _span_of(item: Any) -> Span:
    if isinstance(item, Token):
        return Span(
            item.start_pos, item.end_pos, item.line, item.column, item.end_line, item.end_column
        )
    span: Span = item.span
    return span


def _join(first: Any, last: Any) -> Span:
    a = _span_of(first)
    b = _span_of(last)
    return Span(a.start, b.end, a.line, a.column, b.end_line, b.end_column)


def _args(items: Sequence[Any]) -> tuple[Arg, ...]:
    return tuple(item for item in items if not isinstance(item, Token))


class _Builder(Transformer[Token, Any]):
    """Lark callbacks, one per grammar rule or alias, building nodes with spans."""

    def query(self, items: list[Any]) -> Query:
        return Query(commands=_args(items), span=_join(items[0], items[-1]))

    pipeline = query

    def expression(self, items: list[Any]) -> Any:
        return items[0]

    def command(self, items: list[Any]) -> Command:
        name_token = items[0]
        if "." in name_token:
            raise _NodeError(name_token, f"`{name_token}` is not a command name")
        return Command(
            name=names.command_name(str(name_token)),
            args=_args(items[1:]),
            span=_join(items[0], items[-1]),
        )

    def named(self, items: list[Any]) -> Named:
        return Named(name=str(items[0]), value=items[2], span=_join(items[0], items[2]))

    def sorted(self, items: list[Any]) -> Sorted:
        direction = "desc" if items[1].lower() == "desc" else "asc"
        return Sorted(expr=items[0], direction=direction, span=_join(items[0], items[1]))

    def assign(self, items: list[Any]) -> Assign:
        target: FieldRef = items[0]
        return Assign(target=target.name, value=items[2], span=_join(items[0], items[2]))

    def brace(self, items: list[Any]) -> Brace:
        return Brace(items=_args(items[1:-1]), span=_join(items[0], items[-1]))

    def block(self, items: list[Any]) -> Block:
        return Block(commands=_args(items[1:-1]), span=_join(items[0], items[-1]))

    def binary(self, items: list[Any]) -> Binary:
        left, op, right = items
        return Binary(op=op.lower(), left=left, right=right, span=_join(left, right))

    def unary(self, items: list[Any]) -> Unary:
        op, operand = items
        return Unary(op=op.lower(), operand=operand, span=_join(op, operand))

    def in_(self, items: list[Any]) -> In:
        return In(operand=items[0], block=items[2], span=_join(items[0], items[2]))

    def align(self, items: list[Any]) -> Align:
        operand, unit = items
        return Align(operand=operand, unit=unit[1:], span=_join(operand, unit))

    def align_now(self, items: list[Any]) -> Align:
        unit = items[0]
        return Align(unit=unit[1:], span=_span_of(unit))

    def access(self, items: list[Any]) -> Access:
        base = items[0]
        key: int | str | None = items[2] if len(items) == 4 else None
        return Access(base=base, key=key, span=_join(base, items[-1]))

    def access_key(self, items: list[Any]) -> int | str:
        token = items[-1]
        if token.type == "INT":
            return -int(token) if len(items) == 2 else int(token)
        if token.type == "QUOTED_NAME":
            return decode_backtick(token)
        return str(token)

    def paren(self, items: list[Any]) -> Any:
        inner: Node = items[1]
        # The span of a parenthesised node covers its parentheses, so that reprinting
        # the node's text keeps them and the text around it never holds half a pair.
        inner.__dict__["span"] = _join(items[0], items[2])
        return inner

    def call(self, items: list[Any]) -> Call:
        name = items[0]
        if "." in name:
            raise _NodeError(name, f"`{name}` is not a function name")
        return Call(
            name=names.function_name(str(name)), args=_args(items[2:-1]), span=_join(name, items[-1])
        )

    def variable(self, items: list[Any]) -> Variable:
        token = items[0]
        name, _, modifier = token[1:].partition(":")
        return Variable(name=name, modifier=modifier or None, span=_span_of(token))

    def name(self, items: list[Any]) -> FieldRef:
        token = items[0]
        text = decode_backtick(token) if token.type == "QUOTED_NAME" else str(token)
        if not text:
            raise _NodeError(token, "an empty backtick name is not a field name")
        return FieldRef(name=text, span=_span_of(token))

    def literal(self, items: list[Any]) -> Node:
        token = items[0]
        kind = token.type
        span = _span_of(token)
        if kind == "STRING":
            return String(value=decode_string(token), span=span)
        if kind == "TRIPLE_STRING":
            return String(value=decode_triple_string(token), style="triple", span=span)
        if kind == "INT":
            return Long(value=int(token), span=span)
        if kind == "HEX":
            return Long(value=int(token, 16), span=span)
        if kind == "DOUBLE":
            return Double(value=float(token), span=span)
        if kind == "DURATION":
            digits = token.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
            return Duration(value=int(digits), unit=token[len(digits) :], span=span)
        if kind == "NULL":
            return Null(span=span)
        return Boolean(value=token.lower() == "true", span=span)


class _NodeError(Exception):
    """Raised inside a callback: a token that the grammar accepts but that is not DQL."""

    def __init__(self, token: Token, message: str) -> None:
        super().__init__(message)
        self.token = token
        self.message = message


@functools.cache
def _lark() -> Lark:
    return build_lark(_Builder())


def _run(text: str, start: str) -> tuple[Any, list[Token]]:
    if not isinstance(text, str):
        raise TypeError(f"DQL text must be a str, not {type(text).__name__}")
    lark = _lark()
    COMMENTS.tokens = []
    limit = sys.getrecursionlimit()
    try:
        _check_nesting(text)
        result = lark.parse(text, start=start)
    except UnexpectedInput as exc:
        raise syntax_error_from_lark(exc, text, start) from None
    except VisitError as exc:
        orig = exc.orig_exc
        if isinstance(orig, _NodeError):
            raise syntax_error_at(text, orig.token.start_pos, orig.message) from None
        raise syntax_error_at(text, 0, f"not valid DQL: {orig}") from None
    except _NodeError as exc:
        raise syntax_error_at(text, exc.token.start_pos, exc.message) from None
    except (LarkError, ValueError) as exc:
        # pydantic's ValidationError is a ValueError: a token the grammar allowed that a
        # node refuses (should not happen; reported rather than leaked).
        raise syntax_error_at(text, 0, f"not valid DQL: {exc}") from None
    finally:
        sys.setrecursionlimit(limit)
    comments = COMMENTS.tokens
    COMMENTS.tokens = []
    return result, comments


def _check_nesting(text: str) -> None:
    """Refuse bracket nesting beyond MAX_NESTING before the parser builds a deep tree."""
    if text.count("(") + text.count("[") + text.count("{") < MAX_NESTING:
        return
    depth = 0
    in_string: str | None = None
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 2
                continue
            if ch == in_string:
                in_string = None
        elif ch in "\"`":
            in_string = ch
        elif ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise syntax_error_at(
                    text, i, f"brackets nest deeper than {MAX_NESTING} levels", expected=()
                )
        elif ch in ")]}":
            depth -= 1
        i += 1


def parse(text: str) -> Query:
    """Parse a whole DQL query.

    Raises :class:`~dqlbuild.DQLSyntaxError` (with line, column and a caret snippet)
    for anything that is not DQL.
    """
    query, comments = _run(text, "query")
    return _finish(query, text, comments)


def parse_pipeline(text: str) -> Query:
    """Parse a bare list of stages that may start with ``|`` (an OpenPipeline processor,
    a query fragment). The first command need not be a start command."""
    query, comments = _run(text, "pipeline")
    return _finish(query, text, comments)


def parse_expression(text: str) -> Any:
    """Parse one expression or argument (``a > 1``, ``x = f(y)``, ``by: {h}``, ``t desc``).

    Comments are allowed and dropped.
    """
    node, _ = _run(text, "expression")
    if isinstance(node, Node):
        return node
    raise syntax_error_at(text, 0, "expected an expression")


def _finish(query: Query, text: str, comments: list[Token]) -> Query:
    # The query's span is the whole text, so leading and trailing comments and
    # whitespace belong to it and survive lossless printing.
    query.__dict__["span"] = Span(0, len(text), 1, 1, *_end_position(text))
    if comments:
        attach_comments(query, comments, text)
    set_private(query, "source", SourceContext(text, query))
    return query


def _end_position(text: str) -> tuple[int, int]:
    line = text.count("\n") + 1
    return line, len(text) - (text.rfind("\n") + 1) + 1


def check_syntax(text: str) -> DQLSyntaxError | None:
    """The syntax error of ``text``, or ``None`` when it parses."""
    try:
        parse(text)
    except DQLSyntaxError as exc:
        return exc
    return None
