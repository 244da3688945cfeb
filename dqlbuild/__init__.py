"""dqlbuild: parse, format, build, rewrite and check Dynatrace Query Language (DQL)."""

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
from dqlbuild.errors import DQLCatalogError, DQLError, DQLSyntaxError, DQLValueError, DocumentError
from dqlbuild.printing import format
from dqlbuild.syntax.parser import parse, parse_expression, parse_pipeline

__version__ = "0.1.0"

__all__ = [
    "Access",
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
    "DQLError",
    "DQLSyntaxError",
    "DQLValueError",
    "DocumentError",
    "Double",
    "Duration",
    "FieldRef",
    "In",
    "Long",
    "Named",
    "Node",
    "Null",
    "Query",
    "Sorted",
    "Span",
    "String",
    "Unary",
    "Variable",
    "__version__",
    "format",
    "parse",
    "parse_expression",
    "parse_pipeline",
]
