"""``dqlbuild lsp``: the language server, for editors."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dqlbuild.cli.common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, emit
from dqlbuild.errors import DQLError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "lsp",
        help="run the DQL language server (for editors)",
        description="Run the DQL language server on standard input and output (the Language "
        "Server Protocol): diagnostics, formatting, completion, hover, outline and folding "
        "for .dql files and for the queries in dashboard and notebook JSON files. Editors "
        "start it; docs/editors.md shows how. Needs the `lsp` extra: "
        "pip install 'dqlbuild[lsp]'.",
        epilog="examples:\n  dqlbuild lsp\n  dqlbuild lsp --log-file /tmp/dqlbuild-lsp.log",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--stdio",
        action="store_true",
        help="talk over standard input and output (the default; accepted because some "
        "editors pass it)",
    )
    p.add_argument("--log-file", metavar="FILE", help="write a debug log of the server to FILE")
    p.set_defaults(func=_lsp)


def _lsp(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        args._parser.print_usage(sys.stderr)
        emit(
            "dqlbuild lsp: error: the language server talks to an editor over standard input; "
            "start it from your editor (see docs/editors.md)"
        )
        return EXIT_USAGE
    if args.log_file:
        try:
            import logging  # here: importing it costs every other command's start-up

            logging.basicConfig(filename=args.log_file, level=logging.DEBUG)
        except OSError as exc:
            emit(f"dqlbuild lsp: error: cannot write the log file: {exc.strerror or exc}")
            return EXIT_FAILURE
    from dqlbuild.lsp import serve

    try:
        serve()
    except DQLError as exc:
        hint = f"\n  hint: {exc.hint}" if exc.hint else ""
        emit(f"dqlbuild lsp: error: {exc.message}{hint}")
        return EXIT_FAILURE
    return EXIT_OK
