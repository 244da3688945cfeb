"""A lossless JSON text layer: parse with positions, edit by splicing.

Dashboards and notebooks must come back byte for byte except where a query,
name or variable changed, so nothing here re-serialises a whole document.
:func:`parse_json` builds a light tree whose nodes know their span and JSON
pointer; :func:`apply_edits` turns a batch of edits into splices, all computed
against the original offsets and joined in one pass, so edits never shift
each other. New text
(a re-encoded string, an inserted variable) follows the style detected in the
file: escaping, indentation, separators, newline and key order.

Paths: a ``str`` is a JSON pointer (RFC 6901). A ``tuple`` of pointers walks
into JSON that is itself stored inside a JSON string (an envelope whose
``content`` is a string): ``("/content", "/tiles/1/query")``.
"""

from __future__ import annotations

import itertools
import json.decoder
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from json import JSONDecodeError
from typing import Literal, TypeAlias

from dqlbuild.errors import DocumentError

# The stdlib's own string decoder, so strings decode exactly as json.loads does.
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None
NodeKind = Literal["object", "array", "string", "number", "true", "false", "null"]
Path = tuple[str, ...]
PathLike = str | tuple[str, ...]

BOM = "\ufeff"

# ---------------------------------------------------------------------------
# JSON pointers


def escape_token(token: str) -> str:
    """Escape one reference token for use in a JSON pointer."""
    return token.replace("~", "~0").replace("/", "~1")


def unescape_token(token: str) -> str:
    """Undo :func:`escape_token`."""
    return token.replace("~1", "/").replace("~0", "~")


def pointer_join(base: str, *tokens: str | int) -> str:
    """``base`` extended by ``tokens`` (keys or array indexes)."""
    return base + "".join("/" + escape_token(str(t)) for t in tokens)


def split_pointer(pointer: str) -> list[str]:
    """The unescaped reference tokens of ``pointer``."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise DocumentError(f"invalid JSON pointer {pointer!r}: it must be empty or start with '/'")
    return [unescape_token(t) for t in pointer[1:].split("/")]


def as_path(path: PathLike) -> Path:
    """Normalise a pointer or a tuple of pointers to a tuple."""
    if isinstance(path, str):
        return (path,)
    if not path:
        raise DocumentError("an empty path names no value")
    return tuple(path)


def format_path(path: PathLike) -> str:
    """A readable form of a path; nested pointers are joined with ``→``."""
    return " → ".join(p or "(root)" for p in as_path(path))


# ---------------------------------------------------------------------------
# Tree


@dataclass(frozen=True, slots=True, eq=False)
class JsonMember:
    """One ``"key": value`` pair of an object, with the key's span."""

    key: str
    key_start: int
    key_end: int
    value: JsonNode

    @property
    def start(self) -> int:
        return self.key_start

    @property
    def end(self) -> int:
        return self.value.end


class JsonNode:
    """A JSON value with its span ``text[start:end]`` and its JSON pointer.

    Scalars carry their decoded ``value`` (exactly what :func:`json.loads`
    would give); objects keep every member in text order, duplicates included.
    The members and items of a container are read from the text when first
    asked for: most of a large document is never looked at.
    """

    __slots__ = (
        "_by_key",
        "_items",
        "_members",
        "_source",
        "end",
        "kind",
        "pointer",
        "start",
        "value",
    )

    kind: NodeKind
    start: int
    end: int
    pointer: str
    value: str | int | float | bool | None

    def __init__(
        self,
        kind: NodeKind,
        start: int,
        end: int,
        pointer: str,
        value: str | int | float | bool | None = None,
        members: tuple[JsonMember, ...] = (),
        items: tuple[JsonNode, ...] = (),
        *,
        source: _Source | None = None,
    ) -> None:
        self.kind = kind
        self.start = start
        self.end = end
        self.pointer = pointer
        self.value = value
        # With ``source``, a container's children are read from it on first use.
        self._source = source
        self._members: tuple[JsonMember, ...] | None = None if source is not None else members
        self._items: tuple[JsonNode, ...] | None = None if source is not None else items
        # Members by key (the last one wins), built on the first lookup in a large object,
        # so that looking up each of n tiles costs O(n) in all, not O(n²).
        self._by_key: dict[str, JsonMember] | None = None

    def __repr__(self) -> str:
        return f"JsonNode({self.kind!r}, {self.start}, {self.end}, {self.pointer!r})"

    @property
    def members(self) -> tuple[JsonMember, ...]:
        if self._members is None:
            assert self._source is not None
            self._members = _read_members(self._source, self) if self.kind == "object" else ()
        return self._members

    @property
    def items(self) -> tuple[JsonNode, ...]:
        if self._items is None:
            assert self._source is not None
            self._items = _read_items(self._source, self) if self.kind == "array" else ()
        return self._items

    def member(self, key: str) -> JsonMember | None:
        """The member named ``key``; the last one wins, as in :func:`json.loads`."""
        if len(self.members) > 16:
            if self._by_key is None:
                self._by_key = {m.key: m for m in self.members}
            return self._by_key.get(key)
        for m in reversed(self.members):
            if m.key == key:
                return m
        return None

    def child(self, token: str) -> JsonNode | None:
        """The child named by one unescaped pointer token, if any."""
        if self.kind == "object":
            m = self.member(token)
            return m.value if m else None
        if self.kind == "array" and _INDEX.fullmatch(token):
            i = int(token)
            return self.items[i] if i < len(self.items) else None
        return None

    def spans(self) -> list[tuple[int, int]]:
        """Spans of the children (members start at their key)."""
        if self.kind == "object":
            return [(m.key_start, m.value.end) for m in self.members]
        return [(n.start, n.end) for n in self.items]


