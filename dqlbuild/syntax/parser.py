"""Text to AST: Lark LALR with the AST built inside the parser (no intermediate tree)."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from typing import Any

from dqlbuild.ast.base import MAX_DEPTH, Node, Span, child_nodes, set_private
from dqlbuild.ast.nodes import (
    CHAINING_OPERATORS,
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
from dqlbuild.errors import SURROGATES, DQLTypeError, surrogate_message
from dqlbuild.syntax import names, tables
from dqlbuild.syntax.collector import collector_paused
from dqlbuild.syntax.comments import attach_comments
from dqlbuild.syntax.engine import Engine, ParseFailure, Tok
from dqlbuild.syntax.errors import syntax_error_at, syntax_error_from_failure
from dqlbuild.syntax.grammar import COMMENT_TERMINALS, grammar_text
from dqlbuild.syntax.lexical import (
    EscapeError,
    code_only,
    decode_backtick,
    decode_string,
    decode_triple_string,
)
from dqlbuild.syntax.source import SourceContext

# Nesting deeper than these limits is refused with a DQLSyntaxError (MAX_DEPTH: see
# dqlbuild.ast.base). Brackets are counted on the text first, so that 10,000 nested
# parentheses are refused before any tree is built; a tree within MAX_DEPTH never prints
# with more brackets than that, so whatever the builder makes parses back. Real queries
# stay below 10.
MAX_NESTING = MAX_DEPTH


_span = tuple.__new__  # Span(...) through its generated __new__ is measurably slower


def _token_span(tok: Tok) -> Span:
    _, value, start, line, column = tok
    size = len(value)
    if "\n" in value:
        return _span(
            Span,
            (start, start + size, line, column, line + value.count("\n"), size - value.rfind("\n")),
        )
    return _span(Span, (start, start + size, line, column, line, column + size))


def _join(first: Any, last: Any) -> Span:
    # Tokens are (type, text, start, line, column); nodes carry their span.
    if type(first) is tuple:
        start, line, column = first[2], first[3], first[4]
    else:
        start, _, line, column, _, _ = first.span
    b = _token_span(last) if type(last) is tuple else last.span
    return _span(Span, (start, b[1], line, column, b[4], b[5]))


def _args(items: Sequence[Any]) -> tuple[Arg, ...]:
    return tuple(item for item in items if type(item) is not tuple)


# Nodes are made without validation: the grammar admits only what their fields accept.
_Query = Query.maker()
_Command = Command.maker()
_Named = Named.maker()
_Sorted = Sorted.maker()
_Assign = Assign.maker()
_Brace = Brace.maker()
_Block = Block.maker()
_Binary = Binary.maker()
_Unary = Unary.maker()
_In = In.maker()
_Align = Align.maker()
_Access = Access.maker()
_Call = Call.maker()
_Variable = Variable.maker()
_FieldRef = FieldRef.maker()
_String = String.maker()
_Long = Long.maker()
_Double = Double.maker()
_Duration = Duration.maker()
_Null = Null.maker()
_Boolean = Boolean.maker()


class _Builder:
    """Lark callbacks, one per grammar rule or alias, building nodes with spans."""

    # Lists alternate elements and separator tokens: every second item is an element.
    def query(self, items: list[Any]) -> Query:
        return _Query(commands=tuple(items[::2]), span=_join(items[0], items[-1]))

    def pipeline(self, items: list[Any]) -> Query:
        return _Query(commands=_args(items), span=_join(items[0], items[-1]))

    def expression(self, items: list[Any]) -> Any:
        return items[0]

    def command(self, items: list[Any]) -> Command:
        name_token = items[0]
        if "." in name_token[1]:
            raise _NodeError(name_token, f"`{name_token[1]}` is not a command name")
        return _Command(
            name=names.command_name(name_token[1]),
            args=tuple(items[1::2]),
            span=_join(items[0], items[-1]),
        )

    def named(self, items: list[Any]) -> Named:
        return _Named(name=items[0][1], value=items[2], span=_join(items[0], items[2]))

    def sorted(self, items: list[Any]) -> Sorted:
        direction = "desc" if items[1][1].lower() == "desc" else "asc"
        return _Sorted(expr=items[0], direction=direction, span=_join(items[0], items[1]))

    def assign(self, items: list[Any]) -> Assign:
        target: FieldRef = items[0]
        return _Assign(target=target.name, value=items[2], span=_join(items[0], items[2]))

    def brace(self, items: list[Any]) -> Brace:
        return _Brace(items=tuple(items[1:-1:2]), span=_join(items[0], items[-1]))

    def block(self, items: list[Any]) -> Block:
        return _Block(commands=tuple(items[1:-1:2]), span=_join(items[0], items[-1]))

    def binary(self, items: list[Any]) -> Binary:
        # items: operand, operator token, operand, ... of one precedence level, folded
        # left to right: a run of one operator is one node, a change of operator nests.
        node: Node = items[0]
        first = node
        i, count = 1, len(items)
        while i < count:
            op = items[i][1].lower()
            operands: list[Node] = [node]
            if type(node) is Binary and node.op == op and op in CHAINING_OPERATORS:
                operands = list(node.operands)  # `(a or b) or c`: parentheses are trivia
            while i < count and items[i][1].lower() == op:
                operands.append(items[i + 1])
                i += 2
            node = _Binary(op=op, operands=tuple(operands), span=_join(first, items[i - 1]))
        assert type(node) is Binary
        return node

    def unary(self, items: list[Any]) -> Unary:
        op, operand = items
        return _Unary(op=op[1].lower(), operand=operand, span=_join(op, operand))

    def in_(self, items: list[Any]) -> In:
        return _In(operand=items[0], block=items[2], span=_join(items[0], items[2]))

    def align(self, items: list[Any]) -> Align:
        operand, unit = items
        return _Align(operand=operand, unit=unit[1][1:], span=_join(operand, unit))

    def align_now(self, items: list[Any]) -> Align:
        unit = items[0]
        return _Align(unit=unit[1][1:], span=_token_span(unit))

    def access(self, items: list[Any]) -> Access:
        base = items[0]
        key: int | str | None = items[2] if len(items) == 4 else None
        return _Access(base=base, key=key, span=_join(base, items[-1]))

    def access_key(self, items: list[Any]) -> int | str:
        kind, value = items[-1][0], items[-1][1]
        text = str(value)
        if kind == "INT":
            return -int(text) if len(items) == 2 else int(text)
        if kind == "QUOTED_NAME":
            return decode_backtick(text)
        return text

    def paren(self, items: list[Any]) -> Any:
        inner: Node = items[1]
        # The span of a parenthesised node covers its parentheses, so that reprinting
        # the node's text keeps them and the text around it never holds half a pair.
        object.__setattr__(inner, "span", _join(items[0], items[2]))
        return inner

    def call(self, items: list[Any]) -> Call:
        name = items[0]
        if "." in name[1]:
            raise _NodeError(name, f"`{name[1]}` is not a function name")
        return _Call(
            name=names.function_name(name[1]),
            args=tuple(items[2:-1:2]),
            span=_join(name, items[-1]),
        )

    def variable(self, items: list[Any]) -> Variable:
        token = items[0]
        name, _, modifier = token[1][1:].partition(":")
        return _Variable(name=name, modifier=modifier or None, span=_token_span(token))

    def name(self, items: list[Any]) -> FieldRef:
        token = items[0]
        text = decode_backtick(token[1]) if token[0] == "QUOTED_NAME" else token[1]
        if not text:
            raise _NodeError(token, "an empty backtick name is not a field name")
        return _FieldRef(name=text, span=_token_span(token))

    def literal(self, items: list[Any]) -> Node:
        token = items[0]
        kind, value = token[0], token[1]
        span = _token_span(token)
        if kind == "STRING":
            try:
                decoded = decode_string(value)
            except EscapeError as exc:
                raise _NodeError(token, exc.message, exc.offset, _PAIR_HINT) from None
            return _String(value=decoded, span=span)
        if kind == "TRIPLE_STRING":
            return _String(value=decode_triple_string(value), style="triple", span=span)
        if kind == "INT":
            return _Long(value=int(value), span=span)
        if kind == "HEX":
            return _Long(value=int(value, 16), span=span)
        if kind == "DOUBLE":
            number = float(value)
            if math.isinf(number):
                raise _NodeError(token, f"`{value}` is too large for a double")
            return _Double(value=number, span=span)
        if kind == "DURATION":
            digits = value.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
            return _Duration(value=int(digits), unit=value[len(digits) :], span=span)
        if kind == "NULL":
            return _Null(span=span)
        return _Boolean(value=value.lower() == "true", span=span)


class _NodeError(Exception):
    """Raised inside a callback: a token that the grammar accepts but that is not DQL
    (``offset``: where in the token the problem is)."""

    def __init__(self, token: Tok, message: str, offset: int = 0, hint: str | None = None) -> None:
        super().__init__(message)
        self.position = token[2] + offset
        self.message = message
        self.hint = hint


_PAIR_HINT = r"a character beyond U+FFFF is written as a surrogate pair, e.g. `\ud83d\ude00`"


@functools.cache
def _engine() -> Engine:
    return Engine(tables.load(grammar_text()), _Builder(), frozenset(COMMENT_TERMINALS))


def _run(text: str, start: str) -> tuple[Any, list[Tok]]:
    if not isinstance(text, str):
        raise DQLTypeError(f"DQL text must be a str, not {type(text).__name__}")
    surrogate = SURROGATES.search(text)
    if surrogate is not None:
        # Python text can hold them (JSON "\ud800", surrogateescape); no DQL text can.
        raise syntax_error_at(
            text, surrogate.start(), f"the text holds {surrogate_message(surrogate.group())}"
        )
    comments: list[Tok] = []
    try:
        _check_nesting(text)
        result, tokens = _engine().parse(text, start, comments)
    except ParseFailure as exc:
        raise syntax_error_from_failure(exc, text, start) from None
    except _NodeError as exc:
        raise syntax_error_at(text, exc.position, exc.message, hint=exc.hint) from None
    except ValueError as exc:
        # pydantic's ValidationError is a ValueError: a token the grammar allowed that a
        # node refuses. Reported, never leaked.
        raise syntax_error_at(text, 0, f"not valid DQL: {exc}") from None
    # A tree cannot be deeper than its token count (plus the query and command levels).
    if tokens + 2 > MAX_DEPTH:
        too_deep = _too_deep(result)
        if too_deep is not None:
            raise syntax_error_at(
                text,
                too_deep.span.start if too_deep.span is not None else 0,
                f"the query nests deeper than {MAX_DEPTH} levels here",
                expected=(),
                hint="a chain of one operator is one level; each call, group, subquery, "
                "unary operator and change of operator is one more",
            )
    return result, comments


def _too_deep(root: Any) -> Node | None:
    """The first node (in walk order) below MAX_DEPTH levels of tree, or None."""
    if not isinstance(root, Node):
        return None
    fields_of = _child_fields
    stack: list[tuple[Node, int]] = [(root, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, level = pop()
        fields = fields_of.get(type(node))
        if fields is None:
            fields = fields_of[type(node)] = type(node).child_fields()
        level += 1
        kids = child_nodes(node)
        if level > MAX_DEPTH:
            if kids:
                return kids[-1]  # the child a walk would meet first
            continue
        for child in kids:
            # Leaves are never deeper than their level: not worth a visit (half the nodes).
            if fields_of.get(type(child)) == ():
                continue
            # Nor is a subtree too short to reach the limit: each level of a tree has a
            # token of its own (as for the whole text above), and a token at least one
            # character, so a subtree is no deeper than its text is long (+2 as above).
            span = child.span
            if span is not None and level + (span[1] - span[0]) + 2 <= MAX_DEPTH:
                continue
            push((child, level))
    return None


_child_fields: dict[type[Node], tuple[str, ...]] = {}


def _check_nesting(text: str) -> None:
    """Refuse bracket nesting beyond MAX_NESTING before the parser builds a deep tree."""
    if text.count("(") + text.count("[") + text.count("{") < MAX_NESTING:
        return
    depth = 0
    for i, ch in enumerate(code_only(text)):  # brackets in strings and comments do not count
        if ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise syntax_error_at(
                    text, i, f"brackets nest deeper than {MAX_NESTING} levels", expected=()
                )
        elif ch in ")]}":
            depth -= 1


@collector_paused  # no reference cycles: see dqlbuild.syntax.collector
def parse(text: str) -> Query:
    """Parse a whole DQL query.

    Raises :class:`~dqlbuild.DQLSyntaxError` (with line, column and a caret snippet)
    for anything that is not DQL.
    """
    query, comments = _run(text, "query")
    return _finish(query, text, comments)


@collector_paused
def parse_pipeline(text: str) -> Query:
    """Parse a bare list of stages that may start with ``|`` (an OpenPipeline processor,
    a query fragment). The first command need not be a start command."""
    query, comments = _run(text, "pipeline")
    query = _finish(query, text, comments)
    if re.match(_LEADING_PIPE, text):
        set_private(query, "leading_pipe", True)  # the canonical printer keeps it
    return query


# Whitespace and comments, then `|`: a fragment written as a continuation of a pipeline.
_LEADING_PIPE = r"(?:\s|//[^\n]*|/\*[\s\S]*?\*/)*\|"


@collector_paused  # no reference cycles: see dqlbuild.syntax.collector
def parse_expression(text: str) -> Arg:
    """Parse one expression or argument (``a > 1``, ``x = f(y)``, ``by: {h}``, ``t desc``).

    Comments are allowed and dropped.
    """
    node, _ = _run(text, "expression")
    arg: Arg = node  # the grammar's `expression` rule yields exactly one argument form
    return arg


def _finish(query: Query, text: str, comments: list[Tok]) -> Query:
    # The query's span is the whole text, so leading and trailing comments and
    # whitespace belong to it and survive lossless printing.
    object.__setattr__(query, "span", Span(0, len(text), 1, 1, *_end_position(text)))
    if comments:
        attach_comments(query, comments, text)
    set_private(query, "source", SourceContext(text, query))
    return query


def _end_position(text: str) -> tuple[int, int]:
    line = text.count("\n") + 1
    return line, len(text) - (text.rfind("\n") + 1) + 1
