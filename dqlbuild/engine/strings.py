"""String functions and the search operator ``~``.

Decisions (docs/running.md): ``contains``/``startsWith``/``endsWith`` are case-sensitive
unless ``caseSensitive: false``; ``matchesValue`` compares the whole value, ignoring case
by default, with ``*`` matching any text (also inside arrays of strings: any element);
``matchesPhrase`` finds the phrase as whole words (letters, digits, ``_``), ignoring
case; ``~`` and ``search`` find text inside a value ignoring case, ``*`` matching any
text; positions are 0-based and ``indexOf`` is -1 when the text is not found.
"""

from __future__ import annotations

import re

from sqlglot import exp

from dqlbuild.ast.base import Node
from dqlbuild.engine import sql
from dqlbuild.engine.core import Typed, evaluation_error, unsupported
from dqlbuild.engine.functions import Args, scalar, to_string
from dqlbuild.engine.types import BOOLEAN, LONG, NULL, STRING, array_of

_LIKE_ESCAPE = "\\"


def _text(args: Args, name: str = "expression") -> Typed:
    value = args.required(name)
    if value.type.kind not in ("string", "null", "any"):
        raise evaluation_error(
            f"{args.function.name}() needs a string, not a {value.type} value", args.call
        )
    return value


def _null_result(*values: Typed) -> bool:
    return any(value.type == NULL for value in values)


def _case_flag(args: Args, default: bool) -> bool:
    value = args.constant("caseSensitive")
    if value is None:
        return default
    if not isinstance(value, bool):
        raise evaluation_error(f"{args.function.name}(): caseSensitive is true or false", args.call)
    return value


def like_pattern(text: str, *, wildcard: str | None = "*", anywhere: bool = False) -> str:
    """A LIKE pattern (escape ``\\``) for ``text`` where ``wildcard`` matches any text."""
    escaped = text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    if wildcard:
        escaped = escaped.replace(wildcard, "%")
    return f"%{escaped}%" if anywhere else escaped


def _like(value: exp.Expr, pattern: str, *, case_sensitive: bool) -> exp.Expr:
    kind = exp.Like if case_sensitive else exp.ILike
    return exp.Escape(
        this=kind(this=value, expression=sql.string(pattern)),
        expression=sql.string(_LIKE_ESCAPE),
    )


def _folded(value: exp.Expr, case_sensitive: bool) -> exp.Expr:
    return value if case_sensitive else exp.Lower(this=value)


def _substring_test(name: str, test: str) -> None:
    def implementation(args: Args) -> Typed:
        value, part = _text(args), _text(args, _SECOND[name])
        if _null_result(value, part):
            return Typed(sql.null(), BOOLEAN, True)
        case_sensitive = _case_flag(args, True)
        a, b = _folded(value.sql, case_sensitive), _folded(part.sql, case_sensitive)
        if test == "contains":
            result: exp.Expr = exp.GT(
                this=exp.StrPosition(this=a, substr=b), expression=sql.integer(0)
            )
        elif test == "starts":
            result = exp.StartsWith(this=a, expression=b)
        else:
            result = sql.fn("ends_with", a, b)
        return Typed(result, BOOLEAN, value.constant and part.constant)

    scalar(name, "expression", _SECOND[name], "caseSensitive")(implementation)


_SECOND = {"contains": "substring", "startsWith": "prefix", "endsWith": "suffix"}
_substring_test("contains", "contains")
_substring_test("startsWith", "starts")
_substring_test("endsWith", "ends")


