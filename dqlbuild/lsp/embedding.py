"""Offsets in a query ↔ offsets in the JSON text that holds it as a string.

A query inside a dashboard is the *decoded* value of a JSON string: each escape
(``\\n``, ``\\"``, ``\\u00e9``, a ``\\ud83d\\ude00`` surrogate pair) is one character of
the query but 2, 6 or 12 characters of the file. A :class:`StringMap` records where the
escapes are and maps both ways in logarithmic time; :class:`OffsetMap` chains maps for
content that is itself a JSON string holding the dashboard (two levels of escaping).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

# One escape as json.loads reads it: a high-surrogate escape directly followed by a
# low-surrogate escape is a single character.
_ESCAPE = re.compile(
    r"\\(?:u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)", re.S
)


@dataclass(frozen=True)
class StringMap:
    """The escapes of one JSON string literal whose body is ``text[start:end]``."""

    start: int
    """Offset of the first body character (after the opening quote)."""
    end: int
    """Offset of the closing quote."""
    decoded: tuple[int, ...]
    """Per escape, the index of the character it decodes to."""
    raw: tuple[int, ...]
    """Per escape, its offset in the text."""
    sizes: tuple[int, ...]
    """Per escape, its length in the text."""

    @classmethod
    def of(cls, text: str, start: int, end: int) -> StringMap:
        """The map of the string literal ``text[start - 1 : end + 1]``."""
        decoded: list[int] = []
        raw: list[int] = []
        sizes: list[int] = []
        shrink = 0
        for m in _ESCAPE.finditer(text, start, end):
            size = m.end() - m.start()
            decoded.append(m.start() - start - shrink)
            raw.append(m.start())
            sizes.append(size)
            shrink += size - 1
        return cls(start, end, tuple(decoded), tuple(raw), tuple(sizes))

    def shifted(self, by: int) -> StringMap:
        """The same string moved ``by`` characters in its text."""
        return StringMap(
            self.start + by,
            self.end + by,
            self.decoded,
            tuple(r + by for r in self.raw),
            self.sizes,
        )

    @property
    def length(self) -> int:
        """Length of the decoded value."""
        return self.end - self.start - sum(self.sizes) + len(self.sizes)

    def to_text(self, index: int) -> int:
        """Text offset where the value's character ``index`` is written (``length``
        maps to the closing quote)."""
        k = bisect_right(self.decoded, index) - 1
        if k < 0:
            return self.start + index
        if index == self.decoded[k]:
            return self.raw[k]
        return self.raw[k] + self.sizes[k] + index - self.decoded[k] - 1

    def to_value(self, offset: int) -> int:
        """The value index of a text offset; inside an escape, the escape's character."""
        offset = max(self.start, min(offset, self.end))
        k = bisect_right(self.raw, offset) - 1
        if k < 0:
            return offset - self.start
        inside = offset - self.raw[k]
        if inside < self.sizes[k]:
            return self.decoded[k]
        return self.decoded[k] + 1 + inside - self.sizes[k]

    def contains(self, offset: int) -> bool:
        """Whether a cursor at ``offset`` is inside the string (quotes excluded)."""
        return self.start <= offset <= self.end


@dataclass(frozen=True)
class OffsetMap:
    """Query offsets ↔ file offsets through zero or more nested strings, outermost
    first. No strings: the file is the query (a ``.dql`` file)."""

    strings: tuple[StringMap, ...] = ()

    def to_file(self, index: int) -> int:
        for string in reversed(self.strings):
            index = string.to_text(index)
        return index

    def to_query(self, offset: int) -> int:
        for string in self.strings:
            offset = string.to_value(offset)
        return offset

    def contains(self, offset: int) -> bool:
        """Whether a file offset lies inside the query (its string's quotes excluded)."""
        for string in self.strings:
            if not string.contains(offset):
                return False
            offset = string.to_value(offset)
        return True
