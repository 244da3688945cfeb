"""Lossless printing: untouched text is reprinted byte for byte.

A node the parser made (and nobody replaced) prints as its exact source text. A node
copied from one with a change keeps its original layout: the text between its
children is reused, and only the changed children are printed anew. In a list
(stages, arguments) new and removed elements get separators in the style of the
list around them, and comments stay with the element they belong to: a comment
trailing an element on its line stays on that line, comments leading an element
stay before it.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator, Sequence
from typing import overload

from dqlbuild.ast.base import Node, get_private, origin_of
from dqlbuild.ast.nodes import Binary, Block, Command, Query
from dqlbuild.errors import DQLSyntaxError
from dqlbuild.printing import precedence
from dqlbuild.printing.canonical import Printer, parenthesized
from dqlbuild.printing.doc import render
from dqlbuild.syntax.collector import collector_paused
from dqlbuild.syntax.lexical import code_only as _code_only
from dqlbuild.syntax.parser import parse
from dqlbuild.syntax.source import SourceContext

# New nodes are printed on one line where possible: a minimal edit should not reflow.
_FLAT_WIDTH = 10**9


@collector_paused  # acyclic documents: see dqlbuild.syntax.collector
def to_source(query: Query) -> str:
    ctx: SourceContext | None = get_private(query, "source")
    if ctx is None:
        return render(Printer().query(query), 100)
    if ctx.is_root(query):  # the only original Query: no stage holds one
        return ctx.text
    lossless = _Lossless(ctx)
    inserted = lossless.inserted(query)
    return inserted if inserted is not None else lossless.text(query)


def reads_back(query: Query, text: str) -> bool:
    """Whether ``text`` parses to a tree equal to ``query`` (a :class:`DQLSyntaxError` if
    it does not parse at all), for checking the output of :func:`to_source`.

    For a query edited from a parsed one, only what the edit changed is parsed again:
    the stages whose text changed, or the stages inserted between two others with the
    separators around them. Everything before and after is the original text, byte for
    byte, standing for the same (shared) stages, so this proves as much as parsing the
    whole text again, at the cost of the edit's size."""
    return check_edit(query, text)[0]


Kept = tuple[int, int]
"""The lengths of the original text kept before and after an edit."""


def check_edit(query: Query, text: str) -> tuple[bool, Kept | None]:
    """:func:`reads_back`, and, when only the edit was parsed again, the lengths of the
    original text that ``text`` begins and ends with: stage boundaries of both texts,
    outside any string or comment (the edit is ``text`` between them)."""
    ctx: SourceContext | None = get_private(query, "source")
    if ctx is None or not ctx.commands or not query.commands:
        return parse(text) == query, None
    if ctx.is_root(query):
        return text == ctx.text, None
    try:
        checked = _reads_back_edit(ctx.text, text, ctx.commands, query)
    except DQLSyntaxError:
        checked = None
    if checked is None:
        return parse(text) == query, None  # errors: whole-text positions
    return checked


# What the lexer skips between tokens (grammar/dql.lark: WS, LINE_COMMENT, BLOCK_COMMENT).
_TRIVIA = r"(?:\s++|//[^\r\n]*+|/\*[\s\S]*?\*/)*+"  # possessive: no backtracking
_LEADING_PIPE = re.compile(_TRIVIA + r"\|")
_ONLY_TRIVIA = re.compile(_TRIVIA + r"\Z")


