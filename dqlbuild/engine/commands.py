"""The commands of the local engine: each turns its input relation into a new CTE.

Decisions (docs/running.md): ``fieldsAdd`` evaluates its assignments in order (a later
one sees an earlier one) and a replaced field keeps its position; ``summarize`` outputs
its ``by:`` keys first and orders groups by them; ``sort`` is stable and puts nulls last
in both directions; ``dedup`` keeps the first record of each key (by ``sort:`` if given);
``expand`` drops records whose array is empty or null; ``fetch`` without ``from:`` reads
every record given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlglot import exp

from dqlbuild.analysis.binding import BoundArguments, BoundValue
from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import Assign, Call, Command, FieldRef, Sorted, String
from dqlbuild.engine import sql
from dqlbuild.engine.compiler import Compiler, TimeRange
from dqlbuild.engine.core import ORDER, Relation, Scope, Typed, evaluation_error, unsupported
from dqlbuild.engine.data import Column
from dqlbuild.engine.expressions import compile_expr, expect_boolean
from dqlbuild.engine.functions import constant_value
from dqlbuild.engine.types import (
    BOOLEAN,
    DOUBLE,
    LONG,
    NULL,
    STRING,
    DType,
    array_of,
    record_of,
    unify,
)
from dqlbuild.errors import DQLDataError

Implementation = Callable[[Compiler, Any, Command, BoundArguments], Relation]
COMMANDS: dict[str, Implementation] = {}
START_COMMANDS = {"fetch", "data"}


def command(name: str, *parameters: str) -> Callable[[Implementation], Implementation]:
    """Register a command; values bound to other parameters are refused by name."""
    supported = frozenset(p.lower() for p in parameters)

    def register(implementation: Implementation) -> Implementation:
        def checked(
            compiler: Compiler, relation: Relation | None, cmd: Command, bound: BoundArguments
        ) -> Relation:
            for value in bound.values:
                if value.parameter is not None and value.parameter.name.lower() not in supported:
                    raise unsupported(
                        f"the parameter {value.parameter.name!r} of {name}",
                        value.carrier or value.node,
                    )
            return implementation(compiler, relation, cmd, bound)

        COMMANDS[name] = checked
        return implementation

    return register


# --------------------------------------------------------------------------- helpers
def scope(compiler: Compiler, relation: Relation) -> Scope:
    return Scope(relation, compiler)


def empty_relation() -> Relation:
    return Relation("", (), exact=True)


def text_of(node: Node) -> str | None:
    if isinstance(node, FieldRef):
        return node.name
    if isinstance(node, String):
        return node.value
    return None


def keep_all(
    relation: Relation,
    *,
    replace: dict[str, exp.Expr] | None = None,
    add: Sequence[tuple[str, exp.Expr]] = (),
    drop: Iterable[str] = (),
    rename: dict[str, str] | None = None,
    order: exp.Expr | None = None,
) -> list[exp.Expr]:
    """A select list keeping every field of ``relation`` (and its order column), with
    fields replaced in place, dropped, renamed, and new ones added at the end."""
    replace = replace or {}
    rename = rename or {}
    dropped = set(drop)
    items: list[exp.Expr] = []
    if relation.open:  # the caller only replaces, drops or renames fields that exist
        excluded = [sql.col(n) for n in (*dropped, *replace, *rename)]
        if order is not None:
            excluded.append(sql.col(ORDER))
        items.append(exp.Star(except_=excluded) if excluded else exp.Star())
        items.extend(sql.alias(e, n) for n, e in replace.items())
        items.extend(sql.alias(sql.col(old), new) for old, new in rename.items())
    else:
        items.append(sql.alias(order, ORDER) if order is not None else sql.col(ORDER))
        for column in relation.columns:
            name = column.name
            if name in dropped:
                continue
            if name in replace:
                items.append(sql.alias(replace[name], name))
            elif name in rename:
                items.append(sql.alias(sql.col(name), rename[name]))
            else:
                items.append(sql.col(name))
    if relation.open and order is not None:
        items.append(sql.alias(order, ORDER))
    items.extend(sql.alias(e, n) for n, e in add)
    return items


def select_from(relation: Relation, items: Sequence[exp.Expr]) -> exp.Select:
    return exp.select(*items, copy=False).from_(sql.ident(relation.name), copy=False)


def check_unique(names: Sequence[str], node: Node) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise evaluation_error(f"the field {name!r} is given twice", node)
        seen.add(name)


# --------------------------------------------------------------------------- fetch
def _time_bound(compiler: Compiler, node: Node, what: str) -> exp.Expr:
    value = compile_expr(Scope(empty_relation(), compiler), node)
    if value.type.kind == "timestamp":
        return value.sql
    if value.type.kind == "duration":
        from dqlbuild.engine.expressions import arithmetic
        from dqlbuild.engine.timefunctions import now

        base = now(Scope(empty_relation(), compiler))
        return arithmetic("+", base, value, node).sql
    if value.type.kind == "string" and isinstance(value.sql, exp.Literal):
        from dqlbuild.engine.timefunctions import parse_iso

        return parse_iso(value.sql)
    raise evaluation_error(
        f"{what} is a timestamp, a duration (before now) or an ISO-8601 text, "
        f"not a {value.type} value",
        node,
    )


def _timeframe(compiler: Compiler, bound: BoundArguments) -> TimeRange | None:
    start_value, end_value = bound.first("from"), bound.first("to")
    frame = bound.first("timeframe")
    if frame is not None:
        text = constant_value(frame.expr, "timeframe:")
        if not isinstance(text, str) or text.count("/") != 1:
            raise unsupported('a timeframe: other than a text "start/end"', frame.expr)
        from dqlbuild.engine.timefunctions import parse_iso

        start_text, end_text = text.split("/")
        return TimeRange(parse_iso(sql.string(start_text)), parse_iso(sql.string(end_text)))
    if start_value is None and end_value is None:
        return None
    start = _time_bound(compiler, start_value.expr, "from:") if start_value else None
    if end_value is not None:
        end = _time_bound(compiler, end_value.expr, "to:")
    else:
        end = sql.long(compiler.now_ns)  # a timeframe without an end ends now
    return TimeRange(start, end)


@command("fetch", "dataObject", "from", "to", "timeframe", "samplingRatio", "scanLimitGBytes")
def _fetch(compiler: Compiler, _: None, cmd: Command, bound: BoundArguments) -> Relation:
    value = bound.first("dataObject")
    assert value is not None
    name = text_of(value.expr)
    if name is None:
        raise evaluation_error("fetch reads a data object given by name", value.expr)
    source = compiler.source(name, value.expr)
    for ignored in ("samplingRatio", "scanLimitGBytes"):
        if bound.has(ignored):
            compiler.note(f"fetch {name}: {ignored} is ignored; every record given is read")
    columns = source.columns
    table = sql.ident(source.table)
    if columns is None:
        items: list[exp.Expr] = [exp.Star(), sql.alias(sql.row_number([]), ORDER)]
    elif source.has_order:
        items = [exp.Star()]
    else:
        items = [sql.alias(sql.row_number([]), ORDER), *(sql.col(c.name) for c in columns)]
    select = exp.select(*items, copy=False).from_(table, copy=False)
    timeframe = _timeframe(compiler, bound)
    if timeframe is not None:
        if compiler.timeframe is None:
            compiler.timeframe = timeframe
        time_column = next((c for c in columns or () if c.name == "timestamp"), None)
        time_kind = time_column.type.kind if time_column is not None else "null"
        if columns is not None and time_kind not in ("timestamp", "null"):
            raise DQLDataError(
                f"fetch {name} with a timeframe reads the field 'timestamp', which is a "
                f"{time_column.type if time_column else 'null'} in the data, not a timestamp",
                line=cmd.span.line if cmd.span else None,
                column=cmd.span.column if cmd.span else None,
                hint="declare it: types={'" + name + "': {'timestamp': 'timestamp'}}",
            )
        conditions: list[exp.Expr] = []
        if columns is not None and time_kind == "null":
            # No record has a time, so none lies in the timeframe.
            compiler.note(f"fetch {name}: the data has no timestamp; no record is in the timeframe")
            conditions.append(sql.boolean(False))
        elif timeframe.start is not None or timeframe.end is not None:
            time = sql.col("timestamp")
            if timeframe.start is not None:
                conditions.append(exp.GTE(this=time, expression=timeframe.start))
            if timeframe.end is not None:
                conditions.append(exp.LT(this=time.copy(), expression=timeframe.end))
        if conditions:
            select = select.where(sql.and_all(conditions), copy=False)
    return compiler.add(select, columns or (), open=columns is None, source=name)


# --------------------------------------------------------------------------- data
def python_value(value: Any, where: str) -> Typed:
    """A JSON value as a typed SQL constant."""
    if value is None:
        return Typed(sql.null(), NULL, True)
    if isinstance(value, bool):
        return Typed(sql.boolean(value), BOOLEAN, True)
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise DQLDataError(f"{where}: {value} is outside the range of a long")
        return Typed(sql.long(value), LONG, True)
    if isinstance(value, float):
        return Typed(sql.double(value), DOUBLE, True)
    if isinstance(value, str):
        return Typed(sql.string(value), STRING, True)
    if isinstance(value, list):
        items = [python_value(item, where) for item in value]
        element = _unified([i.type for i in items], where, "array elements")
        converted = [_as(item, element) for item in items]
        array: exp.Expr = exp.Array(expressions=converted)
        if element == NULL:
            array = sql.cast(array, "VARCHAR[]")
        return Typed(array, array_of(element), True)
    if isinstance(value, dict):
        fields = [(str(k), python_value(v, where)) for k, v in value.items()]
        struct = exp.Struct(
            expressions=[exp.PropertyEQ(this=sql.ident(k), expression=v.sql) for k, v in fields]
        )
        return Typed(struct, record_of(tuple((k, v.type) for k, v in fields)), True)
    raise DQLDataError(f"{where}: unsupported JSON value {value!r}")


def _unified(types: Sequence[DType], where: str, what: str) -> DType:
    result: DType = NULL
    for kind in types:
        joined = unify(result, kind)
        if joined is None:
            raise DQLDataError(f"{where}: {what} of different types ({result} and {kind})")
        result = joined
    return result


def _as(value: Typed, kind: DType) -> exp.Expr:
    if value.type == kind or kind.kind in ("null", "any"):
        return value.sql
    from dqlbuild.engine.functions import coerce

    return coerce(value, kind)


def _records_relation(
    compiler: Compiler, records: list[list[tuple[str, Typed]]], node: Node
) -> Relation:
    names: list[str] = []
    types: dict[str, DType] = {}
    for number, record in enumerate(records, 1):
        for name, value in record:
            if name not in types:
                names.append(name)
                types[name] = value.type
                continue
            joined = unify(types[name], value.type)
            if joined is None:
                raise evaluation_error(
                    f"data: field {name!r} is {types[name]} in an earlier record and "
                    f"{value.type} in record {number}; a field must have one type",
                    node,
                )
            types[name] = joined
    selects: list[exp.Select] = []
    for number, record in enumerate(records):
        values = dict(record)
        items: list[exp.Expr] = [sql.alias(sql.long(number), ORDER)]
        for name in names:
            kind = types[name]
            given = values.get(name)
            item = sql.typed_null(kind) if given is None else _as(given, kind)
            if kind != NULL and (given is None or given.type == NULL):
                item = sql.typed_null(kind)
            items.append(sql.alias(item, name))
        selects.append(exp.select(*items, copy=False))
    union: exp.Expr = selects[0]
    for select in selects[1:]:
        union = exp.Union(this=union, expression=select, distinct=False)
    wrapped = exp.select(exp.Star(), copy=False).from_(
        exp.Subquery(this=union, alias=exp.TableAlias(this=sql.ident("records"))), copy=False
    )
    columns = [Column(name, types[name]) for name in names]
    return compiler.add(wrapped, columns, exact=True)


@command("data", "record", "json")
def _data(compiler: Compiler, _: None, cmd: Command, bound: BoundArguments) -> Relation:
    records: list[list[tuple[str, Typed]]] = []
    empty = Scope(empty_relation(), compiler)
    json_value = bound.first("json")
    if json_value is not None:
        text = constant_value(json_value.expr, "data json:")
        if not isinstance(text, str):
            raise evaluation_error("data json: takes a JSON text", json_value.expr)
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise evaluation_error(f"data json: not valid JSON: {exc}", json_value.expr) from None
        rows = loaded if isinstance(loaded, list) else [loaded]
        for number, row in enumerate(rows, 1):
            if not isinstance(row, dict):
                raise evaluation_error(
                    f"data json: record {number} is not an object", json_value.expr
                )
            records.append(
                [(str(k), python_value(v, f"data json: record {number}")) for k, v in row.items()]
            )
    for value in bound.get("record"):
        node = value.expr
        if not (isinstance(node, Call) and node.name.lower() == "record"):
            raise unsupported("data with a value that is not record(...)", node)
        record = compile_expr(empty, node)
        fields = []
        for key, kind in record.type.fields:
            extracted = exp.StructExtract(this=record.sql, expression=sql.string(key))
            fields.append((key, Typed(extracted, kind, True)))
        records.append(fields)
    if not records:
        raise evaluation_error("data needs at least one record", cmd)
    return _records_relation(compiler, records, cmd)


# --------------------------------------------------------------------------- filtering
def _condition(compiler: Compiler, relation: Relation, bound: BoundArguments) -> Typed:
    value = bound.first("condition")
    assert value is not None
    condition = compile_expr(scope(compiler, relation), value.expr)
    expect_boolean(condition, value.expr, "a filter condition")
    return condition


@command("filter", "condition")
def _filter(
    compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments
) -> Relation:
    condition = _condition(compiler, relation, bound)
    select = (
        exp.select(exp.Star(), copy=False)
        .from_(sql.ident(relation.name), copy=False)
        .where(condition.sql, copy=False)
    )
    return compiler.add(
        select, relation.columns, open=relation.open, exact=relation.exact, source=relation.source
    )


@command("filterOut", "condition")
def _filter_out(
    compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments
) -> Relation:
    condition = _condition(compiler, relation, bound)
    # Records where the condition is null stay: only those it matches go.
    kept = sql.not_(sql.coalesce(condition.sql, sql.boolean(False)))
    select = (
        exp.select(exp.Star(), copy=False)
        .from_(sql.ident(relation.name), copy=False)
        .where(kept, copy=False)
    )
    return compiler.add(
        select, relation.columns, open=relation.open, exact=relation.exact, source=relation.source
    )


@command("search", "condition", "caseSensitive", "fields", "skipFields")
def _search(
    compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments
) -> Relation:
    value = bound.first("condition")
    assert value is not None
    if not isinstance(value.expr, String):
        return _filter(compiler, relation, cmd, bound)
    if relation.open:
        raise unsupported("search over all fields without a schema", value.expr)

    flag = bound.first("caseSensitive")
    case_sensitive = bool(constant_value(flag.expr, "caseSensitive:")) if flag else False
    only = {v.name for v in bound.get("fields")}
    skipped = {v.name for v in bound.get("skipFields")}
    tests: list[exp.Expr] = []
    for column in relation.columns:
        if (only and column.name not in only) or column.name in skipped:
            continue
        tests.extend(
            _text_tests(sql.col(column.name), column.type, value.expr.value, case_sensitive)
        )
    condition = sql.or_all([sql.paren(t) for t in tests]) if tests else sql.boolean(False)
    select = (
        exp.select(exp.Star(), copy=False)
        .from_(sql.ident(relation.name), copy=False)
        .where(condition, copy=False)
    )
    return compiler.add(select, relation.columns, exact=relation.exact, source=relation.source)


def _text_tests(
    subject: exp.Expr, kind: DType, text: str, case_sensitive: bool, depth: int = 0
) -> list[exp.Expr]:
    """Conditions that ``text`` occurs in a string, or in a string anywhere inside an
    array or a record (``search``)."""
    from dqlbuild.engine.strings import contains_text

    if kind.kind == "string":
        return [contains_text(subject, text, case_sensitive=case_sensitive)]
    if kind.kind == "array" and kind.element is not None:
        element = exp.to_identifier(f"element{depth}")
        inner = _text_tests(element, kind.element, text, case_sensitive, depth + 1)
        if not inner:
            return []
        condition = sql.or_all([sql.paren(test) for test in inner])
        matches = exp.ArrayFilter(
            this=subject, expression=exp.Lambda(this=condition, expressions=[element])
        )
        return [exp.GT(this=exp.ArraySize(this=matches), expression=sql.integer(0))]
    if kind.kind == "record":
        return [
            test
            for key, value in kind.fields
            for test in _text_tests(
                exp.StructExtract(this=subject.copy(), expression=sql.string(key)),
                value,
                text,
                case_sensitive,
                depth,
            )
        ]
    return []


# --------------------------------------------------------------------------- fields
def _references(node: Node) -> set[str]:
    return {n.name for n in node.walk() if isinstance(n, FieldRef)}


@command("fields", "expression")
def _fields(
    compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments
) -> Relation:
    here = scope(compiler, relation)
    chosen: dict[str, Typed] = {}
    for value in bound.get("expression"):
        chosen[value.name] = compile_expr(here, value.expr)  # a repeated name: the last wins
    items = [sql.col(ORDER), *(sql.alias(v.sql, n) for n, v in chosen.items())]
    columns = [Column(n, v.type) for n, v in chosen.items()]
    return compiler.add(select_from(relation, items), columns, exact=True)


def add_columns(compiler: Compiler, relation: Relation, values: dict[str, Typed]) -> Relation:
    """One stage adding fields (at the end) or replacing them (in place; without a
    schema, at the end)."""

    def exists(name: str) -> bool:
        return relation.column(name) is not None or (relation.open and name in compiler.assumed)

    replace = {n: v.sql for n, v in values.items() if exists(n)}
    add = [(n, v.sql) for n, v in values.items() if not exists(n)]
    columns = [
        Column(c.name, values[c.name].type) if c.name in values else c for c in relation.columns
    ]
    columns.extend(Column(n, values[n].type) for n, _ in add)
    items = keep_all(relation, replace=replace, add=add)
    return compiler.add(
        select_from(relation, items),
        columns,
        open=relation.open,
        exact=relation.exact,
        source=relation.source,
    )


def add_fields(
    compiler: Compiler, relation: Relation, assignments: Sequence[tuple[str, Node]]
) -> Relation:
    """``fieldsAdd``: assignments in order; one that reads a field assigned earlier in
    the same command sees the new value (a new stage starts before it)."""
    pending: dict[str, Typed] = {}
    current = relation
    for name, node in assignments:
        if _references(node) & set(pending):
            current, pending = add_columns(compiler, current, pending), {}
        pending[name] = compile_expr(scope(compiler, current), node)
    return add_columns(compiler, current, pending) if pending else current


@command("fieldsAdd", "expression")
def _fields_add(
    compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments
) -> Relation:
    assignments = [(v.name, v.expr) for v in bound.get("expression")]
    return add_fields(compiler, relation, assignments)


def wildcard(pattern: str) -> re.Pattern[str]:
    """A DQL field pattern: ``*`` stands for any text, nothing else is special."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")) + r"\Z", re.S)


