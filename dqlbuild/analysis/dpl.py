"""The field names a DPL pattern exports (``INT:status``, ``LD:http.method``).

Not a DPL parser: a scanner that skips quoted literals, character classes and comments,
follows ``{...}`` nesting, and reads the name after each ``:`` at the top level. Names
inside a matcher's member braces (``KVP{ LD:key '=' LD:value }:pairs``) belong to the
record that matcher exports, so they are not top-level fields; quantifier braces
(``INT{1,3}``) are not nesting. Grammar reference: the DQL plugin's ``dpl.bnf``, where an
export is ``expression [config] [quantifier] [?] : field_name`` and ``field_name`` is an
identifier, a dotted identifier or a quoted string.
"""

from __future__ import annotations

import re

_QUANTIFIER = re.compile(r"\{\s*-?\d*\s*(?:,\s*-?\d*\s*)?\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")
_SPACE = re.compile(r"\s*")


def _skip_quoted(text: str, i: int) -> tuple[str, int]:
    """The decoded content of the literal starting at ``text[i]`` and the index after it."""
    quote = text[i]
    out: list[str] = []
    j = i + 1
    while j < len(text):
        char = text[j]
        if char == "\\" and j + 1 < len(text):
            out.append(text[j + 1])
            j += 2
            continue
        if char == quote:
            return "".join(out), j + 1
        out.append(char)
        j += 1
    return "".join(out), j


def _skip_class(text: str, i: int) -> int:
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == "]":
            return j + 1
        j += 1
    return j


def _export_name(text: str, i: int) -> tuple[str | None, int]:
    """The field name after a ``:`` at ``text[i - 1]``."""
    i = _SPACE.match(text, i).end()  # type: ignore[union-attr]
    if i < len(text) and text[i] in "'\"":
        name, end = _skip_quoted(text, i)
        return name or None, end
    match = _NAME.match(text, i)
    if match is None:
        return None, i
    return match.group(), match.end()


def dpl_exports(pattern: str) -> tuple[str, ...]:
    """Top-level export names of ``pattern`` in order of appearance, without repeats."""
    names: list[str] = []
    depth = 0
    i = 0
    n = len(pattern)
    while i < n:
        char = pattern[i]
        if char in "'\"":
            i = _skip_quoted(pattern, i)[1]
        elif char == "[":
            i = _skip_class(pattern, i)
        elif pattern.startswith("//", i):
            end = pattern.find("\n", i)
            i = n if end < 0 else end + 1
        elif pattern.startswith("/*", i):
            end = pattern.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif char == "{":
            quantifier = _QUANTIFIER.match(pattern, i)
            if quantifier is not None:
                i = quantifier.end()
            else:
                depth += 1
                i += 1
        elif char == "}":
            depth = max(0, depth - 1)
            i += 1
        elif char == ":":
            name, i = _export_name(pattern, i + 1)
            if name is not None and depth == 0 and name not in names:
                names.append(name)
            # A second ``:name`` (the grammar allows two) names the same value.
            if i < n and pattern[i] == ":":
                i = _export_name(pattern, i + 1)[1]
        else:
            i += 1
    return tuple(names)


__all__ = ["dpl_exports"]
