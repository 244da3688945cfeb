"""A small Wadler-style document printer: groups print flat when they fit the width.

Documents are plain Python values: ``str`` (text without newlines), the markers
``LINE`` (space or newline), ``SOFTLINE`` (nothing or newline), ``HARDLINE`` (always a
newline) and ``BREAK_PARENT`` (forces the enclosing groups to break), :class:`Trailing`
comments, lists (concatenation), and :class:`Group` / :class:`Nest`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


LINE = _Marker("LINE")
SOFTLINE = _Marker("SOFTLINE")
HARDLINE = _Marker("HARDLINE")
BREAK_PARENT = _Marker("BREAK_PARENT")


@dataclass(slots=True)
class Trailing:
    """A trailing comment: printed as text, but never a reason to break a group (what
    follows a comment on its line does not count against the width)."""

    text: str


@dataclass(slots=True)
class Group:
    contents: Doc
    # Filled lazily: whether a HARDLINE/BREAK_PARENT inside forces this group to break.
    _forced: bool | None = field(default=None, repr=False)


@dataclass(slots=True)
class Nest:
    indent: int
    contents: Doc


Doc = str | _Marker | Trailing | Group | Nest | list["Doc"]

_FLAT, _BREAK = 0, 1


def _forces_break(doc: Doc) -> bool:
    """Whether a HARDLINE/BREAK_PARENT inside ``doc`` forces it to break; memoised on
    every group on the way. Iterative: an operator chain nests one group per term."""
    if isinstance(doc, Group) and doc._forced is not None:
        return doc._forced
    flags = [False]  # the flag of ``doc``, then one per group being scanned
    stack: list[Doc | tuple[Group]] = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, str | Trailing):
            continue
        if item is HARDLINE or item is BREAK_PARENT:
            flags[-1] = True
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Group):
            if item._forced is None:
                flags.append(False)
                stack.append((item,))  # popped after the group's contents
                stack.append(item.contents)
            elif item._forced:
                flags[-1] = True
        elif isinstance(item, Nest):
            stack.append(item.contents)
        elif isinstance(item, tuple):
            forced = flags.pop()
            item[0]._forced = forced
            if forced:
                flags[-1] = True
    return flags[0]


def _fits(width: int, items: list[tuple[int, int, Doc]]) -> bool:
    stack = list(items)
    while width >= 0:
        if not stack:
            return True
        indent, mode, doc = stack.pop()
        if isinstance(doc, str):
            width -= len(doc)
        elif isinstance(doc, list):
            stack.extend((indent, mode, d) for d in reversed(doc))
        elif isinstance(doc, Group):
            if _forces_break(doc):
                mode = _BREAK
            stack.append((indent, mode, doc.contents))
        elif isinstance(doc, Nest):
            stack.append((indent + doc.indent, mode, doc.contents))
        elif doc is LINE or doc is SOFTLINE:
            if mode == _BREAK:
                return True
            width -= 1 if doc is LINE else 0
        elif doc is HARDLINE or isinstance(doc, Trailing):
            return True
    return False


def render(doc: Doc, width: int) -> str:
    out: list[str] = []
    column = 0
    # Indentation is written lazily, with the next text, so that empty lines carry no
    # trailing spaces (and text such as string contents is never stripped).
    pending = ""
    stack: list[tuple[int, int, Doc]] = [(0, _BREAK, doc)]
    while stack:
        indent, mode, item = stack.pop()
        if isinstance(item, str | Trailing):
            text = item if isinstance(item, str) else item.text
            if text:
                if pending:
                    out.append(pending)
                    pending = ""
                out.append(text)
                column += len(text)
        elif isinstance(item, list):
            stack.extend((indent, mode, d) for d in reversed(item))
        elif isinstance(item, Group):
            if _forces_break(item):
                stack.append((indent, _BREAK, item.contents))
            elif _fits(width - column, [*stack[-8:], (indent, _FLAT, item.contents)]):
                # The group must fit together with what follows it up to the next line
                # break (a closing bracket, a comma); a few items of the rest suffice.
                stack.append((indent, _FLAT, item.contents))
            else:
                stack.append((indent, _BREAK, item.contents))
        elif isinstance(item, Nest):
            stack.append((indent + item.indent, mode, item.contents))
        elif item is LINE or item is SOFTLINE:
            if mode == _FLAT:
                if item is LINE:
                    out.append(pending + " ")
                    pending = ""
                    column += 1
            else:
                out.append("\n")
                pending = " " * indent
                column = indent
        elif item is HARDLINE:
            out.append("\n")
            pending = " " * indent
            column = indent
    return "".join(out)