def _name_patterns(
    bound: BoundArguments, param: str
) -> list[tuple[str, re.Pattern[str] | None, Node]]:
    result: list[tuple[str, re.Pattern[str] | None, Node]] = []
    for value in bound.get(param):
        text = text_of(value.expr)
        if text is None:
            raise evaluation_error("a field name or a pattern in quotes is expected", value.expr)
        is_pattern = isinstance(value.expr, String) and "*" in text
        result.append((text, wildcard(text) if is_pattern else None, value.expr))
    return result


def _matching(
    relation: Relation, patterns: list[tuple[str, re.Pattern[str] | None, Node]]
) -> set[str]:
    names: set[str] = set()
    for text, pattern, node in patterns:
        if pattern is None:
            names.add(text)
            continue
        if relation.open:
            raise unsupported("a field pattern without a schema", node)
        names.update(n for n in relation.names if pattern.match(n))
    return names


@command("fieldsKeep", "field")
def _fields_keep(
    compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments
) -> Relation:
    wanted = _matching(relation, _name_patterns(bound, "field"))
    if relation.open:
        listed = [text_of(v.expr) or "" for v in bound.get("field")]
        items = [sql.col(ORDER), *(sql.col(n) for n in listed)]
        columns = [relation.column(n) or Column(n, DType("any")) for n in listed]
        return compiler.add(select_from(relation, items), columns, open=False)
    columns = [c for c in relation.columns if c.name in wanted]
    items = [sql.col(ORDER), *(sql.col(c.name) for c in columns)]
    return compiler.add(
        select_from(relation, items), columns, exact=relation.exact, source=relation.source
    )


