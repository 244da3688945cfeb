"""What may be typed at a cursor in a query: commands at the start of a stage, data
objects after ``fetch``, ``name:`` parameters and functions from the catalog, the
fields seen upstream, enum values, and ``$variables``.

The context is read lexically (:mod:`dqlbuild.lsp.scan`), since the text around the
cursor is usually incomplete.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lsprotocol import types

from dqlbuild.analysis.checks import BUILTIN_VARIABLES
from dqlbuild.catalog import Command, FunctionContext, Parameter, get_catalog
from dqlbuild.documents import Variable
from dqlbuild.lsp.catalog_info import data_objects, parameter_line
from dqlbuild.lsp.fields import MAX_STAGES, upstream_fields
from dqlbuild.lsp.scan import Frame, scan_prefix, stage_command, word_span
from dqlbuild.syntax.lexical import encode_name

_VARIABLE_IN_STRING = re.compile(r"\$[A-Za-z0-9_]*\Z")
_NAMED = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*:")

# sortText groups: what fits the position best comes first.
_FIRST, _SECOND, _THIRD = "0", "1", "2"


@dataclass(frozen=True)
class Completions:
    start: int
    """Offset in the query where the text the items replace begins (the word typed so
    far, up to the cursor)."""
    items: list[types.CompletionItem]


@dataclass(frozen=True)
class _Site:
    """The argument list the cursor is in."""

    frames: list[Frame]
    owner: int
    """Index of the frame of the command's stage or of the call."""
    direct: bool
    """Directly in the owner's argument list (not inside parentheses or braces)."""
    named: str | None
    """The ``name:`` of the argument the cursor is in."""


def complete(
    text: str,
    offset: int,
    *,
    variables: Sequence[Variable] = (),
    snippets: bool = False,
) -> Completions | None:
    masked, structure, inside = scan_prefix(text, offset)
    if inside == "comment":
        return None
    if inside == "string":
        m = _VARIABLE_IN_STRING.search(text, max(0, offset - 200), offset)
        return Completions(m.start(), _variables(variables)) if m else None
    start, _ = word_span(masked, offset)
    if masked[start : start + 1] == "$":
        return Completions(start, _variables(variables))
    if start > 0 and masked[start - 1] in "`@":
        return None  # a quoted name or a time unit: nothing to suggest
    frames = structure.frames
    top = frames[-1]
    if top.kind == "access":
        return None
    if top.kind in ("query", "block") and not masked[top.stage_start : start].strip():
        return Completions(start, _commands(masked, top, start))
    site = _site(masked, frames, start)
    return Completions(start, _arguments(text, masked, site, start, snippets))


def _site(masked: str, frames: list[Frame], end: int) -> _Site:
    i = len(frames) - 1
    while frames[i].kind in ("paren", "brace"):
        i -= 1
    inner_end = frames[i + 1].open if i + 1 < len(frames) else end
    m = _NAMED.match(masked, frames[i].arg_starts[-1], inner_end)
    named = m.group(1) if m else None
    return _Site(frames, i, i == len(frames) - 1, named)


def _stage_command(masked: str, frame: Frame) -> Command | None:
    return get_catalog().command(stage_command(masked, frame))


def _holder_index(frames: list[Frame], below: int) -> int:
    return next(i for i in range(below, -1, -1) if frames[i].kind in ("query", "block"))


def _given(masked: str, frame: Frame) -> set[str]:
    """The ``name:`` arguments given before the current one."""
    names = set()
    for start in frame.arg_starts[:-1]:
        m = _NAMED.match(masked, start)
        if m:
            names.add(m.group(1).lower())
    return names


def _context(masked: str, frames: list[Frame], owner: int) -> FunctionContext | None:
    """The aggregation context of calls at the cursor: that of the command argument they
    are in (calls inherit it, as :func:`dqlbuild.check` reads them)."""
    holder = _holder_index(frames, owner)
    command = _stage_command(masked, frames[holder])
    if command is None:
        return None
    end = frames[holder + 1].open if holder + 1 < len(frames) else len(masked)
    m = _NAMED.match(masked, frames[holder].arg_starts[-1], end)
    if m:
        param = command.parameter(m.group(1))
        return param.function_context if param is not None else None
    for param in command.positional_parameters:
        if param.function_context is not None:
            return param.function_context
    return None


# ------------------------------------------------------------------ items
def _commands(masked: str, frame: Frame, start: int) -> list[types.CompletionItem]:
    first_stage = not frame.stages
    glued = start > 0 and masked[start - 1] == "|"
    items = []
    for command in get_catalog().commands:
        preferred = command.is_start == first_stage
        items.append(
            types.CompletionItem(
                label=command.name,
                kind=types.CompletionItemKind.Keyword,
                detail=command.synopsis or None,
                insert_text=(" " if glued else "") + command.name,
                filter_text=command.name,
                sort_text=(_FIRST if preferred else _SECOND) + command.name.lower(),
                data={"command": command.name},
            )
        )
    return items


