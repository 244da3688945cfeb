"""The ``dqlbuild`` command line. Each subcommand group lives in its own module and
registers itself in :data:`SUBCOMMAND_MODULES`.

Registering imports nothing heavy: each command imports the parts of dqlbuild it uses
when it runs, so ``dqlbuild fmt`` does not pay for documents, checks or rewriting.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence

from dqlbuild import __version__
from dqlbuild.cli.common import (
    EXIT_USAGE,
    CliError,
    UsageError,
    cli_text,
    emit,
    printable_streams,
    report_error,
)

# Modules with a ``register(subparsers)`` function, and the subcommands each registers
# (checked by the test-suite): running one of them imports and builds the parsers of its
# module only, as importing the others (and building argparse parsers) costs start-up.
SUBCOMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "dqlbuild.cli.syntax": ("parse", "fmt"),
    "dqlbuild.cli.rewrite": ("inject", "vars", "render"),
    "dqlbuild.cli.check": ("check",),
    "dqlbuild.cli.check_documents": ("check-documents",),
    "dqlbuild.cli.dashboard": ("dashboard",),
    "dqlbuild.cli.run": ("run",),
    "dqlbuild.cli.lsp": ("lsp",),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_USAGE)

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse makes a formatter for every argument added; left to itself, each
        # imports shutil (and with it bz2, lzma, fnmatch) for the terminal width, a few
        # milliseconds of every command's start-up. The width is the same.
        # (Every HelpFormatter takes ``width``; typeshed's protocol lists only ``prog``.)
        width = _terminal_columns() - 2
        return self.formatter_class(prog=self.prog, width=width)  # type: ignore[call-arg]


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``, without importing shutil."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    stream = sys.__stdout__
    try:
        return (os.get_terminal_size(stream.fileno()).columns if stream else 0) or 80
    except (AttributeError, ValueError, OSError):
        return 80


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or with ``command``, of those defined next to it."""
    parser = _Parser(
        prog="dqlbuild",
        description="Parse, format, build, rewrite and check Dynatrace Query Language (DQL).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dqlbuild {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    names = [m for m, commands in SUBCOMMAND_MODULES.items() if command in commands]
    for name in names or SUBCOMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(subparsers)
    _remember_parsers(parser)
    return parser


def _remember_parsers(parser: argparse.ArgumentParser) -> None:
    """Let every (sub)subcommand know its own parser, for its usage in error messages."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub.set_defaults(_parser=sub)
                _remember_parsers(sub)


def main(argv: Sequence[str] | None = None) -> int:
    printable_streams()
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in arguments if not a.startswith("-")), None)
    parser = build_parser(command)
    args, extra = parser.parse_known_args(arguments)
    own = getattr(args, "_parser", parser)
    if extra:
        # Report unknown arguments with the usage of the subcommand they were given to.
        own.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if argv is None:
        # A command-line process: what is loaded by now (modules, parsers) lives as long
        # as it does, so the cyclic collector need not walk it again at every full
        # collection of a batch. (Not for callers in a process of their own.)
        gc.freeze()
    try:
        code: int = args.func(args)
    except UsageError as exc:
        emit(f"{own.prog}: error: {cli_text(str(exc))}")
        return EXIT_USAGE
    except CliError as exc:
        report_error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`dqlbuild ... | head`): stop quietly, like other tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return code


__all__ = ["build_parser", "main"]
