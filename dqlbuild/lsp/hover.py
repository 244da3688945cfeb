"""Hover: what the catalog says about the command, function or parameter under the
cursor, and the definition of a dashboard ``$variable``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from dqlbuild.analysis.checks import BUILTIN_VARIABLES
from dqlbuild.catalog import get_catalog
from dqlbuild.documents import Variable
from dqlbuild.lsp.catalog_info import command_markdown, function_markdown, parameter_markdown
from dqlbuild.lsp.scan import WORD_CHARS, Frame, scan_prefix, stage_command, word_span


@dataclass(frozen=True)
class HoverText:
    markdown: str
    start: int
    end: int
    """The word described, in query offsets."""


def hover(text: str, offset: int, *, variables: Sequence[Variable] = ()) -> HoverText | None:
    masked, structure, inside = scan_prefix(text, offset)
    if inside is not None:
        return None  # in a string or comment
    start, end = word_span(masked, offset)
    while end < len(text) and (text[end] in WORD_CHARS or text[end] == "."):
        end += 1
    if start == end:
        return None
    word = text[start:end]
    if word.startswith("$"):
        found = _variable(word[1:], variables)
        return HoverText(found, start, end) if found else None
    after = end
    while after < len(text) and text[after] in " \t\r\n":
        after += 1
    following = text[after : after + 1]
    frames = structure.frames
    top = frames[-1]
    if following == "(":
        found = function_markdown(word)
    elif following == ":":
        found = _parameter(masked, frames, word)
    elif top.kind in ("query", "block") and not masked[top.stage_start : start].strip():
        found = command_markdown(word)
    elif top.kind in ("query", "block"):
        found = _data_object(masked[top.stage_start : start], word)
    else:
        found = None
    return HoverText(found, start, end) if found else None


def _data_object(before: str, name: str) -> str | None:
    """A data object named as the first argument of ``fetch`` (or ``describe`` ...)."""
    words = before.split()
    if len(words) != 1:
        return None
    catalog = get_catalog()
    command = catalog.command(words[0])
    first = command.positional_parameters[:1] if command is not None else ()
    if not first or "dataObject" not in first[0].kinds:
        return None
    found = catalog.data_object(name)
    if found is None:
        return None
    what = f"one of the `{found.name}` views" if found.is_family else "data object"
    return f"**{name}** — {what}\n\nsource: {found.evidence}"


def _parameter(masked: str, frames: list[Frame], name: str) -> str | None:
    frame = frames[-1]
    if frame.kind == "call":
        catalog = get_catalog()
        for fn in catalog.functions_named(frame.name):
            param = fn.parameter(name)
            if param is not None:
                return parameter_markdown(param, f"{fn.name}()")
        return None
    # Named parameters of commands may sit in brace groups (`{by: x}`): look through them.
    i = len(frames) - 1
    while frames[i].kind == "brace":
        i -= 1
    if frames[i].kind not in ("query", "block"):
        return None
    spec = get_catalog().command(stage_command(masked, frames[i]))
    if spec is None:
        return None
    param = spec.parameter(name)
    return parameter_markdown(param, spec.name) if param is not None else None


def _variable(name: str, variables: Sequence[Variable]) -> str | None:
    if name in BUILTIN_VARIABLES:
        side = "start" if name.endswith("from") else "end"
        return f"**${name}** — built-in: the {side} of the dashboard's timeframe"
    for variable in variables:
        if variable.key == name:
            lines = [f"**${name}** — {variable.type or 'dashboard'} variable"]
            if variable.multiple:
                lines.append("multiple values: use it with `in()` or `array()`")
            if variable.input:
                lang = "dql" if variable.type == "query" else ""
                lines.append(f"```{lang}\n{variable.input}\n```")
            if variable.default_value is not None:
                lines.append(f"default: `{json.dumps(variable.default_value)}`")
            return "\n\n".join(lines)
    return None