def _arguments(
    text: str, masked: str, site: _Site, start: int, snippets: bool
) -> list[types.CompletionItem]:
    frames = site.frames
    owner = frames[site.owner]
    at_arg_start = site.direct and not masked[owner.arg_starts[-1] : start].strip()
    catalog = get_catalog()
    context = _context(masked, frames, site.owner)
    params: Sequence[Parameter]
    if owner.kind == "call":
        fn = catalog.function(owner.name, context)
        label = f"{owner.name}()"
        params = _unique(p for s in fn.signatures for p in s.parameters) if fn else ()
    else:
        command = _stage_command(masked, owner)
        label = command.name if command is not None else stage_command(masked, owner)
        params = command.parameters if command is not None else ()
        first = command.positional_parameters[:1] if command is not None else ()
        if at_arg_start and len(owner.arg_starts) == 1 and first and "dataObject" in first[0].kinds:
            return _data_objects()
    if site.named is not None:
        param = next((p for p in params if p.matches(site.named)), None)
        if param is not None and site.direct and param.enum_values:
            return _enum_values(param)
        if param is not None and "dataObject" in param.kinds:
            return _data_objects()
    items: list[types.CompletionItem] = []
    if at_arg_start and site.named is None:
        given = _given(masked, owner)
        items += _parameters(params, label, given)
    holder = frames[_holder_index(frames, site.owner)]
    items += _fields([text[s.start : s.end] for s in holder.stages[-MAX_STAGES:]])
    items += _functions(context, snippets)
    return items


def _unique(params: Iterable[Parameter]) -> list[Parameter]:
    seen: dict[str, Parameter] = {}
    for param in params:
        seen.setdefault(param.name.lower(), param)
    return list(seen.values())


def _parameters(
    params: Iterable[Parameter], owner: str, given: set[str]
) -> list[types.CompletionItem]:
    items = []
    for param in params:
        if param.hidden or not param.requires_name:
            continue
        if param.name.lower() in given and not param.variadic:
            continue
        items.append(
            types.CompletionItem(
                label=f"{param.name}:",
                kind=types.CompletionItemKind.Property,
                detail=f"parameter of {owner}",
                documentation=types.MarkupContent(
                    kind=types.MarkupKind.Markdown, value=parameter_line(param)
                ),
                insert_text=f"{param.name}: ",
                filter_text=param.name,
                sort_text=_FIRST + param.name.lower(),
            )
        )
    return items


def _fields(stage_texts: list[str]) -> list[types.CompletionItem]:
    items = []
    for info in upstream_fields(stage_texts):
        detail = f"field created by {info.stage}" if info.created else "field"
        if not info.created and info.stage:
            detail = f"field read by {info.stage}"
        items.append(
            types.CompletionItem(
                label=info.name,
                kind=types.CompletionItemKind.Field,
                detail=detail,
                insert_text=encode_name(info.name),
                filter_text=info.name,
                sort_text=_SECOND + ("0" if info.created else "1") + info.name.lower(),
            )
        )
    return items


def _functions(context: FunctionContext | None, snippets: bool) -> list[types.CompletionItem]:
    items: dict[str, types.CompletionItem] = {}
    for fn in get_catalog().functions:
        if fn.context not in (None, context) or fn.name in items:
            continue
        takes_args = any(s.parameters for s in fn.signatures)
        if snippets:
            insert, fmt = fn.name + ("($1)" if takes_args else "()") + "$0", "snippet"
        else:
            insert, fmt = fn.name, "plain"
        items[fn.name] = types.CompletionItem(
            label=fn.name,
            kind=types.CompletionItemKind.Function,
            detail=fn.synopsis or None,
            insert_text=insert,
            insert_text_format=types.InsertTextFormat.Snippet
            if fmt == "snippet"
            else types.InsertTextFormat.PlainText,
            filter_text=fn.name,
            sort_text=(_SECOND if fn.context else _THIRD) + fn.name.lower(),
            tags=[types.CompletionItemTag.Deprecated] if fn.deprecated else None,
            data={"function": fn.name},
        )
    return list(items.values())


def _data_objects() -> list[types.CompletionItem]:
    catalog = get_catalog()
    items = []
    for i, name in enumerate(data_objects()):
        found = catalog.data_object(name)
        items.append(
            types.CompletionItem(
                label=name,
                kind=types.CompletionItemKind.Module,
                detail="data object",
                documentation=f"source: {found.evidence}" if found is not None else None,
                insert_text=name,
                sort_text=_FIRST + f"{i:03d}",
            )
        )
    return items


def _enum_values(param: Parameter) -> list[types.CompletionItem]:
    return [
        types.CompletionItem(
            label=value,
            kind=types.CompletionItemKind.EnumMember,
            detail=f"value of {param.name}",
            insert_text=f'"{value}"' if param.enum_quoted else value,
            filter_text=value,
            sort_text=_FIRST + f"{i:03d}",
        )
        for i, value in enumerate(param.enum_values)
    ]


def _variables(variables: Sequence[Variable]) -> list[types.CompletionItem]:
    items = []
    for variable in variables:
        if not variable.key:
            continue
        detail = f"{variable.type} variable" if variable.type else "variable"
        if variable.multiple:
            detail += " (multiple values)"
        items.append(
            types.CompletionItem(
                label=f"${variable.key}",
                kind=types.CompletionItemKind.Variable,
                detail=detail,
                insert_text=f"${variable.key}",
                sort_text=_FIRST + variable.key.lower(),
            )
        )
    for name in sorted(BUILTIN_VARIABLES):
        items.append(
            types.CompletionItem(
                label=f"${name}",
                kind=types.CompletionItemKind.Variable,
                detail="built-in variable (the dashboard timeframe)",
                insert_text=f"${name}",
                sort_text=_SECOND + name,
            )
        )
    return items
