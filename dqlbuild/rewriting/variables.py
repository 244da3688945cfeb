"""Dashboard variable references: a lexical scan that knows DQL's strings and comments.

The Dashboards app substitutes ``$key`` textually, before the query is parsed, so a
reference may sit where the grammar has no variable (inside a string literal). The scan
therefore works on text, not on the tree, with the grammar's own terminals for strings,
quoted names, comments and variables (so it and the parser agree on where each ends):

- ``$name`` or ``$name:noquote|backtick|triplequote``; the name is a maximal identifier,
  so ``$Service`` never matches inside ``$Services`` (the app's own boundary rule).
- In ``"..."`` and ``\"\"\"...\"\"\"`` strings references are found too (``in_string``).
  In ``"..."`` a ``$`` written as the escape pair ``\\$`` is not a reference: it is our
  way to write a literal dollar sign, and substituting after a backslash would turn the
  first character of the value into an escape.
- References in comments and in backtick-quoted names are not references: comments do
  not run and a backticked name is a field name.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from dqlbuild.analysis.checks import BUILTIN_VARIABLES
from dqlbuild.ast.base import Node, Span
from dqlbuild.ast.nodes import IDENTIFIER, Binary, Call, FieldRef, Query, Variable
from dqlbuild.errors import DQLTypeError, DQLValueError
from dqlbuild.syntax.grammar import plain_lark

Modifier = Literal["noquote", "backtick", "triplequote"]

# The Dashboards app's "select all" token, stored as (or in) a multi-select default value.
SELECT_ALL = "3420b2ac-f1cf-4b24-b62d-61ba1ba8ed05*"

_REFERENCE = (
    r"\$(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<mod>noquote|backtick|triplequote)(?![A-Za-z0-9_]))?"
)
_REFERENCE_RE = re.compile(_REFERENCE)
# Inside "...": escape pairs are skipped so that `\$x` is not a reference.
_IN_STRING_RE = re.compile(r"\\[\s\S]|" + _REFERENCE)
_STRING_REFERENCE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
# The grammar's own terminals that can hold a `$`, a quote or a comment, in the order of
# their priority there: the scan finds exactly the tokens the parser's lexer finds.
LEXEMES = ("TRIPLE_STRING", "STRING", "QUOTED_NAME", "LINE_COMMENT", "BLOCK_COMMENT", "VARIABLE")
COMMENTS = frozenset({"LINE_COMMENT", "BLOCK_COMMENT"})


@functools.cache
def _lexeme_re() -> re.Pattern[str]:
    patterns = {t.name: t.pattern for t in plain_lark().terminals}
    return re.compile("|".join(f"(?P<{name}>{patterns[name].to_regexp()})" for name in LEXEMES))


def lexemes(text: str) -> Iterator[re.Match[str]]:
    """Strings, quoted names, comments and variable references of ``text``, as the
    grammar defines them (``match.lastgroup`` is the terminal's name)."""
    return _lexeme_re().finditer(text)


def comments_of(text: str) -> list[str]:
    """The comments of a query text, in order."""
    return [m.group() for m in lexemes(text) if m.lastgroup in COMMENTS]


def string_references(value: str) -> list[str]:
    """The ``$names`` in the value of a string literal (dashboards substitute there)."""
    return _STRING_REFERENCE.findall(value)


@dataclass(frozen=True)
class VariableRef:
    """One ``$name`` reference in a query text.

    ``span`` covers the reference (``$name:modifier``) in the scanned text. ``in_string``
    is true when it sits inside a string literal; ``string_span`` is then the span of
    that literal (quotes included) and ``string_style`` its quoting.
    """

    name: str
    modifier: Modifier | None
    span: Span
    in_string: bool = False
    string_span: Span | None = None
    string_style: Literal["double", "triple"] | None = None

    @property
    def text(self) -> str:
        """The reference as written."""
        return f"${self.name}:{self.modifier}" if self.modifier else f"${self.name}"


class _Positions:
    """Offsets to 1-based lines and columns."""

    def __init__(self, text: str) -> None:
        self.starts = [0, *(m.end() for m in re.finditer("\n", text))]

    def span(self, start: int, end: int) -> Span:
        line, column = self._at(start)
        end_line, end_column = self._at(end)
        return Span(start, end, line, column, end_line, end_column)

    def _at(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1


def variables(query_or_text: Query | str) -> list[VariableRef]:
    """Every dashboard variable reference in a query, in text order.

    Text is scanned as it is (it need not be valid DQL); for a :class:`Query` the scanned
    text is ``query.to_source()``, which is the parsed text for a parsed query.
    """
    if isinstance(query_or_text, Query):
        return list(_scan(query_or_text.to_source()))
    if isinstance(query_or_text, str):
        return list(_scan(query_or_text))
    raise DQLTypeError(f"expected a Query or DQL text, not {type(query_or_text).__name__}")


def _scan(text: str) -> Iterator[VariableRef]:
    positions = _Positions(text)
    for match in lexemes(text):
        kind = match.lastgroup
        if kind == "VARIABLE":
            reference = _REFERENCE_RE.fullmatch(match.group())
            assert reference is not None  # the grammar's VARIABLE is this pattern
            yield VariableRef(
                name=reference.group("name"),
                modifier=_modifier(reference.group("mod")),
                span=positions.span(match.start(), match.end()),
            )
        elif kind == "TRIPLE_STRING":
            yield from _in_string(match, True, positions)
        elif kind == "STRING":
            yield from _in_string(match, False, positions)


def _in_string(match: re.Match[str], triple: bool, positions: _Positions) -> Iterator[VariableRef]:
    token = match.group(0)
    if "$" not in token:
        return
    quote = 3 if triple else 1
    body = token[quote:-quote]
    string_span = positions.span(match.start(), match.end())
    base = match.start() + quote
    finder = _REFERENCE_RE if triple else _IN_STRING_RE
    for inner in finder.finditer(body):
        if inner.group("name") is None:
            continue
        yield VariableRef(
            name=inner.group("name"),
            modifier=_modifier(inner.group("mod")),
            span=positions.span(base + inner.start(), base + inner.end()),
            in_string=True,
            string_span=string_span,
            string_style="triple" if triple else "double",
        )


def _modifier(text: str | None) -> Modifier | None:
    if text == "noquote":
        return "noquote"
    if text == "backtick":
        return "backtick"
    if text == "triplequote":
        return "triplequote"
    return None


def variable_filter(field: str | Node, key: str, *, multiple: bool = False) -> Node:
    """The condition that filters ``field`` by the dashboard variable ``key``.

    Single-select: ``field == $key``. Multi-select: ``in(field, array($key))``, the
    documented form: the app expands a multi-select variable to comma-separated values,
    so ``==`` would compare with a list and a bare ``in(field, $key)`` breaks when
    nothing is selected.
    """
    if not isinstance(key, str) or not IDENTIFIER.match(key):
        raise DQLValueError(f"a variable key is a plain identifier, got {key!r}")
    if isinstance(field, str):
        if not field:
            raise DQLValueError("a field name must not be empty")
        target: Node = FieldRef(name=field)
    elif isinstance(field, Node):
        target = field
    else:
        raise DQLValueError(f"a field is a name or an expression node, not {type(field).__name__}")
    variable = Variable(name=key)
    if multiple:
        return Call(name="in", args=(target, Call(name="array", args=(variable,))))
    return Binary(op="==", operands=(target, variable))


__all__ = [
    "BUILTIN_VARIABLES",
    "SELECT_ALL",
    "VariableRef",
    "variable_filter",
    "variables",
]
