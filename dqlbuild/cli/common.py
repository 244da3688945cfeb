"""The rules every subcommand follows, written once: exit codes, reading inputs (files,
directories, standard input), reporting errors as FILE:LINE:COL, writing files safely,
the JSON shape of positions, and wording for the command line.

Only the standard library is imported here, so that ``dqlbuild fmt`` starts quickly;
the heavy parts of dqlbuild are imported by the commands that use them.
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

if TYPE_CHECKING:
    from dqlbuild.ast.base import Span
    from dqlbuild.errors import DQLError

# ---------------------------------------------------------------- exit codes
#: 0: success. 1: findings or invalid input (a file or an option's DQL that does not parse,
#: an error diagnostic, a file that would change, a file that cannot be read or written).
#: 2: the command line is wrong (unknown option, missing or bad option value, options that
#: exclude each other, a malformed variable key). See EXIT_CODES_TEXT for the user's version.
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

EXIT_CODES_TEXT = """\
| exit status | meaning |
|---|---|
| 0 | success: nothing to report, or only warnings and infos |
| 1 | findings or invalid input: a file or an option's DQL (`--filter`, `--where`, `--field`, \
`--input`) that does not parse, an error diagnostic, a file `fmt --check` would change, \
a file that cannot be read, loaded or written |
| 2 | usage error: unknown option or subcommand, a missing or bad option value, options \
that exclude each other, a malformed variable key, standard input that is a terminal |
"""

STDIN = "-"
STDIN_NAME = "<stdin>"
BOM = "\ufeff"


class UsageError(Exception):
    """The command line is wrong: exit 2."""


class CliError(Exception):
    """Invalid input, reported as ``FILE:LINE:COL: error: MESSAGE``: exit 1."""

    exit_code = EXIT_FAILURE

    def __init__(self, filename: str, error: DQLError | str):
        super().__init__(error if isinstance(error, str) else error.message)
        self.filename = filename
        self.error = error


# ---------------------------------------------------------------- reading inputs
class Input(NamedTuple):
    """A text read from a file or standard input. ``text`` has no byte-order mark;
    ``bom`` and ``newline`` describe the file so that writing it back keeps both.
    (A named tuple: a frozen dataclass costs every command's start-up to generate.)"""

    name: str  # STDIN_NAME for standard input
    path: Path | None
    text: str
    bom: bool = False
    newline: str = "\n"

    @property
    def original(self) -> str:
        """The text exactly as read (BOM included)."""
        return (BOM if self.bom else "") + self.text

    def with_bom(self, text: str) -> str:
        """``text`` with this input's byte-order mark, if it had one."""
        return (BOM if self.bom else "") + text

    def restore(self, text: str) -> str:
        """``text`` (written with ``\\n``) in this input's conventions: its BOM, and CRLF
        line ends when the input used them. Carriage returns already in ``text`` stay."""
        if self.newline == "\r\n":
            text = re.sub(_BARE_LF, "\r\n", text)
        return (BOM if self.bom else "") + text


# Patterns are compiled on first use (re caches them): most runs never need them.
_BARE_LF = r"(?<!\r)\n"


def read_input(name: str | None, *, strip_bom: bool = True) -> Input:
    """Read FILE, or standard input for ``-`` / None: strict UTF-8, newlines as they are.
    ``strip_bom``: DQL text loses a leading BOM (remembered in ``Input.bom``); JSON
    documents keep it, their loader skips it."""
    if name is None or name == STDIN:
        data = sys.stdin.buffer.read()
        return _input(STDIN_NAME, None, data, strip_bom)
    path = Path(name)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CliError(name, "no such file") from None
    except IsADirectoryError:
        raise CliError(name, "is a directory") from None
    except OSError as exc:
        raise CliError(name, f"cannot read: {exc.strerror or exc}") from None
    return _input(name, path, data, strip_bom)


def _input(name: str, path: Path | None, data: bytes, strip_bom: bool) -> Input:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CliError(name, f"not UTF-8 text (byte {exc.start}, line {line})") from None
    bom = strip_bom and text.startswith(BOM)
    if bom:
        text = text[1:]
    first = text.find("\n")
    newline = "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"
    return Input(name, path, text, bom, newline)


def expand_inputs(
    names: Sequence[str], suffixes: tuple[str, ...], parser: argparse.ArgumentParser
) -> list[str]:
    """The files to work on: FILE as given, every file ending in ``suffixes`` under a
    directory (recursively, sorted, hidden entries skipped), ``-`` for standard input.
    No names means standard input, which must not be a terminal."""
    if not names:
        names = [STDIN]
    out: list[str] = []
    for name in names:
        if name != STDIN and os.path.isdir(name):
            out.extend(_walk(name, suffixes))
        else:
            out.append(name)
    if out.count(STDIN) > 1:
        raise UsageError("standard input ('-') can be read only once")
    if STDIN in out:
        refuse_terminal_stdin(parser)
    return out


def _walk(directory: str, suffixes: tuple[str, ...]) -> Iterator[str]:
    lowered = tuple(s.lower() for s in suffixes)
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for file in sorted(files):
            if not file.startswith(".") and file.lower().endswith(lowered):
                yield os.path.join(root, file)


def refuse_terminal_stdin(parser: argparse.ArgumentParser) -> None:
    """A command about to read standard input from a terminal would wait for typing
    nobody expects: show the usage instead (exit 2)."""
    isatty = getattr(sys.stdin, "isatty", None)
    if isatty is not None and isatty():
        parser.print_usage(sys.stderr)
        raise UsageError("give a FILE, or pipe the input into standard input")


# ---------------------------------------------------------------- reporting
def format_error(filename: str, error: DQLError | str) -> str:
    """``FILE:LINE:COL: error: MESSAGE`` plus, for syntax errors, the caret snippet."""
    from dqlbuild.errors import DQLError, DQLSyntaxError

    if isinstance(error, DQLError) and error.line is not None:
        where = f"{error.line}:{error.column}" if error.column is not None else f"{error.line}"
        head = f"{filename}:{where}: error: {cli_text(error.message)}"
    else:
        message = error.message if isinstance(error, DQLError) else error
        head = f"{filename}: error: {cli_text(message)}"
    lines = [head]
    if isinstance(error, DQLError) and error.hint:
        lines.append(f"  hint: {cli_text(error.hint)}")
    if isinstance(error, DQLSyntaxError):
        lines.extend("  " + line for line in error.snippet().splitlines())
    return "\n".join(lines)


def report_error(exc: CliError) -> None:
    emit(format_error(exc.filename, exc.error))


# Library messages address Python callers in places ("pass replace_variable=True
# (--replace-variable)", "(strict=False, --lenient)"); on the command line only the
# option is meant.
_PYTHON_ONLY = (
    (r"\b[a-z_]+=(?:True|False) \((--[a-z-]+)\)", r"\1"),
    (r"\b[a-z_]+=(?:True|False), (--[a-z-]+)", r"\1"),
    (r"; use parse_pipeline\(\) for fragments that start with `\|`", ""),
    (r"\bparse_pipeline\(\)", "--fragment"),
)


def cli_text(text: str) -> str:
    """A library message in command-line words: options instead of keyword arguments."""
    for pattern, replacement in _PYTHON_ONLY:
        text = re.sub(pattern, replacement, text)
    return text


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 tile``, ``2 tiles``."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


# ---------------------------------------------------------------- terminal output
_SEVERITY = r"(?m)(?<=: )(error|warning|info)(?=: )|^(  hint)(?=: )|^(\s*\^)$"
_COLOURS = {"error": "1;31", "warning": "1;33", "info": "1;36", "  hint": "32"}


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def colourize(text: str) -> str:
    def paint(match: re.Match[str]) -> str:
        word = match.group(0)
        code = _COLOURS.get(word, "1;31")  # the caret line is red
        return f"\033[{code}m{word}\033[0m"

    return re.sub(_SEVERITY, paint, text)


def emit(text: str, stream: TextIO | None = None) -> None:
    """Write a report line (or lines) to ``stream`` (stderr by default), in colour when
    the stream is a terminal."""
    out = stream if stream is not None else sys.stderr
    out.write((colourize(text) if use_colour(out) else text) + "\n")


def printable_streams() -> None:
    """Text that cannot be encoded (a lone surrogate from a ``\\udc00`` JSON escape in a
    title) prints as its escape instead of stopping the command."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


class Progress:
    """A one-line ``[3/120] file`` progress indicator on stderr, shown only on a terminal
    and only for more than a handful of files; it erases itself before other output."""

    def __init__(self, total: int, *, threshold: int = 5) -> None:
        self.total = total
        self.enabled = total > threshold and use_colour(sys.stderr)
        self.count = 0

    def step(self, name: str) -> None:
        self.count += 1
        if self.enabled:
            line = f"[{self.count}/{self.total}] {name}"[:78]
            sys.stderr.write("\r\033[K" + line)
            sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


# ---------------------------------------------------------------- writing
def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, keeping its permission bits (see
    :func:`dqlbuild.documents.io.atomic_write`). A read-only file is not replaced, and
    failures are invalid-input errors of that file, never a traceback."""
    from dqlbuild.documents.io import atomic_write
    from dqlbuild.errors import DQLError

    name = str(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise CliError(name, f"cannot write: {exc.strerror or exc}") from None
    # The mode bits say read-only even to root, whom os.access would let through.
    if mode is not None and (not mode & 0o222 or not os.access(path, os.W_OK)):
        raise CliError(name, "the file is read-only; it was left as it is")
    if mode is not None and not stat.S_ISREG(mode):
        raise CliError(name, "not a regular file; it was left as it is")
    try:
        atomic_write(path, text)
    except DQLError as exc:
        raise CliError(name, exc.message) from None
    except OSError as exc:
        # mkstemp fails on the directory (read-only, full disk) before the file is touched.
        reason = exc.strerror or str(exc)
        if exc.filename is not None and os.path.abspath(exc.filename) != os.path.abspath(path):
            reason = f"its directory does not allow it ({reason})"
        raise CliError(name, f"cannot write: {reason}; the file was left as it is") from None


# ---------------------------------------------------------------- JSON output
_STRINGS = {"type": "array", "items": {"type": "string"}}

#: The JSON shapes shared by every command's JSON output (documented in docs/cli.md).
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": {
        "span": {
            "description": "Where a piece of text is: offsets count characters (Unicode code "
            "points) from 0, `end` exclusive; lines and columns count from 1, columns in "
            "characters; `end_line`/`end_column` are the position just after the text. A "
            "byte-order mark at the start of a file is not counted.",
            "type": "object",
            "properties": {
                name: {"type": "integer", "minimum": 0 if name in ("start", "end") else 1}
                for name in ("start", "end", "line", "column", "end_line", "end_column")
            },
            "required": ["start", "end", "line", "column", "end_line", "end_column"],
            "additionalProperties": False,
        },
        "finding": {
            "description": "One finding of `check` or `check-documents`: `line`, `column` "
            "and `span` point into FILE (through JSON escapes for documents); all three "
            "are null when the file itself failed (unreadable, not a document). `code` is "
            "null for such a failure, `DQL001` for text that does not parse. `query` names "
            'the query inside a document (`tile "Errors"`, `variable "Host"`), null for a '
            ".dql file.",
            "type": "object",
            "properties": {
                "file": {"type": "string"},
                "line": {"type": ["integer", "null"], "minimum": 1},
                "column": {"type": ["integer", "null"], "minimum": 1},
                "span": {"oneOf": [{"$ref": "#/$defs/span"}, {"type": "null"}]},
                "severity": {"enum": ["error", "warning", "info"]},
                "code": {"type": ["string", "null"]},
                "message": {"type": "string"},
                "hint": {"type": ["string", "null"]},
                "query": {"type": ["string", "null"]},
            },
            "required": [
                "file",
                "line",
                "column",
                "span",
                "severity",
                "code",
                "message",
                "hint",
                "query",
            ],
            "additionalProperties": False,
        },
        "node": {
            "description": "A node of `parse` output: `kind` names the node type, `span` "
            "is where it stands in the text (null for nodes without one), `comments` "
            "lists the comments attached to it; the other members are the node's fields.",
            "type": "object",
            "properties": {
                "kind": {"type": "string"},
                "span": {"oneOf": [{"$ref": "#/$defs/span"}, {"type": "null"}]},
                "comments": {"type": "array"},
            },
            "required": ["kind", "span", "comments"],
        },
        "position": {
            "description": "A line and column (from 1) without an extent: where a query "
            "of `dashboard inspect` stops parsing, counted within that query.",
            "type": "object",
            "properties": {
                "line": {"type": "integer", "minimum": 1},
                "column": {"type": "integer", "minimum": 1},
            },
            "required": ["line", "column"],
            "additionalProperties": False,
        },
        "inspection": {
            "description": "What `dashboard inspect --json` prints for one file (one line).",
            "type": "object",
            "properties": {
                "file": {"type": "string"},
                "kind": {"enum": ["dashboard", "notebook"]},
                "form": {"type": "string"},
                "name": {"type": ["string", "null"]},
                "tiles": {"type": "array", "items": {"$ref": "#/$defs/tile"}},
                "defined": _STRINGS,
                "undefined": _STRINGS,
                "unused": _STRINGS,
            },
            "required": ["file", "kind", "form", "name", "tiles", "defined", "undefined"],
            "additionalProperties": False,
        },
        "tile": {
            "description": "A tile (dashboards) or section (notebooks) of an inspection.",
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "title": {"type": ["string", "null"]},
                "type": {"type": "string"},
                "explore": {"type": "boolean"},
                "has_query": {"type": "boolean"},
                "empty": {"type": "boolean"},
                "source": {"type": ["string", "null"]},
                "data_object": {"type": ["string", "null"]},
                "error": {
                    "oneOf": [
                        {
                            "type": "object",
                            "properties": {
                                "message": {"type": "string"},
                                "position": {
                                    "oneOf": [{"$ref": "#/$defs/position"}, {"type": "null"}]
                                },
                            },
                            "required": ["message", "position"],
                            "additionalProperties": False,
                        },
                        {"type": "null"},
                    ]
                },
                "variables": _STRINGS,
                "parse_status": {"type": "string"},
            },
            "required": ["id", "type", "has_query", "error", "variables", "parse_status"],
        },
    },
}

