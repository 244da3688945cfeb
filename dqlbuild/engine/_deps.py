"""Lazy access to the optional ``run`` extra (duckdb, sqlglot).

The rest of dqlbuild must import and work without them, so nothing imports them at
module level; every engine entry point asks here first and gets a clear error naming
the extra when they are missing.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from dqlbuild.errors import DQLDependencyError

INSTALL_HINT = "pip install 'dqlbuild[run]'"


def _require(name: str, purpose: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise DQLDependencyError(
            f"running DQL locally needs {name} ({purpose}), which is not installed",
            hint=f"install the run extra: {INSTALL_HINT}",
        ) from exc


def sqlglot() -> ModuleType:
    """The sqlglot package (builds and prints the SQL)."""
    return _require("sqlglot", "it builds the SQL")


def duckdb() -> ModuleType:
    """The duckdb package (executes the SQL)."""
    return _require("duckdb", "it executes the SQL")


def require_all() -> None:
    """Fail early, before any work, when either dependency is missing."""
    sqlglot()
    duckdb()
