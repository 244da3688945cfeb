"""Diagnostics reported by :func:`dqlbuild.check` and the table of their codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from dqlbuild.ast.base import Span

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Diagnostic:
    """One finding: ``code`` is stable (see ``docs/checks.md``), ``span`` points at the
    text concerned (``None`` for nodes without a position, e.g. built ones)."""

    code: str
    severity: Severity
    message: str
    span: Span | None = None
    hint: str | None = None

    @property
    def line(self) -> int | None:
        return self.span.line if self.span is not None else None

    @property
    def column(self) -> int | None:
        return self.span.column if self.span is not None else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``span`` as its six numbers, or ``None``)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "span": self.span._asdict() if self.span is not None else None,
            "hint": self.hint,
        }

    def __str__(self) -> str:
        where = f"{self.line}:{self.column}: " if self.span is not None else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{self.severity}: {self.message} [{self.code}]{hint}"


@dataclass(frozen=True)
class CodeInfo:
    code: str
    severity: Severity
    title: str


CODES: dict[str, CodeInfo] = {
    info.code: info
    for info in (
        CodeInfo("DQL101", "error", "unknown command"),
        CodeInfo("DQL102", "error", "unknown function"),
        CodeInfo("DQL103", "error", "unknown parameter"),
        CodeInfo("DQL104", "error", "parameter given more than once"),
        CodeInfo("DQL105", "error", "missing required parameter"),
        CodeInfo("DQL106", "error", "too many positional arguments"),
        CodeInfo("DQL107", "error", "named-only parameter passed by position"),
        CodeInfo("DQL108", "error", "value not allowed for an enum parameter"),
        CodeInfo("DQL109", "error", "query or subquery does not begin with a start command"),
        CodeInfo("DQL110", "error", "start command after the beginning of a query"),
        CodeInfo("DQL111", "error", "aggregation function outside its aggregation context"),
        CodeInfo("DQL112", "error", "`=` in a condition where `==` was meant"),
        CodeInfo("DQL113", "error", "the in() function given an execution block"),
        CodeInfo("DQL114", "error", "the in operator with an empty execution block"),
        CodeInfo("DQL115", "error", "mutually exclusive parameters used together"),
        CodeInfo("DQL116", "error", "a name given to a value that cannot have one"),
        CodeInfo("DQL117", "error", "a value that must be named is not"),
        CodeInfo("DQL118", "warning", "named-only boolean flag passed by position"),
        CodeInfo("DQL121", "info", "undocumented function name the engine accepts"),
        CodeInfo("DQL122", "warning", "unknown data object"),
        CodeInfo("DQL201", "warning", "field used after a stage removed it"),
        CodeInfo("DQL301", "error", "undefined variable"),
        CodeInfo("DQL302", "warning", "undefined variable inside a string"),
        CodeInfo("DQL303", "error", "multi-select variable where one value is expected"),
        CodeInfo("DQL304", "warning", "multi-select variable in in() without array()"),
    )
}


def diagnostic(code: str, message: str, span: Span | None, hint: str | None = None) -> Diagnostic:
    """A diagnostic with the severity its code has in :data:`CODES`."""
    return Diagnostic(code, CODES[code].severity, message, span, hint)


__all__ = ["CODES", "CodeInfo", "Diagnostic", "Severity", "diagnostic"]
