"""Every DQL node kind, declared once.

The tree mirrors the surface syntax: a query is a flat tuple of commands, a command a
name and a tuple of arguments. Literals hold decoded values; escaping happens only in
the printer. Negative numbers are a unary minus over a non-negative literal, exactly as
the text reads, so that builders and the parser agree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import Field as PydanticField
from pydantic import field_validator, model_validator

from dqlbuild.ast.base import MAX_DEPTH, Node, depth, get_private, make, set_private
from dqlbuild.ast.pipeline_methods import PipelineMethods
from dqlbuild.errors import SURROGATES, DQLValueError, surrogate_message

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
VARIABLE_MODIFIERS = ("noquote", "backtick", "triplequote")
# Operators from weakest to strongest (DQL_SPEC §2.1); see dqlbuild.ast.precedence.
BINARY_OPERATORS = (
    "or",
    "xor",
    "and",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "~",
    "+",
    "-",
    "*",
    "/",
    "%",
)
# Operators that chain (``a or b or c``); comparisons and ``~`` do not (DQL_SPEC §2.1).
CHAINING_OPERATORS = frozenset({"or", "xor", "and", "+", "-", "*", "/", "%"})

NonNegativeInt = Annotated[int, PydanticField(ge=0)]


def _characters(value: object, what: str) -> object:
    """``value`` unless it is a str with a lone surrogate: Python text may hold them, DQL
    text cannot. (Checked before pydantic's own str check, for a clear message.)"""
    if isinstance(value, str):
        found = SURROGATES.search(value)
        if found is not None:
            raise ValueError(f"{what} holds {surrogate_message(found.group())}")
    return value


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

    @field_validator("value", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return _characters(value, "a string")


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

    @field_validator("name", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return _characters(value, "a field name")


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
    """One operator folded left to right over two or more operands: ``a or b or c`` is
    one node with three operands, ``a - b - c`` means ``(a - b) - c``. A change of
    operator nests (``a + b - c`` is ``Binary("-", (Binary("+", (a, b)), c))``), and a
    comparison or ``~`` has exactly two operands.

    A first operand that is itself a chain of the same operator is merged into this
    one, so a tree has one spelling however it was built (``reduce(operator.or_, ...)``
    in the builder gives what the parser gives for ``a or b or c``).
    """

    kind: Literal["binary"] = "binary"
    op: Literal["or", "xor", "and", "==", "!=", "<", "<=", ">", ">=", "~", "+", "-", "*", "/", "%"]
    operands: Annotated[tuple[Expr, ...], PydanticField(min_length=2)]

    @model_validator(mode="after")
    def _chain(self) -> Binary:
        _merge_chain(self)
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copied = super().model_copy(update=update, deep=deep)
        if update and "operands" in update:
            try:
                _merge_chain(copied)
            except ValueError as exc:
                raise DQLValueError(str(exc)) from None
        return copied


def _merge_chain(node: Binary) -> None:
    operands = node.operands
    if node.op not in CHAINING_OPERATORS:
        if len(operands) != 2:
            raise ValueError(f"`{node.op}` takes exactly two operands, not {len(operands)}")
    elif len(operands) < 2:
        raise ValueError(f"`{node.op}` takes at least two operands, not {len(operands)}")
    else:
        first = operands[0]
        if type(first) is Binary and first.op == node.op:
            # Not yet visible to anyone: filled in place, like pydantic itself does.
            object.__setattr__(node, "operands", (*first.operands, *operands[1:]))


def chain(op: str, left: Node, right: Node) -> Binary:
    """``left op right``. When ``left`` is already a chain of ``op`` the result is that
    chain with one more operand, as a changed copy of it: lossless printing then keeps
    the chain's own text and only adds `` op right``."""
    if type(left) is Binary and left.op == op and op in CHAINING_OPERATORS:
        if not isinstance(right, EXPRESSION_TYPES):
            raise DQLValueError(f"a {type(right).__name__} node is not an operand of `{op}`")
        levels = max(depth(left), 1 + depth(right))
        if levels > MAX_DEPTH:
            raise DQLValueError(f"the tree would nest deeper than {MAX_DEPTH} levels")
        longer = left.model_copy(update={"operands": (*left.operands, right)})
        set_private(longer, "depth", levels)
        return longer
    return make(Binary, op=op, operands=(left, right))


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

    @field_validator("key", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return _characters(value, "a record key")


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

    @field_validator("target", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return _characters(value, "a field name")


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


class Query(PipelineMethods, Node):
    """A DQL query: commands separated by ``|``. The pipeline commands are methods
    (``.filter(...)``, ``.summarize(...)``: see :mod:`dqlbuild.ast.pipeline_methods`)."""

    kind: Literal["query"] = "query"
    commands: tuple[Command, ...] = ()

    def to_source(self) -> str:
        """The query as text, losslessly: a parsed, unchanged query returns its text byte
        for byte; after edits only the edited parts are printed anew."""
        from dqlbuild.printing.lossless import to_source

        return to_source(self)

    def format(self, *, width: int = 100, indent: int = 2) -> str:
        """The canonical text of the query (see :func:`dqlbuild.format`)."""
        from dqlbuild.printing.canonical import format_node

        return format_node(self, width=width, indent=indent)

    @property
    def source(self) -> str | None:
        """The text this query (or the query it was edited from) was parsed from."""
        context = get_private(self, "source")
        return context.text if context is not None else None

    # -- editing: every method returns a new query and shares the untouched stages
    def insert(self, index: int, *stages: Command | str) -> Query:
        """A copy with ``stages`` inserted before position ``index`` (negative counts
        from the end, as for lists)."""
        commands = list(self.commands)
        position = _position(index, len(commands), inserting=True)
        commands[position:position] = _stages(stages)
        return self._with_commands(commands)

    def append(self, *stages: Command | str) -> Query:
        return self._with_commands([*self.commands, *_stages(stages)])

    def replace(self, index: int, stage: Command | str) -> Query:
        commands = list(self.commands)
        commands[_position(index, len(commands))] = _stages((stage,))[0]
        return self._with_commands(commands)

    def remove(self, index: int) -> Query:
        commands = list(self.commands)
        del commands[_position(index, len(commands))]
        if not commands:
            raise DQLValueError("removing the last stage would leave an empty query")
        return self._with_commands(commands)

    def __add__(self, other: object) -> Query:
        if isinstance(other, Query):
            return self.append(*other.commands)
        if isinstance(other, Command | str):
            return self.append(other)
        if isinstance(other, list | tuple):
            return self.append(*other)
        return NotImplemented

    def _with_commands(self, commands: list[Command]) -> Query:
        return self.model_copy(update={"commands": tuple(commands)})


def _position(index: int, length: int, *, inserting: bool = False) -> int:
    size = length + 1 if inserting else length
    position = index + length if index < 0 else index
    if inserting and index < 0:
        position += 1
    if not 0 <= position < size:
        raise DQLValueError(f"stage index {index} is out of range for {length} stages")
    return position


def _stages(stages: tuple[Command | str, ...]) -> list[Command]:
    result: list[Command] = []
    for stage in stages:
        if isinstance(stage, Command):
            result.append(stage)
        elif isinstance(stage, str):
            from dqlbuild.syntax.parser import parse_pipeline

            result.extend(parse_pipeline(stage).commands)
        else:
            raise DQLValueError(f"a stage is a Command or DQL text, not {type(stage).__name__}")
    return result


# The forms an expression, an argument value and an argument can take; each union adds
# to the one before it, and `kind` tells the members apart.
_Expressions = (
    String | Long | Double | Duration | Boolean | Null | FieldRef | Variable | Call | Unary
    | Binary | Align | In | Access
)  # fmt: skip
_Values = _Expressions | Sorted | Assign | Brace | Block
Expr = Annotated[_Expressions, PydanticField(discriminator="kind")]
Value = Annotated[_Values, PydanticField(discriminator="kind")]
Arg = Annotated[_Values | Named, PydanticField(discriminator="kind")]

EXPRESSION_TYPES: tuple[type[Node], ...] = (
    String, Long, Double, Duration, Boolean, Null, FieldRef, Variable, Call, Unary, Binary,
    Align, In, Access,
)  # fmt: skip
LITERAL_TYPES: tuple[type[Node], ...] = (String, Long, Double, Duration, Boolean, Null)
NODE_TYPES: tuple[type[Node], ...] = (
    *EXPRESSION_TYPES, Sorted, Assign, Brace, Block, Named, Command, Query,
)  # fmt: skip
