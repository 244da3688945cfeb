"""dqlbuild: parse, format, build, rewrite and check Dynatrace Query Language (DQL).

The public names load on first use (PEP 562), so ``import dqlbuild`` and the command
line pay only for the parts they touch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        ("Diagnostic", "FieldSet", "QueryFlow", "StageFlow", "analyze", "check"),
        "dqlbuild.analysis",
    ),
    **dict.fromkeys(("Comment", "Node", "Span"), "dqlbuild.ast.base"),
    **dict.fromkeys(
        (
            "Access",
            "Align",
            "Assign",
            "Binary",
            "Block",
            "Boolean",
            "Brace",
            "Call",
            "Command",
            "Double",
            "Duration",
            "FieldRef",
            "In",
            "Long",
            "Named",
            "Null",
            "Query",
            "Sorted",
            "String",
            "Unary",
            "Variable",
        ),
        "dqlbuild.ast.nodes",
    ),
    **dict.fromkeys(
        (
            "Expression",
            "F",
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
        ),
        "dqlbuild.building",
    ),
    **dict.fromkeys(("Document", "load_document"), "dqlbuild.documents.loading"),
    **dict.fromkeys(
        (
            "AddFilterResult",
            "Inspection",
            "add_filter",
            "add_variable",
            "inspect_document",
            "render_document",
        ),
        "dqlbuild.documents.workflow",
    ),
    **dict.fromkeys(("Dataset", "Result", "run", "to_sql"), "dqlbuild.engine"),
    **dict.fromkeys(
        (
            "DocumentError",
            "DQLCatalogError",
            "DQLDataError",
            "DQLDependencyError",
            "DQLError",
            "DQLEvaluationError",
            "DQLSyntaxError",
            "DQLTypeError",
            "DQLUnsupportedError",
            "DQLValueError",
        ),
        "dqlbuild.errors",
    ),
    "format": "dqlbuild.printing",
    **dict.fromkeys(
        (
            "SELECT_ALL",
            "InjectResult",
            "RenderResult",
            "VariableRef",
            "inject_filter",
            "inject_filter_text",
            "render",
            "variable_filter",
            "variables",
        ),
        "dqlbuild.rewriting",
    ),
    **dict.fromkeys(("parse", "parse_expression", "parse_pipeline"), "dqlbuild.syntax.parser"),
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dqlbuild' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    # The public names and the module's dunders, not its own helpers (importlib, Any...).
    return sorted({*_EXPORTS, *(name for name in globals() if name.startswith("__"))})


# Type checkers read the names from these imports, and (strict) re-export those in the
# literal __all__ below; tests/cli/test_as_a_new_user.py keeps the three lists in step.
if TYPE_CHECKING:
    from dqlbuild.analysis import Diagnostic, FieldSet, QueryFlow, StageFlow, analyze, check
    from dqlbuild.ast.base import Comment, Node, Span
    from dqlbuild.ast.nodes import (
        Access,
        Align,
        Assign,
        Binary,
        Block,
        Boolean,
        Brace,
        Call,
        Command,
        Double,
        Duration,
        FieldRef,
        In,
        Long,
        Named,
        Null,
        Query,
        Sorted,
        String,
        Unary,
        Variable,
    )
    from dqlbuild.building import (
        Expression,
        F,
        data,
        describe,
        dur,
        expr,
        fetch,
        fields_snapshot,
        fn,
        lit,
        load,
        metrics,
        smartscape_edges,
        smartscape_nodes,
        stage,
        timeseries,
        var,
    )
    from dqlbuild.documents.loading import Document, load_document
    from dqlbuild.documents.workflow import (
        AddFilterResult,
        Inspection,
        add_filter,
        add_variable,
        inspect_document,
        render_document,
    )
    from dqlbuild.engine import Dataset, Result, run, to_sql
    from dqlbuild.errors import (
        DocumentError,
        DQLCatalogError,
        DQLDataError,
        DQLDependencyError,
        DQLError,
        DQLEvaluationError,
        DQLSyntaxError,
        DQLTypeError,
        DQLUnsupportedError,
        DQLValueError,
    )
    from dqlbuild.printing import format
    from dqlbuild.rewriting import (
        SELECT_ALL,
        InjectResult,
        RenderResult,
        VariableRef,
        inject_filter,
        inject_filter_text,
        render,
        variable_filter,
        variables,
    )
    from dqlbuild.syntax.parser import parse, parse_expression, parse_pipeline

__all__ = [
    "SELECT_ALL",
    "Access",
    "AddFilterResult",
    "Align",
    "Assign",
    "Binary",
    "Block",
    "Boolean",
    "Brace",
    "Call",
    "Command",
    "Comment",
    "DQLCatalogError",
    "DQLDataError",
    "DQLDependencyError",
    "DQLError",
    "DQLEvaluationError",
    "DQLSyntaxError",
    "DQLTypeError",
    "DQLUnsupportedError",
    "DQLValueError",
    "Dataset",
    "Diagnostic",
    "Document",
    "DocumentError",
    "Double",
    "Duration",
    "Expression",
    "F",
    "FieldRef",
    "FieldSet",
    "In",
    "InjectResult",
    "Inspection",
    "Long",
    "Named",
    "Node",
    "Null",
    "Query",
    "QueryFlow",
    "RenderResult",
    "Result",
    "Sorted",
    "Span",
    "StageFlow",
    "String",
    "Unary",
    "Variable",
    "VariableRef",
    "__version__",
    "add_filter",
    "add_variable",
    "analyze",
    "check",
    "data",
    "describe",
    "dur",
    "expr",
    "fetch",
    "fields_snapshot",
    "fn",
    "format",
    "inject_filter",
    "inject_filter_text",
    "inspect_document",
    "lit",
    "load",
    "load_document",
    "metrics",
    "parse",
    "parse_expression",
    "parse_pipeline",
    "render",
    "render_document",
    "run",
    "smartscape_edges",
    "smartscape_nodes",
    "stage",
    "timeseries",
    "to_sql",
    "var",
    "variable_filter",
    "variables",
]