@scalar("matchesValue", "expression", "value", "caseSensitive")
def _matches_value(args: Args) -> Typed:
    value = args.required("expression")
    texts = [text for node in args.nodes("value") for text in _string_constants(node)]
    case_sensitive = _case_flag(args, False)
    kind = value.type.kind
    if kind == "null":
        return Typed(sql.null(), BOOLEAN, True)

    def test(subject: exp.Expr) -> exp.Expr:
        return sql.or_all(
            [
                sql.paren(_like(subject, like_pattern(t), case_sensitive=case_sensitive))
                for t in texts
            ]
        )

    if kind == "array":
        element = value.type.element
        if element is not None and element.kind not in ("string", "null"):
            return Typed(sql.boolean(False), BOOLEAN, True)
        variable = exp.to_identifier("element")
        matches = exp.Lambda(this=test(variable), expressions=[variable])
        filtered = exp.ArrayFilter(this=value.sql, expression=matches)
        return Typed(exp.GT(this=exp.ArraySize(this=filtered), expression=sql.integer(0)), BOOLEAN)
    if kind not in ("string", "any"):
        return Typed(sql.case([(sql.is_null(value.sql), sql.null())], sql.boolean(False)), BOOLEAN)
    return Typed(test(value.sql), BOOLEAN, value.constant)


def _string_constants(node: Node) -> list[str]:
    from dqlbuild.ast.nodes import Brace, String

    if isinstance(node, String):
        return [node.value]
    if isinstance(node, Brace):
        return [text for item in node.items for text in _string_constants(item)]
    raise unsupported("matchesValue() with a value that is not a string literal", node)


@scalar("matchesPhrase", "expression", "phrase", "caseSensitive")
def _matches_phrase(args: Args) -> Typed:
    value = args.required("expression")
    phrase_node = args.node("phrase")
    phrase = args.constant("phrase")
    if not isinstance(phrase, str):
        raise unsupported("matchesPhrase() with a phrase that is not a string literal", phrase_node)
    case_sensitive = _case_flag(args, False)
    words = re.findall(r"[A-Za-z0-9_]+", phrase)
    if value.type == NULL:
        return Typed(sql.null(), BOOLEAN, True)
    if not words:
        return Typed(sql.boolean(False), BOOLEAN, True)
    pattern = r"(^|[^A-Za-z0-9_])" + r"[^A-Za-z0-9_]+".join(map(re.escape, words))
    pattern += r"($|[^A-Za-z0-9_])"
    if not case_sensitive:
        pattern = "(?i)" + pattern

    def test(subject: exp.Expr) -> exp.Expr:
        return exp.RegexpLike(this=subject, expression=sql.string(pattern))

    if value.type.kind == "array":
        variable = exp.to_identifier("element")
        filtered = exp.ArrayFilter(
            this=value.sql, expression=exp.Lambda(this=test(variable), expressions=[variable])
        )
        return Typed(exp.GT(this=exp.ArraySize(this=filtered), expression=sql.integer(0)), BOOLEAN)
    if value.type.kind not in ("string", "any"):
        raise evaluation_error(
            f"matchesPhrase() needs a string, not a {value.type} value", args.call
        )
    return Typed(test(value.sql), BOOLEAN, value.constant)


def search_operator(value: Typed, pattern: Typed, node: Node) -> Typed:
    """``field ~ "text"``: the text (``*`` = any text) occurs in the value, ignoring case."""
    if not isinstance(pattern.sql, exp.Literal) or pattern.type != STRING:
        raise unsupported("`~` with a right side that is not a string literal", node)
    text = pattern.sql.this
    if value.type == NULL:
        return Typed(sql.null(), BOOLEAN, True)
    subject = to_string(value, node) if value.type.kind not in ("string", "any") else value.sql
    return Typed(_like(subject, like_pattern(text, anywhere=True), case_sensitive=False), BOOLEAN)


def contains_text(value: exp.Expr, text: str, *, case_sensitive: bool) -> exp.Expr:
    """``value`` contains ``text`` (``search``)."""
    return _like(
        value, like_pattern(text, wildcard=None, anywhere=True), case_sensitive=case_sensitive
    )


def _text_to_text(name: str, kind: type[exp.Func]) -> None:
    def implementation(args: Args) -> Typed:
        value = _text(args)
        return Typed(kind(this=value.sql), value.type, value.constant)

    scalar(name, "expression")(implementation)


_text_to_text("lower", exp.Lower)
_text_to_text("upper", exp.Upper)
_text_to_text("trim", exp.Trim)


