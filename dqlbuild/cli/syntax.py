"""``dqlbuild parse`` and ``dqlbuild fmt``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from dqlbuild.cli.common import (
    BOM,
    EXIT_FAILURE,
    EXIT_OK,
    CliError,
    Input,
    Progress,
    UsageError,
    atomic_write_text,
    emit,
    expand_inputs,
    format_error,
    read_input,
    refuse_terminal_stdin,
    span_json,
)

if TYPE_CHECKING:
    from dqlbuild.ast.nodes import Query

DQL_SUFFIXES = (".dql",)
FRAGMENT_HELP = (
    "the text is a pipeline fragment (e.g. an OpenPipeline processor): it may begin with "
    "`|` and need not begin with a start command"
)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "parse",
        help="print the syntax tree of a query as JSON",
        description="Parse a DQL query and print its syntax tree as JSON (positions and "
        "comments included). Every node has `kind`, `span` and `comments`; the JSON "
        "schema is under 'JSON output' in docs/cli.md.",
        epilog="examples:\n  dqlbuild parse query.dql\n"
        "  echo 'fetch logs | limit 5' | dqlbuild parse\n"
        "  echo '| fieldsAdd x = 1' | dqlbuild parse --fragment --compact",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="a .dql file; '-' or none reads stdin")
    p.add_argument("--compact", action="store_true", help="one line of JSON, no indentation")
    p.add_argument("--fragment", action="store_true", help=FRAGMENT_HELP)
    p.set_defaults(func=_parse)

    f = subparsers.add_parser(
        "fmt",
        help="format queries canonically",
        description="Format DQL queries canonically: one command per line, `| ` continuation "
        "lines, wrapped argument lists, every comment kept. A file keeps its line ends "
        "(LF or CRLF) and its byte-order mark. Directories are searched for *.dql files.",
        epilog="examples:\n  dqlbuild fmt query.dql\n  dqlbuild fmt --check queries/\n"
        "  dqlbuild fmt --in-place --width 80 a.dql b.dql\n"
        "  echo '| fieldsAdd x = 1' | dqlbuild fmt --fragment",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f.add_argument(
        "files", nargs="*", metavar="FILE", help="files or directories; '-' or none reads stdin"
    )
    mode = f.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 when a file is not formatted"
    )
    mode.add_argument("--in-place", "-i", action="store_true", help="rewrite the files")
    f.add_argument("--width", type=int, default=100, help="line width (default 100)")
    f.add_argument("--indent", type=int, default=2, help="indent step (default 2)")
    f.add_argument("--fragment", action="store_true", help=FRAGMENT_HELP)
    f.set_defaults(func=_fmt)


def parse_source(source: Input, *, fragment: bool) -> Query:
    """The query of an input; invalid DQL is an error of that input."""
    from dqlbuild.errors import DQLError
    from dqlbuild.syntax.parser import parse, parse_pipeline

    try:
        return parse_pipeline(source.text) if fragment else parse(source.text)
    except DQLError as exc:
        if not fragment and source.text.lstrip().startswith("|"):
            exc.hint = "the text is a pipeline fragment: add --fragment"
        raise CliError(source.name, exc) from None


def _parse(args: argparse.Namespace) -> int:
    if args.file in (None, "-"):
        refuse_terminal_stdin(args._parser)
    source = read_input(args.file)
    query = parse_source(source, fragment=args.fragment)
    tree = _spans_as_objects(query.model_dump(mode="json"))
    sys.stdout.write(json.dumps(tree, indent=None if args.compact else 2) + "\n")
    return EXIT_OK


def _spans_as_objects(tree: Any) -> Any:
    """Every node's ``span`` as the span object of the JSON schema (iteratively: trees
    may be deep)."""
    stack = [tree]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if "span" in value and isinstance(value["span"], list):
                value["span"] = span_json(value["span"])
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return tree


def _fmt(args: argparse.Namespace) -> int:
    from dqlbuild.errors import DQLError
    from dqlbuild.printing import format as format_query

    if args.width < 20 or args.indent < 1:
        raise UsageError("--width must be at least 20 and --indent at least 1")
    if args.in_place and (not args.files or "-" in args.files):
        raise UsageError("--in-place needs files, not standard input")
    names = expand_inputs(args.files, DQL_SUFFIXES, args._parser)
    status = EXIT_OK
    progress = Progress(len(names))
    for name in names:
        progress.step(name)
        try:
            source = read_input(name)
            query = parse_source(source, fragment=args.fragment)
            try:
                formatted = format_query(query, width=args.width, indent=args.indent)
            except DQLError as exc:
                raise CliError(source.name, exc) from None
            output = _with_conventions(source, query, formatted + "\n", fragment=args.fragment)
        except CliError as exc:
            progress.clear()
            emit(format_error(exc.filename, exc.error))
            status = EXIT_FAILURE
            continue
        if args.check:
            if output != source.original:
                progress.clear()
                emit(f"{source.name}: would reformat")
                status = EXIT_FAILURE
        elif args.in_place:
            assert source.path is not None
            if output != source.original:
                try:
                    atomic_write_text(source.path, output)
                except CliError as exc:
                    progress.clear()
                    emit(format_error(exc.filename, exc.error))
                    status = EXIT_FAILURE
        else:
            sys.stdout.write(output)
    progress.clear()
    return status


def _with_conventions(source: Input, query: Query, text: str, *, fragment: bool) -> str:
    """The formatted ``text`` with the input's BOM and line ends. Line ends inside a
    triple-quoted string or a block comment belong to the query: if converting them
    would change it, the file is reported instead of being changed."""
    from dqlbuild.errors import DQLError
    from dqlbuild.syntax.parser import parse, parse_pipeline

    restored = source.restore(text)
    if source.newline == "\n" or "\n" not in _literal_text(query):
        return restored
    try:
        body = restored.removeprefix(BOM)
        same = (parse_pipeline(body) if fragment else parse(body)) == query
    except DQLError:
        same = False
    if not same:
        raise CliError(
            source.name,
            "a string or comment mixes LF and CRLF line ends: formatting with CRLF would "
            "change it; make its line ends consistent first",
        )
    return restored


def _literal_text(query: Query) -> str:
    """The text of the query's triple-quoted strings and comments (where line ends are
    part of the query, not layout)."""
    from dqlbuild.ast.nodes import String

    parts: list[str] = []
    for node in query.walk():
        if isinstance(node, String) and node.style == "triple":
            parts.append(node.value)
        parts.extend(comment.text for comment in node.comments)
    return "".join(parts)
