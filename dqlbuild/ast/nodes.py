"""Every DQL node kind, declared once.

The tree mirrors the surface syntax: a query is a flat tuple of commands, a command a
name and a tuple of arguments. Literals hold decoded values; escaping happens only in
the printer. Negative numbers are a unary minus over a non-negative literal, exactly as
the text reads, so that builders and the parser agree.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import Field as PydanticField
from pydantic import PrivateAttr, field_validator

from dqlbuild.ast.base import Node

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
VARIABLE_MODIFIERS = ("noquote", "backtick", "triplequote")
# Operators from weakest to strongest (DQL_SPEC §2.1); see dqlbuild.ast.precedence.
BINARY_OPERATORS = ("or", "xor", "and", "==", "!=", "<", "<=", ">", ">=", "~", "+", "-", "*", "/", "%")

NonNegativeInt = Annotated[int, PydanticField(ge=0)]


def _identifier(value: str, what: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(f"{what} must be a plain identifier, got {value!r}")
    return value


# ------------------------------------------------------------------ literals
class String(Node):
    """A string literal. ``style`` (trivia) remembers ``\"\"\"...\"\"\"`` for printing."""

    kind: Literal["string"] = "string"
    value: str
    style: Literal["double", "triple"] = "double"


class Long(Node):
    kind: Literal["long"] = "long"
    value: NonNegativeInt


class Double(Node):
    kind: Literal["double"] = "double"
    value: float

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value) or value < 0 or math.copysign(1.0, value) < 0:
            raise ValueError("a double literal is finite and not negative (use unary minus)")
        return value


class Duration(Node):
    """``5m``, ``2h``, ``1M``: the unit is case-sensitive (``m`` minute, ``M`` month)."""

    kind: Literal["duration"] = "duration"
    value: NonNegativeInt
    unit: Literal["ns", "us", "ms", "s", "m", "min", "h", "d", "w", "M", "q", "y"]


class Boolean(Node):
    kind: Literal["boolean"] = "boolean"
    value: bool


class Null(Node):
    kind: Literal["null"] = "null"


# ------------------------------------------------------------------ names and calls
class FieldRef(Node):
    """A field (or data object) name: ``status``, ``dt.entity.host``, `` `my field` ``.

    ``name`` is the decoded name; the printer adds backticks when they are needed.
    """

    kind: Literal["field"] = "field"
    name: Annotated[str, PydanticField(min_length=1)]


class Variable(Node):
    """A dashboard variable reference: ``$Name`` or ``$Name:noquote``."""

    kind: Literal["variable"] = "variable"
    name: str
    modifier: Literal["noquote", "backtick", "triplequote"] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _identifier(value, "a variable name")


class Call(Node):
    """A function call. ``name`` is the catalog spelling when the function is known."""

    kind: Literal["call"] = "call"
    name: str
    args: tuple[Arg, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _identifier(value, "a function name")


# ------------------------------------------------------------------ operators
class Unary(Node):
    kind: Literal["unary"] = "unary"
    op: Literal["-", "not"]
    operand: Expr


class Binary(Node):
    kind: Literal["binary"] = "binary"
    op: Literal["or", "xor", "and", "==", "!=", "<", "<=", ">", ">=", "~", "+", "-", "*", "/", "%"]
    left: Expr
    right: Expr


class Align(Node):
    """Time alignment ``expr@unit``; without an operand it is ``@unit`` (``now()@unit``)."""

    kind: Literal["align"] = "align"
    operand: Expr | None = None
    unit: str

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_]+", value):
            raise ValueError(f"an alignment unit is letters and digits, got {value!r}")
        return value


class In(Node):
    """``expr in [subquery]``."""

    kind: Literal["in"] = "in"
    operand: Expr
    block: Block


class Access(Node):
    """``base[key]``: ``key`` is a record key name (str), an array index (int), or
    ``None`` for the iterative ``base[]``."""

    kind: Literal["access"] = "access"
    base: Expr
    key: int | str | None = None


# ------------------------------------------------------------------ argument forms
class Block(Node):
    """An execution block ``[fetch logs | ...]``; ``[]`` has no commands."""

    kind: Literal["block"] = "block"
    commands: tuple[Command, ...] = ()


class Brace(Node):
    """A brace group ``{a, b = c, by: {x}}``."""

    kind: Literal["brace"] = "brace"
    items: tuple[Arg, ...] = ()


class Assign(Node):
    """``name = expr`` (or ``name = [subquery]``)."""

    kind: Literal["assign"] = "assign"
    target: Annotated[str, PydanticField(min_length=1)]
    value: Expr | Block


class Sorted(Node):
    """``expr asc`` / ``expr desc``."""

    kind: Literal["sorted"] = "sorted"
    expr: Expr
    direction: Literal["asc", "desc"]


class Named(Node):
    """A named parameter ``name: value``."""

    kind: Literal["named"] = "named"
    name: str
    value: Value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _identifier(value, "a parameter name")


# ------------------------------------------------------------------ commands and queries
class Command(Node):
    """One pipeline stage: ``name arg, arg, ...``. ``name`` is the catalog spelling when
    the command is known (``FETCH`` parses to ``fetch``)."""

    kind: Literal["command"] = "command"
    name: str
    args: tuple[Arg, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _identifier(value, "a command name")


class Query(Node):
    """A DQL query: commands separated by ``|``."""

    kind: Literal["query"] = "query"
    commands: tuple[Command, ...] = ()

    # The text this query was parsed from (kept through edits made with the query's own
    # methods), for lossless printing.
    _source: Any = PrivateAttr(default=None)

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)


Expr = Annotated[
    String | Long | Double | Duration | Boolean | Null | FieldRef | Variable | Call | Unary
    | Binary | Align | In | Access,
    PydanticField(discriminator="kind"),
]
Value = Annotated[
    String | Long | Double | Duration | Boolean | Null | FieldRef | Variable | Call | Unary
    | Binary | Align | In | Access | Sorted | Assign | Brace | Block,
    PydanticField(discriminator="kind"),
]
Arg = Annotated[
    String | Long | Double | Duration | Boolean | Null | FieldRef | Variable | Call | Unary
    | Binary | Align | In | Access | Sorted | Assign | Brace | Block | Named,
    PydanticField(discriminator="kind"),
]

EXPRESSION_TYPES: tuple[type[Node], ...] = (
    String, Long, Double, Duration, Boolean, Null, FieldRef, Variable, Call, Unary, Binary,
    Align, In, Access,
)  # fmt: skip
LITERAL_TYPES: tuple[type[Node], ...] = (String, Long, Double, Duration, Boolean, Null)
NODE_TYPES: tuple[type[Node], ...] = (
    *EXPRESSION_TYPES, Sorted, Assign, Brace, Block, Named, Command, Query,
)  # fmt: skip

for _cls in NODE_TYPES:
    _cls.model_rebuild()