@command("fieldsRemove", "field")
def _fields_remove(
    compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments
) -> Relation:
    gone = _matching(relation, _name_patterns(bound, "field"))
    if relation.open:
        star = exp.Star(except_=[sql.col(n) for n in sorted(gone)])
        columns = [c for c in relation.columns if c.name not in gone]
        return compiler.add(select_from(relation, [star]), columns, open=True)
    columns = [c for c in relation.columns if c.name not in gone]
    items = keep_all(relation, drop=gone)
    return compiler.add(
        select_from(relation, items), columns, exact=relation.exact, source=relation.source
    )


@command("fieldsRename", "field")
def _fields_rename(
    compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments
) -> Relation:
    current = relation
    for value in bound.get("field"):
        old = text_of(value.expr)
        new = value.assigned_name
        if old is None or new is None:
            raise evaluation_error("fieldsRename takes new = old (or old, new)", value.node)
        if current.column(old) is None and not current.open:
            if current.exact:
                raise evaluation_error(
                    f"fieldsRename: the field {old!r} does not exist", value.expr
                )
            compiler.note(f"fieldsRename: the field {old!r} is not in the data; nothing renamed")
            continue
        if old == new:
            continue
        # A field already called `new` is replaced by the renamed one.
        items = keep_all(current, rename={old: new}, drop=[new] if current.column(new) else [])
        columns = [
            Column(new, c.type) if c.name == old else c for c in current.columns if c.name != new
        ]
        current = compiler.add(
            select_from(current, items),
            columns,
            open=current.open,
            exact=current.exact,
            source=current.source,
        )
    return current


