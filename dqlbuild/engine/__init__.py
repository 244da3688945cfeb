"""The local engine: DQL pipelines compiled to SQL (sqlglot) and run on DuckDB.

This package imports without the ``run`` extra; ``run``, ``to_sql`` and ``Dataset``
raise :class:`~dqlbuild.errors.DQLDependencyError` naming ``pip install
'dqlbuild[run]'`` when duckdb or sqlglot is missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from dqlbuild.engine import _deps
from dqlbuild.engine.data import DataInput, Dataset, TypeDeclarations
from dqlbuild.engine.result import Result

if TYPE_CHECKING:
    Variables = Mapping[str, str | Sequence[str]]


def run(
    query: object,
    data: Mapping[str, DataInput] | Dataset,
    *,
    variables: Mapping[str, str | Sequence[str]] | None = None,
    types: TypeDeclarations | None = None,
    now: dt.datetime | None = None,
) -> Result:
    """Run one DQL query on local data with DuckDB.

    ``data`` maps each data object the query reads (``spans``, ``logs``,
    ``dt.entity.host``...) to its records: a list of dicts or the path of a JSON Lines,
    JSON (an array, or a Grail query result with ``records`` and ``types``), CSV or
    Parquet file; or it is a :class:`Dataset` loaded before, to run many queries on the
    same data. ``variables`` are rendered into the query first, with the escaping of
    :func:`dqlbuild.render`. ``types`` declares field types per data object
    (``{"spans": {"duration": "duration"}}``). ``now`` is the time ``now()`` and relative
    timeframes refer to (default: the current time, UTC).

    Returns a :class:`Result` (``.rows``, ``.columns``, ``.types``, ``.sql``, a table
    when printed). Unsupported commands, functions and parameters raise
    :class:`~dqlbuild.DQLUnsupportedError`; bad data :class:`~dqlbuild.DQLDataError`.
    """
    _deps.require_all()
    from dqlbuild.engine.api import run as _run

    return _run(query, data, variables=variables, types=types, now=now)


def to_sql(
    query: object,
    *,
    dialect: str = "duckdb",
    schema: Mapping[str, Mapping[str, str]] | None = None,
    variables: Mapping[str, str | Sequence[str]] | None = None,
    now: dt.datetime | None = None,
) -> str:
    """The SQL of one DQL pipeline, one CTE per stage, for a sqlglot ``dialect``.

    DuckDB is the dialect the engine runs and tests; Spark, Trino and the other sqlglot
    dialects are printed from the same expressions, best effort. ``schema`` gives each
    data object's fields and DQL types (``{"spans": {"duration": "duration"}}``):
    without it fields are unknown, the SQL selects ``*``, and operations whose meaning
    depends on a type are refused. Tables are named after the data objects.
    """
    _deps.require_all()
    from dqlbuild.engine.api import to_sql as _to_sql

    return _to_sql(query, dialect=dialect, schema=schema, variables=variables, now=now)


__all__ = ["Dataset", "Result", "run", "to_sql"]
