"""A small Wadler-style document printer: groups print flat when they fit the width.

Documents are plain Python values: ``str`` (text without newlines), the markers
``LINE`` (space or newline), ``SOFTLINE`` (nothing or newline), ``HARDLINE`` (always a
newline) and ``BREAK_PARENT`` (forces the enclosing groups to break), :class:`Trailing`
comments, lists (concatenation), and :class:`Group` / :class:`Nest`.
"""

from __future__ import annotations

# The document classes are written out rather than made with dataclasses: generating
# their methods costs every start-up of the command line, and they need only __init__.


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


class Trailing:
    """A trailing comment: printed as text, but never a reason to break a group (what
    follows a comment on its line does not count against the width)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Trailing({self.text!r})"


class Group:
    __slots__ = ("_forced", "_width", "contents")

    def __init__(self, contents: Doc) -> None:
        self.contents = contents
        # Filled lazily: whether a HARDLINE/BREAK_PARENT inside forces this group to
        # break, and (when it is not forced) its width printed flat.
        self._forced: bool | None = None
        self._width = 0

    def __repr__(self) -> str:
        return f"Group({self.contents!r})"


class Nest:
    __slots__ = ("contents", "indent")

    def __init__(self, indent: int, contents: Doc) -> None:
        self.indent = indent
        self.contents = contents

    def __repr__(self) -> str:
        return f"Nest({self.indent!r}, {self.contents!r})"


Doc = str | _Marker | Trailing | Group | Nest | list["Doc"]

_FLAT, _BREAK = 0, 1


def _forces_break(doc: Doc) -> bool:
    """Whether a HARDLINE/BREAK_PARENT inside ``doc`` forces it to break."""
    if isinstance(doc, Group):
        if doc._forced is None:
            _measure(doc)
        return bool(doc._forced)
    return _measure(doc)[0]


def _measure(doc: Doc) -> tuple[bool, int]:
    """Whether ``doc`` is forced to break, and its flat width; memoised on every group on
    the way. Iterative: an operator chain nests one group per term."""
    # [forced, width] of ``doc``, then of each group being measured; a width below 0
    # means "holds a trailing comment" (the line ends there: _fits looks inside).
    frames = [[False, 0]]
    stack: list[Doc | tuple[Group]] = [doc]
    while stack:
        item = stack.pop()
        frame = frames[-1]
        if isinstance(item, str):
            frame[1] += len(item)
        elif item is LINE:
            frame[1] += 1
        elif item is HARDLINE or item is BREAK_PARENT:
            frame[0] = True
        elif isinstance(item, Trailing):
            frame[1] = -(1 << 62)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Group):
            if item._forced is None:
                frames.append([False, 0])
                stack.append((item,))  # popped after the group's contents
                stack.append(item.contents)
            else:
                frame[0] = frame[0] or item._forced
                frame[1] += item._width
        elif isinstance(item, Nest):
            stack.append(item.contents)
        elif isinstance(item, tuple):
            forced, width = frames.pop()
            item[0]._forced, item[0]._width = bool(forced), int(width)
            frames[-1][0] = frames[-1][0] or forced
            frames[-1][1] += width
    return bool(frames[0][0]), int(frames[0][1])


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
                stack.append((indent, _BREAK, doc.contents))
            elif mode == _FLAT and doc._width >= 0:
                width -= doc._width  # measured with _forced: no need to look inside
            else:
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
