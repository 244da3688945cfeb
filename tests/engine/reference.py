"""A small reference interpreter of DQL pipelines over lists of dicts, for tests.

Written from the DQL documentation and ../shared/spec/DQL_SPEC.md, not from the
engine: it is the "straightforward Python evaluation" the differential test compares
``dqlbuild.run`` with, so it favours obviousness over speed. It evaluates dqlbuild's
parsed AST; arguments bind to catalog parameters with dqlbuild's own binder.

Values: ``None`` is null, ``bool`` boolean, ``int`` long, ``float`` double, ``str``
string, ``list`` array, ``dict`` record, :class:`Duration` and :class:`Timestamp`
(both nanoseconds). A missing field reads as null.

Semantics it implements: the DQL documentation's; where it is silent, the decisions the
engine documents (docs/running.md, "Semantics and decisions"), so the comparison checks
the engine against its own documentation too:

- comparisons and arithmetic with a null operand are null; ``and``/``or``/``not`` use
  three-valued logic (``false and null`` is false, ``true or null`` is true), ``xor``
  is null when an operand is;
- ``filter`` keeps records whose condition is true, ``filterOut`` drops them (a null
  condition is neither: ``filter`` drops the record, ``filterOut`` keeps it);
- long ``/`` long is a long, truncated toward zero; ``%`` has the dividend's sign;
  division by zero is null;
- aggregations skip nulls; ``sum`` is a double (the catalog's output type);
  ``sum``/``avg``/``min``/``max`` of no values are null,
  ``count()`` and ``countIf`` count records, ``countDistinct`` counts distinct non-null
  values; ``summarize`` without ``by:`` returns exactly one record, with ``by:`` one
  record per distinct key tuple, null keys included;
- ``sort`` puts nulls last in either direction (see ``NULLS_LAST``);
- ``fieldsAdd`` assigns in order (a later assignment sees an earlier one);
- ``takeFirst``/``takeLast`` skip nulls like every other aggregation;
- ``fieldsSummary`` gives its values as text when the summarized fields' types differ;
- ``expand`` of an empty array yields no record (DQL docs), and so does a null or missing
  one: it has no elements either (see ``EXPAND_KEEPS_NULL``);
- unassigned expressions are named after their canonical text (``count()``).
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cmp_to_key
from typing import Any

from dqlbuild import parse, parse_expression
from dqlbuild.analysis.binding import BoundArguments, BoundValue, bind_call, bind_command
from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import (
    Access,
    Binary,
    Block,
    Boolean,
    Brace,
    Call,
    Command,
    Double,
    FieldRef,
    Long,
    Null,
    Query,
    Sorted,
    String,
    Unary,
)
from dqlbuild.ast.nodes import Duration as DurationLiteral
from dqlbuild.catalog import get_catalog

Row = dict[str, Any]

# Decisions where the documentation is silent; the differential test reads them.
NULLS_LAST = True
EXPAND_KEEPS_NULL = False
SAMPLE_VARIANCE = 1  # stddev/variance divide by n - 1 (0 would be the population's)

_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "min": 60 * 10**9,
    "h": 3600 * 10**9,
    "d": 86_400 * 10**9,
    "w": 7 * 86_400 * 10**9,
}


class EvaluationError(Exception):
    """The query is outside what the reference covers, or is invalid DQL."""


@dataclass(frozen=True, order=True)
class Duration:
    ns: int


@dataclass(frozen=True, order=True)
class Timestamp:
    ns: int

    @classmethod
    def parse(cls, text: str) -> Timestamp | None:
        match = re.fullmatch(
            r"(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
            r"(Z|[+-]\d{2}:?\d{2})?",
            text.strip(),
        )
        if match is None:
            return None
        day, hour, minute, second, fraction, zone = match.groups()
        try:
            moment = datetime.fromisoformat(f"{day}T{hour}:{minute}:{second or '00'}")
        except ValueError:
            return None
        offset = 0
        if zone and zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            offset = sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
        seconds = int(moment.replace(tzinfo=UTC).timestamp()) - offset
        nanos = int((fraction or "0").ljust(9, "0"))
        return cls(seconds * 10**9 + nanos)


# ------------------------------------------------------------------ helpers on values
def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "record"
    return type(value).__name__.lower()


def _bool(value: object, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise EvaluationError(f"{where} needs a boolean, got {_type_name(value)}")


def _equal(left: object, right: object) -> bool:
    if _is_number(left) and _is_number(right):
        return left == right
    if type(left) is not type(right):
        raise EvaluationError(f"cannot compare {_type_name(left)} with {_type_name(right)}")
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(
            (a is None and b is None) or (a is not None and b is not None and _equal(a, b))
            for a, b in zip(left, right, strict=True)
        )
    return left == right


def _compare(left: Any, right: Any) -> int:
    """-1, 0 or 1 for two non-null values of comparable types."""
    if _is_number(left) and _is_number(right):
        return (left > right) - (left < right)
    if type(left) is not type(right) or isinstance(left, list | dict):
        raise EvaluationError(f"cannot order {_type_name(left)} and {_type_name(right)}")
    return (left > right) - (left < right)


def _key(value: object) -> object:
    """A hashable stand-in for grouping and distinct (numbers by value)."""
    if isinstance(value, list):
        return ("array", tuple(_key(v) for v in value))
    if isinstance(value, dict):  # a null key is a missing key
        return ("record", tuple(sorted((k, _key(v)) for k, v in value.items() if v is not None)))
    if isinstance(value, bool):
        return ("boolean", value)
    if _is_number(value):
        return ("number", value)
    return (_type_name(value), value)


# ------------------------------------------------------------------ operator chains
def binary_operands(node: Binary) -> tuple[str, list[Node]]:
    """The operator of ``node`` and its operands, left to right. With
    :func:`binary_chain`, the only code that reads or builds ``Binary``'s fields."""
    return node.op, list(node.operands)


def binary_chain(op: str, operands: Sequence[Node]) -> Node:
    """The node for ``operands`` joined by ``op``, left to right."""
    return Binary(op=op, operands=tuple(operands))  # type: ignore[arg-type]


_COMPARISONS = {"==", "!=", "<", "<=", ">", ">="}