# --------------------------------------------------------------------------- summarize
def group_keys(
    compiler: Compiler, relation: Relation, values: Sequence[BoundValue]
) -> tuple[Relation, list[tuple[str, exp.Expr, DType]]]:
    """The ``by:`` keys as columns to group on: a plain field is used as it is, other
    expressions are computed in a stage before (grouping by computed SQL expressions
    would repeat them and trip over constants)."""
    here = scope(compiler, relation)
    keys: list[tuple[str, Typed]] = [(v.name, compile_expr(here, v.expr)) for v in values]
    computed = [
        (f"__dqlbuild_key{i}", value)
        for i, (_, value) in enumerate(keys)
        if not (isinstance(value.sql, exp.Column) and value.sql.table == "")
    ]
    if computed:
        items = keep_all(relation, add=[(n, v.sql) for n, v in computed])
        extra = [Column(n, v.type) for n, v in computed]
        relation = compiler.add(
            select_from(relation, items),
            [*relation.columns, *extra],
            open=relation.open,
            exact=relation.exact,
            source=relation.source,
        )
    result: list[tuple[str, exp.Expr, DType]] = []
    computed_names = iter(n for n, _ in computed)
    for name, value in keys:
        if isinstance(value.sql, exp.Column) and value.sql.table == "":
            result.append((name, value.sql, value.type))
        else:
            result.append((name, sql.col(next(computed_names)), value.type))
    return relation, result