def _reads_back_edit(
    old_text: str, text: str, before: tuple[Command, ...], new: Query
) -> tuple[bool, Kept] | None:
    """The check of :func:`reads_back` on the changed part only (``before``: the stages
    parsed from ``old_text``); None when the edit does not have a shape it knows (then
    the whole text is parsed)."""
    after = new.commands
    if any(c.span is None for c in before):
        return None
    # The stages the edit kept (the very same nodes) at the front and at the back.
    shorter = min(len(before), len(after))
    first = 0
    while first < shorter and after[first] is before[first]:
        first += 1
    kept = 0
    while kept < shorter - first and after[-1 - kept] is before[-1 - kept]:
        kept += 1
    stop, changed = len(before) - kept, after[first : len(after) - kept]
    if not changed:
        return None
    if first < stop:
        # Stages first..stop-1 became `changed`: their text is parsed again, and the text
        # before and after it must be the original's.
        head, tail = _start(before[first]), len(old_text) - _end(before[stop - 1])
    else:
        # Stages inserted between two stages (either may not exist): the text between
        # those must be a separator, the new stages, and a separator.
        head = _end(before[first - 1]) if first else 0
        tail = len(old_text) - _start(before[stop]) if stop < len(before) else 0
    if not (text.startswith(old_text[:head]) and text.endswith(old_text[len(old_text) - tail :])):
        return None
    if first < stop:
        return _same(_stages_of(text[head : len(text) - tail]), changed), (head, tail)
    gap = text[head : len(text) - tail]
    begin, end = 0, len(gap)
    if first:
        leading = _LEADING_PIPE.match(gap)
        if leading is None:
            return None
        begin = leading.end()
    if stop < len(before):
        end = _code(gap).rfind("|")
        if end < begin or not _ONLY_TRIVIA.match(gap, end + 1):
            return None
    return _same(_stages_of(gap[begin:end]), changed), (head, tail)


# Parsed stage texts by text: a batch inserts the same stage text into many queries.
_PARSED: dict[str, tuple[Command, ...]] = {}
_PARSED_TEXT_LIMIT = 2000  # longer texts are rare and would keep big trees alive


def _stages_of(text: str) -> tuple[Command, ...]:
    """``parse(text).commands``, remembered for short texts: parsing is a function of the
    text alone, so a remembered result proves exactly what parsing again would."""
    known = _PARSED.get(text)
    if known is None:
        known = parse(text).commands
        if len(text) <= _PARSED_TEXT_LIMIT:
            if len(_PARSED) >= 256:
                _PARSED.clear()
            _PARSED[text] = known
    return known


# Pairs of stage tuples found equal, by the identities of their stages, with the tuples
# (so the ids are not reused meanwhile): nodes are immutable, so two that were equal stay
# equal, and a batch compares the one new stage with the same remembered parse again.
_EQUAL: dict[tuple[int, ...], tuple[tuple[Command, ...], tuple[Command, ...]]] = {}


def _same(parsed: tuple[Command, ...], changed: tuple[Command, ...]) -> bool:
    key = (*map(id, parsed), -1, *map(id, changed))
    known = _EQUAL.get(key)
    if known is not None and _identical(known[0], parsed) and _identical(known[1], changed):
        return True
    if parsed != changed:
        return False
    if len(_EQUAL) >= 64:
        _EQUAL.clear()
    _EQUAL[key] = (parsed, changed)
    return True


