"""Static analysis of DQL queries: argument binding, field flow and catalog checks."""

from dqlbuild.analysis.binding import (
    BindingProblem,
    BoundArguments,
    BoundValue,
    bind_arguments,
    bind_call,
    output_name,
)
from dqlbuild.analysis.dpl import dpl_exports
from dqlbuild.analysis.fieldflow import FieldSet, QueryFlow, StageFlow, analyze

__all__ = [
    "BindingProblem",
    "BoundArguments",
    "BoundValue",
    "FieldSet",
    "QueryFlow",
    "StageFlow",
    "analyze",
    "bind_arguments",
    "bind_call",
    "dpl_exports",
    "output_name",
]
