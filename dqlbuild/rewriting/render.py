"""Safe rendering of dashboard variables into a query text.

The Dashboards app substitutes values textually, with one replacement strategy per
modifier (DQL_SPEC §5.2): ``$k`` escapes quotes, ``:backtick`` escapes backticks,
``:noquote`` pastes the value as it is (the app fails a value with characters other than
letters, digits, ``.``, ``_`` and ``-``) and ``:triplequote`` pastes it between triple
quotes. ``render`` produces that query where it is valid and refuses where the app would
fail, and proves it: when the template parses, the rendered text must parse to the
template's tree with every reference replaced by exactly its value (checked on every
call). References are found with the parser's own definitions of strings and comments;
a disagreement between the two is an error. Where the app's substitution still differs
(inside string literals and comments, which it does not skip), the result carries a
warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from dqlbuild.ast.base import Node, Span, spans_any
from dqlbuild.ast.nodes import (
    LITERAL_TYPES,
    Binary,
    Call,
    Double,
    Duration,
    FieldRef,
    Long,
    Query,
    String,
    Unary,
    Variable,
)
from dqlbuild.errors import DQLError, DQLSyntaxError, DQLTypeError, DQLValueError
from dqlbuild.printing import precedence
from dqlbuild.rewriting.variables import SELECT_ALL, VariableRef, _scan, lexemes
from dqlbuild.syntax.collector import collector_paused
from dqlbuild.syntax.lexical import (
    can_be_triple_quoted,
    code_only,
    decode_string,
    encode_string,
)
from dqlbuild.syntax.parser import parse, parse_expression

Values = Mapping[str, "str | Sequence[str]"]

# What the scan skips and the app does not: where an app-only substitution happened.
_SKIPPED_PLACES = {
    "STRING": " (after a backslash in a string literal)",
    "TRIPLE_STRING": " (in a string literal)",
    "QUOTED_NAME": " (inside a backtick name)",
    "LINE_COMMENT": " (inside a comment)",
    "BLOCK_COMMENT": " (inside a comment)",
}
# What the app accepts for :noquote (anything else makes the query fail there).
_NOQUOTE_RE = re.compile(r"[A-Za-z0-9._-]+")


@dataclass(frozen=True)
class RenderResult:
    """The rendered query text and what the caller should know about it."""

    text: str
    warnings: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class _Value:
    items: tuple[str, ...]
    multiple: bool  # given as a list (multi-select), even with one item

    def app_text(self, modifier: str | None) -> str:
        """What the Dashboards app pastes, with its strategy's escaping; several values
        joined by a bare comma."""
        if not self.items:
            return '""'
        return ",".join(_app_one(item, modifier) for item in self.items)

    @property
    def raw(self) -> str:
        """The value inside a string literal: the items joined by a comma."""
        return ",".join(self.items)


def _app_one(value: str, modifier: str | None) -> str:
    # The documented strategies: quotes (backticks) escaped, nothing else.
    if modifier == "noquote":
        return value
    if modifier == "backtick":
        return "`" + value.replace("`", "\\`") + "`"
    if modifier == "triplequote":
        return f'"""{value}"""'
    return '"' + value.replace('"', '\\"') + '"'


@collector_paused  # acyclic results: see dqlbuild.syntax.collector
def render(
    text: str,
    values: Values,
    *,
    strict: bool = True,
    all_values: Mapping[str, Sequence[str]] | None = None,
    now: datetime | None = None,
) -> RenderResult:
    """Substitute dashboard variable values into a query, safely.

    ``values`` maps a variable key to a string (single-select, text) or a list of strings
    (multi-select). A list renders as its values joined by ``,`` (``"a","b"``), an empty
    one as ``""``. The select-all token :data:`SELECT_ALL` stands for every value of the
    variable, which must then be given in ``all_values``. ``$dt_timeframe_from`` and
    ``$dt_timeframe_to`` default to the last two hours before ``now`` (ISO-8601, UTC).

    Modifiers: ``$k`` becomes an escaped string literal, ``$k:triplequote`` a
    ``\"\"\"...\"\"\"`` literal, ``$k:backtick`` a field name and ``$k:noquote`` the value
    itself, which must be letters, digits, ``.``, ``_`` and ``-`` only (the app's rule)
    and one literal, field name or negative number. Inside a string
    literal a reference becomes the raw value, escaped for that literal. A value that
    cannot be represented raises :class:`~dqlbuild.DQLValueError`; so does an undefined
    variable when ``strict`` (else it is left as written, with a warning).
    """
    if not isinstance(text, str):
        raise DQLTypeError(f"render takes DQL text, not {type(text).__name__}")
    refs = _references(text)
    resolved = _Resolver(values, all_values, now)
    warnings: list[str] = []
    defined = [r for r in refs if resolved.get(r.name) is not None]
    undefined = [r for r in refs if resolved.get(r.name) is None]
    if undefined:
        if strict:
            first = undefined[0]
            names = ", ".join(sorted({f"${r.name}" for r in undefined}))
            raise DQLValueError(
                f"no value for {names}",
                line=first.span.line,
                column=first.span.column,
                hint="give every variable a value, or render leniently (strict=False, --lenient)",
            )
        warnings.extend(
            f"{_where(r.span)}: ${r.name} has no value; left as written" for r in undefined
        )
    for ref in defined:
        value = resolved[ref.name]
        if value.multiple and not value.items and not ref.in_string:
            warnings.append(
                f'{_where(ref.span)}: ${ref.name} has no selected value; rendered as "" '
                "like the Dashboards app"
            )

    template, template_error = _try_parse(text)
    contexts = _contexts(text, template, refs) if template is not None else None
    edits: dict[int, tuple[int, str]] = {}
    replacements: dict[int, list[Node]] = {}  # by id() of the template's node
    starts: list[int] = []  # where those nodes start
    for ref in defined:
        if ref.in_string:
            edits[ref.span.start] = (ref.span.end, _in_string_text(ref, resolved[ref.name]))
            continue
        context = contexts.get(ref.span.start) if contexts else None
        rendered, nodes = _render_reference(ref, resolved[ref.name], context)
        edits[ref.span.start] = (ref.span.end, rendered)
        if context is not None:
            replacements[id(context.node)] = nodes
            starts.append(ref.span.start)
    _check_triple_strings(text, defined, edits)
    result = _apply(text, edits)

    # Parsing is a function of the text: an unchanged text (no reference had a value)
    # is not parsed again.
    if template is not None:
        assert contexts is not None
        _string_replacements(text, template, refs, resolved, replacements, starts)
        expected = _expected(template, replacements, starts)
        rendered_query = template if result == text else _parse_rendered(result)
        if rendered_query != expected:
            raise DQLValueError(
                "rendering would change the structure of the query around a variable",
                hint="this is a dqlbuild bug; please report the query",
            )
    else:
        assert template_error is not None
        if result == text:
            raise template_error from None
        rendered_query = _parse_rendered(result, template_error)
        if refs:
            warnings.append(
                f"the query is not valid DQL before substitution ({template_error}); "
                "the rendered text parses but could not be checked against it"
            )
    if strict:
        live = [r for r in _references(result) if not r.in_string]
        if live:
            raise DQLError(
                f"the rendered query still holds {live[0].text}",
                line=live[0].span.line,
                column=live[0].span.column,
                hint="this is a dqlbuild bug; please report the query",
            )
    warnings.extend(_app_warnings(text, refs, resolved, edits, rendered_query))
    return RenderResult(text=result, warnings=tuple(warnings))


def _references(text: str) -> list[VariableRef]:
    # Every reference starts with `$`: most queries have none, and need no scan.
    return list(_scan(text)) if "$" in text else []


# ---------------------------------------------------------------- values
class _Resolver:
    """Values by name, select-all expanded and built-ins filled in, on first use (so an
    unreferenced variable cannot make rendering fail)."""

    def __init__(
        self,
        values: Values,
        all_values: Mapping[str, Sequence[str]] | None,
        now: datetime | None,
    ) -> None:
        if not isinstance(values, Mapping):
            raise DQLValueError(f"values must be a mapping, not {type(values).__name__}")
        self.values = values
        self.all_values = all_values or {}
        now = now or datetime.now(UTC)
        if now.tzinfo is None:
            raise DQLValueError("now must be a timezone-aware datetime")
        self.now = now
        self.cache: dict[str, _Value | None] = {}

    def get(self, name: str) -> _Value | None:
        if name not in self.cache:
            self.cache[name] = self._resolve(name)
        return self.cache[name]

    def __getitem__(self, name: str) -> _Value:
        value = self.get(name)
        assert value is not None
        return value

    def _resolve(self, name: str) -> _Value | None:
        if name in self.values:
            raw: object = self.values[name]
        elif name == "dt_timeframe_from":
            raw = _iso(self.now - timedelta(hours=2))
        elif name == "dt_timeframe_to":
            raw = _iso(self.now)
        else:
            return None
        if isinstance(raw, str):
            items: tuple[str, ...] = (raw,)
            multiple = False
        elif isinstance(raw, Sequence):
            items = tuple(raw)
            multiple = True
        else:
            raise DQLValueError(f"the value of ${name} must be a string or a list of strings")
        for item in items:
            if not isinstance(item, str):
                raise DQLValueError(
                    f"the values of ${name} must be strings (dashboards deliver strings), "
                    f"got {type(item).__name__}"
                )
            _check_text(name, item)
        if SELECT_ALL in items:
            if name not in self.all_values:
                raise DQLValueError(
                    f"${name} is set to the select-all token; its list of values is needed",
                    hint=f"pass all_values={{{name!r}: [...]}}",
                )
            items = tuple(self.all_values[name])
            multiple = True
            for item in items:
                if not isinstance(item, str) or item == SELECT_ALL:
                    raise DQLValueError(
                        f"all_values[{name!r}] must list the real values as strings"
                    )
        return _Value(items, multiple)


def _check_text(name: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise DQLValueError(
            f"the value of ${name} is not valid text: it holds a lone surrogate "
            f"(\\u{ord(value[exc.start]):04x} at index {exc.start})",
            hint="dashboards deliver UTF-8 text; decode the value properly",
        ) from None


def _iso(moment: datetime) -> str:
    # The format of JavaScript's Date.toISOString(), which the app substitutes.
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------- one reference
@dataclass(frozen=True)
class _Context:
    node: Variable
    parent: Node
    field: str
    in_list: bool  # an element of an argument list: may expand to several values
    index: int = 0  # its position in a tuple field (an operand of a chain)


def _render_reference(
    ref: VariableRef, value: _Value, context: _Context | None
) -> tuple[str, list[Node]]:
    if not value.items:
        return '""', [String(value="")]
    if len(value.items) > 1 and context is not None and not context.in_list:
        raise DQLValueError(
            f"${ref.name} has {len(value.items)} values (multi-select) but stands where one "
            "value is expected",
            line=ref.span.line,
            column=ref.span.column,
            hint=f"filter with in(field, array(${ref.name})) instead",
        )
    texts: list[str] = []
    nodes: list[Node] = []
    for item in value.items:
        text, node = _render_one(ref, item)
        if context is not None and precedence.level(node) < precedence.required_level(
            context.parent, context.field, context.index
        ):
            text = f"({text})"
        texts.append(text)
        nodes.append(node)
    return ",".join(texts), nodes


def _render_one(ref: VariableRef, value: str) -> tuple[str, Node]:
    modifier = ref.modifier
    if modifier is None:
        return encode_string(value), String(value=value)
    if modifier == "triplequote":
        if not can_be_triple_quoted(value):
            raise _unrepresentable(ref, value, 'it contains """ or ends with "')
        return f'"""{value}"""', String(value=value, style="triple")
    if modifier == "backtick":
        if not value:
            raise _unrepresentable(ref, value, "a field name cannot be empty")
        escaped = value.replace("\\", "\\\\").replace("`", "\\`")
        return f"`{escaped}`", FieldRef(name=value)
    return value, _noquote_node(ref, value)


def _noquote_node(ref: VariableRef, value: str) -> Node:
    if not _NOQUOTE_RE.fullmatch(value):
        raise _unrepresentable(
            ref,
            value,
            "the Dashboards app allows only letters, digits, `.`, `_` and `-` there "
            "(the query fails with other characters)",
        )
    try:
        node: Node = parse_expression(value)
    except DQLSyntaxError as exc:
        raise _unrepresentable(ref, value, f"it is not DQL: {exc.message}") from None
    if isinstance(node, (*LITERAL_TYPES, FieldRef)):
        return node
    if (
        isinstance(node, Unary)
        and node.op == "-"
        and isinstance(node.operand, Long | Double | Duration)
    ):
        return node
    raise _unrepresentable(ref, value, "it must be a single literal, field name or negative number")


def _unrepresentable(ref: VariableRef, value: str, why: str) -> DQLValueError:
    shown = value if len(value) <= 60 else value[:57] + "..."
    return DQLValueError(
        f"the value {shown!r} cannot be used for {ref.text}: {why}",
        line=ref.span.line,
        column=ref.span.column,
    )


def _in_string_text(ref: VariableRef, value: _Value) -> str:
    if ref.string_style == "triple":
        return value.raw  # checked for the whole literal in _check_triple_strings
    return encode_string(value.raw)[1:-1]


def _check_triple_strings(
    text: str, refs: list[VariableRef], edits: dict[int, tuple[int, str]]
) -> None:
    seen: set[int] = set()
    for ref in refs:
        span = ref.string_span
        if ref.string_style != "triple" or span is None or span.start in seen:
            continue
        seen.add(span.start)
        body_edits = {
            start - span.start - 3: (end - span.start - 3, new)
            for start, (end, new) in edits.items()
            if span.start < start < span.end
        }
        content = _apply(text[span.start + 3 : span.end - 3], body_edits)
        if not can_be_triple_quoted(content):
            raise DQLValueError(
                f'the triple-quoted string around {ref.text} would contain """ or end with " '
                "after substitution",
                line=ref.span.line,
                column=ref.span.column,
            )


def _apply(text: str, edits: Mapping[int, tuple[int, str]]) -> str:
    out: list[str] = []
    pos = 0
    for start in sorted(edits):
        end, new = edits[start]
        out.append(text[pos:start])
        out.append(new)
        pos = end
    out.append(text[pos:])
    return "".join(out)


# ---------------------------------------------------------------- the tree check
def _try_parse(text: str) -> tuple[Query | None, DQLSyntaxError | None]:
    try:
        return parse(text), None
    except DQLSyntaxError as exc:
        return None, exc


def _parse_rendered(text: str, template_error: DQLSyntaxError | None = None) -> Query:
    try:
        return parse(text)
    except DQLSyntaxError as exc:
        if template_error is not None:
            raise template_error from None
        raise DQLValueError(
            f"the rendered query is not valid DQL: {exc.message}",
            line=exc.line,
            column=exc.column,
            hint="this is a dqlbuild bug; please report the query",
        ) from None


def _contexts(text: str, template: Query, refs: list[VariableRef]) -> dict[int, _Context]:
    """The Variable node of every reference outside strings, keyed by reference offset.
    The scan and the parser use the same lexical rules; any disagreement is an error."""
    outside = [r for r in refs if not r.in_string]
    # A Variable's text starts with `$`: only subtrees whose spans hold one are walked
    # (all of the tree should that find fewer than the scan).
    dollars = [m.start() for m in re.finditer(r"\$", text)]
    found = list(_variable_nodes(template, dollars))
    if len(found) < len(outside):
        found = list(_variable_nodes(template, None))
    contexts: dict[int, _Context] = {}
    for ref, context in zip(outside, found, strict=False):
        span = context.node.span
        if (
            span is None
            or not span.start <= ref.span.start < span.end
            or context.node.name != ref.name
            or context.node.modifier != ref.modifier
        ):
            break
        if context.in_list and _parenthesized(text, ref, context.parent):
            context = replace(context, in_list=False)
        contexts[ref.span.start] = context
    if len(contexts) != len(outside) or len(found) != len(outside):
        raise DQLError(
            "the variable scan and the parser disagree about the references of the query",
            hint="this is a dqlbuild bug; please report the query",
        )
    return contexts


def _parenthesized(text: str, ref: VariableRef, parent: Node) -> bool:
    """``($v)``: a value in parentheses is one value, even as an argument."""
    code = code_only(text)
    before = code[: ref.span.start].rstrip()
    if not before.endswith("("):
        return False
    at = len(before) - 1
    if isinstance(parent, Call) and parent.span is not None:
        # The call's own opening parenthesis comes first after its name.
        return code.find("(", parent.span.start + len(parent.name)) != at
    return True


def _variable_nodes(node: Node, dollars: list[int] | None) -> Iterator[_Context]:
    """The Variables below ``node`` in source order; with ``dollars`` (sorted offsets),
    children whose spans hold none are skipped."""
    # Fields in declaration order are source order for every node kind.
    for name in type(node).child_fields():
        value = getattr(node, name)
        items = value if isinstance(value, tuple) else (value,)
        # The operands of a chain are not a list: one value each.
        in_list = isinstance(value, tuple) and not isinstance(node, Binary)
        for index, item in enumerate(items):
            if isinstance(item, Variable):
                yield _Context(item, node, name, in_list, index)
            elif isinstance(item, Node) and spans_any(item, dollars):
                yield from _variable_nodes(item, dollars)


def _string_replacements(
    text: str,
    template: Query,
    refs: list[VariableRef],
    resolved: _Resolver,
    replacements: dict[int, list[Node]],
    starts: list[int],
) -> None:
    """The expected String node for every literal that holds references, computed from the
    template's pieces (decoded one by one) and the raw values."""
    by_string: dict[int, list[VariableRef]] = {}
    for ref in refs:
        if ref.in_string and ref.string_span is not None:
            by_string.setdefault(ref.string_span.start, []).append(ref)
    if not by_string:
        return
    for node in template.walk():
        if not isinstance(node, String) or node.span is None:
            continue
        key = next((s for s in by_string if node.span.start <= s < node.span.end), None)
        if key is None:
            continue
        group = by_string.pop(key)
        string_span = group[0].string_span
        assert string_span is not None
        triple = group[0].string_style == "triple"
        quote = 3 if triple else 1
        pos = string_span.start + quote
        parts: list[str] = []
        for ref in group:
            parts.append(_decode_piece(text[pos : ref.span.start], triple))
            value = resolved.get(ref.name)
            parts.append(value.raw if value is not None else ref.text)
            pos = ref.span.end
        parts.append(_decode_piece(text[pos : string_span.end - quote], triple))
        replacements[id(node)] = [String(value="".join(parts), style=node.style)]
        starts.append(node.span.start)


def _decode_piece(piece: str, triple: bool) -> str:
    return piece if triple else decode_string(f'"{piece}"')


def _expected(template: Query, replacements: Mapping[int, list[Node]], starts: list[int]) -> Node:
    """The template with the replacements made. Only the subtrees whose spans hold the
    start of a replaced node are rebuilt; should a replacement be missed that way (a
    span that does not cover its children), the whole tree is walked instead."""
    if not replacements:
        return template
    made: list[int] = []
    expected = _substitute(template, replacements, sorted(starts), made)
    if len(made) != len(replacements):
        expected = _substitute(template, replacements, None, [])
    return expected


def _substitute(
    node: Node,
    replacements: Mapping[int, list[Node]],
    targets: list[int] | None,
    made: list[int],
) -> Node:
    """``node`` with replacements made below it; with ``targets`` (the sorted span starts
    of the replaced nodes), children whose spans hold none are kept without a look."""
    changes: dict[str, object] = {}
    for name in type(node).child_fields():
        value = getattr(node, name)
        if isinstance(value, Node):
            new = _replacement(value, replacements, targets, made)
            if len(new) != 1:
                raise DQLValueError("a multi-valued variable stands where one value is expected")
            if new[0] is not value:
                changes[name] = new[0]
        elif isinstance(value, tuple):
            items: list[object] = []
            for item in value:
                if isinstance(item, Node):
                    items.extend(_replacement(item, replacements, targets, made))
                else:
                    items.append(item)
            if len(items) != len(value) or any(
                a is not b for a, b in zip(items, value, strict=True)
            ):
                changes[name] = tuple(items)
    result: Node = node.with_changes(**changes) if changes else node
    return result


def _replacement(
    node: Node,
    replacements: Mapping[int, list[Node]],
    targets: list[int] | None,
    made: list[int],
) -> list[Node]:
    new = replacements.get(id(node))
    if new:
        made.append(id(node))
        return new
    if not spans_any(node, targets):
        return [node]
    return [_substitute(node, replacements, targets, made)]


# ---------------------------------------------------------------- the app's substitution
def _app_warnings(
    text: str,
    refs: list[VariableRef],
    resolved: _Resolver,
    safe_edits: dict[int, tuple[int, str]],
    rendered: Query,
) -> Iterator[str]:
    """Where the app's textual substitution would break the query or change
    its meaning. The app replaces every ``$key`` of a defined variable anywhere in the
    text (strings, comments and backtick names included)."""
    naive: dict[int, tuple[int, str, str]] = {}
    for match in re.finditer(
        r"\$([A-Za-z_][A-Za-z0-9_]*)(?::(noquote|backtick|triplequote)(?![A-Za-z0-9_]))?", text
    ):
        try:
            value = resolved.get(match.group(1))
        except DQLError:
            value = None
        if value is not None:
            naive[match.start()] = (match.end(), value.app_text(match.group(2)), match.group(0))
    if not naive:
        return
    app_text = _apply(text, {s: (e, new) for s, (e, new, _) in naive.items()})
    if app_text == _apply(text, safe_edits) or _same_query(app_text, rendered):
        return
    located = {r.span.start: r for r in refs}
    positions = sorted(naive)
    reported = False
    for start in positions:
        end, new, written = naive[start]
        if safe_edits.get(start) == (end, new):
            continue  # the app writes the same text here
        edits = dict(safe_edits)
        edits[start] = (end, new)
        trial = _apply(text, edits)
        problem = _problem(trial, rendered)
        if problem is None:
            continue
        reported = True
        ref = located.get(start)
        where = _where(ref.span) if ref is not None else _offset_where(text, start)
        place = _place(text, start, ref)
        yield (
            f"{where}: {written}: the Dashboards app's own substitution "
            f"{problem}{place} for this value"
        )
    if not reported:
        problem = _problem(app_text, rendered) or "changes the query"
        yield f"the Dashboards app's own substitution {problem} for these values"


def _same_query(text: str, rendered: Query) -> bool:
    return _problem(text, rendered) is None


def _problem(text: str, rendered: Query) -> str | None:
    try:
        query = parse(text)
    except DQLSyntaxError:
        return "would make the query invalid"
    return None if query == rendered else "would change the query's meaning"


def _place(text: str, start: int, ref: VariableRef | None) -> str:
    if ref is not None:
        return " (inside a string literal)" if ref.in_string else ""
    for match in lexemes(text):
        if match.start() <= start < match.end():
            return _SKIPPED_PLACES.get(match.lastgroup or "", "")
    return ""


def _where(span: Span) -> str:
    return f"line {span.line}, column {span.column}"


def _offset_where(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


__all__ = ["RenderResult", "Values", "render"]