def _arith(op: str, left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    if isinstance(left, Duration) or isinstance(right, Duration):
        return _duration_arith(op, left, right)
    if isinstance(left, Timestamp) or isinstance(right, Timestamp):
        return _timestamp_arith(op, left, right)
    if not (_is_number(left) and _is_number(right)):
        raise EvaluationError(f"{op} needs numbers, got {_type_name(left)}, {_type_name(right)}")
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if right == 0:
        return None
    if op == "/":
        if isinstance(left, int) and isinstance(right, int):
            quotient = abs(left) // abs(right)
            return quotient if (left < 0) == (right < 0) else -quotient
        return left / right
    # %: the sign of the dividend, as in Java
    if isinstance(left, int) and isinstance(right, int):
        remainder = abs(left) % abs(right)
        return remainder if left >= 0 else -remainder
    return math.fmod(left, right)


def _duration_arith(op: str, left: Any, right: Any) -> Any:
    if isinstance(left, Duration) and isinstance(right, Duration):
        if op == "+":
            return Duration(left.ns + right.ns)
        if op == "-":
            return Duration(left.ns - right.ns)
        if op == "/":
            return None if right.ns == 0 else left.ns / right.ns
    if isinstance(left, Timestamp) and op in "+-":
        return Timestamp(left.ns + right.ns if op == "+" else left.ns - right.ns)
    if isinstance(left, Duration) and _is_number(right) and op in "*/":
        if op == "*":
            return Duration(int(left.ns * right))
        return None if right == 0 else Duration(int(left.ns / right))
    if _is_number(left) and isinstance(right, Duration) and op == "*":
        return Duration(int(left * right.ns))
    raise EvaluationError(f"{op} is not defined for {_type_name(left)}, {_type_name(right)}")


def _timestamp_arith(op: str, left: Any, right: Any) -> Any:
    if isinstance(left, Timestamp) and isinstance(right, Timestamp) and op == "-":
        return Duration(left.ns - right.ns)
    raise EvaluationError(f"{op} is not defined for {_type_name(left)}, {_type_name(right)}")


def _comparison(op: str, left: Any, right: Any) -> bool | None:
    if left is None or right is None:
        return None
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    order = _compare(left, right)
    return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[op]


def apply_operator(op: str, values: Sequence[Any]) -> Any:
    """A binary operator folded over evaluated operands, left to right."""
    if op in ("and", "or"):
        unknown = False
        decisive = op == "or"  # or: a true decides; and: a false decides
        for value in values:
            truth = _bool(value, op)
            if truth is None:
                unknown = True
            elif truth is decisive:
                return decisive
        return None if unknown else not decisive
    if op == "xor":
        result = False
        for value in values:
            truth = _bool(value, op)
            if truth is None:
                return None
            result ^= truth
        return result
    if op in _COMPARISONS:
        left, right = values
        return _comparison(op, left, right)
    result = values[0]
    for value in values[1:]:
        result = _arith(op, result, value)
    return result


# ------------------------------------------------------------------ expressions
class Evaluator:
    """Evaluates expressions against one record; aggregation calls are handled by
    :func:`_aggregate`, not here."""

    def __init__(self, interpreter: Interpreter) -> None:
        self.interpreter = interpreter

    def __call__(self, node: Node, row: Mapping[str, Any]) -> Any:
        if isinstance(node, String | Long | Boolean):
            return node.value
        if isinstance(node, Double):
            return float(node.value)
        if isinstance(node, Null):
            return None
        if isinstance(node, DurationLiteral):
            if node.unit not in _UNIT_NS:
                raise EvaluationError(f"calendar duration {node.value}{node.unit}")
            return Duration(node.value * _UNIT_NS[node.unit])
        if isinstance(node, FieldRef):
            return row.get(node.name)
        if isinstance(node, Unary):
            value = self(node.operand, row)
            if node.op == "not":
                truth = _bool(value, "not")
                return None if truth is None else not truth
            if value is None:
                return None
            if isinstance(value, Duration):
                return Duration(-value.ns)
            if not _is_number(value):
                raise EvaluationError(f"unary minus needs a number, got {_type_name(value)}")
            return -value
        if isinstance(node, Binary):
            return self._binary(node, row)
        if isinstance(node, Access):
            return self._access(node, row)
        if isinstance(node, Call):
            return self._call(node, row)
        if isinstance(node, Brace):
            return [self(item, row) for item in node.items]
        raise EvaluationError(f"the reference does not evaluate {type(node).__name__}")

    def _binary(self, node: Binary, row: Mapping[str, Any]) -> Any:
        op, operands = binary_operands(node)
        if op == "~":
            raise EvaluationError("the reference does not evaluate ~")
        return apply_operator(op, [self(operand, row) for operand in operands])

    def _access(self, node: Access, row: Mapping[str, Any]) -> Any:
        base = self(node.base, row)
        if base is None or node.key is None:
            if node.key is None:
                raise EvaluationError("the reference does not evaluate iterative []")
            return None
        if isinstance(node.key, int):
            if not isinstance(base, list):
                return None
            index = node.key if node.key >= 0 else len(base) + node.key
            return base[index] if 0 <= index < len(base) else None
        return base.get(node.key) if isinstance(base, dict) else None

    def _call(self, node: Call, row: Mapping[str, Any]) -> Any:
        function = get_catalog().function(node.name)
        if function is None or function.is_aggregation:
            raise EvaluationError(f"{node.name}() is not a scalar function here")
        bound, _ = bind_call(node, function)
        if bound.problems:
            raise EvaluationError(f"{node.name}(): {bound.problems[0].kind}")
        implementation = SCALARS.get(function.name)
        if implementation is None:
            raise EvaluationError(f"the reference does not implement {function.name}()")
        return implementation(_Args(self, bound, row, function.name))


class _Args:
    """The arguments of one scalar call, evaluated on demand, with catalog defaults."""

    def __init__(
        self, evaluate: Evaluator, bound: BoundArguments, row: Mapping[str, Any], name: str
    ) -> None:
        self.evaluate = evaluate
        self.bound = bound
        self.row = row
        self.name = name

    def has(self, parameter: str) -> bool:
        return self.bound.has(parameter)

    def get(self, parameter: str) -> Any:
        value = self.bound.first(parameter)
        if value is None:
            spec = next((p for p in self.bound.parameters if p.name == parameter), None)
            if spec is None or spec.default_value is None:
                return None
            return self.evaluate(parse_expression(spec.default_value), {})
        return self.evaluate(value.expr, self.row)

    def all(self, parameter: str) -> list[Any]:
        values: list[Any] = []
        for value in self.bound.get(parameter):
            result = self.evaluate(value.expr, self.row)
            if isinstance(value.expr, Brace):
                values.extend(result)
            else:
                values.append(result)
        return values


def _null_in(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Null when any positional argument is null (the usual DQL function rule)."""

    def wrapper(*values: Any) -> Any:
        return None if any(v is None for v in values) else fn(*values)

    return wrapper


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise EvaluationError(f"{where} needs a string, got {_type_name(value)}")
    return value


def _case(a: _Args, text: str, other: str) -> tuple[str, str]:
    if a.get("caseSensitive") is False:
        return text.lower(), other.lower()
    return text, other


def _string_test(
    test: Callable[[str, str], bool], parameter: str = "substring"
) -> Callable[[_Args], Any]:
    def implementation(a: _Args) -> Any:
        text, other = a.get("expression"), a.get(parameter)
        if text is None or other is None:
            return None
        text, other = _case(a, _string(text, a.name), _string(other, a.name))
        return test(text, other)

    return implementation


def _to_string(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_to_string)
    if isinstance(value, Timestamp):
        moment = _utc(value).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{moment}.{value.ns % 10**9:09d}Z"
    if isinstance(value, Duration):
        return str(value.ns)
    raise EvaluationError(f"toString of {_type_name(value)}")


def _to_long(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        try:
            number = float(text)
        except ValueError:
            return None
        return int(number) if math.isfinite(number) else None
    return None


def _to_double(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _round(a: _Args) -> Any:
    value, decimals = a.get("expression"), a.get("decimals")
    if value is None or decimals is None:
        return None
    if isinstance(value, int):
        return value if decimals >= 0 else int(_half_up(value / 10**-decimals) * 10**-decimals)
    scale = 10.0**decimals
    return _half_up(value * scale) / scale


def _half_up(value: float) -> float:
    """Round half away from zero (Java's Math.round rounds half up, DQL docs: 'nearest')."""
    return float(math.floor(abs(value) + 0.5) * (1 if value >= 0 else -1))


def _in(a: _Args) -> Any:
    needle = a.get("needle")
    haystack = a.all("haystack")
    if needle is None:
        return None
    flat: list[Any] = []
    for item in haystack:
        flat.extend(item if isinstance(item, list) else [item])
    return any(item is not None and _equal(needle, item) for item in flat)


def _substring(a: _Args) -> Any:
    text = a.get("expression")
    start, end = a.get("from"), a.get("to")
    if text is None or start is None or end is None:
        return None
    text = _string(text, "substring")
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    return text[start:end]


def _index_of(a: _Args) -> Any:
    text, other, start = a.get("expression"), a.get("substring"), a.get("from")
    if text is None or other is None or start is None:
        return None
    return _string(text, "indexOf").find(_string(other, "indexOf"), max(0, start))


def _concat(a: _Args) -> Any:
    # Null arguments count as empty text (DQL docs for concat).
    delimiter = a.get("delimiter") or ""
    return delimiter.join(_to_string(v) or "" for v in a.all("expression"))


def _coalesce(a: _Args) -> Any:
    for value in a.bound.get("expression"):
        result = a.evaluate(value.expr, a.row)
        if result is not None:
            return result
    return None


def _if(a: _Args) -> Any:
    condition = _bool(a.get("condition"), "if")
    return a.get("then") if condition else a.get("else")


def _array_numbers(array: Any) -> list[Any] | None:
    if array is None:
        return None
    if not isinstance(array, list):
        raise EvaluationError(f"an array function needs an array, got {_type_name(array)}")
    return [v for v in array if v is not None]


def _array_sum(a: _Args) -> Any:
    values = _array_numbers(a.get("array"))  # a double, like sum() (catalog output type)
    return None if values is None else (float(sum(values)) if values else None)


def _array_avg(a: _Args) -> Any:
    values = _array_numbers(a.get("array"))
    return None if not values else sum(values) / len(values)


def _array_distinct(a: _Args) -> Any:
    array = a.get("array")
    if array is None:
        return None
    seen: dict[object, Any] = {}
    for value in array:
        seen.setdefault(_key(value), value)
    return list(seen.values())


def _first_non_null(array: Any, reverse: bool) -> Any:
    if array is None:
        return None
    values = [v for v in array if v is not None]
    if not values:
        return None
    return values[-1] if reverse else values[0]


def _utc(value: Timestamp) -> datetime:
    return datetime.fromtimestamp(value.ns // 10**9, UTC)


def _timestamp_part(part: Callable[[datetime], int]) -> Callable[[_Args], Any]:
    def implementation(a: _Args) -> Any:
        value = a.get("timestamp")
        if value is None:
            return None
        if not isinstance(value, Timestamp):
            raise EvaluationError(f"{a.name} needs a timestamp, got {_type_name(value)}")
        return part(_utc(value))

    return implementation


def _to_timestamp(value: Any) -> Timestamp | None:
    if value is None or isinstance(value, Timestamp):
        return value
    if isinstance(value, str):
        return Timestamp.parse(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return Timestamp(value)  # nanoseconds since the epoch
    return None


def _bin(a: _Args) -> Any:
    value, interval = a.get("expression"), a.get("interval")
    if value is None or interval is None:
        return None
    width = interval.ns if isinstance(interval, Duration) else interval
    if isinstance(value, Timestamp):
        return Timestamp(value.ns - value.ns % width)
    if isinstance(value, Duration):
        return Duration(value.ns - value.ns % width)
    if _is_number(value):
        return math.floor(value / width) * width
    raise EvaluationError(f"bin of {_type_name(value)}")


_JAVA_FORMAT = (
    ("yyyy", "%Y"),
    ("MM", "%m"),
    ("dd", "%d"),
    ("HH", "%H"),
    ("mm", "%M"),
    ("ss", "%S"),
)


def _format_timestamp(a: _Args) -> Any:
    value, pattern = a.get("timestamp"), a.get("format")
    if value is None or pattern is None:
        return None
    if not isinstance(value, Timestamp):
        raise EvaluationError("formatTimestamp needs a timestamp")
    moment = _utc(value)
    out, index = [], 0
    while index < len(pattern):
        if pattern[index] == "'":
            end = pattern.index("'", index + 1)
            out.append(pattern[index + 1 : end])
            index = end + 1
            continue
        if pattern.startswith("S", index):
            width = len(pattern[index:]) - len(pattern[index:].lstrip("S"))
            out.append(f"{value.ns % 10**9:09d}"[:width])
            index += width
            continue
        for token, code in _JAVA_FORMAT:
            if pattern.startswith(token, index):
                out.append(moment.strftime(code))
                index += len(token)
                break
        else:
            out.append(pattern[index])
            index += 1
    return "".join(out)


def _split_string(a: _Args) -> Any:
    text, pattern = a.get("expression"), a.get("pattern")
    if text is None or pattern is None:
        return None
    if pattern == "":
        return list(_string(text, "splitString"))
    return _string(text, "splitString").split(pattern)


def _replace_string(a: _Args) -> Any:
    text, old, new = a.get("expression"), a.get("substring"), a.get("replacement")
    if text is None or old is None or new is None:
        return None
    return _string(text, "replaceString").replace(old, new) if old else text


def _matches_value(a: _Args) -> Any:
    """Whole-value match with ``*`` wildcards, case-insensitive by default."""
    text = a.get("expression")
    if text is None:
        return None
    sensitive = a.get("caseSensitive") is True
    candidates = [text] if not isinstance(text, list) else text
    for pattern in a.all("value"):
        if pattern is None:
            continue
        regex = ".*".join(re.escape(part) for part in _string(pattern, "matchesValue").split("*"))
        flags = 0 if sensitive else re.IGNORECASE
        if any(
            isinstance(c, str) and re.fullmatch(regex, c, flags | re.DOTALL) for c in candidates
        ):
            return True
    return False


def _to_boolean(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if _is_number(value):
        return value != 0
    if isinstance(value, str):
        lowered = value.strip().lower()
        return True if lowered == "true" else False if lowered == "false" else None
    return None


def _math(function: Callable[..., float], *parameters: str) -> Callable[[_Args], Any]:
    """A double-valued function, null for a null argument or an undefined result."""

    def implementation(a: _Args) -> Any:
        values = [a.get(p) for p in parameters]
        if any(v is None for v in values):
            return None
        try:
            result = function(*(float(v) for v in values))
        except (ValueError, OverflowError, ZeroDivisionError):
            return None
        return result if math.isfinite(result) else None

    return implementation


SCALARS: dict[str, Callable[[_Args], Any]] = {
    "isNull": lambda a: a.get("expression") is None,
    "isNotNull": lambda a: a.get("expression") is not None,
    "isTrueOrNull": lambda a: _bool(a.get("expression"), "isTrueOrNull") is not False,
    "isFalseOrNull": lambda a: _bool(a.get("expression"), "isFalseOrNull") is not True,
    "if": _if,
    "coalesce": _coalesce,
    "contains": _string_test(lambda text, other: other in text),
    "startsWith": _string_test(lambda text, other: text.startswith(other), "prefix"),
    "endsWith": _string_test(lambda text, other: text.endswith(other), "suffix"),
    "lower": lambda a: _null_in(lambda s: _string(s, "lower").lower())(a.get("expression")),
    "upper": lambda a: _null_in(lambda s: _string(s, "upper").upper())(a.get("expression")),
    "trim": lambda a: _null_in(lambda s: _string(s, "trim").strip())(a.get("expression")),
    "stringLength": lambda a: _null_in(lambda s: len(_string(s, "stringLength")))(
        a.get("expression")
    ),
    "concat": _concat,
    "substring": _substring,
    "indexOf": _index_of,
    "toString": lambda a: _to_string(a.get("value")),
    "toLong": lambda a: _to_long(a.get("value")),
    "toDouble": lambda a: _to_double(a.get("value")),
    "abs": lambda a: _null_in(abs)(a.get("expression")),
    "round": _round,
    "floor": lambda a: _null_in(lambda v: v if isinstance(v, int) else float(math.floor(v)))(
        a.get("expression")
    ),
    "ceil": lambda a: _null_in(lambda v: v if isinstance(v, int) else float(math.ceil(v)))(
        a.get("expression")
    ),
    "in": _in,
    "array": lambda a: a.all("expression"),
    "arraySize": lambda a: _null_in(len)(a.get("array")),
    "arraySum": _array_sum,
    "arrayAvg": _array_avg,
    "arrayFirst": lambda a: _first_non_null(a.get("array"), reverse=False),
    "arrayLast": lambda a: _first_non_null(a.get("array"), reverse=True),
    "arrayDistinct": _array_distinct,
    "splitString": _split_string,
    "replaceString": _replace_string,
    "matchesValue": _matches_value,
    "toBoolean": lambda a: _to_boolean(a.get("value")),
    "toTimestamp": lambda a: _to_timestamp(a.get("value")),
    "sqrt": _math(math.sqrt, "expression"),
    "log": _math(math.log, "expression"),
    "power": _math(math.pow, "base", "exponent"),
    "bin": _bin,
    "formatTimestamp": _format_timestamp,
    "getYear": _timestamp_part(lambda d: d.year),
    "getMonth": _timestamp_part(lambda d: d.month),
    "getDayOfMonth": _timestamp_part(lambda d: d.day),
    "getDayOfWeek": _timestamp_part(lambda d: d.isoweekday()),
    "getHour": _timestamp_part(lambda d: d.hour),
    "getMinute": _timestamp_part(lambda d: d.minute),
    "getSecond": _timestamp_part(lambda d: d.second),
}


# ------------------------------------------------------------------ aggregations
def _aggregate(call: Call, rows: Sequence[Row], evaluate: Evaluator) -> Any:
    function = get_catalog().function(call.name, "summarize")
    if function is None or not function.is_aggregation:
        raise EvaluationError(f"{call.name}() is not an aggregation")
    bound, _ = bind_call(call, function)
    name = function.name

    def values(parameter: str = "expression") -> list[Any]:
        value = bound.first(parameter)
        if value is None:
            raise EvaluationError(f"{name}() needs {parameter}")
        return [evaluate(value.expr, row) for row in rows]

    if name == "count":
        return len(rows)
    if name == "countIf":
        return sum(1 for v in values("condition") if _bool(v, "countIf") is True)
    present = [v for v in values() if v is not None]
    if name == "countDistinct":
        return len({_key(v) for v in present})
    if name in ("sum", "avg"):
        if not present:
            return None
        if all(isinstance(v, Duration) for v in present):
            total_ns = sum(v.ns for v in present)
            if name == "sum":
                return Duration(total_ns)
            quotient, remainder = divmod(total_ns, len(present))  # exact, to the nearest ns
            return Duration(quotient + (2 * remainder >= len(present)))
        for v in present:
            if not _is_number(v):
                raise EvaluationError(f"{name}() of {_type_name(v)}")
        total = sum(present)
        # a double either way: the catalog gives sum() the output types double/duration
        return float(total) if name == "sum" else total / len(present)
    if name in ("min", "max"):
        if not present:
            return None
        best = present[0]
        for v in present[1:]:
            order = _compare(v, best)
            if (order < 0) if name == "min" else (order > 0):
                best = v
        return best
    if name == "collectDistinct":
        seen: dict[object, Any] = {}
        for v in present:
            seen.setdefault(_key(v), v)
        return list(seen.values())
    if name == "collectArray":
        return present
    if name in ("takeFirst", "takeLast"):
        # the first/last value in record order; like every aggregation, it skips nulls
        if not present:
            return None
        return present[0] if name == "takeFirst" else present[-1]
    if name == "takeAny":
        return present[0] if present else None
    if name in ("takeMin", "takeMax"):
        if not present:
            return None
        ordered = sorted(present, key=cmp_to_key(_compare))
        return ordered[0] if name == "takeMin" else ordered[-1]
    if name in ("median", "percentile"):
        if name == "percentile":
            argument = bound.first("percentile")
            assert argument is not None
            rank = evaluate(argument.expr, {})
        else:
            rank = 50
        return _percentile(present, rank)
    if name in ("stddev", "variance"):
        for v in present:
            if not _is_number(v):  # the catalog: long and double only
                raise EvaluationError(f"{name}() of {_type_name(v)}")
        numbers = [float(v) for v in present]
        if not numbers:
            return None
        if len(numbers) <= SAMPLE_VARIANCE:
            return None
        mean = sum(numbers) / len(numbers)
        variance = sum((v - mean) ** 2 for v in numbers) / (len(numbers) - SAMPLE_VARIANCE)
        return variance if name == "variance" else math.sqrt(variance)
    raise EvaluationError(f"the reference does not implement {name}()")


def _percentile(values: list[Any], rank: float) -> Any:
    """Linear interpolation between the closest ranks (see ``PERCENTILE``)."""
    if not values:
        return None
    ordered = sorted(values, key=cmp_to_key(_compare))
    if isinstance(ordered[0], Duration | Timestamp):
        kind = type(ordered[0])
        result = _percentile([v.ns for v in ordered], rank)
        return kind(round(result))
    position = (len(ordered) - 1) * rank / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return float(ordered[low] + (ordered[high] - ordered[low]) * fraction)


# ------------------------------------------------------------------ commands
def _name_of(value: BoundValue) -> str:
    return value.name


def _pattern(node: Node) -> str:
    if isinstance(node, FieldRef):
        return node.name
    if isinstance(node, String):
        return node.value
    raise EvaluationError(f"a field name or pattern, not {type(node).__name__}")


def _matches(name: str, pattern: str) -> bool:
    if "*" not in pattern:
        return name == pattern
    return fnmatch.fnmatchcase(name, pattern.replace("[", "[[]").replace("?", "[?]"))


def _sort_key_function(
    keys: Sequence[tuple[Node, bool]], evaluate: Evaluator
) -> Callable[[Row, Row], int]:
    def compare(left: Row, right: Row) -> int:
        for expr, descending in keys:
            a, b = evaluate(expr, left), evaluate(expr, right)
            if a is None and b is None:
                continue
            if a is None or b is None:
                if NULLS_LAST:
                    return 1 if a is None else -1
                order = -1 if a is None else 1
            else:
                order = _compare(a, b)
                if descending:
                    order = -order
            if order:
                return order
        return 0

    return compare


def _sort_keys(values: Iterable[BoundValue]) -> list[tuple[Node, bool]]:
    keys: list[tuple[Node, bool]] = []
    for value in values:
        node = value.expr
        if isinstance(node, Sorted):
            keys.append((node.expr, node.direction == "desc"))
        else:
            keys.append((node, False))
    return keys


def _string_argument(value: BoundValue | None) -> str | None:
    if value is None:
        return None
    node = value.expr
    if isinstance(node, String):
        return node.value
    if isinstance(node, FieldRef):
        return node.name
    raise EvaluationError("expected a string or name")


class Interpreter:
    def __init__(self, data: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self.data = data
        self.timeframe: tuple[Timestamp | None, Timestamp | None] = (None, None)
        self.evaluate = Evaluator(self)

    def run(self, query: Query | str) -> list[Row]:
        parsed = parse(query) if isinstance(query, str) else query
        return self.pipeline(parsed.commands)

    def pipeline(self, commands: Sequence[Command]) -> list[Row]:
        if not commands:
            raise EvaluationError("an empty pipeline")
        rows: list[Row] = []
        for index, command in enumerate(commands):
            spec = get_catalog().command(command.name)
            if spec is None:
                raise EvaluationError(f"unknown command {command.name}")
            if spec.is_start != (index == 0):
                raise EvaluationError(f"{command.name} cannot stand at position {index}")
            bound = bind_command(command, spec)
            if bound.problems:
                problem = bound.problems[0]
                raise EvaluationError(f"{command.name}: {problem.kind} {problem.name}")
            handler = getattr(self, f"_{spec.name}", None)
            if handler is None:
                raise EvaluationError(f"the reference does not implement {spec.name}")
            rows = handler(bound, rows)
        return rows

    # -- start commands
    def _fetch(self, bound: BoundArguments, _: list[Row]) -> list[Row]:
        name = _string_argument(bound.first("dataObject"))
        if name not in self.data:
            raise EvaluationError(f"no data for {name}")
        rows = [_typed(row) for row in self.data[name]]
        start, end = bound.first("from"), bound.first("to")
        if start is None and end is None:
            return rows
        low = self._time_bound(start)
        high = self._time_bound(end)
        self.timeframe = (low, high)  # the query timeframe, for makeTimeseries
        kept = []
        for row in rows:
            value = row.get("timestamp")
            moment = Timestamp.parse(value) if isinstance(value, str) else value
            if isinstance(moment, Timestamp) and _within(moment, low, high):
                kept.append(row)
        return kept

    def _time_bound(self, value: BoundValue | None) -> Timestamp | None:
        if value is None:
            return None
        result = self.evaluate(value.expr, {})
        if isinstance(result, str):
            result = Timestamp.parse(result)
        if not isinstance(result, Timestamp):
            raise EvaluationError("the reference takes absolute from:/to: timestamps only")
        return result

    def _data(self, bound: BoundArguments, _: list[Row]) -> list[Row]:
        json_value = bound.first("json")
        if json_value is not None:
            text = _string_argument(json_value)
            loaded = json.loads(text or "null")
            records = loaded if isinstance(loaded, list) else [loaded]
            if not all(isinstance(r, dict) for r in records):
                raise EvaluationError("data json: needs objects")
            return [dict(r) for r in records]
        rows = []
        for value in bound.get("record"):
            record = self.evaluate(value.expr, {})
            if not isinstance(record, dict):
                raise EvaluationError("data takes record(...) values")
            rows.append(record)
        return rows

    # -- pipe commands
    def _filter(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        condition = bound.first("condition")
        assert condition is not None
        return [r for r in rows if _bool(self.evaluate(condition.expr, r), "filter") is True]

    def _filterOut(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        condition = bound.first("condition")
        assert condition is not None
        return [r for r in rows if _bool(self.evaluate(condition.expr, r), "filterOut") is not True]

    def _fields(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        values = bound.get("expression")
        return [{_name_of(v): self.evaluate(v.expr, row) for v in values} for row in rows]

    def _fieldsAdd(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        values = bound.get("expression")
        result = []
        for row in rows:
            new = dict(row)  # in order: a later assignment sees an earlier one
            for value in values:
                new[_name_of(value)] = self.evaluate(value.expr, new)
            result.append(new)
        return result

    def _patterns(self, bound: BoundArguments) -> list[str]:
        return [_pattern(v.expr) for v in bound.get("field")]

    def _fieldsKeep(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        patterns = self._patterns(bound)
        return [{k: v for k, v in r.items() if any(_matches(k, p) for p in patterns)} for r in rows]

    def _fieldsRemove(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        patterns = self._patterns(bound)
        return [
            {k: v for k, v in r.items() if not any(_matches(k, p) for p in patterns)} for r in rows
        ]

    def _fieldsRename(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        renames: list[tuple[str, str]] = []
        for value in bound.get("field"):
            if value.assigned_name is None or not isinstance(value.expr, FieldRef):
                raise EvaluationError("fieldsRename needs new = old")
            renames.append((value.expr.name, value.assigned_name))
        result = []
        for row in rows:
            new = dict(row)
            for old, name in renames:
                if old in new:
                    moved = new.pop(old)
                    new = {k: v for k, v in new.items() if k != name}
                    new[name] = moved
            result.append(new)
        return result

    def _summarize(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        keys = bound.get("by")
        aggregations = bound.get("aggregation")
        groups: dict[tuple[object, ...], tuple[list[Any], list[Row]]] = {}
        for row in rows:
            key_values = [self.evaluate(k.expr, row) for k in keys]
            group_key = tuple(_key(v) for v in key_values)
            groups.setdefault(group_key, (key_values, []))[1].append(row)
        if not keys and not groups:
            groups[()] = ([], [])
        result = []
        for key_values, members in groups.values():
            out: Row = {_name_of(k): v for k, v in zip(keys, key_values, strict=True)}
            for aggregation in aggregations:
                out[_name_of(aggregation)] = self._aggregation_value(aggregation.expr, members)
            result.append(out)
        return result

    def _aggregation_value(self, node: Node, rows: Sequence[Row]) -> Any:
        """An aggregation expression: calls aggregate ``rows``; anything around them is
        evaluated on the aggregated values (``sum(a) / count()``)."""
        if isinstance(node, Call):
            function = get_catalog().function(node.name, "summarize")
            if function is not None and function.is_aggregation:
                return _aggregate(node, rows, self.evaluate)
        if isinstance(node, Binary):
            op, operands = binary_operands(node)
            return apply_operator(op, [self._aggregation_value(o, rows) for o in operands])
        if isinstance(node, Long | Double | String | Boolean | Null):
            return self.evaluate(node, {})
        raise EvaluationError("summarize takes aggregation calls")

    def _makeTimeseries(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        """One record per ``by:`` group: the keys, ``timeframe`` {start, end},
        ``interval``, and per aggregation an array with one value per interval (null
        where the interval has no record); no record at all without data. The timeframe
        is ``from:``/``to:`` (of the command, else of ``fetch``), else the data's first
        to last timestamp, aligned to the interval. Only ``interval:`` is taken (``bins:``
        picks an interval from a ladder the DQL docs do not give)."""
        for other in ("bins", "default", "nonempty", "spread", "rate", "timeframe"):
            if bound.has(other):
                raise EvaluationError(f"the reference does not take makeTimeseries {other}:")
        interval_value = bound.first("interval")
        if interval_value is None:
            raise EvaluationError("the reference takes makeTimeseries with interval: only")
        interval = self.evaluate(interval_value.expr, {})
        if not isinstance(interval, Duration) or interval.ns <= 0:
            raise EvaluationError("interval: needs a positive duration")
        width = interval.ns
        time_value = bound.first("time")
        time_expr: Node = time_value.expr if time_value else FieldRef(name="timestamp")
        low = self._time_bound(bound.first("from")) or self.timeframe[0]
        high = self._time_bound(bound.first("to")) or self.timeframe[1]
        # The timeframe widened to whole intervals is the one whose records count
        # (docs/running.md): it matters for records that `append` brings in.
        if low is not None:
            low = Timestamp(low.ns // width * width)
        if high is not None:
            high = Timestamp(-(-high.ns // width) * width)
        stamped = []
        for row in rows:
            moment = self.evaluate(time_expr, row)
            if isinstance(moment, Timestamp) and _within(moment, low, high):
                stamped.append((moment.ns, row))
        if not stamped:  # no data, no series (nonempty: true, default false, would differ)
            return []
        start = (low.ns if low else min(ns for ns, _ in stamped)) // width * width
        stop = high.ns if high else max(ns for ns, _ in stamped) + 1
        bins = -(-(stop - start) // width)
        keys = bound.get("by")
        groups: dict[tuple[object, ...], tuple[list[Any], list[list[Row]]]] = {}
        if not keys:
            groups[()] = ([], [[] for _ in range(bins)])
        for ns, row in stamped:
            key_values = [self.evaluate(k.expr, row) for k in keys]
            group = groups.setdefault(
                tuple(_key(v) for v in key_values), (key_values, [[] for _ in range(bins)])
            )
            group[1][(ns - start) // width].append(row)
        frame = {"start": Timestamp(start), "end": Timestamp(start + bins * width)}
        result = []
        for key_values, members in groups.values():
            out: Row = {_name_of(k): v for k, v in zip(keys, key_values, strict=True)}
            out["timeframe"] = frame
            out["interval"] = Duration(width)
            for aggregation in bound.get("aggregation"):
                out[_name_of(aggregation)] = [
                    self._aggregation_value(aggregation.expr, bucket) if bucket else None
                    for bucket in members
                ]
            result.append(out)
        return result

    def _sort(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        keys = _sort_keys(bound.get("expression"))
        return sorted(rows, key=cmp_to_key(_sort_key_function(keys, self.evaluate)))

    def _limit(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        size = bound.first("size")
        assert size is not None
        count = self.evaluate(size.expr, {})
        if not isinstance(count, int) or count < 0:
            raise EvaluationError("limit needs a non-negative long")
        return rows[:count]

    def _dedup(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        keys = bound.get("expression")
        sort_keys = _sort_keys(bound.get("sort"))
        ordered = sorted(rows, key=cmp_to_key(_sort_key_function(sort_keys, self.evaluate)))
        seen: set[tuple[object, ...]] = set()
        result = []
        for row in ordered:
            key = tuple(_key(self.evaluate(k.expr, row)) for k in keys)
            if key not in seen:
                seen.add(key)
                result.append(row)
        return result

    def _expand(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        value = bound.first("expression")
        assert value is not None
        name = _name_of(value)
        limit_value = bound.first("limit")
        limit = None if limit_value is None else self.evaluate(limit_value.expr, {})
        result = []
        for row in rows:
            array = self.evaluate(value.expr, row)
            if array is None:
                if EXPAND_KEEPS_NULL:
                    result.append({**row, name: None})
                continue
            if not isinstance(array, list):
                raise EvaluationError(f"expand needs an array, got {_type_name(array)}")
            for element in array[:limit] if limit is not None else array:
                new = {k: v for k, v in row.items() if k != name}
                new[name] = element
                result.append(new)
        return result

    def _append(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        source = bound.first("source")
        assert source is not None and isinstance(source.expr, Block)
        return rows + self.pipeline(source.expr.commands)

    def _block(self, value: BoundValue | None) -> list[Row]:
        if value is None or not isinstance(value.expr, Block):
            raise EvaluationError("expected a subquery [ ... ]")
        return self.pipeline(value.expr.commands)

    def _lookup(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        table = self._block(bound.first("lookupTable"))
        lookup_field = _string_argument(bound.first("lookupField"))
        source_field = _string_argument(bound.first("sourceField")) or lookup_field
        assert lookup_field is not None and source_field is not None
        chosen = bound.get("fields")
        prefix = _string_argument(bound.first("prefix"))
        prefix = "lookup." if prefix is None else prefix
        first: dict[object, Row] = {}
        for right in table:
            key = right.get(lookup_field)
            if key is not None:
                first.setdefault(_key(key), right)
        result = []
        for row in rows:
            value = row.get(source_field)
            match = first.get(_key(value)) if value is not None else None
            if chosen:
                added = _pick(match, chosen)
                new = {k: v for k, v in row.items() if k not in added}
            else:
                names = list(match) if match is not None else []
                added = {prefix + k: match[k] for k in names} if match is not None else {}
                new = {k: v for k, v in row.items() if not k.startswith(prefix)}
            new.update(added)
            result.append(new)
        return result

    def _join_pairs(
        self, bound: BoundArguments, rows: list[Row], table: list[Row]
    ) -> list[tuple[int, int]]:
        """Index pairs (left, right) whose ``on:`` conditions are all true."""
        conditions = bound.get("on")
        pairs = []
        for i, left in enumerate(rows):
            for j, right in enumerate(table):
                if all(self._on(c.expr, left, right) for c in conditions):
                    pairs.append((i, j))
        return pairs

    def _on(self, node: Node, left: Row, right: Row) -> bool:
        if isinstance(node, FieldRef):  # on: {k} means left[k] == right[k]
            a, b = left.get(node.name), right.get(node.name)
            return a is not None and b is not None and _equal(a, b)
        sides = {"left": left, "right": right}
        value = self.evaluate(_sided(node), {f"\x00{k}": v for k, v in sides.items()})
        return value is True

    def _join(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        table = self._block(bound.first("joinTable"))
        kind = _string_argument(bound.first("kind")) or "inner"
        if kind not in ("inner", "leftOuter", "outer"):
            raise EvaluationError(f"join kind {kind}")
        prefix = _string_argument(bound.first("prefix"))
        prefix = "right." if prefix is None else prefix
        chosen = bound.get("fields")

        right_names = list(dict.fromkeys(k for right in table for k in right))

        def right_part(right: Row | None) -> Row:
            # every right field, null without a match (it replaces a same-named left one)
            if chosen:
                return _pick(right, chosen)
            return {prefix + k: None if right is None else right.get(k) for k in right_names}

        pairs = self._join_pairs(bound, rows, table)
        result = [{**rows[i], **right_part(table[j])} for i, j in pairs]
        if kind in ("leftOuter", "outer"):
            matched = {i for i, _ in pairs}
            missing = right_part(None)
            result += [{**row, **missing} for i, row in enumerate(rows) if i not in matched]
        if kind == "outer":
            matched = {j for _, j in pairs}
            result += [right_part(right) for j, right in enumerate(table) if j not in matched]
        return result

    def _joinNested(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        value = bound.first("joinTable")
        if value is None or value.assigned_name is None:
            raise EvaluationError("joinNested needs name = [ ... ]")
        table = self._block(value)
        chosen = bound.get("fields")
        nested: list[list[Row]] = [[] for _ in rows]
        for i, j in self._join_pairs(bound, rows, table):
            right = table[j]
            if chosen:
                right = _pick(right, chosen)
            nested[i].append(right)
        return [{**row, value.assigned_name: nested[i]} for i, row in enumerate(rows)]

    def _fieldsFlatten(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        target = bound.first("expression")
        if target is None or not isinstance(target.expr, FieldRef):
            raise EvaluationError("fieldsFlatten needs a field")
        name = target.expr.name
        prefix = _string_argument(bound.first("prefix"))
        prefix = f"{name}." if prefix is None else prefix
        depth_value = bound.first("depth")
        depth = 1 if depth_value is None else self.evaluate(depth_value.expr, {})
        chosen = bound.get("fields")
        result = []
        for row in rows:
            record = row.get(name)
            new = dict(row)
            if isinstance(record, dict):
                if chosen:
                    new.update(_pick(record, chosen))
                else:
                    new.update(_flatten(record, prefix, depth))
            result.append(new)
        return result

    def _search(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        condition = bound.first("condition")
        if condition is None or not isinstance(condition.expr, String):
            raise EvaluationError("the reference searches for a string only")
        needle = condition.expr.value
        sensitive = bound.first("caseSensitive")
        case = sensitive is not None and self.evaluate(sensitive.expr, {}) is True

        def found(value: Any) -> bool:
            if isinstance(value, str):
                return needle in value if case else needle.lower() in value.lower()
            # strings at any depth: in arrays and records (docs/running.md)
            if isinstance(value, list):
                return any(found(v) for v in value)
            if isinstance(value, dict):
                return any(found(v) for v in value.values())
            return False

        return [row for row in rows if any(found(v) for v in row.values())]

    def _fieldsSummary(self, bound: BoundArguments, rows: list[Row]) -> list[Row]:
        top_value = bound.first("topValues")
        top = 20 if top_value is None else self.evaluate(top_value.expr, {})
        columns = [[self.evaluate(v.expr, row) for row in rows] for v in bound.get("field")]
        kinds = {_type_name(v) for column in columns for v in column if v is not None}
        if {"long", "double"} <= kinds:
            kinds -= {"long"}
        # one element type for every `values` array: text when the fields' types differ
        # (the engine's documented decision; the docs only show one field)
        as_text = len(kinds) > 1
        result = []
        for value, values in zip(bound.get("field"), columns, strict=True):
            present = [v for v in values if v is not None]
            counts: dict[object, list[Any]] = {}
            for v in present:
                counts.setdefault(_key(v), [v, 0])[1] += 1
            ranked = sorted(counts.values(), key=lambda pair: -pair[1])[:top]
            if as_text:
                ranked = [[_to_string(v), n] for v, n in ranked]
            # rawCount counts the records read, count the records they stand for; they
            # differ only with sampling (extrapolateSamples), which local data never has
            result.append(
                {
                    "field": value.name,
                    "rawCount": len(present),
                    "count": len(present),
                    "values": [{"value": v, "count": n} for v, n in ranked],
                }
            )
        return result


# Fields typed by their well-known names, as the engine documents it (its docs page):
# ISO-8601 strings in these are timestamps, whole numbers in ``duration`` nanoseconds.
TIMESTAMP_FIELDS = ("timestamp", "start_time", "end_time")


def _typed(record: Mapping[str, Any]) -> Row:
    row = dict(record)
    for name in TIMESTAMP_FIELDS:
        if isinstance(row.get(name), str):
            row[name] = Timestamp.parse(row[name])
    if isinstance(row.get("duration"), int) and not isinstance(row["duration"], bool):
        row["duration"] = Duration(row["duration"])
    return row


def _field_name(value: BoundValue) -> str:
    if not isinstance(value.expr, FieldRef):
        raise EvaluationError("fields: takes field names")
    return value.expr.name


def _within(moment: Timestamp, low: Timestamp | None, high: Timestamp | None) -> bool:
    return (low is None or moment.ns >= low.ns) and (high is None or moment.ns < high.ns)


def _pick(record: Mapping[str, Any] | None, chosen: Sequence[BoundValue]) -> Row:
    """The ``fields:`` of a lookup or join: each listed field of ``record`` under its
    (possibly new) name; all null without a record."""
    return {v.name: None if record is None else record.get(_field_name(v)) for v in chosen}


def _flatten(record: Mapping[str, Any], prefix: str, depth: int) -> Row:
    flat: Row = {}
    for key, value in record.items():
        if isinstance(value, dict) and depth > 1:
            flat.update(_flatten(value, f"{prefix}{key}.", depth - 1))
        else:
            flat[prefix + key] = value
    return flat


def _sided(node: Node) -> Node:
    """``left[a] == right[b]`` with the sides read from the two pseudo-fields the join
    evaluates it on."""
    base = node.base if isinstance(node, Access) else None
    if isinstance(base, FieldRef) and base.name in ("left", "right"):
        assert isinstance(node, Access)
        if isinstance(node.key, str):
            return node.model_copy(update={"base": FieldRef(name="\x00" + node.base.name)})
    if isinstance(node, Binary):
        op, operands = binary_operands(node)
        return binary_chain(op, [_sided(o) for o in operands])
    return node


def _record(a: _Args) -> Any:
    record: Row = {}
    for value in a.bound.get("expression"):
        record[value.name] = a.evaluate(value.expr, a.row)
    return record


SCALARS["record"] = _record


Data = Mapping[str, Sequence[Mapping[str, Any]]]


def run(query: Query | str, data: Data | None = None) -> list[Row]:
    """The rows ``query`` returns on ``data`` (data object name -> records)."""
    return Interpreter(data or {}).run(query)


__all__ = [
    "EXPAND_KEEPS_NULL",
    "NULLS_LAST",
    "Duration",
    "EvaluationError",
    "Interpreter",
    "Row",
    "Timestamp",
    "binary_chain",
    "binary_operands",
    "run",
]
