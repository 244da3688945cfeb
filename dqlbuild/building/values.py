"""Python scalars to DQL literal nodes.

This is the only place where the builder turns Python data into DQL. It builds nodes
that hold decoded values; escaping happens once, in the printer, so no value can
change the shape of the query it ends up in.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import get_args

from dqlbuild.ast.base import make
from dqlbuild.ast.nodes import Boolean, Call, Double, Duration, Expr, Long, Null, String, Unary
from dqlbuild.errors import DQLValueError

# DQL numbers are 64-bit; the sign is a unary minus, so both signs share one bound.
MAX_LONG = 2**63 - 1

# The units a duration literal may carry, as the AST declares them.
DURATION_UNITS: tuple[str, ...] = get_args(Duration.model_fields["unit"].annotation)

# Units a timedelta is expressed in, largest first. Weeks are left out on purpose: a
# timedelta counts days, and ``14d`` reads as written. Months, quarters and years are
# calendar units, never exact.
_TIMEDELTA_UNITS: tuple[tuple[str, int], ...] = (
    ("d", 86_400_000_000),
    ("h", 3_600_000_000),
    ("m", 60_000_000),
    ("s", 1_000_000),
    ("ms", 1_000),
    ("us", 1),
)

_DURATION_TEXT = re.compile(r"(-?)([0-9]+)([A-Za-z]+)\Z")


def scalar_literal(value: object) -> Expr | None:
    """The literal node for a Python scalar, or ``None`` when ``value`` is not one."""
    if value is None:
        return Null()
    if isinstance(value, bool):
        return Boolean(value=value)
    if isinstance(value, int):
        return integer(value)
    if isinstance(value, float):
        return double(value)
    if isinstance(value, str):
        return make(String, value=value)
    if isinstance(value, timedelta):
        return duration_from_timedelta(value)
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        raise DQLValueError(
            f"a date ({value.isoformat()}) has no time zone and no time of day",
            hint="pass a timezone-aware datetime, e.g. datetime(2024, 1, 15, tzinfo=UTC)",
        )
    return None


def _negated(node: Expr, negative: bool) -> Expr:
    return make(Unary, op="-", operand=node) if negative else node


def integer(value: int) -> Expr:
    # The signed 64-bit range: -2**63 is a long too (written as a negated literal).
    if not -MAX_LONG - 1 <= value <= MAX_LONG:
        raise DQLValueError(f"{value} does not fit in a DQL long (64 bits)")
    return _negated(Long(value=abs(value)), value < 0)


def double(value: float) -> Expr:
    if not math.isfinite(value):
        raise DQLValueError(f"{value!r} has no DQL literal (DQL numbers are finite)")
    negative = math.copysign(1.0, value) < 0
    return _negated(Double(value=abs(value)), negative)


def duration_from_timedelta(value: timedelta) -> Expr:
    """``timedelta(minutes=90)`` -> ``90m``: the largest unit that states it exactly."""
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    if micros == 0:
        return Duration(value=0, unit="s")
    magnitude = abs(micros)
    for unit, size in _TIMEDELTA_UNITS:
        if magnitude % size == 0:
            return _negated(Duration(value=magnitude // size, unit=unit), micros < 0)
    raise AssertionError("unreachable: every timedelta is a whole number of microseconds")


def duration(value: str | int | timedelta, unit: str | None = None) -> Expr:
    """A duration literal from ``"5m"``, from ``(5, "m")`` or from a timedelta."""
    if isinstance(value, timedelta):
        if unit is not None:
            raise DQLValueError("a timedelta already has its unit; pass no unit")
        return duration_from_timedelta(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise DQLValueError(f"a duration is text like '5m', not {type(value).__name__}")
    if isinstance(value, int):
        if unit is None:
            raise DQLValueError("a number needs a unit to be a duration, e.g. dur(5, 'm')")
        amount, sign = abs(value), "-" if value < 0 else ""
    else:
        if unit is not None:
            raise DQLValueError("give either text like '5m' or a number and a unit")
        match = _DURATION_TEXT.match(value)
        if match is None:
            raise DQLValueError(
                f"{value!r} is not a duration: digits and a unit, like '5m' or '250ms'"
            )
        sign, digits, unit = match.groups()
        amount = int(digits)
    if unit not in DURATION_UNITS:
        raise DQLValueError(
            f"{unit!r} is not a duration unit (units: {', '.join(DURATION_UNITS)};"
            " `m` is minutes, `M` months)"
        )
    if amount > MAX_LONG:
        raise DQLValueError(f"{amount} does not fit in a DQL long (64 bits)")
    return _negated(Duration(value=amount, unit=unit), sign == "-")


def timestamp(value: datetime) -> Expr:
    """``toTimestamp("2024-01-15T08:00:00Z")``, always in UTC.

    A naive datetime is refused: guessing a time zone would silently shift the instant.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise DQLValueError(
            f"datetime {value.isoformat()} has no time zone",
            hint="attach one, e.g. value.replace(tzinfo=UTC), so that the instant is exact",
        )
    utc = value.astimezone(UTC)
    # Built by hand: strftime drops the zero padding of years before 1000 on glibc.
    text = (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    )
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return Call(name="toTimestamp", args=(String(value=text + "Z"),))
