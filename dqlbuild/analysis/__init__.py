"""Static analysis of DQL queries: argument binding, field flow and catalog checks."""

from dqlbuild.analysis.binding import (
    BindingProblem,
    BoundArguments,
    BoundValue,
    bind_arguments,
    bind_call,
    output_name,
)
from dqlbuild.analysis.checks import BUILTIN_VARIABLES, check
from dqlbuild.analysis.diagnostics import CODES, Diagnostic, Severity
from dqlbuild.analysis.dpl import dpl_exports
from dqlbuild.analysis.fieldflow import FieldSet, QueryFlow, StageFlow, analyze

__all__ = [
    "BUILTIN_VARIABLES",
    "CODES",
    "BindingProblem",
    "BoundArguments",
    "BoundValue",
    "Diagnostic",
    "FieldSet",
    "QueryFlow",
    "Severity",
    "StageFlow",
    "analyze",
    "bind_arguments",
    "bind_call",
    "check",
    "dpl_exports",
    "output_name",
]
