"""The fluent builder: DQL composed in Python, as AST nodes (never as text).

``fetch("spans").filter(F("a") > 1).summarize(n=fn.count(), by=["host"])`` is a
:class:`~dqlbuild.Query`, equal to what :func:`~dqlbuild.parse` returns for the same
DQL. See docs/builder.md.
"""

from __future__ import annotations

from dqlbuild.building.expressions import (
    ArgLike,
    Expression,
    F,
    Function,
    FunctionNamespace,
    UnknownFunctionError,
    dur,
    expr,
    fn,
    lit,
    var,
)
from dqlbuild.building.query import (
    START_FUNCTIONS,
    data,
    describe,
    fetch,
    fields_snapshot,
    load,
    metrics,
    smartscape_edges,
    smartscape_nodes,
    stage,
    timeseries,
)

__all__ = [
    "START_FUNCTIONS",
    "ArgLike",
    "Expression",
    "F",
    "Function",
    "FunctionNamespace",
    "UnknownFunctionError",
    "data",
    "describe",
    "dur",
    "expr",
    "fetch",
    "fields_snapshot",
    "fn",
    "lit",
    "load",
    "metrics",
    "smartscape_edges",
    "smartscape_nodes",
    "stage",
    "timeseries",
    "var",
]
