"""Time: ``now()``, alignment ``@``, ``bin()``, extractors, formatting, conversions.

Timestamps are nanoseconds since the epoch (UTC) and durations nanoseconds, so most of
this is integer arithmetic; calendar units (months, quarters, years) and the calendar
fields go through DuckDB's timestamp functions, in UTC unless ``timezone:`` says
otherwise. ``now()`` is the time the query started (``now=`` of :func:`dqlbuild.run`),
the same in every stage.
"""

from __future__ import annotations

import re

from sqlglot import exp

from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import Align
from dqlbuild.engine import sql
from dqlbuild.engine.core import Scope, Typed, evaluation_error, unsupported
from dqlbuild.engine.expressions import NANOS, compile_expr, from_sql_timestamp, to_sql_timestamp
from dqlbuild.engine.functions import Args, scalar
from dqlbuild.engine.types import DOUBLE, DURATION, LONG, NULL, STRING, TIMESTAMP

DAY = NANOS["d"]
WEEK = NANOS["w"]
# 1970-01-01 was a Thursday: the Monday before it is 3 days earlier.
MONDAY_ORIGIN = -3 * DAY
_UNIT_NAMES = {
    "ns": "ns",
    "us": "us",
    "ms": "ms",
    "s": "s",
    "sec": "s",
    "secs": "s",
    "second": "s",
    "seconds": "s",
    "m": "m",
    "min": "m",
    "mins": "m",
    "minute": "m",
    "minutes": "m",
    "h": "h",
    "hr": "h",
    "hrs": "h",
    "hour": "h",
    "hours": "h",
    "d": "d",
    "day": "d",
    "days": "d",
    "w": "w",
    "M": "M",
    "q": "q",
    "y": "y",
}
_CALENDAR = {"M": "month", "q": "quarter", "y": "year"}


def floor_to(value: exp.Expr, step: int, origin: int = 0) -> exp.Expr:
    """The largest ``origin + k * step`` not after ``value`` (integer nanoseconds)."""
    shifted = exp.Sub(this=value, expression=sql.long(origin)) if origin else value
    remainder = exp.Mod(
        this=sql.paren(
            exp.Add(
                this=exp.Mod(this=shifted, expression=sql.long(step)), expression=sql.long(step)
            )
        ),
        expression=sql.long(step),
    )
    return exp.Sub(this=value, expression=sql.paren(remainder))


def floor_div(value: exp.Expr, step: int) -> exp.Expr:
    return exp.IntDiv(this=sql.paren(floor_to(value, step)), expression=sql.long(step))


def truncate_calendar(value: exp.Expr, unit: str) -> exp.Expr:
    truncated = exp.TimestampTrunc(this=to_sql_timestamp(value), unit=exp.Var(this=unit.upper()))
    return from_sql_timestamp(truncated)


def now(scope: Scope) -> Typed:
    return Typed(sql.long(scope.compiler.now_ns), TIMESTAMP, constant=True)


# ----------------------------------------------------------------------------- alignment
def _align_unit(text: str, node: Node) -> tuple[str, int, int]:
    """(unit, factor, weekday) of an alignment unit such as ``d``, ``15m``, ``w1``."""
    match = re.fullmatch(r"(\d*)([A-Za-z]+?)(\d?)", text)
    if match is None:
        raise evaluation_error(f"unknown time alignment unit {text!r}", node)
    factor_text, name, weekday_text = match.groups()
    unit = _UNIT_NAMES.get(name)
    if unit is None:
        raise evaluation_error(f"unknown time alignment unit {text!r}", node)
    if weekday_text and unit != "w":
        raise evaluation_error(f"unknown time alignment unit {text!r}", node)
    factor = int(factor_text) if factor_text else 1
    weekday = int(weekday_text) if weekday_text else 1
    if factor < 1 or weekday > 7:
        raise evaluation_error(f"invalid time alignment unit {text!r}", node)
    return unit, factor, weekday


