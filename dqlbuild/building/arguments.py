"""What builder arguments mean: keyword names, catalog parameters, and DQL fragments.

A Python ``str`` means different things in different places (see docs/builder.md):
DQL text in a command, a string value in an expression, and the value the catalog
asks for where a parameter takes an enum or a string constant. The rules that depend
on the catalog live here, shared by commands and functions.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dqlbuild.ast.base import N, Node, make
from dqlbuild.ast.nodes import Block, FieldRef, String
from dqlbuild.catalog import Parameter, camel_from_snake, get_catalog, suggest
from dqlbuild.errors import DQLCatalogError, DQLValueError
from dqlbuild.syntax.parser import parse, parse_expression

# Parameter kinds whose value is a string constant (a name prefix, a DPL pattern, a
# bucket or file name, JSON text): a Python str there is the string itself.
STRING_KINDS = frozenset(
    {"prefix", "dplPattern", "namelessDplPattern", "bucket", "tabularFileNew",
     "tabularFileExisting", "json"}
)  # fmt: skip
# Parameter kinds that take a subquery: a Python str there is the subquery's text.
BLOCK_KINDS = frozenset({"nonEmptyExecutionBlock", "executionBlock"})


def python_name(key: str) -> str:
    """A keyword argument's DQL name: a trailing underscore that only avoids a Python
    keyword is dropped (``from_`` -> ``from``, ``else_`` -> ``else``)."""
    stem = key[:-1]
    if key.endswith("_") and stem and (keyword.iskeyword(stem) or keyword.issoftkeyword(stem)):
        return stem
    return key


def hint(suggestion: str | None) -> str | None:
    return f"did you mean {suggestion!r}?" if suggestion else None


@dataclass(frozen=True)
class ParameterSet:
    """The parameters a command or function accepts by name."""

    owner: str
    """How errors name the owner, e.g. ``"command `join`"``."""
    lookup: Callable[[str], Parameter | None]
    names: tuple[str, ...]
    takes_assignments: bool
    """Whether an unknown keyword is an assignment ``name = value`` (``fieldsAdd``,
    ``summarize``, ``record(...)``) rather than a mistake."""

    def resolve(self, key: str) -> tuple[str, Parameter] | None:
        """The spelling and parameter a keyword argument names; camelCase or
        snake_case, any case (``scan_limit_gbytes`` -> ``scanLimitGBytes``)."""
        name = python_name(key)
        for candidate in (name, camel_from_snake(name)):
            param = self.lookup(candidate)
            if param is not None:
                spelled = next(n for n in param.names if n.lower() == candidate.lower())
                return spelled, param
        return None

    def unknown(self, key: str) -> DQLCatalogError:
        name = python_name(key)
        guess = suggest(name, self.names) or suggest(camel_from_snake(name), self.names)
        known = ", ".join(self.names) or "none"
        return DQLCatalogError(
            f"{self.owner} has no parameter {name!r} (parameters: {known})", hint=hint(guess)
        )


def takes_assignments(params: Iterable[Parameter]) -> bool:
    """Whether positional arguments may be assignments ``name = value``."""
    return any(p.assignment_support != "none" and p.is_positional for p in params)


def parameter_set(owner: str, params: Iterable[Parameter], *, assignments: bool) -> ParameterSet:
    params = tuple(params)
    by_name: dict[str, Parameter] = {}
    for param in params:
        for name in param.names:
            by_name.setdefault(name.lower(), param)
    visible = tuple(dict.fromkeys(n for p in params if not p.hidden for n in p.names))
    return ParameterSet(
        owner=owner,
        lookup=lambda name: by_name.get(name.lower()),
        names=visible,
        takes_assignments=assignments,
    )


def is_pseudo_parameter(key: str) -> bool:
    """``alias:`` and friends, accepted by every command and function."""
    return get_catalog().is_pseudo_parameter(python_name(key))


def pseudo_name(value: object) -> FieldRef | None:
    """A str given to a pseudo-parameter: ``alias: name`` names a field, as is."""
    if isinstance(value, str):
        return make(FieldRef, name=value)
    return None


def catalog_string(text: str, param: Parameter, owner: str) -> Node | None:
    """What a Python str means for ``param`` according to the catalog: an enum value
    (bare or quoted, as the catalog writes it) or a string constant; ``None`` when the
    catalog leaves the meaning to the context."""
    if param.enum_values:
        value = _enum_match(text, param.enum_values)
        if value is not None:
            return make(String, value=value) if param.enum_quoted else make(FieldRef, name=value)
        if set(param.kinds) <= {"enum"}:
            raise DQLValueError(
                f"{owner}: {param.name!r} is one of {', '.join(param.enum_values)}, not {text!r}",
                hint=hint(suggest(text, param.enum_values, cutoff=0.6)),
            )
    if STRING_KINDS.intersection(param.kinds):
        return make(String, value=text)
    return None


def _enum_match(text: str, values: tuple[str, ...]) -> str | None:
    if text in values:
        return text
    # Enum keywords are case-insensitive, but only an unambiguous match is taken
    # (duration units have both `m` and `M`).
    folded = [v for v in values if v.lower() == text.lower()]
    return folded[0] if len(folded) == 1 else None


def takes_subquery(param: Parameter | None) -> bool:
    return param is not None and bool(BLOCK_KINDS.intersection(param.kinds))


def fragment(text: str) -> Node:
    """One argument parsed from DQL text (``"duration > 1s"``, ``"t desc"``)."""
    node: Node = parse_expression(text)
    return _detached(node)


def subquery(text: str) -> Block:
    """A subquery from its text, with or without the square brackets."""
    if text.lstrip().startswith("["):
        node = fragment(text)
        if not isinstance(node, Block):
            raise DQLValueError(f"{text!r} is not a subquery in square brackets")
        return node
    commands = parse(text).commands
    return make(Block, commands=tuple(_detached(c) for c in commands))


def _detached(node: N) -> N:
    # Positions point into the fragment's own text, not into the query the node will
    # join: clear them (the nodes are fresh from the parser and not shared yet).
    for child in node.walk():
        object.__setattr__(child, "span", None)
    return node
