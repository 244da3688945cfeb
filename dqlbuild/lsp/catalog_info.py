"""What the catalog says about a command, function or parameter, as Markdown for hovers
and completion details; and the data objects ``fetch`` reads.

The catalog has no prose descriptions: it gives synopses, parameter kinds and types,
enum values, defaults, ranges and exclusions, and that is what is shown.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from dqlbuild.catalog import Command, Function, Parameter, get_catalog

_CONTEXT_WORDS = {
    "summarize": "aggregation in `summarize`",
    "makeTimeseries": "aggregation in `makeTimeseries`",
    "timeseries": "aggregation in `timeseries`",
}


def data_objects() -> tuple[str, ...]:
    """What completion offers after ``fetch``: the catalog's data objects known by name."""
    return get_catalog().data_object_names


def _code(text: str) -> str:
    return f"```dql\n{text}\n```"


def parameter_line(param: Parameter) -> str:
    """One line about a parameter: how it is passed and what it takes."""
    parts: list[str] = []
    if param.required:
        parts.append("required")
    if param.requires_name:
        parts.append("named only")
    if param.variadic:
        parts.append("repeatable")
    if param.enum_values:
        parts.append("one of " + ", ".join(f"`{v}`" for v in param.enum_values))
    elif param.value_types:
        parts.append(", ".join(param.value_types))
    kinds = [k for k in param.kinds if k != "enum"]
    if kinds:
        parts.append("kind: " + ", ".join(kinds))
    if param.default_value is not None:
        parts.append(f"default `{param.default_value}`")
    if param.min_value is not None:
        parts.append(f"at least {param.min_value}")
    if param.max_value is not None:
        parts.append(f"at most {param.max_value}")
    if param.excludes:
        parts.append("not with " + ", ".join(f"`{e}`" for e in param.excludes))
    if param.assignment_support == "mandatory":
        parts.append("must be named: `name = ...`")
    if param.experimental:
        parts.append("experimental")
    name = f"`{param.name}:`" if param.requires_name else f"`{param.name}`"
    aliases = f" (also `{'`, `'.join(param.aliases)}`)" if param.aliases else ""
    return f"{name}{aliases} — " + " · ".join(parts) if parts else f"{name}{aliases}"


def _parameters(params: Iterable[Parameter]) -> str:
    lines = [f"- {parameter_line(p)}" for p in params if not p.hidden]
    return "\n".join(lines)


@functools.cache
def command_markdown(name: str) -> str | None:
    spec = get_catalog().command(name)
    if spec is None:
        return None
    return _command_markdown(spec)


def _command_markdown(spec: Command) -> str:
    what = "start command (begins a query)" if spec.is_start else "command"
    if spec.experimental:
        what += " · experimental"
    parts = [f"**{spec.name}** — {what}", _code(spec.synopsis or spec.name)]
    params = _parameters(spec.parameters)
    if params:
        parts.append(params)
    return "\n\n".join(parts)


@functools.cache
def function_markdown(name: str) -> str | None:
    entries = get_catalog().functions_named(name)
    if not entries:
        return None
    return "\n\n---\n\n".join(_function_markdown(fn, name) for fn in entries)


def _function_markdown(fn: Function, written: str) -> str:
    what = _CONTEXT_WORDS.get(fn.context or "", f"{fn.category} function")
    flags = [f for f in ("experimental", "deprecated") if getattr(fn, f)]
    head = f"**{fn.name}()** — {what}" + "".join(f" · {f}" for f in flags)
    if written.lower() != fn.name.lower():
        head += f" (`{written}()` is another name for it)"
    parts = [head, _code(fn.synopsis or f"{fn.name}()")]
    outputs = sorted({o for s in fn.signatures for o in s.outputs})
    if outputs:
        parts.append("returns " + ", ".join(outputs))
    seen: set[str] = set()
    params: list[Parameter] = []
    for signature in fn.signatures:
        for param in signature.parameters:
            if param.name not in seen:
                seen.add(param.name)
                params.append(param)
    if params:
        parts.append(_parameters(params))
    return "\n\n".join(parts)


def parameter_markdown(param: Parameter, owner: str) -> str:
    """``owner`` is how the command or function is written: ``fetch``, ``contains()``."""
    return f"parameter of `{owner}`\n\n{parameter_line(param)}"
