"""Rewriting queries safely: dashboard variables (find, render, filter on them) and
filter injection."""

from __future__ import annotations

from dqlbuild.rewriting.inject import (
    PLACEMENTS,
    STATUSES,
    InjectResult,
    PipelineStatus,
    Placement,
    Status,
    inject_filter,
    inject_filter_text,
)
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
    "PLACEMENTS",
    "SELECT_ALL",
    "STATUSES",
    "InjectResult",
    "PipelineStatus",
    "Placement",
    "RenderResult",
    "Status",
    "VariableRef",
    "inject_filter",
    "inject_filter_text",
    "render",
    "variable_filter",
    "variables",
]