SPAN_FIELDS = ("start", "end", "line", "column", "end_line", "end_column")


def span_json(span: Span | Sequence[int] | None) -> dict[str, int] | None:
    """A span as the JSON object of :data:`JSON_SCHEMA` (``#/$defs/span``)."""
    if span is None:
        return None
    return dict(zip(SPAN_FIELDS, span, strict=True))


def finding_json(
    file: str,
    *,
    severity: str,
    message: str,
    code: str | None,
    hint: str | None = None,
    span: dict[str, int] | None = None,
    query: str | None = None,
) -> dict[str, Any]:
    """One finding as ``#/$defs/finding``, the record of ``check`` and ``check-documents``."""
    return {
        "file": file,
        "line": span["line"] if span else None,
        "column": span["column"] if span else None,
        "span": span,
        "severity": severity,
        "code": code,
        "message": message,
        "hint": hint,
        "query": query,
    }


# ---------------------------------------------------------------- option values
_VARIABLE_KEY = r"[A-Za-z_][A-Za-z0-9_]*"


def variable_key(key: str, option: str) -> str:
    """A dashboard variable name given on the command line (a leading ``$`` is dropped);
    anything else is a usage error."""
    name = key.removeprefix("$")
    if not re.fullmatch(_VARIABLE_KEY, name):
        raise UsageError(
            f"{option}: {key!r} is not a variable name (letters, digits and `_`, "
            "not starting with a digit)"
        )
    return name


