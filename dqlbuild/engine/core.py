"""The pieces every part of the compiler shares: a relation (one stage's output), a
typed SQL expression, the scope expressions are compiled in, and positioned errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlglot import exp

from dqlbuild.analysis.binding import BoundArguments
from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import Binary, Block
from dqlbuild.engine import sql
from dqlbuild.engine.data import ORDER_COLUMN, Column
from dqlbuild.engine.types import ANY, NULL, DType
from dqlbuild.errors import DQLEvaluationError, DQLUnsupportedError

if TYPE_CHECKING:
    from dqlbuild.ast.nodes import Expr

ORDER = ORDER_COLUMN


def position(node: Node | None) -> tuple[int | None, int | None]:
    span = node.span if node is not None else None
    return (span.line, span.column) if span is not None else (None, None)


def unsupported(what: str, node: Node | None, hint: str | None = None) -> DQLUnsupportedError:
    line, column = position(node)
    return DQLUnsupportedError(
        f"{what} is not supported by the local engine", line=line, column=column, hint=hint
    )


def evaluation_error(
    message: str, node: Node | None, hint: str | None = None
) -> DQLEvaluationError:
    line, column = position(node)
    return DQLEvaluationError(message, line=line, column=column, hint=hint)


def check_binding(bound: BoundArguments, owner: str, node: Node) -> BoundArguments:
    """Raise the first binding problem of a command's or call's arguments (``owner`` is
    ``fetch`` or ``contains()``) as an error at its place."""
    for problem in bound.problems:
        where = problem.node if problem.node is not None else node
        name = problem.name
        if problem.kind == "unknown-parameter":
            message = f"{owner} has no parameter {name!r}"
        elif problem.kind == "missing-required":
            message = f"{owner} needs its {name!r} argument"
        elif problem.kind == "excluded-together":
            other = problem.parameter.name if problem.parameter else "another parameter"
            message = f"{owner}: {name!r} cannot be given together with {other!r}"
        elif problem.kind == "duplicate-parameter":
            message = f"{owner}: {name!r} is given twice"
        else:
            hint = f"write {name}: ..." if name else None
            raise evaluation_error(f"too many arguments for {owner}", where, hint)
        raise evaluation_error(message, where)
    return bound


def binary_operands(node: Binary) -> tuple[Expr, ...]:
    """The operands of an operator chain, folded from the left (``a - b - c`` is ``-``
    over a, b, c): the one place that reads ``Binary``'s fields."""
    return tuple(node.operands)


@dataclass(frozen=True)
class Typed:
    """A compiled expression: SQL and the DQL type of its values."""

    sql: exp.Expr
    type: DType
    constant: bool = False
    """No field references (a literal or a computation on literals)."""
    months: int | None = None
    """For calendar durations (``1M``, ``1q``, ``1y``): their length in months."""


@dataclass(frozen=True)
class Relation:
    """The output of one stage: a CTE and the DQL fields it holds, in order. Every
    relation also holds the hidden order column."""

    name: str
    columns: tuple[Column, ...]
    open: bool = False
    """Compiled without a schema: fields beyond ``columns`` may exist (SQL uses ``*``)."""
    exact: bool = False
    """The query itself defined the field set (``fields``, ``summarize``, ``data``...):
    a reference to another field is an error, as in DQL."""
    source: str | None = None
    """For a relation read from a data object: its name (for messages)."""

    def column(self, name: str) -> Column | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


class CompilerLike(Protocol):
    """What expressions need from the compiler: subqueries, the time, notes."""

    now_ns: int
    assumed: set[str]
    """Fields read from data of unknown fields (SQL without a schema): they exist."""

    def subquery(self, block: Block) -> Relation: ...

    def note(self, text: str) -> None: ...


@dataclass
class Scope:
    """Where an expression is compiled: the relation its fields come from."""

    relation: Relation
    compiler: CompilerLike
    table: str | None = None
    """Qualify column references with this table alias."""
    aggregate: Callable[[Scope, Node, str, Sequence[Node]], Typed] | None = None
    """Set inside aggregation parameters (summarize, makeTimeseries): compiles a call
    of an aggregation function."""
    aggregation_context: str | None = None
    """The catalog context of aggregation calls (``summarize``/``makeTimeseries``)."""

    def field(self, name: str, node: Node | None) -> Typed:
        column = self.relation.column(name)
        if column is not None:
            if column.type == NULL:
                return Typed(sql.null(), NULL)
            return Typed(sql.col(name, self.table), column.type)
        if self.relation.open:
            self.compiler.assumed.add(name)
            return Typed(sql.col(name, self.table), ANY)
        if self.relation.exact:
            known = ", ".join(self.relation.names) or "none"
            raise evaluation_error(f"field {name!r} does not exist here (fields: {known})", node)
        where = f" of {self.relation.source!r}" if self.relation.source else ""
        self.compiler.note(f"field {name!r} is not in the data{where}; it is null everywhere")
        return Typed(sql.null(), NULL)


__all__ = [
    "ORDER",
    "CompilerLike",
    "Relation",
    "Scope",
    "Typed",
    "binary_operands",
    "check_binding",
    "evaluation_error",
    "position",
    "unsupported",
]