_WS = re.compile(r"[ \t\n\r]*")
_LINE_INDENT = re.compile(r"[ \t]*")
_INDEX = re.compile(r"0|[1-9][0-9]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
# A string or a template opener; used only to explain a parse failure.
_TEMPLATE_SCAN = re.compile(r'"(?:[^"\\\n]|\\.)*"|\{\{|\$\{|%\{')


def _skip_ws(text: str, pos: int) -> int:
    m = _WS.match(text, pos)
    assert m is not None  # the pattern matches the empty string
    return m.end()


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # json.loads would accept NaN and Infinity


# The stdlib's C scanner: ``_scan_once(text, i)`` decodes the value at ``i`` exactly as
# json.loads does and returns it with its end; strict JSON (no NaN, no raw control
# characters in strings).
_scan_once: Callable[[str, int], tuple[object, int]] = json.decoder.JSONDecoder(
    parse_constant=_reject_constant
).scan_once  # type: ignore[attr-defined]


def _read(text: str) -> JsonNode:
    """The root of a valid document, its children to be read on demand; any problem
    is reported by the full parser, which says exactly what and where."""
    start = _skip_ws(text, 1 if text.startswith(BOM) else 0)
    try:
        value, end = _scan_once(text, start)
    except (ValueError, StopIteration):
        _Parser(text).parse()  # raises the precise _ParseFailure
        raise _ParseFailure("not valid JSON", start) from None
    rest = _skip_ws(text, end)
    if rest != len(text):
        raise _ParseFailure("unexpected text after the end of the JSON value", rest)
    root = _node(_Source(text, start, end), start, end, "", value)
    if root.kind in ("object", "array"):
        assert root._source is not None
        root._source.value = value
    return root


# Everything up to the next bracket outside strings, then that bracket: an opening one
# (group 1) or a closing one (group 2). Possessive quantifiers: no backtracking.
_TO_BRACKET = re.compile(
    r'[^"{}\[\]]*+(?:"[^"\\]*+(?:\\.[^"\\]*+)*+"[^"{}\[\]]*+)*+(?:([{\[])|[}\]])', re.S
)


class _Source:
    """The text of a validated document (its value at ``text[start:end]``) and where each
    of its containers ends."""

    __slots__ = ("_ends", "end", "start", "text", "value")

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text
        self.start = start
        self.end = end
        self._ends: dict[int, int] | None = None
        # The decoded document, handed to the first caller that wants it whole (then
        # dropped: later callers get their own copy).
        self.value: object = None

    def end_of(self, opening: int) -> int:
        if self._ends is None:
            ends: dict[int, int] = {}
            stack: list[int] = []
            # Within the value: after its last bracket nothing could match.
            for m in _TO_BRACKET.finditer(self.text, self.start, self.end):
                if m.lastindex:
                    stack.append(m.end() - 1)
                else:
                    ends[stack.pop()] = m.end()
            self._ends = ends
        return self._ends[opening]


def _node(source: _Source, start: int, end: int, pointer: str, value: object) -> JsonNode:
    if isinstance(value, dict):
        return JsonNode("object", start, end, pointer, source=source)
    if isinstance(value, list):
        return JsonNode("array", start, end, pointer, source=source)
    if isinstance(value, str):
        return JsonNode("string", start, end, pointer, value)
    if value is True or value is False or value is None:
        kind: NodeKind = "null" if value is None else "true" if value else "false"
        return JsonNode(kind, start, end, pointer, value)
    assert isinstance(value, int | float)
    return JsonNode("number", start, end, pointer, value)


def _child(source: _Source, pos: int, pointer: str) -> JsonNode:
    text = source.text
    first = text[pos]
    if first == '"':
        string, end = _scanstring(text, pos + 1, True)
        return JsonNode("string", pos, end, pointer, string)
    if first == "{":
        return JsonNode("object", pos, source.end_of(pos), pointer, source=source)
    if first == "[":
        return JsonNode("array", pos, source.end_of(pos), pointer, source=source)
    value, end = _scan_once(text, pos)
    return _node(source, pos, end, pointer, value)


# One step of a validated document's layout in one match: a simple key (no escapes) with
# its colon, or what follows a value (the separator and the next item's start).
_SIMPLE_KEY = re.compile(r'"([^"\\\x00-\x1f]*)"[ \t\n\r]*:[ \t\n\r]*')
_AFTER_VALUE = re.compile(r"[ \t\n\r]*(?:,[ \t\n\r]*|([}\]]))")


def _read_members(source: _Source, node: JsonNode) -> tuple[JsonMember, ...]:
    # The document was validated when read: only the layout is left to follow.
    text = source.text
    members: list[JsonMember] = []
    pos = _skip_ws(text, node.start + 1)
    if text[pos] == "}":
        return ()
    base = node.pointer + "/"
    key_match, after_match = _SIMPLE_KEY.match, _AFTER_VALUE.match
    while True:
        m = key_match(text, pos)
        if m is not None:
            key, key_end, value_start = m.group(1), pos + len(m.group(1)) + 2, m.end()
        else:  # a key with escapes
            key, key_end = _scanstring(text, pos + 1, True)
            value_start = _skip_ws(text, _skip_ws(text, key_end) + 1)
        child = _child(source, value_start, base + escape_token(key))
        members.append(JsonMember(key, pos, key_end, child))
        after = after_match(text, child.end)
        assert after is not None
        if after.group(1):
            return tuple(members)
        pos = after.end()


def _read_items(source: _Source, node: JsonNode) -> tuple[JsonNode, ...]:
    text = source.text
    items: list[JsonNode] = []
    pos = _skip_ws(text, node.start + 1)
    if text[pos] == "]":
        return ()
    base = node.pointer + "/"
    after_match = _AFTER_VALUE.match
    while True:
        child = _child(source, pos, base + str(len(items)))
        items.append(child)
        after = after_match(text, child.end)
        assert after is not None
        if after.group(1):
            return tuple(items)
        pos = after.end()


class _ParseFailure(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text

    def parse(self) -> JsonNode:
        text = self.text
        pos = _skip_ws(text, 1 if text.startswith(BOM) else 0)
        node, pos = self.value(pos, "")
        pos = self.ws(pos)
        if pos != len(text):
            raise _ParseFailure("unexpected text after the end of the JSON value", pos)
        return node

    def ws(self, pos: int) -> int:
        return _skip_ws(self.text, pos)

    def string(self, pos: int) -> tuple[str, int]:
        try:
            return _scanstring(self.text, pos + 1, True)
        except JSONDecodeError as e:
            msg = e.msg
            if msg.startswith("Invalid control character"):
                msg = "raw control character (such as a newline) inside a string"
            raise _ParseFailure(msg[:1].lower() + msg[1:], e.pos) from None

    def value(self, pos: int, pointer: str) -> tuple[JsonNode, int]:
        text = self.text
        c = text[pos : pos + 1]
        if c == '"':
            s, end = self.string(pos)
            return JsonNode("string", pos, end, pointer, s), end
        if c == "{":
            return self.obj(pos, pointer)
        if c == "[":
            return self.arr(pos, pointer)
        if text.startswith("true", pos):
            return JsonNode("true", pos, pos + 4, pointer, True), pos + 4
        if text.startswith("false", pos):
            return JsonNode("false", pos, pos + 5, pointer, False), pos + 5
        if text.startswith("null", pos):
            return JsonNode("null", pos, pos + 4, pointer, None), pos + 4
        m = _NUMBER.match(text, pos)
        if m:
            raw = m.group()
            num: int | float = float(raw) if m.group(1) or m.group(2) else int(raw)
            return JsonNode("number", pos, m.end(), pointer, num), m.end()
        what = "end of text" if not c else repr(c)
        raise _ParseFailure(f"expected a JSON value, found {what}", pos)

    def obj(self, start: int, pointer: str) -> tuple[JsonNode, int]:
        text = self.text
        members: list[JsonMember] = []
        pos = self.ws(start + 1)
        if text.startswith("}", pos):
            return JsonNode("object", start, pos + 1, pointer), pos + 1
        while True:
            if not text.startswith('"', pos):
                raise _ParseFailure("expected a double-quoted member name", pos)
            key, key_end = self.string(pos)
            colon = self.ws(key_end)
            if not text.startswith(":", colon):
                raise _ParseFailure("expected ':' after the member name", colon)
            vpos = self.ws(colon + 1)
            child, end = self.value(vpos, pointer + "/" + escape_token(key))
            members.append(JsonMember(key, pos, key_end, child))
            end = self.ws(end)
            if text.startswith(",", end):
                pos = self.ws(end + 1)
                continue
            if text.startswith("}", end):
                return JsonNode("object", start, end + 1, pointer, members=tuple(members)), end + 1
            raise _ParseFailure("expected ',' or '}' after an object member", end)

    def arr(self, start: int, pointer: str) -> tuple[JsonNode, int]:
        text = self.text
        items: list[JsonNode] = []
        pos = self.ws(start + 1)
        if text.startswith("]", pos):
            return JsonNode("array", start, pos + 1, pointer), pos + 1
        while True:
            child, end = self.value(pos, f"{pointer}/{len(items)}")
            items.append(child)
            end = self.ws(end)
            if text.startswith(",", end):
                pos = self.ws(end + 1)
                continue
            if text.startswith("]", end):
                return JsonNode("array", start, end + 1, pointer, items=tuple(items)), end + 1
            raise _ParseFailure("expected ',' or ']' after an array element", end)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _template_outside_strings(text: str) -> int | None:
    """Offset of the first ``{{``/``${``/``%{`` that is not inside a string."""
    for m in _TEMPLATE_SCAN.finditer(text):
        if not m.group().startswith('"'):
            return m.start()
    return None


class JsonText:
    """Parsed JSON text: the original ``text`` plus a :class:`JsonNode` tree."""

    def __init__(self, text: str, *, what: str = "the file") -> None:
        self.text = text
        # Embedded JSON parsed so far, by string offset: loading and editing share it.
        self._embedded: dict[int, JsonText] = {}
        try:
            self.root = _read(text)
        except _ParseFailure as f:
            raise _parse_error(text, f, what) from None
        except RecursionError:
            raise DocumentError(f"{what}: JSON nesting is too deep to process") from None

    @cached_property
    def _line_starts(self) -> list[int]:
        # Each line starts one past the end of the one before (all in C, no loop here).
        lines = self.text.split("\n")
        return list(itertools.accumulate(map((1).__add__, map(len, lines[:-1])), initial=0))

    def position(self, offset: int) -> tuple[int, int]:
        """1-based ``(line, column)`` of a text offset."""
        line = bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def get(self, pointer: str) -> JsonNode | None:
        """The node at ``pointer``, or ``None``."""
        node: JsonNode | None = self.root
        for token in split_pointer(pointer):
            if node is None:
                return None
            node = node.child(token)
        return node

    def find(self, pointer: str) -> JsonNode:
        """The node at ``pointer``; :class:`DocumentError` if there is none."""
        node = self.get(pointer)
        if node is None:
            raise DocumentError(f"no JSON value at {pointer or '(root)'}")
        return node

    def parent(self, node: JsonNode) -> JsonNode | None:
        if node.pointer == "":
            return None
        return self.get(node.pointer.rsplit("/", 1)[0])

    def to_python(self, node: JsonNode | None = None) -> JsonValue:
        """The value of ``node`` (default: root) as :func:`json.loads` returns it."""
        n = self.root if node is None else node
        if n.kind in ("object", "array"):
            source = n._source
            if n is self.root and source is not None and source.value is not None:
                whole, source.value = source.value, None
                return whole  # type: ignore[return-value]
            value: JsonValue = _scan_once(self.text, n.start)[0]  # type: ignore[assignment]
            return value
        return n.value

    def walk(self, node: JsonNode | None = None) -> Iterator[JsonNode]:
        """Every node, parents before children, in text order."""
        stack = [self.root if node is None else node]
        while stack:
            n = stack.pop()
            yield n
            if n.kind == "object":
                stack.extend(m.value for m in reversed(n.members))
            elif n.kind == "array":
                stack.extend(reversed(n.items))

    @cached_property
    def evidence(self) -> _Evidence:
        """Escaping choices counted over the whole text."""
        return _evidence(self.text)

    @cached_property
    def style(self) -> JsonStyle:
        """The formatting and escaping conventions of this text."""
        return detect_style(self)

    def line_indent(self, offset: int) -> str:
        """The leading whitespace of the line holding ``offset``."""
        start = self.text.rfind("\n", 0, offset) + 1
        m = _LINE_INDENT.match(self.text, start)
        return m.group() if m else ""

    def is_multiline(self, node: JsonNode) -> bool:
        """Whether a container lays its children out on separate lines."""
        spans = node.spans()
        end = spans[0][0] if spans else node.end
        return "\n" in self.text[node.start : end]


def _parse_error(text: str, failure: _ParseFailure, what: str) -> DocumentError:
    tpl = _template_outside_strings(text)
    if tpl is not None:
        line, col = _line_col(text, tpl)
        kind = (
            "a Monaco (Go template) placeholder '{{ ... }}'"
            if text.startswith("{{", tpl)
            else "a Terraform/HCL interpolation '" + text[tpl : tpl + 2] + "...}'"
        )
        return DocumentError(
            f"{what} is not valid JSON: {kind} stands outside a JSON string on line {line}",
            line=line,
            column=col,
            hint="load the rendered file instead (template parameters filled in); "
            "placeholders inside JSON strings are fine",
        )
    line, col = _line_col(text, failure.offset)
    return DocumentError(f"{what} is not valid JSON: {failure.message}", line=line, column=col)


def parse_json(text: str, *, what: str = "the file") -> JsonText:
    """Parse ``text``; ``what`` names it in error messages."""
    return JsonText(text, what=what)


# ---------------------------------------------------------------------------
# Style


@dataclass(frozen=True, slots=True)
class EscapeStyle:
    """How a writer escaped strings (all variants decode to the same value).

    ``ascii_only``: non-ASCII as ``\\uXXXX`` (Python ``ensure_ascii``);
    ``html_safe``: ``< > &`` (and U+2028/9) as ``\\u003c`` etc. (Go);
    ``escape_slash``: ``/`` as ``\\/`` (PHP, some Java);
    ``upper_hex``: ``\\u00E9`` rather than ``\\u00e9``.
    """

    ascii_only: bool = False
    html_safe: bool = False
    escape_slash: bool = False
    upper_hex: bool = False


@dataclass(frozen=True, slots=True)
class JsonStyle:
    """Layout conventions of a file, used only for text this layer adds.

    ``indent`` is ``None`` for single-line (minified) text. ``item_separator``
    is what separates items that share a line (``","`` or ``", "``).
    """

    newline: str = "\n"
    indent: str | None = "  "
    key_separator: str = ": "
    item_separator: str = ","
    sort_keys: bool = False
    final_newline: bool = True
    escapes: EscapeStyle = field(default_factory=EscapeStyle)


@dataclass(slots=True)
class _Evidence:
    raw_non_ascii: int = 0
    esc_non_ascii: int = 0
    raw_html: int = 0
    esc_html: int = 0
    raw_slash: int = 0
    esc_slash: int = 0
    upper_hex: int = 0
    lower_hex: int = 0


_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|(.))", re.S)
_HTML_CODEPOINTS = frozenset({0x3C, 0x3E, 0x26})


def _evidence(raw: str) -> _Evidence:
    """Count escaping choices in raw JSON text (a string body or a whole file).

    Outside strings valid JSON has no backslash, slash, ``<>&`` or non-ASCII,
    so a whole file can be scanned in one go (minus a BOM).
    """
    ev = _Evidence()
    for m in _ESCAPE.finditer(raw):
        hexa, simple = m.group(1), m.group(2)
        if hexa is None:
            ev.esc_slash += simple == "/"
            continue
        cp = int(hexa, 16)
        ev.esc_non_ascii += cp >= 0x80
        ev.esc_html += cp in _HTML_CODEPOINTS
        if any(ch in "ABCDEF" for ch in hexa):
            ev.upper_hex += 1
        elif any(ch in "abcdef" for ch in hexa):
            ev.lower_hex += 1
    ev.raw_non_ascii = len(raw) - len(raw.encode("ascii", "ignore")) - raw.startswith(BOM)
    ev.raw_html = raw.count("<") + raw.count(">") + raw.count("&")
    ev.raw_slash = raw.count("/") - ev.esc_slash
    return ev


def _decide(local: tuple[int, int], file: tuple[int, int]) -> bool:
    """True when escaped wins; the string's own evidence beats the file's."""
    for raw, esc in (local, file):
        if raw or esc:
            return esc > raw
    return False


def _escape_style(local: _Evidence, file: _Evidence) -> EscapeStyle:
    return EscapeStyle(
        ascii_only=_decide(
            (local.raw_non_ascii, local.esc_non_ascii), (file.raw_non_ascii, file.esc_non_ascii)
        ),
        html_safe=_decide((local.raw_html, local.esc_html), (file.raw_html, file.esc_html)),
        escape_slash=_decide((local.raw_slash, local.esc_slash), (file.raw_slash, file.esc_slash)),
        upper_hex=_decide((local.lower_hex, local.upper_hex), (file.lower_hex, file.upper_hex)),
    )


def _indent_unit(text: str) -> str | None:
    """The most common indentation step between consecutive lines."""
    steps: Counter[str] = Counter()
    prev: str | None = None
    for line in text.split("\n"):
        body = line.lstrip(" \t")
        if not body.strip():
            continue
        ind = line[: len(line) - len(body)]
        if prev is not None and len(ind) > len(prev) and ind.startswith(prev):
            steps[ind[len(prev) :]] += 1
        prev = ind
    return steps.most_common(1)[0][0] if steps else None


def detect_style(doc: JsonText) -> JsonStyle:
    """Detect the conventions of ``doc`` (see :class:`JsonStyle`)."""
    text = doc.text
    nl = text.find("\n")
    newline = "\r\n" if nl > 0 and text[nl - 1] == "\r" else "\n"
    multiline = "\n" in text[doc.root.start : doc.root.end]
    indent = (_indent_unit(text) or "  ") if multiline else None
    key_seps, item_sep = _separators(text, doc.root)
    return JsonStyle(
        newline=newline,
        indent=indent,
        key_separator=key_seps.most_common(1)[0][0] if key_seps else (": " if multiline else ":"),
        item_separator=item_sep or ",",
        sort_keys=_sorts_keys(text, doc.root),
        final_newline=text.endswith("\n"),
        escapes=_escape_style(_Evidence(), doc.evidence),
    )


def _separators(text: str, root: JsonNode) -> tuple[Counter[str], str | None]:
    """What separates keys from values (in the first members of the first objects) and
    items that share a line (the first gap of the first container, in pre-order, whose
    first gap has no newline). Containers are visited by their opening bracket (pre-order
    is the order of the brackets in the text), so only their first members are read."""
    key_seps: Counter[str] = Counter()
    item_sep: str | None = None
    source = root._source or _Source(text, root.start, root.end)

    def value_end(pos: int) -> int:
        # Containers end where the bracket index says; scalars are short to scan.
        return source.end_of(pos) if text[pos] in "{[" else _scan_once(text, pos)[1]

    for m in _TO_BRACKET.finditer(text, root.start, root.end):
        if not m.lastindex:
            continue  # a closing bracket
        opening = m.end() - 1
        pos = _skip_ws(text, opening + 1)
        if text[pos] in "}]":
            continue
        count = 0
        want_keys = text[opening] == "{" and sum(key_seps.values()) < 64
        while True:
            if text[opening] == "{":
                key_end = _scanstring(text, pos + 1, True)[1]
                value_start = _skip_ws(text, _skip_ws(text, key_end) + 1)
                if want_keys and count < 4:
                    key_seps[text[key_end:value_start]] += 1
                end = value_end(value_start)
            else:
                end = value_end(pos)
            count += 1
            after = _skip_ws(text, end)
            if text[after] in "}]":
                break
            pos = _skip_ws(text, after + 1)
            if count == 1 and item_sep is None and "\n" not in text[end:pos]:
                item_sep = text[end:pos]
            if count >= (4 if want_keys else 1):
                break
        if item_sep is not None and sum(key_seps.values()) >= 64:
            break
    return key_seps, item_sep


def _sorts_keys(text: str, root: JsonNode) -> bool:
    """Whether some objects of three or more members have their keys sorted and none
    has not (duplicates counted as written). Decoding stops at the first unsorted one."""
    found_sorted = False

    def count(pairs: list[tuple[str, object]]) -> None:
        nonlocal found_sorted
        if len(pairs) >= 3:
            keys = [key for key, _ in pairs]
            if keys != sorted(keys):
                raise _Unsorted
            found_sorted = True

    decoder = json.decoder.JSONDecoder(object_pairs_hook=count)
    try:
        decoder.scan_once(text, root.start)  # type: ignore[attr-defined]
    except _Unsorted:
        return False
    return found_sorted


class _Unsorted(Exception):
    """An object with unsorted keys: :func:`_sorts_keys` need not read further."""


def string_escape_style(doc: JsonText, node: JsonNode) -> EscapeStyle:
    """The escaping to use when re-encoding the string ``node`` of ``doc``."""
    return _escape_style(_evidence(doc.text[node.start + 1 : node.end - 1]), doc.evidence)


# ---------------------------------------------------------------------------
# Encoding


_SHORT = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


@lru_cache(maxsize=32)
def _needs_escape(style: EscapeStyle) -> re.Pattern[str]:
    # Surrogates are always escaped: they cannot be written as UTF-8.
    parts = ['"\\\\\\x00-\\x1f\\ud800-\\udfff']
    if style.html_safe:
        parts.append("<>&\\u2028\\u2029")
    if style.escape_slash:
        parts.append("/")
    if style.ascii_only:
        parts.append("\\x80-\\U0010ffff")
    return re.compile("[" + "".join(parts) + "]")


def encode_string_body(value: str, style: EscapeStyle = EscapeStyle()) -> str:
    """``value`` as the inside of a JSON string literal, escaped per ``style``."""
    hex_fmt = "\\u{:04X}" if style.upper_hex else "\\u{:04x}"

    def esc(m: re.Match[str]) -> str:
        ch = m.group()
        if ch in _SHORT:
            return _SHORT[ch]
        if ch == "/":
            return "\\/"
        cp = ord(ch)
        if cp > 0xFFFF:
            cp -= 0x10000
            return hex_fmt.format(0xD800 | (cp >> 10)) + hex_fmt.format(0xDC00 | (cp & 0x3FF))
        return hex_fmt.format(cp)

    return _needs_escape(style).sub(esc, value)


def encode_string(value: str, style: EscapeStyle = EscapeStyle()) -> str:
    """``value`` as a complete JSON string literal."""
    return '"' + encode_string_body(value, style) + '"'


def dump_value(value: JsonValue, style: JsonStyle, indent: str | None) -> str:
    """Serialise a new value in ``style``.

    ``indent`` is the indentation of the line the value starts on; ``None``
    writes it on one line.
    """
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise DocumentError(f"{value!r} cannot be written as JSON")
        return repr(value)
    if isinstance(value, str):
        return encode_string(value, style.escapes)
    if isinstance(value, dict):
        keys = sorted(value) if style.sort_keys else list(value)
        parts = [
            encode_string(k, style.escapes)
            + style.key_separator
            + dump_value(value[k], style, _deeper(style, indent))
            for k in keys
        ]
        return _wrap("{", "}", parts, style, indent)
    if isinstance(value, list):
        parts = [dump_value(v, style, _deeper(style, indent)) for v in value]
        return _wrap("[", "]", parts, style, indent)
    raise DocumentError(f"cannot write a {type(value).__name__} as JSON")


def _deeper(style: JsonStyle, indent: str | None) -> str | None:
    if indent is None or style.indent is None:
        return None
    return indent + style.indent


def _wrap(open_: str, close: str, parts: list[str], style: JsonStyle, indent: str | None) -> str:
    if not parts:
        return open_ + close
    inner = _deeper(style, indent)
    if inner is None or indent is None:
        return open_ + style.item_separator.join(parts) + close
    nl = style.newline
    return open_ + nl + inner + ("," + nl + inner).join(parts) + nl + indent + close


# ---------------------------------------------------------------------------
# Edits


@dataclass(frozen=True, slots=True)
class SetValue:
    """Replace the value at ``path``.

    String → string replacements keep the original escapes of every character
    that did not change; only the changed middle is re-encoded.
    """

    path: PathLike
    value: JsonValue


@dataclass(frozen=True, slots=True)
class InsertMember:
    """Add ``"key": value`` to the object at ``path`` (before member ``index``, default last)."""

    path: PathLike
    key: str
    value: JsonValue
    index: int | None = None


@dataclass(frozen=True, slots=True)
class InsertItem:
    """Add ``value`` to the array at ``path`` (before element ``index``, default last)."""

    path: PathLike
    value: JsonValue
    index: int | None = None


@dataclass(frozen=True, slots=True)
class Remove:
    """Remove the object member or array element at ``path``, with its separator."""

    path: PathLike


Edit = SetValue | InsertMember | InsertItem | Remove

# (start, end, replacement, sequence number for a stable order of equal inserts)
_Splice = tuple[int, int, str, int]


def replace_string(text: str, path: PathLike, new_value: str) -> str:
    """``text`` with the string at ``path`` set to ``new_value`` (see :class:`SetValue`)."""
    parsed = parse_json(text)
    _, node = locate(parsed, path)
    if node.kind != "string":
        raise DocumentError(f"{format_path(path)} is a JSON {node.kind}, not a string")
    return apply_edits(parsed, [SetValue(path, new_value)])


def insert_member(
    text: str, path: PathLike, key: str, value: JsonValue, index: int | None = None
) -> str:
    """``text`` with a member added to the object at ``path``."""
    return apply_edits(text, [InsertMember(path, key, value, index)])


def insert_item(text: str, path: PathLike, value: JsonValue, index: int | None = None) -> str:
    """``text`` with an element added to the array at ``path``."""
    return apply_edits(text, [InsertItem(path, value, index)])


def locate(text: str | JsonText, path: PathLike) -> tuple[JsonText, JsonNode]:
    """The (possibly embedded) parsed text holding ``path``, and the node there."""
    doc = text if isinstance(text, JsonText) else parse_json(text)
    steps = as_path(path)
    for i, ptr in enumerate(steps):
        node = doc.find(ptr)
        if i == len(steps) - 1:
            return doc, node
        doc = parse_embedded(doc, node)
    raise AssertionError("unreachable")


def parse_embedded(doc: JsonText, node: JsonNode) -> JsonText:
    """Parse the JSON held by the string ``node``; errors point at that string."""
    if node.kind != "string":
        raise DocumentError(
            f"{node.pointer or '(root)'} is a JSON {node.kind}; "
            "only a string can hold embedded JSON"
        )
    assert isinstance(node.value, str)
    cached = doc._embedded.get(node.start)
    if cached is not None:
        return cached
    try:
        inner = doc._embedded[node.start] = parse_json(
            node.value, what=f"the JSON in the string at {node.pointer}"
        )
        return inner
    except DocumentError as e:
        # The inner position means little in the file: report both.
        line, column = doc.position(node.start)
        raise DocumentError(
            f"{e.message} (line {e.line}, column {e.column} of the embedded text)",
            line=line,
            column=column,
            hint=e.hint,
        ) from None


def apply_edits(text: str | JsonText, edits: Sequence[Edit]) -> str:
    """Apply all ``edits`` at once and return the new text.

    Paths refer to the original text; every untouched byte is kept. Edits that
    overlap (two edits of one string, an edit inside a removed member) raise
    :class:`DocumentError`. Several inserts at the same place keep their order.
    """
    doc = text if isinstance(text, JsonText) else parse_json(text)
    return _apply(doc, [(as_path(e.path), e) for e in edits])


def _apply(doc: JsonText, edits: list[tuple[Path, Edit]]) -> str:
    nested: dict[str, list[tuple[Path, Edit]]] = {}
    splices: list[_Splice] = []
    inserts: dict[tuple[str, int | None], list[InsertMember | InsertItem]] = {}
    removes: dict[str, list[int]] = {}
    for seq, (path, edit) in enumerate(edits):
        if len(path) > 1:
            nested.setdefault(path[0], []).append((path[1:], edit))
            continue
        ptr = path[0]
        if isinstance(edit, SetValue):
            splices.extend(_set_splice(doc, doc.find(ptr), edit.value, seq))
        elif isinstance(edit, InsertMember | InsertItem):
            inserts.setdefault((ptr, edit.index), []).append(edit)
        else:
            if ptr == "":
                raise DocumentError("the root value cannot be removed")
            parent_ptr, token = ptr.rsplit("/", 1)
            parent = doc.find(parent_ptr)
            removes.setdefault(parent_ptr, []).append(_child_index(parent, unescape_token(token)))
    for outer, inner_edits in nested.items():
        node = doc.find(outer)
        inner = parse_embedded(doc, node)
        new_inner = _apply(inner, inner_edits)
        splices.extend(_set_splice(doc, node, new_inner, len(edits)))
    for seq, ((ptr, index), group) in enumerate(inserts.items(), start=len(edits) + 1):
        splices.append(_insert_splice(doc, doc.find(ptr), index, group, seq))
    for ptr, indexes in removes.items():
        splices.extend(_remove_splices(doc, doc.find(ptr), indexes))
    return _splice(doc, splices)


def _splice(doc: JsonText, splices: list[_Splice]) -> str:
    splices.sort(key=lambda s: (s[0], s[1], s[3]))
    for a, b in itertools.pairwise(splices):
        if a[1] > b[0]:
            line, col = doc.position(b[0])
            raise DocumentError("two edits touch the same part of the text", line=line, column=col)
    text, pieces, last = doc.text, [], 0
    for start, end, new, _ in splices:
        pieces += [text[last:start], new]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _child_index(parent: JsonNode, token: str) -> int:
    if parent.kind == "object":
        for i in range(len(parent.members) - 1, -1, -1):
            if parent.members[i].key == token:
                return i
    elif parent.kind == "array" and token.isdigit() and int(token) < len(parent.items):
        return int(token)
    raise DocumentError(f"no JSON value at {pointer_join(parent.pointer, token)}")


def _set_splice(doc: JsonText, node: JsonNode, value: JsonValue, seq: int) -> list[_Splice]:
    if node.kind == "string" and isinstance(value, str):
        old = node.value
        assert isinstance(old, str)
        if old == value:
            return []
        return [_string_splice(doc, node, old, value, seq)]
    if _same(doc.to_python(node), value):
        return []
    parent = doc.parent(node)
    multiline = doc.style.indent is not None and (parent is None or doc.is_multiline(parent))
    indent = doc.line_indent(node.start) if multiline else None
    return [(node.start, node.end, dump_value(value, doc.style, indent), seq)]


def _same(a: JsonValue, b: JsonValue) -> bool:
    """JSON equality that tells ``1``, ``1.0`` and ``true`` apart."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _unit_offsets(body: str, targets: Sequence[int]) -> list[int]:
    """Raw offsets in a string body where decoded characters ``targets`` start.

    Each escape (a surrogate-pair escape counts as one) decodes to exactly one
    character, exactly as :func:`json.loads` combines them.
    """
    out: list[int] = []
    wanted = iter(sorted(targets))
    target = next(wanted, None)
    unit = raw = 0
    n = len(body)
    while target is not None:
        nxt = body.find("\\", raw)
        if nxt < 0:
            nxt = n
        # A run of plain characters: one unit each.
        while target is not None and target - unit <= nxt - raw:
            out.append(raw + (target - unit))
            target = next(wanted, None)
        if target is None or nxt >= n:
            break
        unit += nxt - raw
        raw = nxt
        # One escape at `raw`.
        step = 2
        if body[raw + 1] == "u":
            step = 6
            cp = int(body[raw + 2 : raw + 6], 16)
            if 0xD800 <= cp <= 0xDBFF and body.startswith("\\u", raw + 6):
                low = body[raw + 8 : raw + 12]
                if re.fullmatch(r"[0-9a-fA-F]{4}", low) and 0xDC00 <= int(low, 16) <= 0xDFFF:
                    step = 12
        raw += step
        unit += 1
    if target is not None:
        raise AssertionError("string offsets out of range")
    return out


def _string_splice(doc: JsonText, node: JsonNode, old: str, new: str, seq: int) -> _Splice:
    # Keep the common prefix and suffix as written: their escapes may differ
    # from what this writer would produce, and they did not change.
    limit = min(len(old), len(new))
    p = 0
    while p < limit and old[p] == new[p]:
        p += 1
    s = 0
    while s < limit - p and old[-1 - s] == new[-1 - s]:
        s += 1
    body_start = node.start + 1
    body = doc.text[body_start : node.end - 1]
    a, b = _unit_offsets(body, [p, len(old) - s])
    middle = encode_string_body(new[p : len(new) - s], string_escape_style(doc, node))
    return (body_start + a, body_start + b, middle, seq)


def _insert_splice(
    doc: JsonText,
    node: JsonNode,
    index: int | None,
    group: list[InsertMember | InsertItem],
    seq: int,
) -> _Splice:
    text, style = doc.text, doc.style
    is_obj = node.kind == "object"
    for e in group:
        if isinstance(e, InsertMember) != is_obj or node.kind not in ("object", "array"):
            want = "an object" if isinstance(e, InsertMember) else "an array"
            raise DocumentError(f"{node.pointer or '(root)'} is a JSON {node.kind}, not {want}")
    if is_obj:
        taken = {m.key for m in node.members}
        for e in group:
            assert isinstance(e, InsertMember)
            if e.key in taken:
                raise DocumentError(f"{node.pointer or '(root)'} already has a member {e.key!r}")
            taken.add(e.key)
    spans = node.spans()
    n = len(spans)
    idx = n if index is None else index
    if not 0 <= idx <= n:
        raise DocumentError(
            f"insert position {idx} is outside {node.pointer or '(root)'} (size {n})"
        )
    key_sep = text[node.members[0].key_end : node.members[0].value.start] if node.members else None

    def render(indent: str | None) -> list[str]:
        out = []
        for e in group:
            body = dump_value(e.value, style, indent)
            if isinstance(e, InsertMember):
                body = encode_string(e.key, style.escapes) + (key_sep or style.key_separator) + body
            out.append(body)
        return out

    if n == 0:
        parent = doc.parent(node)
        multiline = style.indent is not None and (parent is None or doc.is_multiline(parent))
        if not multiline or style.indent is None:
            return (node.start + 1, node.end - 1, style.item_separator.join(render(None)), seq)
        base = doc.line_indent(node.start)
        inner = base + style.indent
        nl = style.newline
        body = nl + inner + ("," + nl + inner).join(render(inner)) + nl + base
        return (node.start + 1, node.end - 1, body, seq)
    if n >= 2:
        k = min(max(idx, 1), n - 1)
        sep = text[spans[k - 1][1] : spans[k][0]]
    else:
        lead = text[node.start + 1 : spans[0][0]]
        sep = "," + lead if "\n" in lead else style.item_separator
    indent = sep.rsplit("\n", 1)[1] if "\n" in sep else None
    items = render(indent)
    if idx == n:
        return (spans[-1][1], spans[-1][1], "".join(sep + i for i in items), seq)
    return (spans[idx][0], spans[idx][0], "".join(i + sep for i in items), seq)


def _remove_splices(doc: JsonText, node: JsonNode, indexes: list[int]) -> list[_Splice]:
    spans = node.spans()
    n = len(spans)
    gone = sorted(set(indexes))
    if len(gone) == n:
        return [(node.start + 1, node.end - 1, "", -1)]
    out: list[_Splice] = []
    runs: list[list[int]] = []
    for i in gone:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    for run in runs:
        first, last = run[0], run[-1]
        if last < n - 1:
            out.append((spans[first][0], spans[last + 1][0], "", -1))
        else:
            out.append((spans[first - 1][1], spans[last][1], "", -1))
    return out