def align(value: exp.Expr, unit_text: str, node: Node) -> exp.Expr:
    unit, factor, weekday = _align_unit(unit_text, node)
    if unit in _CALENDAR:
        if factor != 1:
            raise unsupported(f"alignment to {unit_text!r} (a multiple of a calendar unit)", node)
        return truncate_calendar(value, _CALENDAR[unit])
    if unit == "w":
        if factor != 1:
            raise unsupported(f"alignment to {unit_text!r}", node)
        # w or w1 = Monday ... w6 = Saturday, w0 and w7 = Sunday.
        return floor_to(value, WEEK, MONDAY_ORIGIN + ((weekday - 1) % 7) * DAY)
    return floor_to(value, factor * NANOS[unit])


def compile_align(scope: Scope, node: Align) -> Typed:
    base = now(scope) if node.operand is None else compile_expr(scope, node.operand)
    if base.type.kind == "duration":
        # A duration before @ is an offset from now: -2h@h is (now() - 2h)@h.
        from dqlbuild.engine.expressions import arithmetic

        base = arithmetic("+", now(scope), base, node)
    if base.type == NULL:
        return Typed(sql.null(), NULL, True)
    if base.type.kind not in ("timestamp", "any"):
        raise evaluation_error(f"@ needs a timestamp or a duration, not a {base.type} value", node)
    return Typed(align(base.sql, node.unit, node), TIMESTAMP, base.constant)


# ----------------------------------------------------------------------------- ISO text
def iso_text(nanos: exp.Expr) -> exp.Expr:
    """``2024-05-06T07:00:00.123456789Z``: how DQL writes a timestamp as text."""
    whole_seconds = floor_to(nanos, NANOS["s"])
    seconds_text = exp.TimeToStr(
        this=to_sql_timestamp(whole_seconds), format=sql.string("%Y-%m-%dT%H:%M:%S")
    )
    fraction = exp.Sub(this=nanos, expression=sql.paren(whole_seconds))
    digits = sql.fn("lpad", sql.cast(fraction, "VARCHAR"), sql.integer(9), sql.string("0"))
    # || keeps a null timestamp null (concat() would skip it).
    text: exp.Expr = seconds_text
    for part in (sql.string("."), digits, sql.string("Z")):
        text = exp.DPipe(this=text, expression=part, safe=True)
    return text


def parse_iso(text: exp.Expr) -> exp.Expr:
    """Nanoseconds of an ISO-8601 text (null when it is not one). DuckDB parses to the
    microsecond; the digits beyond are added back."""
    micros = sql.fn("epoch_us", sql.try_cast(text, "TIMESTAMPTZ"))
    extra = sql.fn("regexp_extract", text, sql.string(r"\.[0-9]{6}([0-9]{1,3})"), sql.integer(1))
    sub_micro = sql.case(
        [(exp.EQ(this=extra, expression=sql.string("")), sql.integer(0))],
        sql.cast(sql.fn("rpad", extra, sql.integer(3), sql.string("0")), "BIGINT"),
    )
    return exp.Add(this=exp.Mul(this=micros, expression=sql.integer(1000)), expression=sub_micro)


# ----------------------------------------------------------------------------- functions
def _timestamp(args: Args, name: str = "timestamp") -> Typed:
    value = args.required(name)
    if value.type.kind not in ("timestamp", "null", "any"):
        raise evaluation_error(
            f"{args.function.name}() needs a timestamp, not a {value.type} value", args.call
        )
    return value


def _local(args: Args, value: Typed) -> exp.Expr:
    """The timestamp as a wall-clock SQL timestamp, in ``timezone:`` (default UTC)."""
    stamp = to_sql_timestamp(value.sql)
    zone = args.typed("timezone")
    if zone is None:
        return stamp
    if zone.type.kind != "string":
        raise evaluation_error('timezone: is a time zone name such as "Europe/Vienna"', args.call)
    return sql.fn("timezone", zone.sql, sql.cast(stamp, "TIMESTAMPTZ"))


@scalar("now")
def _now(args: Args) -> Typed:
    return now(args.scope)


_PARTS = {
    "getYear": "year",
    "getMonth": "month",
    "getDayOfMonth": "day",
    "getDayOfWeek": "isodow",
    "getDayOfYear": "dayofyear",
    "getHour": "hour",
    "getMinute": "minute",
    "getSecond": "second",
    "getWeekOfYear": "week",
}