def aggregate_scope(compiler: Compiler, relation: Relation, context: str) -> Scope:
    from dqlbuild.engine.aggregations import compile_aggregation

    return Scope(relation, compiler, aggregate=compile_aggregation, aggregation_context=context)


@command("summarize", "aggregation", "by")
def _summarize(
    compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments
) -> Relation:
    relation, keys = group_keys(compiler, relation, bound.get("by"))
    aggregating = aggregate_scope(compiler, relation, "summarize")
    aggregations = [(v.name, compile_expr(aggregating, v.expr)) for v in bound.get("aggregation")]
    names = [name for name, _, _ in keys] + [name for name, _ in aggregations]
    check_unique(names, cmd)
    if keys:
        order: exp.Expr = sql.row_number([sql.ordered(k) for _, k, _ in keys])
    else:
        # An aggregate, so that the one record exists even when no aggregation reads a
        # field that exists (summarize min(missing) over no records).
        order = exp.Count(this=exp.Star())
    items: list[exp.Expr] = [sql.alias(order, ORDER)]
    items.extend(sql.alias(k, n) for n, k, _ in keys)
    items.extend(sql.alias(v.sql, n) for n, v in aggregations)
    select = select_from(relation, items)
    if keys:
        select = select.group_by(*(k for _, k, _ in keys), copy=False)
    columns = [Column(n, t) for n, _, t in keys] + [Column(n, v.type) for n, v in aggregations]
    return compiler.add(select, columns, exact=True)


