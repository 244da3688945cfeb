"""DQL data types as the local engine tracks them.

Every column of every stage has one type. Timestamps and durations are stored as
nanosecond counts (``BIGINT``: nanoseconds since the Unix epoch, in UTC, and nanoseconds),
so time arithmetic is exact integer arithmetic at DQL's own precision; the type says how
to print and convert them. ``null`` is the type of a field that holds no value at all
(or does not exist); ``any`` is an unknown type (SQL compiled without a schema).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dqlbuild.errors import DQLDataError

Kind = Literal[
    "long",
    "double",
    "string",
    "boolean",
    "timestamp",
    "duration",
    "timeframe",
    "array",
    "record",
    "null",
    "any",
]
NUMERIC_KINDS = frozenset({"long", "double"})
# Names users may give in ``types=``; ``array``/``record`` element types come from data.
DECLARABLE = frozenset({"long", "double", "string", "boolean", "timestamp", "duration"})


@dataclass(frozen=True)
class DType:
    kind: Kind
    element: DType | None = None
    """The element type of an array."""
    fields: tuple[tuple[str, DType], ...] = ()
    """The keys of a record, in order, with their types."""

    def __str__(self) -> str:
        if self.kind == "array" and self.element is not None:
            return f"array<{self.element}>"
        return self.kind

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def is_unknown(self) -> bool:
        """``null`` or ``any``: fits where any type is expected."""
        return self.kind in ("null", "any")

    def field(self, name: str) -> DType | None:
        for key, value in self.fields:
            if key == name:
                return value
        return None


LONG = DType("long")
DOUBLE = DType("double")
STRING = DType("string")
BOOLEAN = DType("boolean")
TIMESTAMP = DType("timestamp")
DURATION = DType("duration")
TIMEFRAME = DType("timeframe")
NULL = DType("null")
ANY = DType("any")


def array_of(element: DType) -> DType:
    return DType("array", element=element)


def record_of(fields: tuple[tuple[str, DType], ...]) -> DType:
    return DType("record", fields=fields)


def unify(a: DType, b: DType) -> DType | None:
    """The type that holds values of both ``a`` and ``b``, or None when there is none
    (long and double unify to double; null fits anything)."""
    if a == b:
        return a
    if a.kind == "null":
        return b
    if b.kind == "null":
        return a
    if a.kind == "any" or b.kind == "any":
        return ANY
    if a.is_numeric and b.is_numeric:
        return DOUBLE
    if a.kind == b.kind == "array":
        assert a.element is not None and b.element is not None
        element = unify(a.element, b.element)
        return array_of(element) if element is not None else None
    if a.kind == b.kind == "record":
        merged: dict[str, DType] = dict(a.fields)
        for key, value in b.fields:
            if key in merged:
                joined = unify(merged[key], value)
                if joined is None:
                    return None
                merged[key] = joined
            else:
                merged[key] = value
        return record_of(tuple(merged.items()))
    return None


def storage_type(kind: DType) -> str:
    """The SQL type that stores values of a DQL type."""
    if kind.kind in ("long", "timestamp", "duration"):
        return "BIGINT"
    if kind.kind == "double":
        return "DOUBLE"
    if kind.kind == "boolean":
        return "BOOLEAN"
    if kind.kind == "array":
        assert kind.element is not None
        return storage_type(kind.element) + "[]"
    if kind.kind == "timeframe":
        return 'STRUCT("start" BIGINT, "end" BIGINT)'
    if kind.kind == "record" and kind.fields:
        inner = ", ".join(
            '"' + key.replace('"', '""') + '" ' + storage_type(value) for key, value in kind.fields
        )
        return f"STRUCT({inner})"
    return "VARCHAR"


def declared(name: str, where: str) -> DType:
    """A type named by the user (``types={"spans": {"duration": "duration"}}``)."""
    if name not in DECLARABLE:
        allowed = ", ".join(sorted(DECLARABLE))
        raise DQLDataError(f"{where}: unknown type {name!r} (use one of {allowed})")
    return DType(name)  # type: ignore[arg-type]


__all__ = [
    "ANY",
    "BOOLEAN",
    "DOUBLE",
    "DURATION",
    "LONG",
    "NULL",
    "STRING",
    "TIMEFRAME",
    "TIMESTAMP",
    "DType",
    "Kind",
    "array_of",
    "declared",
    "record_of",
    "storage_type",
    "unify",
]
