"""Every error dqlbuild raises derives from :class:`DQLError`."""

from __future__ import annotations

import re


class DQLError(Exception):
    """Base class of all errors raised by dqlbuild.

    ``line`` and ``column`` are 1-based and ``None`` when the error has no
    position in a DQL text (for example an unknown function name passed to the
    builder).
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.hint = hint

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line is not None else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{self.message}{hint}"

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only constructor arguments would be lost by the default pickling.
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[DQLError], state: dict[str, object]) -> DQLError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


class DQLSyntaxError(DQLError):
    """The text is not valid DQL.

    ``expected`` lists, in human words, what could have stood at the error
    position (for example ``"an expression"`` or ``"`]`"``). ``str()`` shows
    the offending line with a caret under the column.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int,
        column: int,
        offset: int,
        source: str,
        expected: tuple[str, ...] = (),
        hint: str | None = None,
    ) -> None:
        super().__init__(message, line=line, column=column, hint=hint)
        self.line: int = line
        self.column: int = column
        self.offset = offset
        self.source = source
        self.expected = expected

    def snippet(self) -> str:
        """The offending source line and a caret under the error column; of a long line,
        a window of about ``SNIPPET_WIDTH`` characters around the column, with ``…`` where
        it is cut."""
        text = _source_line(self.source, self.line, self.column, self.offset)
        column = max(0, min(self.column - 1, len(text)))
        start = 0
        if len(text) > SNIPPET_WIDTH:
            start = max(0, min(column - SNIPPET_WIDTH // 2, len(text) - SNIPPET_WIDTH))
        end = start + SNIPPET_WIDTH
        shown = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
        # Tabs keep their width so the caret lines up in a terminal.
        before = ("…" if start else "") + text[start:column]
        pad = "".join("\t" if ch == "\t" else " " for ch in before)
        # A lone surrogate cannot be printed: shown as U+FFFD, one character for one.
        return f"{SURROGATES.sub(chr(0xFFFD), shown)}\n{pad}^"

    def __str__(self) -> str:
        hint = f"\nhint: {self.hint}" if self.hint else ""
        return f"line {self.line}, column {self.column}: {self.message}{hint}\n{self.snippet()}"


SNIPPET_WIDTH = 100
# Python text can hold lone surrogates (JSON "\ud800", surrogateescape); DQL text cannot.
SURROGATES = re.compile("[\ud800-\udfff]")


def surrogate_message(ch: str) -> str:
    return f"a lone surrogate (U+{ord(ch):04X}), which is not a character"


def _source_line(source: str, line: int, column: int, offset: int) -> str:
    """Line ``line`` of ``source``, found from ``offset`` when that agrees (no need to split
    a 10 MB text into lines)."""
    start = offset - (column - 1)
    if not (0 <= start <= len(source) and (start == 0 or source[start - 1] == "\n")):
        start = 0
        for _ in range(line - 1):
            start = source.find("\n", start) + 1
            if start == 0:
                return ""
    end = source.find("\n", start)
    return source[start : end if end >= 0 else len(source)].removesuffix("\r")


class DQLValueError(DQLError):
    """A Python value or argument cannot be turned into valid DQL."""


class DQLTypeError(DQLValueError, TypeError):
    """An argument of the wrong Python type (for example bytes where DQL text is expected)."""


class DQLCatalogError(DQLError):
    """A command, function or parameter is unknown to the DQL catalog."""


class DocumentError(DQLError):
    """A dashboard or notebook file cannot be read, understood or written safely."""


class DQLUnsupportedError(DQLError):
    """The local engine (``dqlbuild.run``, ``dqlbuild.to_sql``) cannot run this command,
    function, parameter or form; the message names it and, where the query has one, its
    position. Raised instead of returning a result that could differ from Dynatrace's."""


class DQLDataError(DQLError):
    """Data given to the local engine cannot be used: an unreadable file, a record that is
    not an object, a field holding values of different types, a data object the query
    reads but that was not given."""


class DQLEvaluationError(DQLError):
    """A query cannot be evaluated on the given data: operand types that do not fit an
    operator or function, a field that does not exist, a long overflow at run time."""


class DQLDependencyError(DQLError, ImportError):
    """An optional dependency is missing; the message says which extra installs it."""
