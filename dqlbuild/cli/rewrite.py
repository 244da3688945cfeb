"""``dqlbuild inject``, ``dqlbuild vars`` and ``dqlbuild render``."""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING, Any

from dqlbuild.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    STDIN,
    CliError,
    Input,
    Progress,
    UsageError,
    add_value_options,
    atomic_write_text,
    emit,
    expand_inputs,
    format_error,
    key_value_pairs,
    option_expression,
    parse_now,
    read_input,
    refuse_terminal_stdin,
    variable_key,
)

if TYPE_CHECKING:
    from dqlbuild.ast.base import Node
    from dqlbuild.rewriting.inject import InjectResult

_RAW = argparse.RawDescriptionHelpFormatter
# Spelled out so that registering imports nothing; tests/cli check them against the
# library's PLACEMENTS and SELECT_ALL.
PLACEMENT_CHOICES = ("auto", "source", "end")
SELECT_ALL_TOKEN = "3420b2ac-f1cf-4b24-b62d-61ba1ba8ed05*"


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
        "rewritten query goes to stdout, what happened to each pipeline to stderr. Several "
        "files (or directories, searched for *.dql) need --in-place.",
        epilog="examples:\n"
        "  dqlbuild inject tile.dql --filter 'service.name == $Service'\n"
        "  dqlbuild inject tiles/ --filter 'in(dt.entity.host, array($Host))' --in-place\n"
        "  dqlbuild inject tile.dql --filter 'loglevel == \"ERROR\"' --placement end\n"
        "  echo 'fetch spans | limit 5' | dqlbuild inject --filter 'a == 1' --data-object spans",
        formatter_class=_RAW,
    )
    i.add_argument(
        "files", nargs="*", metavar="FILE", help="files or directories; '-' or none reads stdin"
    )
    i.add_argument("--filter", required=True, metavar="EXPR", help="the condition, in DQL")
    i.add_argument(
        "--placement",
        choices=PLACEMENT_CHOICES,
        default="auto",
        help="auto (default): where the field flow allows; source: right after the source; "
        "end: after the last stage",
    )
    i.add_argument("--data-object", metavar="NAME", help="change only pipelines that `fetch NAME`")
    i.add_argument(
        "--no-subqueries", action="store_true", help="leave execution blocks [ ... ] alone"
    )
    i.add_argument("--in-place", "-i", action="store_true", help="rewrite the files")
    i.add_argument("--quiet", "-q", action="store_true", help="print no statuses")
    i.set_defaults(func=_inject)

    v = subparsers.add_parser(
        "vars",
        help="list the $variable references of a query",
        description="List every dashboard variable reference ($Name, $Name:noquote, ...) with "
        "its position. References inside string literals are marked; comments and "
        "backtick names hold none. Directories are searched for *.dql files.",
        epilog="examples:\n  dqlbuild vars tile.dql\n  dqlbuild vars --names tiles/",
        formatter_class=_RAW,
    )
    v.add_argument(
        "files", nargs="*", metavar="FILE", help="files or directories; '-' or none reads stdin"
    )
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
        f"  dqlbuild render tile.dql --set 'Host={SELECT_ALL_TOKEN}' --all Host=a --all Host=b\n"
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
    if args.in_place and (not args.files or STDIN in args.files):
        raise UsageError("--in-place needs files, not standard input")
    condition = filter_condition("--filter", args.filter)
    names = expand_inputs(args.files, (".dql",), args._parser)
    if len(names) > 1 and not args.in_place:
        raise UsageError("several files are rewritten with --in-place; give one FILE to print")
    status = EXIT_OK
    progress = Progress(len(names))
    for name in names:
        progress.step(name)
        try:
            _inject_file(args, condition, name, progress)
        except CliError as exc:
            progress.clear()
            emit(format_error(exc.filename, exc.error))
            status = EXIT_FAILURE
    progress.clear()
    return status