# --------------------------------------------------------------------------- ordering
def sort_keys(
    compiler: Compiler,
    relation: Relation,
    values: Sequence[BoundValue],
    directions: Sequence[BoundValue],
) -> list[exp.Ordered]:
    default_desc = False
    if directions:
        texts = {
            constant_value(v.expr, "direction:")
            if not isinstance(v.expr, FieldRef)
            else v.expr.name
            for v in directions
        }
        if len(texts) != 1 or not texts <= {"ascending", "descending"}:
            raise unsupported(
                'direction: values other than one of "ascending"/"descending"', directions[0].expr
            )
        default_desc = texts == {"descending"}
    here = scope(compiler, relation)
    keys: list[exp.Ordered] = []
    for value in values:
        node = value.node
        desc = default_desc
        if isinstance(node, Sorted):
            desc = node.direction == "desc"
            node = node.expr
        if isinstance(node, Assign):
            node = node.value
        typed = compile_expr(here, node)
        keys.append(sql.ordered(typed.sql, desc=desc))
    return keys


@command("sort", "expression", "direction")
def _sort(compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments) -> Relation:
    keys = sort_keys(compiler, relation, bound.get("expression"), bound.get("direction"))
    order = sql.row_number([*keys, sql.ordered(sql.col(ORDER))])
    items = keep_all(relation, order=order)
    return compiler.add(
        select_from(relation, items),
        relation.columns,
        open=relation.open,
        exact=relation.exact,
        source=relation.source,
    )