def option_pairs(items: list[str], option: str, form: str = "KEY=VALUE") -> list[tuple[str, str]]:
    """``NAME=VALUE`` arguments as pairs, the names as given."""
    pairs: list[tuple[str, str]] = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{option} takes {form}, got {item!r}")
        pairs.append((key, value))
    return pairs


def key_value_pairs(items: list[str], option: str) -> list[tuple[str, str]]:
    """``KEY=VALUE`` arguments for variables: the keys must be variable names (a leading
    ``$`` is dropped)."""
    return [(variable_key(key, option), value) for key, value in option_pairs(items, option)]


def set_values(items: list[str]) -> dict[str, str | list[str]]:
    """``--set KEY=VALUE`` arguments as values: a key given twice or more is a list
    (a multi-select variable)."""
    values: dict[str, str | list[str]] = {}
    for key, value in key_value_pairs(items, "--set"):
        current = values.get(key)
        if current is None:
            values[key] = value
        elif isinstance(current, list):
            current.append(value)
        else:
            values[key] = [current, value]
    return values


def add_value_options(parser: argparse.ArgumentParser) -> None:
    """``--set KEY=VALUE`` (repeatable) and ``--now ISO``, shared by the render commands."""
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a value; repeat a key for a multi-select list",
    )
    parser.add_argument(
        "--now", metavar="ISO", help="the time the default dashboard timeframe ends (with offset)"
    )


def parse_now(text: str | None) -> datetime | None:
    """The ``--now`` option: an ISO-8601 time with a UTC offset."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--now takes an ISO-8601 time, got {text!r}") from None
    if moment.tzinfo is None:
        raise UsageError("--now needs a UTC offset (e.g. 2024-05-06T07:00:00Z)")
    return moment


def option_expression(option: str, text: str) -> Any:
    """Parse the DQL expression given as ``option``; invalid DQL is invalid input (exit 1)
    reported at its position in the option's text."""
    from dqlbuild.errors import DQLError
    from dqlbuild.syntax.parser import parse_expression

    try:
        return parse_expression(text)
    except DQLError as exc:
        raise CliError(option, exc) from None
