"""Commands from Python arguments, the start functions, and the pipeline methods'
implementation (``Query.filter(...)`` and friends call :func:`add_stage`).

Inside a command a Python ``str`` is DQL text, parsed as one argument
(``.filter("duration > 1s")``), except where the catalog says the parameter takes an
enum value, a string constant or a subquery (see :mod:`dqlbuild.building.arguments`).
Keyword arguments are named parameters when the command has a parameter of that name,
otherwise assignments ``name = value`` for commands that take them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dqlbuild.ast.base import Node, make
from dqlbuild.ast.nodes import Arg, Assign, Brace, Command, Named, Query
from dqlbuild.building.arguments import (
    ParameterSet,
    catalog_string,
    fragment,
    is_pseudo_parameter,
    parameter_set,
    pseudo_name,
    python_name,
    subquery,
    takes_assignments,
    takes_subquery,
)
from dqlbuild.building.expressions import (
    ArgLike,
    Expression,
    assignment_items,
    assignments,
    node_of,
)
from dqlbuild.building.values import scalar_literal
from dqlbuild.catalog import Command as CatalogCommand
from dqlbuild.catalog import Parameter, camel_from_snake, get_catalog
from dqlbuild.errors import DQLValueError


def command_spec(name: str) -> CatalogCommand | None:
    """The catalog entry for a command name (camelCase or snake_case, any case)."""
    catalog = get_catalog()
    return catalog.command(name) or catalog.command(camel_from_snake(name))


class _Binder:
    """Turns the Python arguments of one command into its argument nodes."""

    def __init__(self, name: str) -> None:
        self.spec = command_spec(name)
        self.name = self.spec.name if self.spec is not None else name
        self.owner = f"command `{self.name}`"
        self.params: ParameterSet | None = None
        self.positional: tuple[Parameter, ...] = ()
        if self.spec is not None:
            self.positional = self.spec.positional_parameters
            assigning = takes_assignments(self.spec.parameters)
            # Where keywords are assignments, the parameters that hold them are not
            # keywords: `fields_add(expression=...)` adds a field called `expression`.
            keywords = [
                p for p in self.spec.parameters
                if not (assigning and p.is_positional and p.assignment_support != "none")
            ]  # fmt: skip
            self.params = parameter_set(self.owner, keywords, assignments=assigning)
        self.slot = 0

    # -- positional arguments take the command's positional parameters in order; the
    # last one absorbs the rest when it is variadic.
    def current_parameter(self) -> Parameter | None:
        if not self.positional:
            return None
        if self.slot < len(self.positional):
            return self.positional[self.slot]
        last = self.positional[-1]
        return last if last.variadic else None

    def consume(self, value: object) -> None:
        if self.spec is not None and self.current_parameter() is None:
            count = len(self.positional)
            raise DQLValueError(
                f"{self.owner} takes {count} positional argument{'s' * (count != 1)},"
                f" got more (at {value!r})"
            )
        self.slot += 1

    def positional_args(self, value: object) -> list[Arg]:
        if isinstance(value, Mapping):
            return [self.assignment(target, v) for target, v in assignment_items(value)]
        param = self.current_parameter()
        if isinstance(value, str | Node | Expression):
            # Text or a node may turn out to be a named argument (`"from: -2h"`), which
            # takes no positional slot.
            node = self.value(value, param)
            if isinstance(node, Named):
                self.check_named(node.name)
                return [node]
            self.consume(value)
            if isinstance(node, Assign):
                self.check_assignment(param)
            return [node]
        self.consume(value)
        return [self.value(value, param)]

    def assignment(self, target: str, value: object) -> Assign:
        if isinstance(value, list | tuple) and self.params is not None:
            # Most likely a misspelled list parameter (`byy=[...]`), not a field.
            guess = self.params.unknown(target).hint
            raise DQLValueError(
                f"{self.owner}: {target}=[...] is neither a parameter nor a field value "
                "(a list is not a value: write lit([...]) for an array)",
                hint=guess,
            )
        param = self.current_parameter()
        self.consume(value)
        self.check_assignment(param)
        return make(Assign, target=python_name(target), value=self.value(value, param))

    def check_assignment(self, param: Parameter | None) -> None:
        if param is not None and param.assignment_support == "none":
            raise DQLValueError(
                f"{self.owner} takes no assignment as {param.name!r}",
                hint="assignments `name = value` go to commands like fieldsAdd, summarize",
            )

    def check_named(self, name: str) -> None:
        params = self.params
        if params is not None and params.resolve(name) is None and not is_pseudo_parameter(name):
            raise params.unknown(name)

    def keyword(self, key: str, value: object) -> Arg:
        resolved = self.params.resolve(key) if self.params is not None else None
        if resolved is not None:
            spelled, param = resolved
            return make(Named, name=spelled, value=self.value(value, param, named=True))
        if is_pseudo_parameter(key):
            node = pseudo_name(value) or self.value(value, None, named=True)
            return make(Named, name=python_name(key), value=node)
        if self.params is None:
            return make(Named, name=python_name(key), value=self.value(value, None, named=True))
        if self.params.takes_assignments:
            return self.assignment(key, value)
        raise self.params.unknown(key)

    def value(self, value: object, param: Parameter | None, *, named: bool = False) -> Any:
        """One argument value for ``param`` (``None``: not known from the catalog)."""
        node = node_of(value)
        if node is not None:
            return node
        if isinstance(value, str):
            if param is not None:
                typed = catalog_string(value, param, self.owner)
                if typed is not None:
                    return typed
                if takes_subquery(param):
                    return subquery(value)
            return fragment(value)
        literal = scalar_literal(value)
        if literal is not None:
            return literal
        if isinstance(value, list | tuple | Mapping):
            return self.group(value, param, named=named)
        raise DQLValueError(f"{self.owner}: a {type(value).__name__} cannot be turned into DQL")

    def group(self, value: Any, param: Parameter | None, *, named: bool) -> Brace:
        """A list, tuple or dict as a brace group ``{a, b = c}`` where the parameter
        takes several values."""
        if param is not None and not param.variadic:
            raise DQLValueError(
                f"{self.owner}: {param.name!r} takes one value, not a {type(value).__name__}",
                hint="use lit([...]) for an array value",
            )
        if param is None and not named and self.spec is not None:
            raise DQLValueError(f"{self.owner}: unexpected {type(value).__name__}")
        items: list[Arg] = []
        if isinstance(value, Mapping):
            items.extend(assignments(value, lambda v: self.value(v, param)))
        else:
            for item in value:
                if isinstance(item, Mapping):
                    items.extend(assignments(item, lambda v: self.value(v, param)))
                elif isinstance(item, list | tuple):
                    raise DQLValueError(f"{self.owner}: brace groups do not nest")
                else:
                    items.append(self.value(item, param))
        return make(Brace, items=tuple(items))


def stage(name: str, /, *args: ArgLike, **named: ArgLike) -> Command:
    """One command (a pipeline stage) built from Python arguments.

    ``name`` is a catalog command in camelCase or snake_case; a name the catalog does
    not know is used as written (without parameter checks), for commands newer than
    the catalog.
    """
    if not isinstance(name, str):
        raise DQLValueError(f"a command name is a str, not {type(name).__name__}")
    binder = _Binder(name)
    items: list[Arg] = []
    for value in args:
        items.extend(binder.positional_args(value))
    for key, value in named.items():
        items.append(binder.keyword(key, value))
    return make(Command, name=binder.name, args=tuple(items))


def add_stage(query: object, name: str, args: tuple[ArgLike, ...], named: dict[str, Any]) -> Query:
    """``query`` with one more stage (the receiver is left as it was)."""
    if not isinstance(query, Query):
        raise TypeError(f"pipeline methods need a Query, not {type(query).__name__}")
    return query.append(stage(name, *args, **named))


def _start(name: str, args: tuple[ArgLike, ...], named: dict[str, Any]) -> Query:
    return Query(commands=(stage(name, *args, **named),))


def fetch(*args: ArgLike, **named: ArgLike) -> Query:
    """``fetch logs, from: ...``: ``fetch("logs", from_=dur("-2h"))``."""
    return _start("fetch", args, named)


def data(*args: ArgLike, **named: ArgLike) -> Query:
    """``data record(...), ...``: ``data(fn.record(a=1), fn.record(a=2))``."""
    return _start("data", args, named)


def timeseries(*args: ArgLike, **named: ArgLike) -> Query:
    """``timeseries cpu = avg(dt.host.cpu.usage), by: {...}``."""
    return _start("timeseries", args, named)


def describe(*args: ArgLike, **named: ArgLike) -> Query:
    """``describe dt.entity.host``."""
    return _start("describe", args, named)


def load(*args: ArgLike, **named: ArgLike) -> Query:
    """``load "/lookups/file"`` (a str is the file name)."""
    return _start("load", args, named)


def metrics(*args: ArgLike, **named: ArgLike) -> Query:
    """``metrics`` (the metric catalog)."""
    return _start("metrics", args, named)


def smartscape_nodes(*args: ArgLike, **named: ArgLike) -> Query:
    """``smartscapeNodes HOST``."""
    return _start("smartscapeNodes", args, named)


def smartscape_edges(*args: ArgLike, **named: ArgLike) -> Query:
    """``smartscapeEdges runs_on``."""
    return _start("smartscapeEdges", args, named)


def fields_snapshot(*args: ArgLike, **named: ArgLike) -> Query:
    """``fieldsSnapshot logs``."""
    return _start("fieldsSnapshot", args, named)


START_FUNCTIONS = {
    f.__name__: f
    for f in (fetch, data, timeseries, describe, load, metrics, smartscape_nodes,
              smartscape_edges, fields_snapshot)
}  # fmt: skip
