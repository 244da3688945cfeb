"""``dqlbuild inject``, ``dqlbuild vars`` and ``dqlbuild render``."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from dqlbuild.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    UsageError,
    add_value_options,
    atomic_write_text,
    emit,
    key_value_pairs,
    parse_now,
    read_input,
)
from dqlbuild.errors import DQLError
from dqlbuild.rewriting.inject import PLACEMENTS, InjectResult, inject_filter_text
from dqlbuild.rewriting.render import render
from dqlbuild.rewriting.variables import SELECT_ALL, variables
from dqlbuild.syntax.parser import parse_expression

_RAW = argparse.RawDescriptionHelpFormatter


def register(subparsers: Any) -> None:
    i = subparsers.add_parser(
        "inject",
        help="add a filter to a query where it is correct",
        description="Add a filter condition to a DQL query where the query then shows the "
        "same records, restricted to the condition (see docs/rewriting.md): after the source "
        "and its filters, after the stage that gives a field of the condition its values, into "
        "the `filter:` parameter of a `timeseries` that has the field as a dimension, and into "
        "`append` blocks; a match table (lookup, join, in) only when that cannot change the "
        "matches. Otherwise the query is skipped (or partially filtered) with a reason. Only "
        "the new stage is spliced into the text; every other byte stays as it was. The "
        "rewritten query goes to stdout, what happened to each pipeline to stderr.",
        epilog="examples:\n"
        "  dqlbuild inject tile.dql --filter 'service.name == $Service'\n"
        "  dqlbuild inject tile.dql --filter 'in(dt.entity.host, array($Host))' --in-place\n"
        "  dqlbuild inject tile.dql --filter 'loglevel == \"ERROR\"' --placement end\n"
        "  echo 'fetch spans | limit 5' | dqlbuild inject --filter 'a == 1' --data-object spans",
        formatter_class=_RAW,
    )
    i.add_argument("file", nargs="?", metavar="FILE", help="a .dql file; '-' or none reads stdin")
    i.add_argument("--filter", required=True, metavar="EXPR", help="the condition, in DQL")
    i.add_argument(
        "--placement",
        choices=PLACEMENTS,
        default="auto",
        help="auto (default): where the field flow allows; source: right after the source; "
        "end: after the last stage",
    )
    i.add_argument("--data-object", metavar="NAME", help="change only pipelines that `fetch NAME`")
    i.add_argument(
        "--no-subqueries", action="store_true", help="leave execution blocks [ ... ] alone"
    )
    i.add_argument("--in-place", "-i", action="store_true", help="rewrite FILE")
    i.add_argument("--quiet", "-q", action="store_true", help="print no statuses")
    i.set_defaults(func=_inject)

    v = subparsers.add_parser(
        "vars",
        help="list the $variable references of a query",
        description="List every dashboard variable reference ($Name, $Name:noquote, ...) with "
        "its position. References inside string literals are marked; comments and "
        "backtick names hold none.",
        epilog="examples:\n  dqlbuild vars tile.dql\n  dqlbuild vars --names tile.dql",
        formatter_class=_RAW,
    )
    v.add_argument("file", nargs="?", metavar="FILE", help="a .dql file; '-' or none reads stdin")
    v.add_argument("--names", action="store_true", help="only the distinct names, in order")
    v.set_defaults(func=_vars)

    r = subparsers.add_parser(
        "render",
        help="substitute dashboard variable values, safely",
        description="Substitute values for $variables the way the Dashboards app does "
        '($k -> "v", :noquote -> v, :backtick -> `v`, :triplequote -> """v"""), but safely: '
        "values are escaped, a :noquote value must be one literal or name, and the result "
        "is checked against the query. Warnings (stderr) show where the app's own "
        "substitution would break the query.",
        epilog="examples:\n"
        "  dqlbuild render tile.dql --set Service=checkout --set TopN=10\n"
        "  dqlbuild render tile.dql --set Host=web-1 --set Host=web-2   # a list\n"
        "  dqlbuild render tile.dql --multi Host --set Host=web-1       # a one-value list\n"
        f"  dqlbuild render tile.dql --set 'Host={SELECT_ALL}' --all Host=a --all Host=b\n"
        "  dqlbuild render tile.dql --set dt_timeframe_from=2024-01-01T00:00:00Z",
        formatter_class=_RAW,
    )
    r.add_argument("file", nargs="?", metavar="FILE", help="a .dql file; '-' or none reads stdin")
    add_value_options(r)
    r.add_argument(
        "--multi", action="append", default=[], metavar="KEY", help="KEY is a list (multi-select)"
    )
    r.add_argument(
        "--all",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="one of all values of KEY, for the select-all token",
    )
    r.add_argument(
        "--lenient", action="store_true", help="leave undefined variables as written (warning)"
    )
    r.set_defaults(func=_render)


# ---------------------------------------------------------------- inject
def _inject(args: argparse.Namespace) -> int:
    if args.in_place and (args.file is None or args.file == "-"):
        raise UsageError("--in-place needs a file, not standard input")
    try:
        condition = parse_expression(args.filter)
    except DQLError as exc:
        # The position is in the option's text, not in FILE.
        raise CliError("--filter", exc, exit_code=EXIT_USAGE) from None
    source = read_input(args.file)
    try:
        result = inject_filter_text(
            source.text,
            condition,
            placement=args.placement,
            data_object=args.data_object,
            into_subqueries=not args.no_subqueries,
        )
    except DQLError as exc:
        raise CliError(source.name, exc) from None
    if not args.quiet:
        for line in _status_lines(result):
            sys.stderr.write(f"{source.name}: {line}\n")
    if args.in_place:
        assert source.path is not None
        if result.text != source.text:
            atomic_write_text(source.path, result.text)
    else:
        sys.stdout.write(result.text)
    return EXIT_OK


def _status_lines(result: InjectResult) -> list[str]:
    lines = [f"{result.status}: {result.reason}"]

    def walk(results: tuple[InjectResult, ...], path: str) -> None:
        for number, sub in enumerate(results, 1):
            label = f"{path}{number}"
            first = sub.query.commands[0].span if sub.query.commands else None
            where = f" (line {first.line})" if first is not None else ""
            lines.append(f"subquery {label}{where}: {sub.pipeline_status}: {sub.pipeline_reason}")
            walk(sub.subqueries, f"{label}.")

    walk(result.subqueries, "")
    return lines


# ---------------------------------------------------------------- vars
def _vars(args: argparse.Namespace) -> int:
    source = read_input(args.file)
    refs = variables(source.text)
    if args.names:
        for name in dict.fromkeys(ref.name for ref in refs):
            sys.stdout.write(f"{name}\n")
        return EXIT_OK
    for ref in refs:
        where = " (in a string)" if ref.in_string else ""
        sys.stdout.write(f"{source.name}:{ref.span.line}:{ref.span.column}: {ref.text}{where}\n")
    return EXIT_OK


# ---------------------------------------------------------------- render
def _render(args: argparse.Namespace) -> int:
    values: dict[str, str | list[str]] = {}
    for key, value in key_value_pairs(args.set, "--set"):
        current = values.get(key)
        if current is None:
            values[key] = [value] if key in args.multi else value
        elif isinstance(current, list):
            current.append(value)
        else:
            values[key] = [current, value]
    for key in args.multi:
        values.setdefault(key, [])
    all_values: dict[str, list[str]] = {}
    for key, value in key_value_pairs(args.all, "--all"):
        all_values.setdefault(key, []).append(value)
    now = parse_now(args.now)
    source = read_input(args.file)
    try:
        result = render(
            source.text, values, strict=not args.lenient, all_values=all_values, now=now
        )
    except DQLError as exc:
        raise CliError(source.name, exc) from None
    for warning in result.warnings:
        emit(_located(source.name, warning))
    used = {ref.name for ref in variables(source.text)}
    for key in dict.fromkeys(k for k, _ in key_value_pairs(args.set, "--set")):
        if key not in used:
            emit(f"{source.name}: warning: --set {key}: the query has no ${key} (a typo?)")
    sys.stdout.write(result.text)
    return EXIT_OK


_POSITION = re.compile(r"line (\d+), column (\d+): ")


def _located(name: str, warning: str) -> str:
    """A render warning as ``FILE:LINE:COL: warning: ...`` when it names a position."""
    match = _POSITION.match(warning)
    if match is None:
        return f"{name}: warning: {warning}"
    line, column = match.groups()
    return f"{name}:{line}:{column}: warning: {warning[match.end() :]}"