@scalar("stringLength", "expression")
def _string_length(args: Args) -> Typed:
    value = _text(args)
    return Typed(exp.Length(this=value.sql), LONG if value.type != NULL else NULL, value.constant)


@scalar("concat", "expression", "delimiter")
def _concat(args: Args) -> Typed:
    values = args.all("expression")
    delimiter = args.constant("delimiter") or ""
    if not isinstance(delimiter, str):
        raise evaluation_error("concat(): the delimiter is a string", args.call)
    # Null values are left out (as empty text), other types are written as toString does.
    parts = [to_string(value, args.call) for value in values if value.type != NULL]
    if not parts:
        return Typed(sql.string(""), STRING, True)
    result = sql.fn("concat_ws", sql.string(delimiter), *parts)
    return Typed(result, STRING, all(v.constant for v in values))


@scalar("substring", "expression", "from", "to")
def _substring(args: Args) -> Typed:
    value = _text(args)
    start = args.required("from")
    end = args.typed("to")
    if value.type == NULL:
        return value
    # 0-based, end exclusive; out-of-range bounds are clamped to the text.
    first = sql.fn("greatest", start.sql, sql.integer(0))
    arguments: list[exp.Expr] = [value.sql, exp.Add(this=first, expression=sql.integer(1))]
    if end is not None and args.given("to"):
        length = sql.fn("greatest", exp.Sub(this=end.sql, expression=first), sql.integer(0))
        arguments.append(length)
    return Typed(
        exp.Substring(
            this=arguments[0],
            start=arguments[1],
            length=arguments[2] if len(arguments) > 2 else None,
        ),
        STRING,
        value.constant,
    )


def _index_of(name: str, last: bool) -> None:
    def implementation(args: Args) -> Typed:
        value, part = _text(args), _text(args, "substring")
        if _null_result(value, part):
            return Typed(sql.null(), NULL, True)
        if args.given("from"):
            raise unsupported(f"the parameter 'from' of {name}()", args.node("from"))
        if last:
            reversed_position = exp.StrPosition(
                this=sql.fn("reverse", value.sql), substr=sql.fn("reverse", part.sql)
            )
            found = exp.Sub(
                this=exp.Sub(this=exp.Length(this=value.sql), expression=reversed_position),
                expression=sql.paren(
                    exp.Sub(this=exp.Length(this=part.sql), expression=sql.integer(1))
                ),
            )
            result: exp.Expr = sql.case(
                [(exp.EQ(this=reversed_position, expression=sql.integer(0)), sql.integer(-1))],
                found,
            )
        else:
            result = exp.Sub(
                this=exp.StrPosition(this=value.sql, substr=part.sql), expression=sql.integer(1)
            )
        return Typed(result, LONG, value.constant and part.constant)

    scalar(name, "expression", "substring", "from")(implementation)


_index_of("indexOf", False)
_index_of("lastIndexOf", True)


@scalar("splitString", "expression", "pattern")
def _split_string(args: Args) -> Typed:
    value, separator = _text(args), _text(args, "pattern")
    if _null_result(value, separator):
        return Typed(sql.null(), NULL, True)
    return Typed(
        exp.Split(this=value.sql, expression=separator.sql),
        array_of(STRING),
        value.constant and separator.constant,
    )


@scalar("replaceString", "expression", "substring", "replacement")
def _replace_string(args: Args) -> Typed:
    value = _text(args)
    part, replacement = _text(args, "substring"), _text(args, "replacement")
    if _null_result(value, part, replacement):
        return Typed(sql.null(), NULL, True)
    # An empty text to replace changes nothing (rather than inserting everywhere).
    replaced = sql.fn("replace", value.sql, part.sql, replacement.sql)
    result = sql.case([(exp.EQ(this=part.sql, expression=sql.string("")), value.sql)], replaced)
    return Typed(result, STRING, value.constant)


__all__ = ["contains_text", "like_pattern", "search_operator"]
