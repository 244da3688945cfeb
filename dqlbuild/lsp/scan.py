"""The bracket and stage structure of DQL text, read lexically.

An editor's text is mostly *not* valid DQL: it is being typed. Completion, hover,
outline and folding therefore work from the brackets, pipes and commas outside strings
and comments, which say where stages, subqueries, calls and arguments begin even when the
parser would stop at the first error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

# Strings, quoted names and comments, also when the text ends inside one.
_SKIP = re.compile(
    r'"""[\s\S]*?(?:"""|\Z)|"(?:[^"\\]|\\[\s\S])*(?:"|\\?\Z)|`(?:[^`\\]|\\[\s\S])*(?:`|\\?\Z)'
    r"|//[^\r\n]*|/\*[\s\S]*?(?:\*/|\Z)"
)
_CLOSED = re.compile(r'"""[\s\S]*"""|"(?:[^"\\]|\\[\s\S])*"|`(?:[^`\\]|\\[\s\S])*`|/\*[\s\S]*\*/')
_NOT_BREAK = re.compile(r"[^\r\n]")
STRING_FILLER = "\x00"
_STRUCTURE = re.compile(r"[|\[\](){},]")
_FIRST_WORD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)")
WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_BLOCK_AFTER = frozenset("|,:=([{")
# Words before `(` that make it a parenthesis, not a call (`in(` is the in() function).
_OPERATORS = frozenset({"and", "or", "xor", "not"})
_CLOSERS = {"]": ("block", "access"), ")": ("call", "paren"), "}": ("brace",)}

FrameKind = Literal["query", "block", "call", "paren", "brace", "access"]


def _blank(match: re.Match[str]) -> str:
    text = match.group()
    # Strings and quoted names stay visible as filler (they are code); comments vanish.
    filler = " " if text.startswith("/") else STRING_FILLER
    if "\n" in text or "\r" in text:
        return _NOT_BREAK.sub(filler, text)
    return filler * len(text)


def mask(text: str) -> str:
    """``text`` with comments blanked and strings and quoted names filled with
    :data:`STRING_FILLER`, keeping its length and line breaks, so that only code
    structure remains to be read."""
    return _SKIP.sub(_blank, text)


def comments(text: str) -> Iterator[re.Match[str]]:
    """The comments of ``text`` (not ``//`` inside strings)."""
    for m in _SKIP.finditer(text):
        if m.group().startswith("/"):
            yield m


def open_token(prefix: str) -> str | None:
    """``string`` or ``comment`` when ``prefix`` ends inside one (a cursor there is in
    it), else ``None``."""
    last = None
    for match in _SKIP.finditer(prefix):
        last = match
    if last is None or last.end() != len(prefix):
        return None
    token = last.group()
    if token.startswith("//") or (token.startswith("/*") and not _CLOSED.fullmatch(token)):
        return "comment"
    if token.startswith(('"', "`")) and not _CLOSED.fullmatch(token):
        return "string"
    return None


@dataclass
class Stage:
    """One pipeline stage: ``start``/``end`` span its code (comments and surrounding
    space excluded); ``name`` is its first word, the command."""

    start: int
    end: int
    name: str
    name_end: int
    children: list[Stage] = field(default_factory=list)
    """Stages of the subqueries inside it."""


@dataclass
class Frame:
    """An open bracket (or the query itself) at some point of the text."""

    kind: FrameKind
    open: int
    """Offset of the bracket; -1 for the query."""
    name: str = ""
    """For a call: the function name."""
    stage_start: int = 0
    """For the query and blocks: where the current stage begins (after ``|`` or ``[``)."""
    stages: list[Stage] = field(default_factory=list)
    """For the query and blocks: the stages before the current one."""
    children: list[Stage] = field(default_factory=list)
    """Stages of the subqueries closed so far inside the current stage."""
    arg_starts: list[int] = field(default_factory=list)
    """Where each argument begins (after the bracket, the command name, or a comma)."""


@dataclass
class Structure:
    stages: list[Stage]
    """The top-level stages."""
    blocks: list[tuple[int, int]]
    """Execution blocks ``[...]`` as ``(open, close)`` bracket offsets."""
    frames: list[Frame]
    """The brackets still open at the end of the scanned text, outermost first."""
    resume: tuple[int, int] | None = None
    """After the last top-level ``|``: its offset + 1 and the number of stages before."""


def scan(masked: str, start: int = 0, stages: Sequence[Stage] = ()) -> Structure:
    """The structure of masked text (see :func:`mask`); from ``start`` when the
    ``stages`` before it are known (``start`` is then right after a top-level ``|``)."""
    frames = [Frame("query", -1, stages=list(stages))]
    _begin_stage(masked, frames[0], start)
    blocks: list[tuple[int, int]] = []
    resume = None
    for m in _STRUCTURE.finditer(masked, start):
        ch, pos = m.group(), m.start()
        top = frames[-1]
        if ch == "|":
            while top.kind not in ("query", "block"):  # a `|` closes what was left open
                frames.pop()
                top = frames[-1]
            _end_stage(masked, top, pos)
            _begin_stage(masked, top, pos + 1)
            if top.kind == "query":
                resume = (pos + 1, len(top.stages))
        elif ch == ",":
            top.arg_starts.append(pos + 1)
        elif ch == "[":
            if _opens_block(masked, pos, top):
                frame = Frame("block", pos)
                _begin_stage(masked, frame, pos + 1)
                frames.append(frame)
            else:
                frames.append(Frame("access", pos, arg_starts=[pos + 1]))
        elif ch == "(":
            name = _word_before(masked, pos)
            kind: FrameKind = "call" if name and name.lower() not in _OPERATORS else "paren"
            frames.append(
                Frame(kind, pos, name=name if kind == "call" else "", arg_starts=[pos + 1])
            )
        elif ch == "{":
            frames.append(Frame("brace", pos, arg_starts=[pos + 1]))
        else:
            kinds = _CLOSERS[ch]
            depth = next((i for i in range(len(frames) - 1, 0, -1) if frames[i].kind in kinds), 0)
            if not depth:
                continue  # a stray closer: nothing to close
            while len(frames) > depth:
                frame = frames.pop()
                if frame.kind == "block":
                    _end_stage(masked, frame, pos)
                    blocks.append((frame.open, pos))
                    _holder(frames).children.extend(frame.stages)
    for frame in reversed(frames[1:]):
        if frame.kind == "block":
            _end_stage(masked, frame, len(masked))
            _holder(frames[: frames.index(frame)]).children.extend(frame.stages)
    query = frames[0]
    everything = [*query.stages, *_current(masked, query, len(masked))]
    return Structure(everything, blocks, frames, resume)


# The top-level stages of the last text scanned up to a cursor, with the offset after
# which scanning can resume for a text with the same beginning: completion and hover in
# a long query then read only the stage being typed.
_checkpoint: tuple[str, int, tuple[Stage, ...]] | None = None


def scan_prefix(text: str, end: int) -> tuple[str, Structure, str | None]:
    """The masked text up to ``end`` (blank where it was not read), its structure, and
    whether ``end`` is inside a string or comment (see :func:`open_token`)."""
    global _checkpoint
    start, stages = 0, cast(Sequence[Stage], ())
    saved = _checkpoint
    if saved is not None and 0 < saved[1] <= end and text.startswith(saved[0]):
        start, stages = saved[1], saved[2]
    rest = text[start:end]
    # Blank before the resume point, but keep the `|` there: looking back stops at it.
    masked = (" " * (start - 1) + "|" if start else "") + mask(rest)
    structure = scan(masked, start, stages)
    if structure.resume is not None:
        at, count = structure.resume
        _checkpoint = (text[:at], at, tuple(structure.frames[0].stages[:count]))
    return masked, structure, open_token(rest)


def _holder(frames: list[Frame]) -> Frame:
    return next(f for f in reversed(frames) if f.kind in ("query", "block"))


def _begin_stage(masked: str, frame: Frame, pos: int) -> None:
    frame.stage_start = pos
    frame.children = []
    m = _FIRST_WORD.match(masked, pos)
    frame.arg_starts = [m.end() if m else pos]


def _current(masked: str, frame: Frame, end: int) -> list[Stage]:
    """The current stage of ``frame`` if it ends at ``end`` (none when it is empty)."""
    start = frame.stage_start
    code = masked[start:end]
    stripped = code.strip()
    if not stripped:
        return []
    first = start + len(code) - len(code.lstrip())
    last = start + len(code.rstrip())
    m = _FIRST_WORD.match(masked, start)
    name, name_end = (m.group(1), m.end()) if m and m.start(1) == first else ("", first)
    return [Stage(first, last, name, name_end, frame.children)]


def _end_stage(masked: str, frame: Frame, end: int) -> None:
    frame.stages.extend(_current(masked, frame, end))


def _word_before(masked: str, pos: int) -> str:
    """The word ending right before ``pos`` (spaces between allowed), or ``""``."""
    j = pos - 1
    while j >= 0 and masked[j] in " \t\r\n":
        j -= 1
    end = j + 1
    while j >= 0 and masked[j] in WORD_CHARS:
        j -= 1
    if j >= 0 and masked[j] in ".$@":
        return ""  # part of a dotted name, a variable or a time unit: not a call
    word = masked[j + 1 : end]
    return word if word and not word[0].isdigit() else ""


def _opens_block(masked: str, pos: int, frame: Frame) -> bool:
    """Whether ``[`` at ``pos`` opens an execution block rather than an access ``x[0]``."""
    j = pos - 1
    while j >= 0 and masked[j] in " \t\r\n":
        j -= 1
    if j < 0 or masked[j] in _BLOCK_AFTER:
        return True
    if masked[j] not in WORD_CHARS:
        return masked[j] not in (")", "]", STRING_FILLER)  # after a value: an access
    word = _word_before(masked, pos)
    if word.lower() == "in":
        return True
    # `lookup [`, `append [`: the command name right before it.
    if frame.kind in ("query", "block"):
        m = _FIRST_WORD.match(masked, frame.stage_start)
        return m is not None and m.end() == j + 1
    return False


def stage_command(masked: str, frame: Frame) -> str:
    """The first word of the current stage of a query or block frame."""
    m = _FIRST_WORD.match(masked, frame.stage_start)
    return m.group(1) if m else ""


def word_span(masked: str, offset: int) -> tuple[int, int]:
    """The name (dotted, or a ``$variable``) touching ``offset``: ``(start, end)``."""
    start = offset
    while start > 0 and (masked[start - 1] in WORD_CHARS or masked[start - 1] == "."):
        start -= 1
    if start > 0 and masked[start - 1] == "$":
        start -= 1
    end = offset
    while end < len(masked) and (masked[end] in WORD_CHARS or masked[end] == "."):
        end += 1
    return start, end
