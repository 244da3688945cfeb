"""Loading data objects (``spans``, ``logs``, ...) into DuckDB for the local engine.

Records come as a list of dicts or a file: JSON Lines, a JSON array, a Grail query
result (``{"records": [...], "types": [...]}``), CSV or Parquet. DuckDB reads and types
them; this module checks what it found (one type per field, objects only), applies
the declared types, and stores one table per data object with a hidden column holding
each record's position in the input, the order every stage keeps until a ``sort``.

Timestamps and durations are stored as nanosecond counts (see :mod:`.types`). A field
is a timestamp or duration when the caller declares it (``types=``), when a Grail
result's ``types`` metadata says so, or when it has a well-known name and fitting values
(``timestamp``, ``start_time``, ``end_time`` holding ISO-8601 strings; ``duration``
holding whole numbers). Other strings stay strings, as in Grail.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dqlbuild.engine import _deps
from dqlbuild.engine.types import (
    BOOLEAN,
    DOUBLE,
    DURATION,
    LONG,
    NULL,
    STRING,
    TIMESTAMP,
    DType,
    array_of,
    declared,
    record_of,
    storage_type,
)
from dqlbuild.errors import DQLDataError

if TYPE_CHECKING:
    from dqlbuild.engine.result import Result

ORDER_COLUMN = "__dqlbuild_order"
"""Hidden column: a record's position in the input, then in the stage's output order."""
RESERVED_PREFIX = "__dqlbuild_"

WELL_KNOWN: dict[str, DType] = {
    "timestamp": TIMESTAMP,
    "start_time": TIMESTAMP,
    "end_time": TIMESTAMP,
    "duration": DURATION,
}
PROGRESS_BYTES = 50 * 1024 * 1024
"""Inputs at least this large are announced on the progress callback."""
_ENVELOPE_MAX_BYTES = 256 * 1024 * 1024

Records = Sequence[Mapping[str, Any]]
DataInput = Records | str | os.PathLike[str]
TypeDeclarations = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Column:
    name: str
    type: DType


@dataclass(frozen=True)
class Table:
    """One loaded data object."""

    name: str
    """The data object name the query uses (``spans``)."""
    sql_name: str
    """The DuckDB table holding it."""
    columns: tuple[Column, ...]
    rows: int
    origin: str
    """Where it came from, for messages (a path or ``<list of 3 records>``)."""

    def column(self, name: str) -> Column | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None


def _json_default(value: object) -> object:
    raise TypeError(type(value).__name__)


class _PythonRecords:
    """A list of dicts prepared for DuckDB: checked, with datetime and timedelta values
    turned into the nanosecond numbers the engine stores, and their types declared."""

    def __init__(self, name: str, records: Records) -> None:
        self.name = name
        self.lines: list[str] = []
        self.types: dict[str, DType] = {}
        for index, record in enumerate(records):
            if not isinstance(record, Mapping):
                raise DQLDataError(
                    f"data object {name!r}: record {index + 1} is a "
                    f"{type(record).__name__}, not an object (dict)"
                )
            row = {}
            for key, value in record.items():
                if not isinstance(key, str):
                    raise DQLDataError(
                        f"data object {name!r}: record {index + 1} has a key that is not "
                        f"a string: {key!r}"
                    )
                row[key] = self._value(key, value, index)
            try:
                self.lines.append(json.dumps(row, allow_nan=False, default=_json_default))
            except ValueError:
                raise DQLDataError(
                    f"data object {name!r}: record {index + 1} holds NaN or an infinite "
                    "number, which the engine cannot load"
                ) from None
            except TypeError as exc:
                raise DQLDataError(
                    f"data object {name!r}: record {index + 1} holds a value of Python type "
                    f"{exc.args[0]}, which has no DQL type"
                ) from None

    def _value(self, key: str, value: Any, index: int) -> Any:
        kind: DType | None = None
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
            value, kind = _nanos(delta), TIMESTAMP
        elif isinstance(value, dt.timedelta):
            value, kind = _nanos(value), DURATION
        elif isinstance(value, int) and not isinstance(value, bool):
            if not -(2**63) <= value < 2**63:
                raise DQLDataError(
                    f"data object {self.name!r}: field {key!r} of record {index + 1} "
                    f"({value}) is outside the range of a DQL long"
                )
        elif isinstance(value, float) and not math.isfinite(value):
            pass  # reported by json.dumps
        if kind is not None:
            known = self.types.setdefault(key, kind)
            if known != kind:
                raise DQLDataError(
                    f"data object {self.name!r}: field {key!r} holds both {known} and "
                    f"{kind} values (record {index + 1})"
                )
        return value


def _nanos(delta: dt.timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


# --------------------------------------------------------------------------- DuckDB types
_LONG_IDS = {
    "bigint",
    "integer",
    "smallint",
    "tinyint",
    "ubigint",
    "uinteger",
    "usmallint",
    "utinyint",
    "hugeint",
    "uhugeint",
}
_DOUBLE_IDS = {"double", "float", "decimal"}
_TEXT_LIKE_IDS = {
    "date",
    "time",
    "timestamp",
    "timestamp with time zone",
    "timestamp_ns",
    "timestamp_ms",
    "timestamp_s",
    "uuid",
    "interval",
    "time with time zone",
}
_TIME_IDS = {
    "timestamp",
    "timestamp with time zone",
    "timestamp_ns",
    "timestamp_ms",
    "timestamp_s",
    "date",
}


class _Unsupported(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def dqltype_of(duck_type: Any, *, typed_source: bool) -> DType:
    """The DQL type of a DuckDB column type. ``typed_source``: the file carries real
    types (Parquet), so its timestamps are timestamps; in JSON and CSV a timestamp-looking
    column was text and stays a string."""
    text = str(duck_type)
    if text == "JSON":
        raise _Unsupported("mixed")
    kind = duck_type.id
    if kind in _LONG_IDS:
        return LONG
    if kind in _DOUBLE_IDS:
        return DOUBLE
    if kind == "varchar":
        return STRING
    if kind == "boolean":
        return BOOLEAN
    if kind == "null":
        return NULL
    if kind in _TEXT_LIKE_IDS:
        return TIMESTAMP if typed_source and kind in _TIME_IDS else STRING
    if kind == "list":
        return array_of(dqltype_of(duck_type.children[0][1], typed_source=typed_source))
    if kind == "struct":
        return record_of(
            tuple(
                (key, dqltype_of(child, typed_source=typed_source))
                for key, child in duck_type.children
            )
        )
    raise _Unsupported(text)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class _Source:
    """How DuckDB reads one input."""

    reader: str
    """A DuckDB table function call without its ``columns``/``types`` argument."""
    kind: str  # "json", "csv" or "parquet"
    origin: str
    path: str
    declared: dict[str, DType]
    json_format: str = "auto"


class Dataset:
    """Data objects loaded into an in-memory DuckDB database, ready to run queries on.

    ``data`` maps a data object name (``spans``, ``logs``, ``dt.entity.host``) to records:
    a list of dicts, or the path of a JSON Lines, JSON (an array of objects, or a Grail
    query result with ``records`` and ``types``), CSV or Parquet file. ``types`` declares
    field types per data object (``{"spans": {"duration": "duration"}}``; one of long,
    double, string, boolean, timestamp, duration). Use it as a context manager, or call
    :meth:`close`, to free the database.
    """

    def __init__(
        self,
        data: Mapping[str, DataInput],
        *,
        types: TypeDeclarations | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        if not isinstance(data, Mapping):
            raise DQLDataError(
                f"data maps data object names to records or files, not {type(data).__name__}"
            )
        duckdb = _deps.duckdb()
        _deps.sqlglot()
        self._connection = duckdb.connect(":memory:")
        self._connection.execute("SET TimeZone = 'UTC'")
        self._progress = progress
        self.tables: dict[str, Table] = {}
        declared_types = _declarations(types or {}, data)
        try:
            for number, (name, value) in enumerate(data.items()):
                if not isinstance(name, str) or not name:
                    raise DQLDataError(f"a data object name is a non-empty string, not {name!r}")
                sql_name = f"{RESERVED_PREFIX}table_{number}"
                self.tables[name] = self._load(
                    name, sql_name, value, dict(declared_types.get(name, {}))
                )
        except BaseException:
            self.close()
            raise

    # -- public API -----------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """The data object names, in the order given."""
        return tuple(self.tables)

    def schema(self, name: str) -> dict[str, str]:
        """The fields of data object ``name`` and their DQL types, in order."""
        table = self.table(name)
        return {column.name: str(column.type) for column in table.columns}

    def table(self, name: str) -> Table:
        table = self.tables.get(name)
        if table is None:
            given = ", ".join(repr(n) for n in self.tables) or "none"
            raise DQLDataError(f"no data for data object {name!r} (given: {given})")
        return table

    def run(
        self,
        query: object,
        *,
        variables: Mapping[str, str | Sequence[str]] | None = None,
        now: dt.datetime | None = None,
    ) -> Result:
        """Run ``query`` on these data objects; see :func:`dqlbuild.run`."""
        from dqlbuild.engine.api import run_on

        return run_on(self, query, variables=variables, now=now)

    def to_sql(self, query: object, *, dialect: str = "duckdb") -> str:
        """The SQL of ``query`` for these data objects' schemas (their tables are named
        after the data objects)."""
        from dqlbuild.engine.api import to_sql

        schema = {name: self.schema(name) for name in self.tables}
        return to_sql(query, dialect=dialect, schema=schema)

    @property
    def connection(self) -> Any:
        """The DuckDB connection (for tests and benchmarks)."""
        return self._connection

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Dataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- loading --------------------------------------------------------------------
    def _load(self, name: str, sql_name: str, value: object, types: dict[str, DType]) -> Table:
        if isinstance(value, str | os.PathLike):
            return self._load_path(name, sql_name, Path(value), types)
        if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
            return self._load_records(
                name, sql_name, value, f"<list of {len(value)} records>", types
            )
        raise DQLDataError(
            f"data object {name!r}: give a list of dicts or a file path, not {type(value).__name__}"
        )

    def _load_records(
        self,
        name: str,
        sql_name: str,
        records: Sequence[Any],
        origin: str,
        types: dict[str, DType],
    ) -> Table:
        prepared = _PythonRecords(name, records)
        for key, kind in prepared.types.items():
            types.setdefault(key, kind)
        if not prepared.lines:
            return self._empty(name, sql_name, origin)
        with tempfile.TemporaryDirectory(prefix="dqlbuild-") as folder:
            path = Path(folder) / "records.jsonl"
            path.write_text("\n".join(prepared.lines) + "\n", encoding="utf-8")
            source = _Source(
                f"read_json({_literal(str(path))}, format = 'newline_delimited', "
                "records = 'true', sample_size = -1, map_inference_threshold = -1, "
                "maximum_object_size = 1073741824",
                "json",
                origin,
                str(path),
                types,
                "newline_delimited",
            )
            return self._create(name, sql_name, source)

    def _load_path(self, name: str, sql_name: str, path: Path, types: dict[str, DType]) -> Table:
        origin = str(path)
        try:
            size = path.stat().st_size
            with path.open("rb") as handle:
                head = handle.read(4096)
        except FileNotFoundError:
            raise DQLDataError(f"{origin}: no such file (data object {name!r})") from None
        except IsADirectoryError:
            raise DQLDataError(f"{origin}: is a directory, not a data file") from None
        except OSError as exc:
            raise DQLDataError(f"{origin}: cannot read: {exc.strerror or exc}") from None
        if path.is_dir():
            raise DQLDataError(f"{origin}: is a directory, not a data file")
        if size >= PROGRESS_BYTES and self._progress is not None:
            self._progress(f"loading {origin} ({size / 1024 / 1024:.0f} MB) as {name!r} ...")
        kind = _format(path, head)
        if kind == "json" and not head.strip():
            return self._empty(name, sql_name, origin)
        literal = _literal(str(path))
        if kind == "json":
            first = head.lstrip()[:1]
            if first == b"{" and size <= _ENVELOPE_MAX_BYTES:
                envelope = _grail_result(path)
                if envelope is not None:
                    records, grail_types = envelope
                    for key, declared_type in grail_types.items():
                        types.setdefault(key, declared_type)
                    return self._load_records(name, sql_name, records, origin, types)
            json_format = "array" if first == b"[" else "newline_delimited"
            reader = (
                f"read_json({literal}, format = '{json_format}', records = 'true', "
                "sample_size = -1, map_inference_threshold = -1, "
                "maximum_object_size = 1073741824"
            )
            source = _Source(reader, "json", origin, str(path), types, json_format)
        elif kind == "csv":
            reader = f"read_csv({literal}, header = true, sample_size = -1"
            source = _Source(reader, "csv", origin, str(path), types)
        else:
            source = _Source(f"read_parquet({literal}", "parquet", origin, str(path), types)
        table = self._create(name, sql_name, source)
        if size >= PROGRESS_BYTES and self._progress is not None:
            self._progress(f"loaded {table.rows:,} records from {origin}")
        return table

    def _empty(self, name: str, sql_name: str, origin: str, records: int = 0) -> Table:
        """A data object without fields: no records, or records that have no field."""
        self._connection.execute(
            f"CREATE TABLE {_quote(sql_name)} AS SELECT range AS {_quote(ORDER_COLUMN)} "
            f"FROM range({records})"
        )
        return Table(name, sql_name, (), records, origin)

    def _create(self, name: str, sql_name: str, source: _Source) -> Table:
        connection = self._connection
        duckdb = _deps.duckdb()
        if source.kind == "json":
            found = self._json_fields(source)
            if isinstance(found, int):
                return self._empty(name, sql_name, source.origin, found)
            detected = found
        else:
            detected = self._typed_fields(source)
        names = [column for column, _ in detected]
        for column in names:
            if column.startswith(RESERVED_PREFIX):
                raise DQLDataError(
                    f"{source.origin}: field {column!r} uses the prefix {RESERVED_PREFIX!r}, "
                    "which the engine reserves"
                )
        # (name, type as read, type as stored)
        columns = [(column, read, source.declared.get(column) or read) for column, read in detected]
        unknown = set(source.declared) - set(names)
        if unknown:
            raise DQLDataError(
                f"{source.origin}: types are declared for fields the data does not have: "
                + ", ".join(sorted(repr(n) for n in unknown))
            )
        raw = f"{RESERVED_PREFIX}raw"
        if source.kind == "parquet":
            reader = f"{source.reader})"
        else:
            spec = ", ".join(
                f"{_literal(column)}: {_literal(storage_type(read))}" for column, read, _ in columns
            )
            argument = "columns" if source.kind == "json" else "types"
            reader = (
                f"{source.reader}, {argument} = {{{spec}}})" if columns else (f"{source.reader})")
            )
        try:
            connection.execute(f"CREATE TEMP TABLE {_quote(raw)} AS SELECT * FROM {reader}")
            for index, (column, read, stored) in enumerate(columns):
                if column in source.declared:
                    problem = _first_misfit(connection, raw, column, read, stored)
                    if problem is not None:
                        raise DQLDataError(
                            f"{source.origin}: field {column!r} is declared {stored}, but "
                            f"record {problem[0]} holds {problem[1]!r}"
                        )
                    continue
                known = _well_known(column, read)
                if known != read and _first_misfit(connection, raw, column, read, known) is None:
                    columns[index] = (column, read, known)
            select = ", ".join(
                f"{_convert(_quote(column), read, stored)} AS {_quote(column)}"
                for column, read, stored in columns
            )
            # rowid numbers the records in input order (DuckDB keeps the insertion order).
            order = f"rowid AS {_quote(ORDER_COLUMN)}"
            connection.execute(
                f"CREATE TABLE {_quote(sql_name)} AS SELECT {order}"
                + (f", {select}" if select else "")
                + f" FROM {_quote(raw)}"
            )
            rows = connection.execute(f"SELECT count(*) FROM {_quote(sql_name)}").fetchone()
        except duckdb.Error as exc:
            raise self._read_error(source, exc) from None
        finally:
            connection.execute(f"DROP TABLE IF EXISTS {_quote(raw)}")
        count = int(rows[0]) if rows else 0
        stored_columns = tuple(Column(column, stored) for column, _, stored in columns)
        return Table(name, sql_name, stored_columns, count, source.origin)

    def _objects(self, source: _Source) -> str:
        return f"read_json_objects({_literal(source.path)}, format = '{source.json_format}')"

    def _json_fields(self, source: _Source) -> list[tuple[str, DType]] | int:
        """The fields of JSON records and their types, from the shapes of all values
        (DuckDB's ``json_group_structure``: one pass, strings stay strings); or the number
        of records when they have no fields at all."""
        duckdb = _deps.duckdb()
        try:
            row = self._connection.execute(
                f"SELECT count(*), json_group_structure(json) FROM {self._objects(source)}"
            ).fetchone()
        except duckdb.Error as exc:
            raise self._read_error(source, exc) from None
        count, structure = (int(row[0]), row[1]) if row is not None else (0, None)
        shape = json.loads(structure) if structure else {}
        if not isinstance(shape, dict):
            found = self._first_non_object(source)
            if found is not None:
                number, kind = found
                raise DQLDataError(
                    f"{source.origin}: record {number} is {kind}, not an object; every "
                    "record must be a JSON object"
                )
            shape = {}  # only records without fields ({})
        if not shape:
            return count
        fields: list[tuple[str, DType]] = []
        for key, value in shape.items():
            try:
                fields.append((key, _shape(value)))
            except _Unsupported:
                fields.append((key, self._shape_type(source, key)))
        return fields

    def _typed_fields(self, source: _Source) -> list[tuple[str, DType]]:
        """The fields of a CSV or Parquet file, as DuckDB types them."""
        duckdb = _deps.duckdb()
        try:
            relation = self._connection.sql(f"SELECT * FROM {source.reader})")
            pairs = list(zip(relation.columns, relation.types, strict=True))
        except duckdb.Error as exc:
            raise self._read_error(source, exc) from None
        fields: list[tuple[str, DType]] = []
        for column, duck_type in pairs:
            try:
                fields.append(
                    (column, dqltype_of(duck_type, typed_source=source.kind == "parquet"))
                )
            except _Unsupported as exc:
                raise DQLDataError(
                    f"{source.origin}: field {column!r} has the type {exc.what}, "
                    "which the engine does not support"
                ) from None
        return fields

    def _shape_type(self, source: _Source, column: str) -> DType:
        """The type of a field whose values' shapes do not merge: only empty records
        (``{}``, which have no shape), else a field of mixed types (an error)."""
        value = f"json -> {_literal('$.' + _json_key(column))}"
        texts = self._connection.execute(
            f"SELECT DISTINCT CAST({value} AS VARCHAR) FROM {self._objects(source)} LIMIT 3"
        ).fetchall()
        if {text for (text,) in texts} - {None, "null"} == {"{}"}:
            return record_of(())
        raise self._mixed_error(source, column)

    def _read_error(self, source: _Source, exc: Exception) -> DQLDataError:
        message = str(exc).split("\n")[0]
        if "expected records" in message and source.kind == "json":
            found = self._first_non_object(source)
            if found is not None:
                number, kind = found
                return DQLDataError(
                    f"{source.origin}: record {number} is {kind}, not an object; every "
                    "record must be a JSON object"
                )
        for prefix in (
            "Invalid Input Error: ",
            "Binder Error: ",
            "IO Error: ",
            "Conversion Error: ",
        ):
            message = message.removeprefix(prefix)
        what = {"json": "JSON", "csv": "CSV", "parquet": "Parquet"}[source.kind]
        return DQLDataError(f"{source.origin}: cannot read as {what}: {message}")

    def _first_non_object(self, source: _Source) -> tuple[int, str] | None:
        duckdb = _deps.duckdb()
        try:
            row = self._connection.execute(
                "SELECT n, json_type(json) FROM (SELECT row_number() OVER () AS n, json "
                f"FROM read_json_objects({_literal(source.path)}, "
                f"format = '{source.json_format}')) WHERE json_type(json) <> 'OBJECT' "
                "ORDER BY n LIMIT 1"
            ).fetchone()
        except duckdb.Error:
            return None
        if row is None:
            return None
        kinds = {"ARRAY": "an array", "VARCHAR": "a string", "NULL": "null", "BOOLEAN": "a boolean"}
        return int(row[0]), kinds.get(str(row[1]), "a number")

    def _mixed_error(self, source: _Source, column: str) -> DQLDataError:
        duckdb = _deps.duckdb()
        kinds = {
            "UBIGINT": "long",
            "BIGINT": "long",
            "DOUBLE": "double",
            "VARCHAR": "string",
            "BOOLEAN": "boolean",
            "OBJECT": "record",
            "ARRAY": "array",
        }
        try:
            rows = self._connection.execute(
                f"SELECT t, min(n) FROM (SELECT row_number() OVER () AS n, "
                f"json_type(json -> {_literal('$.' + _json_key(column))}) AS t "
                f"FROM read_json_objects({_literal(source.path)}, "
                f"format = '{source.json_format}')) WHERE t IS NOT NULL AND t <> 'NULL' "
                "GROUP BY t ORDER BY min(n)"
            ).fetchall()
        except duckdb.Error:
            rows = []
        found: dict[str, int] = {}
        for kind, number in rows:
            found.setdefault(kinds.get(str(kind), str(kind).lower()), int(number))
        if len(found) >= 2:
            parts = ", ".join(f"{kind} (first in record {n})" for kind, n in found.items())
            return DQLDataError(
                f"{source.origin}: field {column!r} holds values of different types: {parts}; "
                "a field must have one type"
            )
        return DQLDataError(
            f"{source.origin}: field {column!r} holds values of different types inside "
            "(array elements or record keys of different types, or empty records inside); "
            "a field must have one type"
        )


_SHAPES = {
    "UBIGINT": LONG,
    "BIGINT": LONG,
    "HUGEINT": LONG,
    "DOUBLE": DOUBLE,
    "VARCHAR": STRING,
    "BOOLEAN": BOOLEAN,
    "NULL": NULL,
}


def _shape(shape: Any) -> DType:
    """The type of a ``json_structure`` shape; ``JSON`` in it means mixed types."""
    if isinstance(shape, list):
        return array_of(_shape(shape[0]) if shape else NULL)
    if isinstance(shape, dict):
        return record_of(tuple((key, _shape(value)) for key, value in shape.items()))
    kind = _SHAPES.get(str(shape))
    if kind is None:
        raise _Unsupported("mixed")
    return kind


def _json_key(column: str) -> str:
    return '"' + column.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _declarations(
    types: TypeDeclarations, data: Mapping[str, object]
) -> dict[str, dict[str, DType]]:
    if not isinstance(types, Mapping):
        raise DQLDataError("types maps data object names to {field: type} mappings")
    result: dict[str, dict[str, DType]] = {}
    for name, fields in types.items():
        if name not in data:
            given = ", ".join(repr(n) for n in data) or "none"
            raise DQLDataError(
                f"types are declared for data object {name!r}, which has no data (given: {given})"
            )
        if not isinstance(fields, Mapping):
            raise DQLDataError(f"types for {name!r} map field names to type names")
        result[name] = {
            field: declared(str(kind), f"type of {name}.{field}") for field, kind in fields.items()
        }
    return result


def _format(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "json"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.lstrip()[:1] in (b"{", b"["):
        return "json"
    raise DQLDataError(
        f"{path}: cannot tell the format; name the file .jsonl, .json, .csv or .parquet"
    )


def _grail_result(path: Path) -> tuple[list[Any], dict[str, DType]] | None:
    """Records and field types of a Grail query result file (``{"records": [...],
    "types": [...]}``, possibly inside ``{"result": ...}``); None for other JSON."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None  # JSON Lines, or broken: DuckDB reports it
    if isinstance(loaded, dict) and isinstance(loaded.get("result"), dict):
        loaded = loaded["result"]
    if not isinstance(loaded, dict) or not isinstance(loaded.get("records"), list):
        return None
    types: dict[str, DType] = {}
    for entry in loaded.get("types") or ():
        mappings = entry.get("mappings") if isinstance(entry, dict) else None
        for field, spec in (mappings or {}).items():
            kind = spec.get("type") if isinstance(spec, dict) else None
            if kind in ("timestamp", "duration", "long", "double", "boolean", "string"):
                types.setdefault(field, DType(kind))
    return loaded["records"], types


def _well_known(column: str, read: DType) -> DType:
    wanted = WELL_KNOWN.get(column)
    if wanted == TIMESTAMP and read in (STRING, TIMESTAMP):
        return TIMESTAMP
    if wanted == DURATION and read == LONG:
        return DURATION
    return read


_FRACTION = r"'\.[0-9]{6}([0-9]{1,3})'"


def _convert(column: str, read: DType, stored: DType) -> str:
    """SQL turning a raw column into its stored form."""
    if stored.kind == "timestamp":
        if read == STRING:
            extra = f"regexp_extract({column}, {_FRACTION}, 1)"
            return (
                f"epoch_us(TRY_CAST({column} AS TIMESTAMPTZ)) * 1000 + "
                f"CASE WHEN {extra} = '' THEN 0 ELSE CAST(rpad({extra}, 3, '0') AS BIGINT) END"
            )
        if read == TIMESTAMP:
            return f"epoch_ns(CAST({column} AS TIMESTAMP_NS))"
        if read == DOUBLE:
            return f"CAST(round({column}) AS BIGINT)"
        return f"CAST({column} AS BIGINT)"
    if stored.kind == "duration":
        if read == DOUBLE:
            return f"CAST(round({column}) AS BIGINT)"
        return f"TRY_CAST({column} AS BIGINT)"
    if stored == read:
        return column
    if stored.kind in ("long", "double", "boolean"):
        return f"TRY_CAST({column} AS {storage_type(stored)})"
    if stored.kind == "string":
        return f"CAST({column} AS VARCHAR)"
    return column


def _first_misfit(
    connection: Any, raw: str, column: str, read: DType, stored: DType
) -> tuple[int, str] | None:
    """The first record (number, value as text) whose value does not convert to ``stored``."""
    if stored == read or stored.kind == "string" or read == NULL:
        return None
    quoted = _quote(column)
    converted = _convert(quoted, read, stored)
    row = connection.execute(
        f"SELECT n, v FROM (SELECT rowid + 1 AS n, CAST({quoted} AS VARCHAR) AS v, "
        f"{converted} AS c, {quoted} AS o FROM {_quote(raw)}) "
        "WHERE o IS NOT NULL AND c IS NULL ORDER BY n LIMIT 1"
    ).fetchone()
    if row is None and stored.kind in ("long", "duration", "timestamp") and read == DOUBLE:
        row = connection.execute(
            f"SELECT rowid + 1, CAST({quoted} AS VARCHAR) FROM {_quote(raw)} "
            f"WHERE {quoted} <> trunc({quoted}) ORDER BY rowid LIMIT 1"
        ).fetchone()
    return (int(row[0]), str(row[1])) if row is not None else None


__all__ = [
    "ORDER_COLUMN",
    "PROGRESS_BYTES",
    "WELL_KNOWN",
    "Column",
    "DataInput",
    "Dataset",
    "Table",
]
