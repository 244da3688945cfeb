"""The result of running a query: rows keyed by DQL field names, in DQL order.

Python values: long -> int, double -> float, string -> str, boolean -> bool, timestamp ->
``datetime`` in UTC, duration -> int nanoseconds, timeframe -> ``{"start", "end"}``,
array -> list, record -> dict, null -> None. The JSON form (:meth:`Result.records`,
``--format json``) writes timestamps as ISO-8601 text with nanoseconds, as Grail does,
so a result can be loaded again as data.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from dqlbuild.engine.types import DType

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
NANOS_PER_SECOND = 1_000_000_000


def timestamp_value(nanos: int) -> dt.datetime:
    """A nanosecond timestamp as a ``datetime`` (microseconds, rounded down)."""
    return EPOCH + dt.timedelta(microseconds=nanos // 1000)


def iso(nanos: int) -> str:
    """``2024-05-06T07:00:00.123456789Z``."""
    seconds, fraction = divmod(nanos, NANOS_PER_SECOND)
    moment = EPOCH + dt.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:09d}Z"


def short_iso(nanos: int) -> str:
    """ISO text without trailing zero digits (``2024-05-06T07:00:00Z``), for tables."""
    text = iso(nanos)
    head, fraction = text[:-1].split(".")
    fraction = fraction.rstrip("0")
    return f"{head}.{fraction}Z" if fraction else f"{head}Z"


_DURATION_UNITS = (
    ("d", 86_400 * NANOS_PER_SECOND),
    ("h", 3_600 * NANOS_PER_SECOND),
    ("min", 60 * NANOS_PER_SECOND),
    ("s", NANOS_PER_SECOND),
    ("ms", 1_000_000),
    ("µs", 1_000),
)


def duration_text(nanos: int) -> str:
    """A readable duration: ``812.5 ms``, ``2.346 s``, ``0 s``."""
    if nanos == 0:
        return "0 s"
    size = abs(nanos)
    for unit, length in _DURATION_UNITS:
        if size >= length:
            value = nanos / length
            text = f"{value:.3f}".rstrip("0").rstrip(".")
            return f"{text} {unit}"
    return f"{nanos} ns"


Leaf = Callable[[Any, str], Any]
ANY = DType("any")


def _walk(value: Any, kind: DType, leaf: Leaf) -> Any:
    """``value`` (as DuckDB returns it) with ``leaf`` applied to every scalar inside
    arrays and records; null stays None."""
    if value is None:
        return None
    if kind.kind == "array":
        element = kind.element or ANY
        return [_walk(item, element, leaf) for item in value]
    if kind.kind == "record":
        if isinstance(value, str):  # a record without keys is stored as "{}"
            return {}
        types = dict(kind.fields)
        return {key: _walk(item, types.get(key, ANY), leaf) for key, item in value.items()}
    return leaf(value, kind.kind)


def _python_leaf(value: Any, kind: str) -> Any:
    if kind == "timestamp":
        return timestamp_value(int(value))
    if kind == "timeframe":
        return {key: timestamp_value(int(value[key])) for key in ("start", "end")}
    if kind in ("long", "duration") and not isinstance(value, bool):
        return int(value)
    if kind == "double":
        return float(value)
    return value


def _json_leaf(value: Any, kind: str) -> Any:
    if kind == "timestamp":
        return iso(int(value))
    if kind == "timeframe":
        return {key: iso(int(value[key])) for key in ("start", "end")}
    if kind == "double":
        number = float(value)
        return number if math.isfinite(number) else str(number)
    if kind in ("long", "duration") and not isinstance(value, bool):
        return int(value)
    return value


def _table_leaf(value: Any, kind: str) -> Any:
    if kind == "timestamp":
        return short_iso(int(value))
    if kind == "duration":
        return duration_text(int(value))
    if kind == "timeframe":
        return {key: short_iso(int(value[key])) for key in ("start", "end")}
    if kind == "double" and not math.isfinite(float(value)):
        return str(value)
    return value


def python_value(value: Any, kind: DType) -> Any:
    """A value as fetched from DuckDB, as its Python form for DQL type ``kind``."""
    return _walk(value, kind, _python_leaf)


def json_value(value: Any, kind: DType) -> Any:
    """A value as fetched from DuckDB, in its JSON form."""
    return _walk(value, kind, _json_leaf)


def _cell(value: Any, kind: DType) -> str:
    """A value as a table shows it."""
    if value is None:
        return "null"
    name = kind.kind
    if name == "boolean":
        return "true" if value else "false"
    if name == "double":
        return repr(float(value))
    if name == "timeframe":  # an ISO-8601 interval
        return f"{short_iso(int(value['start']))}/{short_iso(int(value['end']))}"
    if name in ("array", "record"):
        return json.dumps(_walk(value, kind, _table_leaf), ensure_ascii=False)
    return str(_table_leaf(value, name))


@dataclass(frozen=True)
class Result:
    """What a query returned. ``rows`` are dicts keyed by DQL field names in the
    query's field order; ``types`` gives each field's DQL type; ``sql`` is the SQL that
    ran (DuckDB); ``notes`` tell what the engine ignored or assumed (``samplingRatio``,
    fields missing from the data...). ``str(result)`` is a table."""

    columns: tuple[str, ...]
    column_types: tuple[DType, ...]
    raw: tuple[tuple[Any, ...], ...] = field(repr=False)
    sql: str = field(repr=False)
    notes: tuple[str, ...] = ()

    @property
    def types(self) -> dict[str, str]:
        """Field name -> DQL type name (``long``, ``timestamp``, ``array<double>``...)."""
        return {name: str(kind) for name, kind in zip(self.columns, self.column_types, strict=True)}

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The records, with Python values (see the module documentation)."""
        pairs = list(zip(self.columns, self.column_types, strict=True))
        return [
            {
                name: python_value(value, kind)
                for (name, kind), value in zip(pairs, row, strict=True)
            }
            for row in self.raw
        ]

    def records(self) -> list[dict[str, Any]]:
        """The records in their JSON form (timestamps as ISO-8601 text, durations as
        nanoseconds), as a Grail query result holds them."""
        pairs = list(zip(self.columns, self.column_types, strict=True))
        return [
            {name: json_value(value, kind) for (name, kind), value in zip(pairs, row, strict=True)}
            for row in self.raw
        ]

    def to_json(self, *, indent: int | None = 2) -> str:
        """A Grail-style query result: ``{"records": [...], "types": [...]}``; it loads
        back as data with its types (``dqlbuild.run(q, {"x": "result.json"})``)."""
        mappings = {
            name: {"type": _json_type(kind)}
            for name, kind in zip(self.columns, self.column_types, strict=True)
        }
        types = [{"indexRange": [0, max(len(self.raw) - 1, 0)], "mappings": mappings}]
        payload = {"records": self.records(), "types": types}
        return json.dumps(payload, indent=indent, ensure_ascii=False)

    def to_jsonl(self) -> str:
        """One JSON record per line."""
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.records())

    def to_csv(self) -> str:
        """CSV with a header; arrays and records as JSON text, null as an empty cell."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        for record in self.records():
            writer.writerow(
                ""
                if v is None
                else json.dumps(v, ensure_ascii=False)
                if isinstance(v, list | dict)
                else ("true" if v is True else "false" if v is False else v)
                for v in record.values()
            )
        return buffer.getvalue()

    def table(self, *, max_cell: int | None = 60, limit: int | None = None) -> str:
        """The rows as an aligned text table (cells cut at ``max_cell`` characters)."""
        shown = self.raw if limit is None else self.raw[:limit]
        cells = [
            [_cell(v, k) for v, k in zip(row, self.column_types, strict=True)] for row in shown
        ]
        if max_cell is not None:
            cells = [
                [c if len(c) <= max_cell else c[: max_cell - 1] + "…" for c in r] for r in cells
            ]
        widths = [len(name) for name in self.columns]
        for row in cells:
            widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
        right = [k.kind in ("long", "double", "duration") for k in self.column_types]

        def line(values: Sequence[str]) -> str:
            parts = [
                v.rjust(w) if r else v.ljust(w)
                for v, w, r in zip(values, widths, right, strict=True)
            ]
            return "  ".join(parts).rstrip()

        lines = [line(self.columns), line(["-" * w for w in widths])]
        lines.extend(line(row) for row in cells)
        count = len(self.raw)
        more = f", {len(shown)} shown" if len(shown) < count else ""
        lines.append(f"({count} record{'s' if count != 1 else ''}{more})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __len__(self) -> int:
        return len(self.raw)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)


def _json_type(kind: DType) -> str:
    return kind.kind if kind.kind != "any" else "string"


__all__ = ["Result", "duration_text", "iso", "json_value", "python_value", "short_iso"]
