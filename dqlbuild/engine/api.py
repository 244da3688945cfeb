"""``run`` and ``to_sql``: the engine's entry points (loaded only with the run extra)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from dqlbuild.ast.nodes import Query
from dqlbuild.engine import _deps
from dqlbuild.engine.compiler import Compiler, SourceTable
from dqlbuild.engine.core import Relation
from dqlbuild.engine.data import Column, DataInput, Dataset, TypeDeclarations
from dqlbuild.engine.result import Result
from dqlbuild.engine.types import declared
from dqlbuild.errors import DQLError, DQLEvaluationError, DQLTypeError, DQLValueError

Variables = Mapping[str, "str | Sequence[str]"]


def prepare_query(query: object, variables: Variables | None = None) -> Query:
    """``query`` parsed (text or a ``Query``), with ``variables`` rendered into it."""
    from dqlbuild.rewriting.render import render
    from dqlbuild.syntax.parser import parse

    if isinstance(query, Query):
        if not variables:
            return query
        text = query.to_source()
    elif isinstance(query, str):
        text = query
    else:
        raise DQLTypeError(f"a query is DQL text or a Query, not {type(query).__name__}")
    if variables:
        text = render(text, variables).text
    return parse(text)


def _now_ns(now: dt.datetime | None) -> int:
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        raise DQLValueError("now needs a time zone (for example datetime.now(UTC))")
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


class _OpenSources(Mapping[str, SourceTable]):
    """Any data object, its fields unknown (SQL without a schema)."""

    def __getitem__(self, name: str) -> SourceTable:
        return SourceTable(name, None, has_order=False)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _dialect(dialect: str) -> str:
    sqlglot = _deps.sqlglot()
    try:
        sqlglot.Dialect.get_or_raise(dialect)
    except ValueError:
        raise DQLValueError(
            f"unknown SQL dialect {dialect!r} (sqlglot dialects: duckdb, "
            "spark, trino, postgres, ...)"
        ) from None
    return dialect


def _schema_sources(schema: Mapping[str, Mapping[str, str]]) -> dict[str, SourceTable]:
    sources: dict[str, SourceTable] = {}
    for name, fields in schema.items():
        columns = tuple(
            Column(field, declared(str(kind), f"schema of {name}.{field}"))
            for field, kind in fields.items()
        )
        sources[name] = SourceTable(name, columns, has_order=False)
    return sources


def compile_query(
    query: Query, sources: Mapping[str, SourceTable], now_ns: int, given: Sequence[str]
) -> tuple[Any, Relation, list[str]]:
    # The compiler modules register their functions and commands on import.
    import dqlbuild.engine.aggregations
    import dqlbuild.engine.arrays
    import dqlbuild.engine.commands
    import dqlbuild.engine.joins
    import dqlbuild.engine.reshape
    import dqlbuild.engine.strings
    import dqlbuild.engine.timefunctions
    import dqlbuild.engine.timeseries  # noqa: F401

    compiler = Compiler(sources, now_ns, given)
    statement, relation = compiler.compile(query)
    return statement, relation, compiler.notes


def to_sql(
    query: object,
    *,
    dialect: str = "duckdb",
    schema: Mapping[str, Mapping[str, str]] | None = None,
    variables: Variables | None = None,
    now: dt.datetime | None = None,
) -> str:
    """The SQL of one DQL pipeline: one statement, one CTE per stage, printed for the
    sqlglot ``dialect`` (DuckDB is run and tested; Spark, Trino and others are printed
    from the same expressions, best effort).

    ``schema`` gives the fields of each data object with their DQL types
    (``{"spans": {"timestamp": "timestamp", "duration": "duration", ...}}``); without it
    the fields are unknown, the SQL selects ``*`` and operations whose meaning depends
    on a type (division, for one) are refused. Tables are named after the data objects.
    ``now()`` becomes the constant ``now`` (default: the current time).
    """
    _deps.require_all()
    parsed = prepare_query(query, variables)
    sources: Mapping[str, SourceTable] = (
        _schema_sources(schema) if schema is not None else _OpenSources()
    )
    statement, _, _ = compile_query(parsed, sources, _now_ns(now), list(schema or ()))
    return str(statement.sql(dialect=_dialect(dialect), pretty=True))


def run_on(
    dataset: Dataset,
    query: object,
    *,
    variables: Variables | None = None,
    now: dt.datetime | None = None,
) -> Result:
    parsed = prepare_query(query, variables)
    sources = {
        name: SourceTable(table.sql_name, table.columns, has_order=True)
        for name, table in dataset.tables.items()
    }
    statement, relation, notes = compile_query(parsed, sources, _now_ns(now), dataset.names)
    text = str(statement.sql(dialect="duckdb", pretty=True))
    duckdb = _deps.duckdb()
    try:
        rows = dataset.connection.execute(text).fetchall()
    except duckdb.OutOfRangeException as exc:
        raise DQLEvaluationError(
            f"a value is out of range while evaluating the query "
            f"(a long overflow?): {_first_line(exc)}"
        ) from None
    except duckdb.Error as exc:
        raise DQLEvaluationError(
            f"the compiled SQL failed in DuckDB: {_first_line(exc)}",
            hint="this is a bug in dqlbuild's engine; please report it with the query",
        ) from None
    if relation.open:  # pragma: no cover - a Dataset always knows its fields
        raise DQLError("internal: a query over a dataset has unknown fields")
    columns = tuple(column.name for column in relation.columns)
    types = tuple(column.type for column in relation.columns)
    width = len(columns)
    raw = tuple(tuple(row[:width]) if width else () for row in rows)
    return Result(columns, types, raw, text, tuple(notes))


def _first_line(exc: Exception) -> str:
    return str(exc).strip().split("\n")[0]


def run(
    query: object,
    data: Mapping[str, DataInput] | Dataset,
    *,
    variables: Variables | None = None,
    types: TypeDeclarations | None = None,
    now: dt.datetime | None = None,
) -> Result:
    """Run one DQL query on local data with DuckDB.

    ``data`` maps each data object the query reads (``spans``, ``logs``,
    ``dt.entity.host``...) to its records: a list of dicts or the path of a JSON Lines,
    JSON, CSV or Parquet file; or it is a :class:`Dataset` loaded before (to run many
    queries on the same data). ``variables`` are rendered into the query first, with the
    same escaping as :func:`dqlbuild.render`. ``types`` declares field types per data
    object (``{"spans": {"duration": "duration"}}``). ``now`` is the time ``now()`` and
    relative timeframes refer to (default: the current time, UTC).
    """
    if isinstance(data, Dataset):
        if types is not None:
            raise DQLValueError("types= is given when the Dataset is loaded, not to run()")
        return run_on(data, query, variables=variables, now=now)
    _deps.require_all()
    parsed = prepare_query(query, variables)
    with Dataset(data, types=types) as dataset:
        return run_on(dataset, parsed, now=now)


__all__ = ["prepare_query", "run", "run_on", "to_sql"]