def _inject_file(args: argparse.Namespace, condition: Node, name: str, progress: Progress) -> None:
    from dqlbuild.errors import DQLError
    from dqlbuild.rewriting.inject import inject_filter_text

    source = read_input(name)
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
        progress.clear()
        for line in _status_lines(result):
            sys.stderr.write(f"{source.name}: {line}\n")
    if args.in_place:
        assert source.path is not None
        if result.text != source.text:
            atomic_write_text(source.path, source.with_bom(result.text))
    else:
        sys.stdout.write(source.with_bom(result.text))


# What a parsed option is when it is not an expression (``--filter 'x: 1'``).
_NOT_CONDITIONS = {
    "Named": "a named argument (`name: value`)",
    "Sorted": "a sort order (`x asc`, `x desc`)",
    "Brace": "a `{...}` group",
}


def filter_condition(option: str, text: str) -> Node:
    """The condition given as ``option``: an expression, not another argument form."""
    from dqlbuild.ast.nodes import Assign

    node: Node = option_expression(option, text)
    if isinstance(node, Assign):
        raise CliError(
            option, f"`{node.target} = ...` assigns a field; a filter condition compares with `==`"
        )
    what = _NOT_CONDITIONS.get(type(node).__name__)
    if what is not None:
        raise CliError(option, f"the condition must be an expression such as `a == 1`, not {what}")
    return node


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
    from dqlbuild.rewriting.variables import variables

    names = expand_inputs(args.files, (".dql",), args._parser)
    status = EXIT_OK
    seen: dict[str, None] = {}
    for name in names:
        try:
            source = read_input(name)
            refs = variables(source.text)
        except CliError as exc:
            emit(format_error(exc.filename, exc.error))
            status = EXIT_FAILURE
            continue
        if args.names:
            for ref in refs:
                if ref.name not in seen:
                    seen[ref.name] = None
                    sys.stdout.write(f"{ref.name}\n")
            continue
        for ref in refs:
            where = " (in a string)" if ref.in_string else ""
            sys.stdout.write(
                f"{source.name}:{ref.span.line}:{ref.span.column}: {ref.text}{where}\n"
            )
    return status


# ---------------------------------------------------------------- render
def _render(args: argparse.Namespace) -> int:
    from dqlbuild.errors import DQLError
    from dqlbuild.rewriting.render import render
    from dqlbuild.rewriting.variables import variables

    multi = [variable_key(key, "--multi") for key in args.multi]
    pairs = key_value_pairs(args.set, "--set")
    values: dict[str, str | list[str]] = {}
    for key, value in pairs:
        current = values.get(key)
        if current is None:
            values[key] = [value] if key in multi else value
        elif isinstance(current, list):
            current.append(value)
        else:
            values[key] = [current, value]
    for key in multi:
        values.setdefault(key, [])
    all_values: dict[str, list[str]] = {}
    for key, value in key_value_pairs(args.all, "--all"):
        all_values.setdefault(key, []).append(value)
    now = parse_now(args.now)
    if args.file in (None, STDIN):
        refuse_terminal_stdin(args._parser)
    source: Input = read_input(args.file)
    try:
        result = render(
            source.text, values, strict=not args.lenient, all_values=all_values, now=now
        )
    except DQLError as exc:
        raise CliError(source.name, exc) from None
    for warning in result.warnings:
        emit(_located(source.name, warning))
    used = {ref.name for ref in variables(source.text)}
    for key in dict.fromkeys(k for k, _ in pairs):
        if key not in used:
            emit(f"{source.name}: warning: --set {key}: the query has no ${key} (a typo?)")
    sys.stdout.write(source.with_bom(result.text))
    return EXIT_OK


_POSITION = r"line (\d+), column (\d+): "


def _located(name: str, warning: str) -> str:
    """A render warning as ``FILE:LINE:COL: warning: ...`` when it names a position."""
    match = re.match(_POSITION, warning)
    if match is None:
        return f"{name}: warning: {warning}"
    line, column = match.groups()
    return f"{name}:{line}:{column}: warning: {warning[match.end() :]}"
