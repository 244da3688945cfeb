"""``dqlbuild parse`` and ``dqlbuild fmt``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dqlbuild.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    CliError,
    Progress,
    UsageError,
    atomic_write_text,
    emit,
    format_error,
    read_input,
)
from dqlbuild.errors import DQLError
from dqlbuild.printing import format as format_query
from dqlbuild.syntax.parser import parse


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "parse",
        help="print the syntax tree of a query as JSON",
        description="Parse a DQL query and print its syntax tree as JSON "
        "(positions and comments included).",
        epilog="examples:\n  dqlbuild parse query.dql\n"
        "  echo 'fetch logs | limit 5' | dqlbuild parse",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="a .dql file; '-' or none reads stdin")
    p.add_argument("--compact", action="store_true", help="one line of JSON, no indentation")
    p.set_defaults(func=_parse)

    f = subparsers.add_parser(
        "fmt",
        help="format queries canonically",
        description="Format DQL queries canonically: one command per line, `| ` continuation "
        "lines, wrapped argument lists, every comment kept.",
        epilog="examples:\n  dqlbuild fmt query.dql\n  dqlbuild fmt --check queries/*.dql\n"
        "  dqlbuild fmt --in-place --width 80 a.dql b.dql",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f.add_argument("files", nargs="*", metavar="FILE", help="files; '-' or none reads stdin")
    mode = f.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 when a file is not formatted"
    )
    mode.add_argument("--in-place", "-i", action="store_true", help="rewrite the files")
    f.add_argument("--width", type=int, default=100, help="line width (default 100)")
    f.add_argument("--indent", type=int, default=2, help="indent step (default 2)")
    f.set_defaults(func=_fmt)


def _parse(args: argparse.Namespace) -> int:
    source = read_input(args.file)
    try:
        query = parse(source.text)
    except DQLError as exc:
        raise CliError(source.name, exc) from None
    sys.stdout.write(query.model_dump_json(indent=None if args.compact else 2) + "\n")
    return EXIT_OK


def _fmt(args: argparse.Namespace) -> int:
    if args.width < 20 or args.indent < 1:
        raise UsageError("--width must be at least 20 and --indent at least 1")
    names = args.files or ["-"]
    if args.in_place and "-" in names:
        raise UsageError("--in-place needs files, not standard input")
    status = EXIT_OK
    progress = Progress(len(names))
    for name in names:
        progress.step(name)
        try:
            source = read_input(name)
            try:
                formatted = format_query(parse(source.text), width=args.width, indent=args.indent)
            except DQLError as exc:
                raise CliError(source.name, exc) from None
        except CliError as exc:
            progress.clear()
            emit(format_error(exc.filename, exc.error))
            status = EXIT_FAILURE
            continue
        # A file keeps its final newline convention: formatted text ends with one newline.
        output = formatted + "\n"
        if args.check:
            if output != source.text:
                progress.clear()
                emit(f"{source.name}: would reformat")
                status = EXIT_FAILURE
        elif args.in_place:
            assert source.path is not None
            if output != source.text:
                atomic_write_text(source.path, output)
        else:
            sys.stdout.write(output)
    progress.clear()
    return status