def constant_long(compiler: Compiler, node: Node, what: str) -> int:
    if _references(node):
        raise evaluation_error(f"{what} is a long constant; it cannot read fields", node)
    value = compile_expr(Scope(empty_relation(), compiler), node)
    literal = constant_value(node, what) if value.constant else None
    if not isinstance(literal, int) or isinstance(literal, bool):
        raise evaluation_error(f"{what} is a long constant", node)
    return literal


@command("limit", "size")
def _limit(compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments) -> Relation:
    value = bound.first("size")
    assert value is not None
    size = constant_long(compiler, value.expr, "the size of limit")
    if size < 0:
        raise evaluation_error("limit needs a size of 0 or more", value.expr)
    select = exp.select(exp.Star(), copy=False).from_(sql.ident(relation.name), copy=False)
    select = select.order_by(sql.ordered(sql.col(ORDER)), copy=False).limit(
        sql.integer(size), copy=False
    )
    return compiler.add(
        select, relation.columns, open=relation.open, exact=relation.exact, source=relation.source
    )


@command("dedup", "expression", "sort", "direction", "filterPushThrough")
def _dedup(compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments) -> Relation:
    here = scope(compiler, relation)
    keys = [compile_expr(here, v.expr).sql for v in bound.get("expression")]
    order = sort_keys(compiler, relation, bound.get("sort"), bound.get("direction"))
    rank_name = "__dqlbuild_rank"
    rank = sql.row_number([*order, sql.ordered(sql.col(ORDER))], partition=keys)
    ranked = compiler.add(
        select_from(relation, keep_all(relation, add=[(rank_name, rank)])),
        [*relation.columns, Column(rank_name, LONG)],
        open=relation.open,
    )
    if relation.open:
        items: list[exp.Expr] = [exp.Star(except_=[sql.col(rank_name)])]
    else:
        items = [sql.col(ORDER), *(sql.col(c.name) for c in relation.columns)]
    select = select_from(ranked, items).where(
        exp.EQ(this=sql.col(rank_name), expression=sql.integer(1)), copy=False
    )
    return compiler.add(
        select, relation.columns, open=relation.open, exact=relation.exact, source=relation.source
    )


