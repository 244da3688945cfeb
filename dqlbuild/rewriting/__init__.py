"""Rewriting queries safely: dashboard variables (find, render, filter on them) and
filter injection."""

from __future__ import annotations

from dqlbuild.rewriting.render import RenderResult, render
from dqlbuild.rewriting.variables import (
    BUILTIN_VARIABLES,
    SELECT_ALL,
    VariableRef,
    variable_filter,
    variables,
)

__all__ = [
    "BUILTIN_VARIABLES",
    "SELECT_ALL",
    "RenderResult",
    "VariableRef",
    "render",
    "variable_filter",
    "variables",
]
