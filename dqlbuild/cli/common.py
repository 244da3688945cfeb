"""Shared CLI plumbing: reading inputs, reporting errors as FILE:LINE:COL, writing."""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from dqlbuild.documents.io import atomic_write
from dqlbuild.errors import DQLError, DQLSyntaxError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
STDIN = "-"


class UsageError(Exception):
    """Bad command-line usage: exit 2."""


class CliError(Exception):
    """A failure to report as ``FILE:LINE:COL: error: MESSAGE`` (exit 1)."""

    def __init__(self, filename: str, error: DQLError | str, exit_code: int = EXIT_FAILURE):
        super().__init__(str(error))
        self.filename = filename
        self.error = error
        self.exit_code = exit_code


@dataclass(frozen=True)
class Input:
    name: str  # "<stdin>" for standard input
    path: Path | None
    text: str


def read_input(name: str | None) -> Input:
    """Read FILE, or standard input for ``-`` / None. Text is kept byte-exact (UTF-8)."""
    if name is None or name == STDIN:
        data = sys.stdin.buffer.read()
        return Input("<stdin>", None, _decode("<stdin>", data))
    path = Path(name)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CliError(name, "no such file") from None
    except IsADirectoryError:
        raise CliError(name, "is a directory") from None
    except OSError as exc:
        raise CliError(name, f"cannot read: {exc.strerror or exc}") from None
    return Input(name, path, _decode(name, data))


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(name, f"not UTF-8 text (byte {exc.start})") from None


def format_error(filename: str, error: DQLError | str) -> str:
    """``FILE:LINE:COL: error: MESSAGE`` plus, for syntax errors, the caret snippet."""
    if isinstance(error, DQLError) and error.line is not None:
        where = f"{error.line}:{error.column}" if error.column is not None else f"{error.line}"
        head = f"{filename}:{where}: error: {error.message}"
    else:
        message = error.message if isinstance(error, DQLError) else error
        head = f"{filename}: error: {message}"
    lines = [head]
    if isinstance(error, DQLError) and error.hint:
        lines.append(f"  hint: {error.hint}")
    if isinstance(error, DQLSyntaxError):
        lines.extend("  " + line for line in error.snippet().splitlines())
    return "\n".join(lines)


def report_error(exc: CliError) -> None:
    emit(format_error(exc.filename, exc.error))


# ---------------------------------------------------------------- variable values
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


def key_value_pairs(items: list[str], option: str) -> list[tuple[str, str]]:
    """``KEY=VALUE`` arguments as pairs (a leading ``$`` on the key is dropped)."""
    pairs: list[tuple[str, str]] = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{option} takes KEY=VALUE, got {item!r}")
        pairs.append((key.removeprefix("$"), value))
    return pairs


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


# ---------------------------------------------------------------- terminal output
_SEVERITY_RE = re.compile(r"(?<=: )(error|warning|info)(?=: )|^(  hint)(?=: )|^(\s*\^)$", re.M)
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

    return _SEVERITY_RE.sub(paint, text)


def emit(text: str, stream: TextIO | None = None) -> None:
    """Write a report line (or lines) to ``stream`` (stderr by default), in colour when
    the stream is a terminal."""
    out = stream if stream is not None else sys.stderr
    out.write((colourize(text) if use_colour(out) else text) + "\n")


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


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (see :func:`dqlbuild.documents.io.atomic_write`);
    failures are reported as CLI errors."""
    try:
        atomic_write(path, text)
    except DQLError as exc:
        raise CliError(str(path), exc) from None