# --------------------------------------------------------------------------- expand
@command("expand", "expression", "limit")
def _expand(
    compiler: Compiler, relation: Relation, cmd: Command, bound: BoundArguments
) -> Relation:
    value = bound.first("expression")
    assert value is not None
    array = compile_expr(scope(compiler, relation), value.expr)
    if array.type.kind not in ("array", "null", "any"):
        raise evaluation_error(f"expand needs an array, not a {array.type} value", value.expr)
    name = value.name
    element = array.type.element or (NULL if array.type == NULL else DType("any"))
    limit_value = bound.first("limit")
    limit = (
        constant_long(compiler, limit_value.expr, "the limit of expand") if limit_value else None
    )
    if array.type == NULL:
        array = Typed(sql.cast(sql.null(), "VARCHAR[]"), array_of(NULL))
    source = "__dqlbuild_input"
    unnested = "__dqlbuild_unnested"
    element_col, index_col = "__dqlbuild_element", "__dqlbuild_index"
    qualified = Scope(relation, compiler, table=source)
    array_sql = (
        compile_expr(qualified, value.expr).sql if array.type != array_of(NULL) else array.sql
    )
    order = sql.row_number(
        [sql.ordered(sql.col(ORDER, source)), sql.ordered(sql.col(index_col, unnested))]
    )
    element_sql = sql.col(element_col, unnested)
    if relation.open:
        excluded = [sql.col(ORDER)] + ([sql.col(name)] if relation.column(name) else [])
        star = exp.Column(this=exp.Star(except_=excluded), table=sql.ident(source))
        items: list[exp.Expr] = [star, sql.alias(order, ORDER), sql.alias(element_sql, name)]
        columns = [c for c in relation.columns if c.name != name] + [Column(name, element)]
    else:
        items = [sql.alias(order, ORDER)]
        columns = []
        replaced = False
        for column in relation.columns:
            if column.name == name:
                items.append(sql.alias(element_sql, name))
                columns.append(Column(name, element))
                replaced = True
            else:
                items.append(sql.alias(sql.col(column.name, source), column.name))
                columns.append(column)
        if not replaced:
            items.append(sql.alias(element_sql, name))
            columns.append(Column(name, element))
    join = exp.Join(
        this=exp.Unnest(
            expressions=[array_sql],
            alias=exp.TableAlias(this=sql.ident(unnested), columns=[sql.ident(element_col)]),
            offset=sql.ident(index_col),
        ),
        kind="CROSS",
    )
    select = exp.select(*items, copy=False).from_(
        exp.Table(this=sql.ident(relation.name), alias=exp.TableAlias(this=sql.ident(source))),
        copy=False,
    )
    select = select.join(join, copy=False)
    if limit is not None:
        select = select.where(
            exp.LTE(this=sql.col(index_col, unnested), expression=sql.integer(limit)), copy=False
        )
    return compiler.add(
        select, columns, open=relation.open, exact=relation.exact, source=relation.source
    )


__all__ = [
    "COMMANDS",
    "START_COMMANDS",
    "add_columns",
    "add_fields",
    "command",
    "keep_all",
    "wildcard",
]