def _identical(a: tuple[Command, ...], b: tuple[Command, ...]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


# Printed text of new nodes (no part with a position or copied from another node) by
# identity, with the node (so its id is not reused meanwhile): a batch inserts one new
# stage into many queries, and such a node prints the same whatever query holds it (no
# part of it can be a node of any parsed text).
_PRINTED: dict[int, tuple[Node, str]] = {}


def _all_new(node: Node) -> bool:
    """No part of ``node`` has a position or is a copy (those may print source text, so
    what ``node`` prints could depend on the query)."""
    return not any(n.span is not None or origin_of(n) is not None for n in node.walk())


class _Lossless:
    def __init__(self, ctx: SourceContext) -> None:
        self.ctx = ctx
        self.source = ctx.text
        self.printer = Printer(verbatim=self._reusable_text)

    def text(self, node: Node) -> str:
        known = _PRINTED.get(id(node))
        if known is not None and known[0] is node:
            return known[1]
        reused = self._reusable_text(node)
        if reused is not None:
            return reused
        if isinstance(node, Query):
            return render(self.printer.query(node), _FLAT_WIDTH)
        text = render(self.printer.expr(node, precedence.ANY), _FLAT_WIDTH)
        if _all_new(node):
            if len(_PRINTED) >= 64:
                _PRINTED.clear()
            _PRINTED[id(node)] = (node, text)
        return text

    def inserted(self, query: Query) -> str | None:
        """The text of ``query`` when it is the parsed query with one new stage inserted
        after its first: what the layout of the whole query gives (:meth:`_sequence`),
        worked out from the stages around the new one alone; None for any other edit."""
        ctx, origin = self.ctx, origin_of(query)
        old, new = ctx.commands, query.commands
        if (
            origin is None
            or not ctx.is_root(origin)
            or len(new) != len(old) + 1
            or not old
            or new[0] is not old[0]
        ):
            return None
        at = 1
        while at < len(old) and new[at] is old[at]:
            at += 1
        stage = new[at]
        if (
            stage.span is not None
            or origin_of(stage) is not None
            or not all(map(operator.is_, new[at + 1 :], old[at:]))
        ):
            return None
        src, span = self.source, origin.span
        assert span is not None
        gaps = _Gaps(src, old)
        clean = _clean_separator(gaps, "|", origin, src)
        text = self._child(stage, precedence.ANY)
        last = len(old) - 1
        if at <= last:
            before = _separator(gaps, at - 1, None, "|", clean)
            after = _separator(gaps, None, at, "|", clean)
            return (
                src[span.start : _end(old[at - 1])]
                + before
                + text
                + after
                + src[_start(old[at]) : span.end]
            )
        # Appended: a comment on the last stage's line stays with it (as in _sequence).
        end = _end(old[last])
        trailing = _trailing_comment(src[end : span.end])
        before = _separator(gaps, last, None, "|", clean, head=trailing)
        return src[span.start : end] + before + text + src[end + len(trailing) : span.end]

    def _reusable_text(self, node: Node) -> str | None:
        if self.ctx.is_original(node):
            return self.ctx.text_of(node)
        origin = origin_of(node)
        if origin is not None and type(origin) is type(node) and self.ctx.is_original(origin):
            return self._relayout(node, origin)
        return None

    def _child(self, child: Node, required: int) -> str:
        text = self.text(child)
        if precedence.level(child) < required and not parenthesized(text):
            return f"({text})"
        return text

    def _relayout(self, node: Node, origin: Node) -> str | None:
        """``node`` printed in the layout of ``origin``, or None when the two differ in
        more than their children (then the canonical printer takes over)."""
        child_fields = type(node).child_fields()
        for name in type(node)._semantic_fields:
            if name not in child_fields and getattr(node, name) != getattr(origin, name):
                return None
        assert origin.span is not None
        if isinstance(node, Binary) and isinstance(origin, Binary):
            return self._chain(node, origin)
        src = self.source
        out: list[str] = []
        pos = origin.span.start
        for name in child_fields:
            old, new = getattr(origin, name), getattr(node, name)
            if isinstance(old, tuple):
                if not old:
                    if new:
                        return None
                    continue
                first, last = old[0].span, old[-1].span
                out.append(src[pos : first.start])
                text, consumed = self._sequence(origin, old, new, src[last.end : origin.span.end])
                out.append(text)
                pos = last.end + consumed
            elif isinstance(old, Node):
                if not isinstance(new, Node):
                    return None
                assert old.span is not None
                out.append(src[pos : old.span.start])
                out.append(self._child(new, precedence.required_level(node, name)))
                pos = old.span.end
            elif old is not new and old != new:
                return None
        out.append(src[pos : origin.span.end])
        return "".join(out)

    def _chain(self, node: Binary, origin: Binary) -> str | None:
        """An operator chain in the layout of the original: the text between its operands
        (operators, comments, folded parentheses) is kept, and operands added at the end
        follow ` op `. With operands removed the text between them cannot be split up
        safely, so the canonical printer takes over."""
        old, new = origin.operands, node.operands
        if len(new) < len(old):
            return None
        src = self.source
        assert origin.span is not None
        out = [src[origin.span.start : _start(old[0])]]
        for k, operand in enumerate(new):
            if k < len(old):
                out.append(src[_end(old[k - 1]) : _start(old[k])] if k else "")
            else:
                out.append(f" {node.op} ")
            out.append(self._child(operand, precedence.required_level(node, "operands", k)))
        out.append(src[_end(old[-1]) : origin.span.end])
        return "".join(out)

    def _sequence(
        self, origin: Node, old: Sequence[Node], new: Sequence[Node], after: str
    ) -> tuple[str, int]:
        """The elements of ``new`` in the layout of the original list ``old`` of ``origin``,
        and how much of ``after`` (the text after the last original element) it used: a
        comment trailing that element stays with it when elements are added behind it."""
        src = self.source
        sep = "|" if isinstance(origin, Query | Block) else ","
        index = {id(e): k for k, e in enumerate(old)}
        gaps = [src[old[k].span.end : old[k + 1].span.start] for k in range(len(old) - 1)]  # type: ignore[union-attr]
        clean = _clean_separator(gaps, sep, origin, src)
        last = len(old) - 1
        slots = _slots(new, index)
        consumed = 0
        out: list[str] = []
        prev_k: int | None = None
        # A run of original elements in their original order is their original text with
        # the gaps between them: one slice (an edit costs what it changes).
        run: int | None = None
        for j, (item, k) in enumerate(zip(new, slots, strict=True)):
            untouched = k is not None and old[k] is item
            if run is not None and prev_k is not None:
                if untouched and k == prev_k + 1:
                    prev_k = k
                    continue
                out.append(src[_start(old[run]) : _end(old[prev_k])])
                run = None
            if j:
                if prev_k is not None and k is not None and k == prev_k + 1:
                    out.append(gaps[prev_k])
                elif prev_k == last and not consumed:
                    trailing = _trailing_comment(after)
                    consumed = len(trailing)
                    out.append(_separator(gaps, prev_k, k, sep, clean, head=trailing))
                else:
                    out.append(_separator(gaps, prev_k, k, sep, clean))
            if untouched:
                run = k
            else:
                if k is not None and item.comments and not self.ctx.is_original(item):
                    # Its comments are in the original text around its slot, printed above.
                    item = item.model_copy(update={"comments": ()})
                out.append(self._child(item, precedence.ANY))
            prev_k = k
        if run is not None and prev_k is not None:
            out.append(src[_start(old[run]) : _end(old[prev_k])])
        if prev_k is not None and prev_k < last:
            # The elements after the new last one were removed: it keeps the comment on its
            # line, and the comment trailing the removed last element goes with it.
            out.append(_head(gaps[prev_k], sep))
            consumed = len(_trailing_comment(after))
        return "".join(out), consumed


class _Gaps(Sequence[str]):
    """The texts between consecutive nodes of a list, each sliced when read: a stage
    inserted into a long query reads two or three of them."""

    __slots__ = ("_nodes", "_src")

    def __init__(self, src: str, nodes: Sequence[Node]) -> None:
        self._src, self._nodes = src, nodes

    def __len__(self) -> int:
        return max(len(self._nodes) - 1, 0)

    @overload
    def __getitem__(self, k: int) -> str: ...
    @overload
    def __getitem__(self, k: slice) -> Sequence[str]: ...
    def __getitem__(self, k: int | slice) -> str | Sequence[str]:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        nodes = self._nodes
        if k < 0:
            k += len(nodes) - 1
        if not 0 <= k < len(nodes) - 1:
            raise IndexError(k)
        return self._src[_end(nodes[k]) : _start(nodes[k + 1])]

    def __iter__(self) -> Iterator[str]:
        src, nodes = self._src, self._nodes
        for k in range(len(nodes) - 1):
            yield src[_end(nodes[k]) : _start(nodes[k + 1])]


def _code(text: str) -> str:
    """:func:`~dqlbuild.syntax.lexical.code_only`, at once for a text without a quote, a
    backtick or a slash (what every string, quoted name and comment begins with): most
    gaps between stages are a newline and a pipe."""
    if '"' not in text and "`" not in text and "/" not in text:
        return text
    return _code_only(text)


def _start(node: Node) -> int:
    assert node.span is not None
    return node.span.start


def _end(node: Node) -> int:
    assert node.span is not None
    return node.span.end


def _slots(new: Sequence[Node], index: dict[int, int]) -> list[int | None]:
    """The original position each new element stands in: its own, its origin's (a changed
    copy), or that of the element it replaced (a new element between two originals that
    are one apart), so the text and comments around that position stay."""
    slots: list[int | None] = []
    for item in new:
        k = index.get(id(item))
        if k is None:
            item_origin = origin_of(item)
            k = index.get(id(item_origin)) if item_origin is not None else None
        slots.append(k)
    used = {k for k in slots if k is not None}
    count = len(index)
    for j, k in enumerate(slots):
        if k is not None:
            continue
        before = slots[j - 1] if j else -1
        following = slots[j + 1] if j + 1 < len(slots) else count
        if (
            before is not None
            and following is not None
            and following == before + 2
            and before + 1 not in used
        ):
            slots[j] = before + 1
            used.add(before + 1)
    return slots


def _head(gap: str, sep: str) -> str:
    """The part of a gap that belongs to the element before it: its trailing comment on
    the same line, or the comments before the separator when that is on the same line."""
    code = _code(gap)
    at = code.find(sep)
    newline = code.find("\n")  # a newline inside a block comment does not end the line
    if newline >= 0 and (at < 0 or newline < at):
        return gap[:newline].removesuffix("\r")
    if at < 0:
        return ""
    head = gap[:at]
    return head.rstrip(" \t") if _code(head) != head else ""


def _trailing_comment(after: str) -> str:
    """The comment (with the spaces before it) on the same line after the last element."""
    newline = _code(after).find("\n")  # not one inside a block comment
    line = (after if newline < 0 else after[:newline]).removesuffix("\r")
    code = _code(line)
    if code.strip() or code == line:  # other text follows, or there is no comment
        return ""
    if "/*" in line and not line.rstrip().endswith("*/"):
        return ""  # a block comment left open runs to the end: it must stay last
    return line


def _separator(
    gaps: Sequence[str],
    prev_k: int | None,
    k: int | None,
    sep: str,
    clean: str,
    *,
    head: str | None = None,
) -> str:
    if head is None:
        head = _head(gaps[prev_k], sep) if prev_k is not None and prev_k < len(gaps) else ""
    tail = ""
    if k is not None and k > 0:
        gap = gaps[k - 1]
        tail = gap[len(_head(gap, sep)) :]
    if tail and sep in _code(tail):
        return head + tail
    if head and "//" in head and "\n" not in clean:
        clean = "\n" + clean.lstrip(" ") if sep == "|" else clean.rstrip(" ") + "\n"
    return head + clean


def _clean_separator(gaps: Sequence[str], sep: str, parent: Node, src: str) -> str:
    """A separator in the style of the list: a gap without comments; else the last line
    of a gap (its newline and indentation before the separator); else the default."""
    for gap in gaps:
        # Blank lines between two stages stay between them; a new stage gets one newline.
        if _code(gap) == gap and gap.count(sep) == 1 and gap.count("\n") <= 1:
            return gap
    newline = "\r\n" if "\r\n" in src else "\n"
    for gap in gaps:
        line = gap[gap.rfind("\n") + 1 :]
        if "\n" not in gap or _code(line) != line:
            continue
        if sep == "|" and line.strip() == sep:
            return newline + line[: line.index(sep)] + "| "
        if sep == "," and not line.strip():
            return "," + newline + line
    if sep == ",":
        return ", "
    span = parent.span
    if isinstance(parent, Query | Block) and span and "\n" in src[span.start : span.end].strip():
        return newline + "| "
    return " | "
