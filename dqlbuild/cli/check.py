"""``dqlbuild check``: catalog and field-flow checks of DQL files."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dqlbuild.analysis.checks import check
from dqlbuild.analysis.diagnostics import Diagnostic
from dqlbuild.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    CliError,
    Progress,
    emit,
    format_error,
    read_input,
)
from dqlbuild.errors import DQLError
from dqlbuild.syntax.parser import parse, parse_pipeline

# Reported by the command line for text that does not parse (not by check()).
SYNTAX_CODE = "DQL001"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "check",
        help="check queries against the DQL catalog and their field flow",
        description="Check DQL queries: unknown commands, functions and parameters, missing "
        "or misplaced arguments, enum values, start commands, aggregations out of context, "
        "`=` for `==`, fields used after a stage removed them, undefined variables. "
        "Prints FILE:LINE:COL: SEVERITY: MESSAGE [CODE]; exits 1 when there is an error. "
        "The codes are described in docs/checks.md.",
        epilog="examples:\n  dqlbuild check query.dql\n  dqlbuild check --format json a.dql b.dql\n"
        "  dqlbuild check tile.dql --var Service --var Host\n"
        "  echo 'fetch logs | filtr x == 1' | dqlbuild check",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="*", metavar="FILE", help="files; '-' or none reads stdin")
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text lines (default) or one JSON list of all findings",
    )
    p.add_argument(
        "--var",
        action="append",
        metavar="NAME",
        help="a defined dashboard variable (repeat for each); when given, other $variables "
        "are reported",
    )
    p.add_argument(
        "--fragment",
        action="store_true",
        help="the files are pipeline fragments (e.g. OpenPipeline processors): they may "
        "begin with `|` and need not begin with a start command",
    )
    p.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    names = args.files or ["-"]
    defined = frozenset(args.var) if args.var is not None else None
    records: list[dict[str, Any]] = []
    failed = False
    progress = Progress(len(names))
    for name in names:
        progress.step(name)
        try:
            source = read_input(name)
        except CliError as exc:
            failed = True
            progress.clear()
            _report_failure(args, exc.filename, exc.error, records)
            continue
        try:
            query = parse_pipeline(source.text) if args.fragment else parse(source.text)
        except DQLError as exc:
            failed = True
            progress.clear()
            _report_failure(args, source.name, exc, records)
            continue
        for found in check(query, defined_variables=defined, fragment=args.fragment):
            failed = failed or found.severity == "error"
            if args.format == "json":
                records.append({"file": source.name, **found.to_dict()})
            else:
                progress.clear()
                emit(_text(source.name, found), sys.stdout)
    progress.clear()
    if args.format == "json":
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
    return EXIT_FAILURE if failed else EXIT_OK


def _report_failure(
    args: argparse.Namespace, filename: str, error: DQLError | str, records: list[dict[str, Any]]
) -> None:
    """A file that cannot be read or parsed: stderr in text mode, a record in JSON."""
    if args.format != "json":
        emit(format_error(filename, error))
        return
    if isinstance(error, DQLError):
        message, line, column, hint = error.message, error.line, error.column, error.hint
    else:
        message, line, column, hint = error, None, None, None
    records.append(
        {
            "file": filename,
            "code": SYNTAX_CODE,
            "severity": "error",
            "message": message,
            "line": line,
            "column": column,
            "span": None,
            "hint": hint,
        }
    )


def _text(filename: str, found: Diagnostic) -> str:
    where = f"{filename}:{found.line}:{found.column}" if found.span is not None else filename
    line = f"{where}: {found.severity}: {found.message} [{found.code}]"
    return line + (f"\n  hint: {found.hint}" if found.hint else "")