def _extractor(name: str, part: str) -> None:
    def implementation(args: Args) -> Typed:
        value = _timestamp(args)
        if value.type == NULL:
            return Typed(sql.null(), NULL, True)
        result = sql.cast(sql.fn("date_part", sql.string(part), _local(args, value)), "BIGINT")
        return Typed(result, LONG, value.constant)

    scalar(name, "timestamp", "timezone")(implementation)


for _name, _part in _PARTS.items():
    _extractor(_name, _part)


_JAVA_PATTERN = re.compile(
    r"'[^']*'|yyyy|yy|MMMM|MMM|MM|M|dd|d|HH|H|hh|h|mm|m|ss|s|"
    r"S{9}|S{6}|S{3}|EEEE|EEE|a|XXX|Z|z|[A-Za-z]|.",
    re.S,
)
_JAVA_TO_STRFTIME = {
    "yyyy": "%Y",
    "yy": "%y",
    "MMMM": "%B",
    "MMM": "%b",
    "MM": "%m",
    "M": "%-m",
    "dd": "%d",
    "d": "%-d",
    "HH": "%H",
    "H": "%-H",
    "hh": "%I",
    "h": "%-I",
    "mm": "%M",
    "m": "%-M",
    "ss": "%S",
    "s": "%-S",
    "SSSSSSSSS": "%n",
    "SSSSSS": "%f",
    "SSS": "%g",
    "EEEE": "%A",
    "EEE": "%a",
    "a": "%p",
    "XXX": "+00:00",
    "Z": "+0000",
    "z": "UTC",
}


def strftime_format(pattern: str, node: Node | None) -> str:
    """A Java DateTimeFormatter pattern (as DQL uses) as a strftime format."""
    parts: list[str] = []
    for token in _JAVA_PATTERN.findall(pattern):
        if token.startswith("'"):
            parts.append("'" if token == "''" else token[1:-1].replace("%", "%%"))
        elif token in _JAVA_TO_STRFTIME:
            parts.append(_JAVA_TO_STRFTIME[token])
        elif token.isalpha():
            raise unsupported(f"the format letter {token!r} in formatTimestamp()", node)
        else:
            parts.append(token.replace("%", "%%"))
    return "".join(parts)


@scalar("formatTimestamp", "timestamp", "format", "timezone")
def _format_timestamp(args: Args) -> Typed:
    value = _timestamp(args)
    pattern = args.constant("format")
    if not isinstance(pattern, str):
        raise unsupported(
            "formatTimestamp() with a format that is not a string literal", args.node("format")
        )
    if value.type == NULL:
        return Typed(sql.null(), NULL, True)
    if args.given("timezone") and any(t in pattern for t in ("XXX", "Z", "z")):
        raise unsupported("a zone in the format together with timezone:", args.node("format"))
    local = _local(args, value)
    if not args.given("timezone"):  # nanosecond digits (%n) need a nanosecond timestamp
        local = sql.fn("make_timestamp_ns", value.sql)
    text = exp.TimeToStr(
        this=local, format=sql.string(strftime_format(pattern, args.node("format")))
    )
    return Typed(text, STRING, value.constant)


def _from_unix(name: str, unit: int) -> None:
    def implementation(args: Args) -> Typed:
        value = args.required(next(iter(_FROM_UNIX_PARAMETER[name])))
        if value.type == NULL:
            return Typed(sql.null(), NULL, True)
        if value.type.kind == "long":
            return Typed(
                exp.Mul(this=sql.cast(value.sql, "BIGINT"), expression=sql.long(unit)),
                TIMESTAMP,
                value.constant,
            )
        if value.type.kind == "double":
            product = exp.Mul(this=value.sql, expression=sql.double(float(unit)))
            return Typed(sql.cast(sql.fn("round", product), "BIGINT"), TIMESTAMP, value.constant)
        raise evaluation_error(f"{name}() needs a number, not a {value.type} value", args.call)

    scalar(name, *_FROM_UNIX_PARAMETER[name])(implementation)


