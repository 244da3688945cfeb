"""Text positions as LSP counts them, and minimal text edits.

LSP addresses text by line and by *code units* within the line: UTF-16 units unless the
client negotiated UTF-8 or UTF-32, while Python indexes code points. Lines end at
``\\n``, ``\\r\\n`` or ``\\r`` and nowhere else (not at U+2028, which ``str.splitlines``
would split on). Conversions are per line, so an ASCII line costs nothing.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Literal

Encoding = Literal["utf-8", "utf-16", "utf-32"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class LineIndex:
    """Offsets of ``text`` ↔ zero-based ``(line, character)`` in ``encoding`` units."""

    def __init__(self, text: str, encoding: Encoding = "utf-16") -> None:
        self.text = text
        self.encoding = encoding
        starts = [0]
        starts.extend(m.end() for m in _LINE_BREAK.finditer(text))
        self._starts = starts

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def line_start(self, line: int) -> int:
        return self._starts[line]

    def _line_end(self, line: int) -> int:
        """The offset of the line break ending ``line`` (or of the end of the text)."""
        if line + 1 >= len(self._starts):
            return len(self.text)
        end = self._starts[line + 1]
        if self.text.startswith("\r\n", end - 2):
            return end - 2
        return end - 1

    def line_of(self, offset: int) -> int:
        return bisect_right(self._starts, offset) - 1

    def position(self, offset: int) -> tuple[int, int]:
        """``(line, character)`` of a code-point offset (clamped to the text)."""
        offset = max(0, min(offset, len(self.text)))
        line = self.line_of(offset)
        start = self._starts[line]
        # An offset between `\r` and `\n` is not a position; it counts as the line end.
        offset = min(offset, self._line_end(line))
        return line, units(self.text[start:offset], self.encoding)

    def offset(self, line: int, character: int) -> int:
        """The code-point offset of an LSP position; past the end of a line is the line
        end and past the last line is the end of the text, as the protocol says."""
        if line < 0:
            return 0
        if line >= len(self._starts):
            return len(self.text)
        start, end = self._starts[line], self._line_end(line)
        return start + code_points(self.text[start:end], max(character, 0), self.encoding)


def units(text: str, encoding: Encoding) -> int:
    """The length of ``text`` in code units of ``encoding``."""
    if encoding == "utf-32" or text.isascii():
        return len(text)
    if encoding == "utf-16":
        return len(text) + len(_ASTRAL.findall(text))
    return len(text.encode("utf-8", "surrogatepass"))


def code_points(line: str, count: int, encoding: Encoding) -> int:
    """How many code points of ``line`` the first ``count`` units cover (a position in
    the middle of a character counts as that character's start)."""
    if encoding == "utf-32" or line.isascii():
        return min(count, len(line))
    if encoding == "utf-16":
        if not _ASTRAL.search(line):
            return min(count, len(line))
        data = line.encode("utf-16-le", "surrogatepass")[: 2 * count]
        decoded = data.decode("utf-16-le", "surrogatepass")
        # A cut inside a surrogate pair leaves a lone high surrogate: not a whole character.
        return len(decoded) - (1 if decoded and "\ud800" <= decoded[-1] <= "\udbff" else 0)
    data = line.encode("utf-8", "surrogatepass")[:count]
    return len(data.decode("utf-8", "ignore"))


def common_affixes(old: str, new: str, start: int = 0) -> tuple[int, int]:
    """Lengths of the common prefix (from ``start``) and the common suffix (not reaching
    back into that prefix) of ``old`` and ``new``."""
    limit = min(len(old), len(new))
    lo, hi = start, limit
    while lo < hi:  # binary search on slices: C-speed comparisons, also on megabytes
        mid = (lo + hi + 1) // 2
        if old[start:mid] == new[start:mid]:
            lo = mid
        else:
            hi = mid - 1
    prefix = lo
    lo, hi = 0, limit - prefix
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[len(old) - mid :] == new[len(new) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return prefix, lo


def minimal_edit(old: str, new: str) -> tuple[int, int, str] | None:
    """The one replacement ``(start, end, text)`` of ``old`` that gives ``new``, as small
    as possible; ``None`` when they are equal."""
    if old == new:
        return None
    prefix, suffix = common_affixes(old, new)
    # Never split a `\r\n`: the position between its halves does not exist in LSP.
    if 0 < prefix < len(old) and old[prefix - 1] == "\r" and old[prefix] == "\n":
        prefix -= 1
    end = len(old) - suffix
    if 0 < end < len(old) and old[end - 1] == "\r" and old[end] == "\n":
        suffix -= 1
        end += 1
    return prefix, end, new[prefix : len(new) - suffix]
