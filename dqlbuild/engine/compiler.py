"""DQL pipeline -> one SQL statement: one CTE per stage, built as sqlglot expressions.

Each stage's CTE holds exactly the stage's DQL fields (flat names, always quoted) plus a
hidden order column: a record's position in the input until a ``sort`` (or an
aggregation) gives a new order. Every later stage keeps it, ``limit`` takes the first
records by it and the final ``SELECT`` orders by it, so results are deterministic even
where DQL only promises an order after ``sort``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlglot import exp

from dqlbuild.analysis.binding import BoundArguments, bind_arguments
from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import Block, Command, Query
from dqlbuild.catalog import get_catalog
from dqlbuild.engine import sql
from dqlbuild.engine.core import ORDER, Relation, check_binding, evaluation_error, unsupported
from dqlbuild.engine.data import Column
from dqlbuild.errors import DQLDataError


@dataclass(frozen=True)
class SourceTable:
    """How a data object is read."""

    table: str
    """The SQL table name."""
    columns: tuple[Column, ...] | None
    """Its fields, or None when unknown (SQL without a schema)."""
    has_order: bool
    """The table has the order column (loaded by a Dataset)."""


@dataclass(frozen=True)
class TimeRange:
    """A query timeframe (``fetch ..., from:, to:``) as SQL nanosecond expressions."""

    start: exp.Expr | None
    end: exp.Expr | None


class Compiler:
    def __init__(self, sources: Mapping[str, SourceTable], now_ns: int, given: Sequence[str]):
        self.sources = sources
        self.given = tuple(given)
        self.now_ns = now_ns
        self.ctes: list[tuple[str, exp.Expr]] = []
        self.notes: list[str] = []
        self.timeframe: TimeRange | None = None
        self.assumed: set[str] = set()
        prefix = "stage"
        while any(table.table.lower().startswith(prefix) for table in sources.values()):
            prefix = "_" + prefix
        self._names = (f"{prefix}{n}" for n in itertools.count(1))

    # -- building ---------------------------------------------------------------------
    def add(
        self,
        select: exp.Expr,
        columns: Sequence[Column],
        *,
        open: bool = False,
        exact: bool = False,
        source: str | None = None,
    ) -> Relation:
        """Register ``select`` as the next CTE and return the relation it defines."""
        name = next(self._names)
        self.ctes.append((name, select))
        return Relation(name, tuple(columns), open=open, exact=exact, source=source)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # -- pipelines --------------------------------------------------------------------
    def compile(self, query: Query) -> tuple[exp.Select, Relation]:
        """The full statement of ``query`` and its final relation."""
        relation = self.pipeline(query.commands, query)
        return self.statement(relation), relation

    def statement(self, relation: Relation) -> exp.Select:
        columns: list[exp.Expr]
        if relation.open:
            columns = [exp.Star(except_=[sql.col(ORDER)])]
        else:
            columns = [sql.col(c.name) for c in relation.columns]
        select = (
            exp.select(*columns, copy=False) if columns else exp.select(sql.col(ORDER), copy=False)
        )
        select = select.from_(sql.ident(relation.name), copy=False).order_by(
            sql.ordered(sql.col(ORDER)), copy=False
        )
        for name, cte in self.ctes:
            select = select.with_(sql.ident(name), as_=sql.parenthesize(cte), copy=False)
        return select

    def subquery(self, block: Block) -> Relation:
        if not block.commands:
            raise unsupported("an empty subquery `[]`", block)
        return self.pipeline(block.commands, block)

    def pipeline(self, commands: Sequence[Command], node: Node) -> Relation:
        from dqlbuild.engine.commands import COMMANDS, START_COMMANDS

        catalog = get_catalog()
        relation: Relation | None = None
        for index, command in enumerate(commands):
            spec = catalog.command(command.name)
            if spec is None:
                suggestion = catalog.suggest_command(command.name)
                hint = f"did you mean {suggestion}?" if suggestion else None
                raise evaluation_error(f"unknown command {command.name!r}", command, hint)
            name = spec.name
            if index == 0 and not spec.is_start:
                raise evaluation_error(
                    f"a query starts with a data source command (fetch, data...), not {name}",
                    command,
                )
            if index > 0 and spec.is_start:
                raise evaluation_error(f"{name} can only start a query", command)
            implementation = COMMANDS.get(name)
            if implementation is None:
                raise unsupported(f"the command {name}", command)
            bound = bind_command(command)
            if name in START_COMMANDS:
                relation = implementation(self, None, command, bound)
            else:
                assert relation is not None
                relation = implementation(self, relation, command, bound)
        if relation is None:
            raise evaluation_error("an empty query", node)
        return relation

    # -- sources ----------------------------------------------------------------------
    def source(self, name: str, node: Node) -> SourceTable:
        found = self.sources.get(name)
        if found is None:
            given = ", ".join(repr(n) for n in self.given) or "none"
            line, column = (node.span.line, node.span.column) if node.span else (None, None)
            raise DQLDataError(
                f"the query reads the data object {name!r}, which has no data (given: {given})",
                line=line,
                column=column,
            )
        return found


def bind_command(command: Command) -> BoundArguments:
    """Bind a command's arguments; problems are errors with the position."""
    return check_binding(bind_arguments(command), command.name, command)


__all__ = ["Compiler", "SourceTable", "TimeRange", "bind_command"]