_FROM_UNIX_PARAMETER = {
    "timestampFromUnixSeconds": ("seconds",),
    "timestampFromUnixMillis": ("millis",),
    "timestampFromUnixNanos": ("nanos",),
}
_from_unix("timestampFromUnixSeconds", NANOS["s"])
_from_unix("timestampFromUnixMillis", NANOS["ms"])
_from_unix("timestampFromUnixNanos", 1)


def _to_unix(name: str, unit: int) -> None:
    def implementation(args: Args) -> Typed:
        value = _timestamp(args)
        if value.type == NULL:
            return Typed(sql.null(), NULL, True)
        result = value.sql if unit == 1 else floor_div(value.sql, unit)
        return Typed(result, LONG, value.constant)

    scalar(name, "timestamp")(implementation)


_to_unix("unixSecondsFromTimestamp", NANOS["s"])
_to_unix("unixMillisFromTimestamp", NANOS["ms"])
_to_unix("unixNanosFromTimestamp", 1)


@scalar("duration", "value", "unit")
def _duration(args: Args) -> Typed:
    value = args.required("value")
    unit_text = args.constant("unit")
    unit = _UNIT_NAMES.get(str(unit_text))
    if unit is None or unit in _CALENDAR:
        raise unsupported(f"duration() in the unit {unit_text!r}", args.node("unit"))
    if value.type == NULL:
        return Typed(sql.null(), NULL, True)
    if value.type.kind == "long":
        return Typed(
            exp.Mul(this=sql.cast(value.sql, "BIGINT"), expression=sql.long(NANOS[unit])),
            DURATION,
            value.constant,
        )
    if value.type.kind == "double":
        product = exp.Mul(this=value.sql, expression=sql.double(float(NANOS[unit])))
        return Typed(sql.cast(sql.fn("round", product), "BIGINT"), DURATION, value.constant)
    raise evaluation_error(f"duration() needs a number, not a {value.type} value", args.call)


@scalar("bin", "expression", "interval", "at")
def _bin(args: Args) -> Typed:
    value = args.required("expression")
    interval = args.required("interval")
    at = args.typed("at") if args.given("at") else None
    kind = value.type.kind
    if value.type == NULL or interval.type == NULL:
        return Typed(sql.null(), NULL, True)
    if kind in ("timestamp", "duration"):
        if interval.months is not None:
            if at is not None or kind != "timestamp" or interval.months not in (1, 3, 12):
                raise unsupported("bin() with this calendar interval", args.node("interval"))
            unit = {1: "month", 3: "quarter", 12: "year"}[interval.months]
            return Typed(truncate_calendar(value.sql, unit), TIMESTAMP, value.constant)
        if interval.type.kind != "duration":
            raise evaluation_error(f"bin() of a {value.type} needs a duration interval", args.call)
        step = args.constant("interval")
        origin = 0
        if at is not None:
            origin_value = args.constant("at") if at.constant and kind == "duration" else None
            if at.type.kind == "timestamp" and isinstance(args.node("at"), Node):
                raise unsupported("bin() with at: a timestamp", args.node("at"))
            origin = int(origin_value or 0)
        if not isinstance(step, int) or step <= 0:
            raise evaluation_error("bin(): the interval must be a positive duration", args.call)
        return Typed(floor_to(value.sql, step, origin), value.type, value.constant)
    if kind in ("long", "double"):
        if interval.type.kind not in ("long", "double"):
            raise evaluation_error("bin() of a number needs a numeric interval", args.call)
        if at is not None:
            raise unsupported("bin() of a number with at:", args.node("at"))
        if kind == "long" and interval.type.kind == "long":
            step = args.constant("interval")
            if not isinstance(step, int) or step <= 0:
                raise evaluation_error("bin(): the interval must be positive", args.call)
            return Typed(floor_to(value.sql, step), LONG, value.constant)
        quotient = exp.Div(this=sql.cast(value.sql, "DOUBLE"), expression=interval.sql)
        result = exp.Mul(this=sql.fn("floor", quotient), expression=interval.sql)
        return Typed(result, DOUBLE, value.constant)
    raise evaluation_error(
        f"bin() needs a number, timestamp or duration, not {value.type}", args.call
    )


__all__ = ["align", "compile_align", "floor_to", "iso_text", "now", "parse_iso", "strftime_format"]
