"""Dynatrace dashboards and notebooks: load, inspect, and rewrite queries losslessly."""

from dqlbuild.documents.io import atomic_write, read_text
from dqlbuild.documents.jsontext import (
    Edit,
    InsertItem,
    InsertMember,
    JsonStyle,
    Remove,
    SetValue,
    apply_edits,
    parse_json,
    replace_string,
)
from dqlbuild.documents.loading import (
    Document,
    DocumentKind,
    QueryLocation,
    StorageForm,
    load_document,
)
from dqlbuild.documents.models import SELECT_ALL, DashboardContent, NotebookContent, Variable

__all__ = [
    "SELECT_ALL",
    "DashboardContent",
    "Document",
    "DocumentKind",
    "Edit",
    "InsertItem",
    "InsertMember",
    "JsonStyle",
    "NotebookContent",
    "QueryLocation",
    "Remove",
    "SetValue",
    "StorageForm",
    "Variable",
    "apply_edits",
    "atomic_write",
    "load_document",
    "parse_json",
    "read_text",
    "replace_string",
]
