"""``dqlbuild dashboard``: inspect dashboards and notebooks, add a variable, filter every
tile on it, render the queries.

Streams: the document itself (or its diff with ``--diff``), the inspection table and the
rendered queries go to stdout; the per-tile report of ``add-filter``/``add-variable``
and all errors go to stderr, so ``--diff`` output stays a clean patch.
"""

from __future__ import annotations

import argparse
import difflib
import gc
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dqlbuild.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    STDIN,
    STDIN_NAME,
    CliError,
    UsageError,
    add_value_options,
    atomic_write_text,
    emit,
    expand_inputs,
    format_error,
    option_expression,
    parse_now,
    plural,
    read_input,
    set_values,
    variable_key,
)

if TYPE_CHECKING:
    from dqlbuild.documents.loading import Document
    from dqlbuild.documents.workflow import AddFilterResult, Inspection, LocationStatus
    from dqlbuild.errors import DQLError

_RAW = argparse.RawDescriptionHelpFormatter
_EXAMPLE = "examples/ai-observability.dashboard.json"


def register(subparsers: Any) -> None:
    group = subparsers.add_parser(
        "dashboard",
        help="inspect dashboards and notebooks, add a variable, filter every tile",
        description="Work on Dynatrace dashboard and notebook JSON files (bare content, "
        "{name, type, content} envelopes, document-API envelopes). Edits change only the "
        "rewritten query strings and the added entries; every other byte of the file stays "
        "as it was, and files are replaced atomically.",
        epilog="examples:\n"
        f"  dqlbuild dashboard inspect {_EXAMPLE}\n"
        f"  dqlbuild dashboard add-filter {_EXAMPLE} --variable ModelVersion \\\n"
        "      --field model.version --data-object spans --diff --dry-run\n"
        f"  dqlbuild dashboard render {_EXAMPLE} --set ModelVersion=v2",
        formatter_class=_RAW,
    )
    commands = group.add_subparsers(
        dest="dashboard_command", metavar="SUBCOMMAND", parser_class=type(group)
    )
    group.set_defaults(func=lambda args: _missing_subcommand(group))
    _register_inspect(commands)
    _register_add_variable(commands)
    _register_add_filter(commands)
    _register_render(commands)


def _missing_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    raise UsageError("give a subcommand: inspect, add-variable, add-filter or render")


def _register_inspect(commands: Any) -> None:
    p = commands.add_parser(
        "inspect",
        help="list tiles/sections, their sources, parse status and variables",
        description="Print a table of the tiles (dashboards) or sections (notebooks): id, "
        "type, the source the query reads, whether it parses, the variables it references, "
        "and the title; then the variables defined, referenced but undefined, and defined "
        "but unused. Exit 1 when a file cannot be loaded.",
        epilog=f"examples:\n  dqlbuild dashboard inspect {_EXAMPLE}\n"
        "  dqlbuild dashboard inspect --json dashboards/*.json",
        formatter_class=_RAW,
    )
    _add_files(p)
    p.add_argument("--json", action="store_true", help="one JSON object per file and line instead")
    p.set_defaults(func=_inspect)


def _add_files(
    p: argparse.ArgumentParser,
    text: str = "dashboard or notebook JSON files or directories; '-' reads stdin",
) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help=text)


def _add_output_options(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--output",
        "-o",
        metavar="OUT",
        help="write the result to OUT (with several FILEs: an existing directory)",
    )
    where.add_argument("--in-place", "-i", action="store_true", help="rewrite each FILE")
    p.add_argument("--diff", action="store_true", help="print a unified diff of each file")
    p.add_argument(
        "--dry-run", "-n", action="store_true", help="write nothing; print the report only"
    )
    p.add_argument(
        "--replace-variable",
        action="store_true",
        help="replace an existing variable of that key that has another definition",
    )


_OUTPUT_EPILOG = (
    "output: with --output or --in-place the result is written (atomically); without "
    "either, one FILE is printed to stdout, and several FILEs need --dry-run or --diff. "
    "Directories are searched for *.json files. --diff prints a unified diff to stdout "
    "and, without --output/--in-place, writes nothing. The report goes to stderr. Exit 0 "
    "on success, 1 when a FILE could not be changed (it is then left as it was), 2 on "
    "usage errors."
)


def _register_add_variable(commands: Any) -> None:
    p = commands.add_parser(
        "add-variable",
        help="add a dashboard variable",
        description="Append a variable to each dashboard's `variables`, shaped as the "
        "Dashboards app writes it. A variable of that key with the same definition (type, "
        "input, multi-select) is left as it is, so running twice changes nothing; one with "
        "another definition is an error unless --replace-variable.\n\n" + _OUTPUT_EPILOG,
        epilog="examples:\n"
        f"  dqlbuild dashboard add-variable {_EXAMPLE} --key Provider --type csv \\\n"
        "      --input 'openai,anthropic' --multiple --select-all --diff\n"
        f"  dqlbuild dashboard add-variable {_EXAMPLE} --key TopN --type text --default 10 \\\n"
        "      --output top-n.dashboard.json\n"
        "  dqlbuild dashboard add-variable dash.json --key Host --type query --in-place \\\n"
        "      --input 'fetch dt.entity.host | fields entity.name'",
        formatter_class=_RAW,
    )
    _add_files(p, "dashboard JSON files or directories; '-' reads stdin")
    p.add_argument("--key", required=True, help="the variable's key, referenced as $KEY")
    p.add_argument("--type", required=True, choices=("query", "csv", "text"))
    p.add_argument("--input", metavar="TEXT", help="DQL (query) or a comma-separated list (csv)")
    p.add_argument("--multiple", action="store_true", help="multi-select")
    p.add_argument(
        "--default",
        action="append",
        metavar="V",
        help="the default value (repeat for a multi-select list)",
    )
    p.add_argument("--select-all", action="store_true", help="multi-select default: all values")
    _add_output_options(p)
    p.set_defaults(func=_add_variable)


def _register_add_filter(commands: Any) -> None:
    p = commands.add_parser(
        "add-filter",
        help="add a variable and filter every data tile on it",
        description="The whole workflow in one command. For a dashboard: add the query "
        "variable KEY (values: fetch OBJ | filter [WHERE and ]isNotNull(FIELD) | summarize "
        "values = collectDistinct(FIELD) | expand values) unless a query or csv variable KEY "
        "exists (it is then used as it is), and add FIELD == $KEY (in(FIELD, array($KEY)) with "
        "--multiple) to every data tile that reads OBJ, where the tile then shows the same "
        "records restricted to the condition (docs/rewriting.md); a tile that cannot be is "
        "skipped (or partially filtered) with the reason. OBJ is --data-object, else "
        "--values-from, else the data object of the existing variable's query; without any "
        "of them the command stops (exit 2). For a notebook, which has no variables: add "
        'FIELD == "V" (or in(FIELD, array(...))) to every DQL section, with --value. '
        "Markdown, code and slo tiles are never touched; Explore tiles are skipped. A "
        "query that does not parse stops the file unless --skip-unparseable. Running it "
        "twice changes nothing the second time.\n\n" + _OUTPUT_EPILOG,
        epilog="examples:\n"
        f"  dqlbuild dashboard add-filter {_EXAMPLE} --variable ModelVersion \\\n"
        "      --field model.version --data-object spans --diff --dry-run\n"
        f"  dqlbuild dashboard add-filter {_EXAMPLE} --variable ModelVersion \\\n"
        "      --field model.version --data-object spans --multiple \\\n"
        "      --output ai-by-version.dashboard.json \\\n"
        "      --copy-title 'AI observability by model version'\n"
        "  dqlbuild dashboard add-filter dashboards/*.json --variable Namespace \\\n"
        "      --field k8s.namespace.name --values-from logs --in-place --skip-unparseable\n"
        "  dqlbuild dashboard add-filter rollout.notebook.json --variable ModelVersion \\\n"
        "      --field model.version --data-object spans --value v2 --value v3 --in-place",
        formatter_class=_RAW,
    )
    _add_files(p)
    p.add_argument("--variable", required=True, metavar="KEY", help="the variable's key")
    p.add_argument("--field", required=True, help="the field to filter on")
    p.add_argument(
        "--data-object",
        metavar="OBJ",
        help="the data object whose records carry FIELD: only pipelines that `fetch OBJ` "
        "are filtered (also the variable's values source)",
    )
    p.add_argument(
        "--values-from",
        metavar="OBJ",
        help="where the variable's values come from (default: --data-object); without "
        "--data-object also the data object whose records carry FIELD",
    )
    p.add_argument("--where", metavar="EXPR", help="a condition for the variable's values query")
    p.add_argument("--multiple", action="store_true", help="a multi-select variable")
    p.add_argument(
        "--value",
        action="append",
        metavar="V",
        help="notebooks: a value to filter on (repeatable); dashboards: the variable's default",
    )
    p.add_argument(
        "--copy-title", metavar="TITLE", help="also rename the document (when it has a name)"
    )
    p.add_argument(
        "--skip-unparseable",
        action="store_true",
        help="leave tiles whose query does not parse as they are (reported)",
    )
    _add_output_options(p)
    p.set_defaults(func=_add_filter)


def _register_render(commands: Any) -> None:
    p = commands.add_parser(
        "render",
        help="print each tile's query with the variables rendered",
        description="Print every query of the file with the dashboard variables "
        "substituted safely (see `dqlbuild render`). Variables without --set take the "
        "dashboard's default value, else (a list variable) its first item. Warnings go "
        "to stderr; every query that can be rendered is printed, the others are reported "
        "after them and the exit code is 1.",
        epilog="examples:\n"
        f"  dqlbuild dashboard render {_EXAMPLE}\n"
        "  dqlbuild dashboard render dash.json --set ModelVersion=v2 --set Host=a --set Host=b\n"
        "  dqlbuild dashboard render dash.json --no-defaults --lenient",
        formatter_class=_RAW,
    )
    _add_files(p)
    add_value_options(p)
    p.add_argument(
        "--no-defaults", action="store_true", help="do not use the dashboard's default values"
    )
    p.add_argument(
        "--lenient", action="store_true", help="leave variables without a value as written"
    )
    p.set_defaults(func=_render)


# ---------------------------------------------------------------- shared plumbing
def _files(args: argparse.Namespace) -> list[str]:
    """The documents to work on (directories searched for *.json); kept on ``args``."""
    names: list[str] = args.__dict__.get("_names") or expand_inputs(
        args.files, (".json",), args._parser
    )
    args._names = names
    return names


def _load(name: str) -> Document:
    from dqlbuild.documents.loading import load_document
    from dqlbuild.errors import DQLError

    source = read_input(name, strip_bom=False)
    try:
        return load_document(source.text)
    except DQLError as exc:
        raise CliError(source.name, exc) from None


def _each_file(args: argparse.Namespace, work: Callable[[str], None]) -> int:
    """Run ``work`` on every file; a failing file is reported and the others go on."""
    status = EXIT_OK
    for name in _files(args):
        try:
            work(name)
        except CliError as exc:
            emit(format_error(exc.filename, exc.error))
            status = EXIT_FAILURE
    return status


def _targets(args: argparse.Namespace) -> dict[str, Path | None]:
    """Where each FILE's result goes: a path, or None (stdout, or nowhere)."""
    names = _files(args)
    if args.in_place:
        if STDIN in names:
            raise UsageError("--in-place needs files, not standard input")
        return {name: Path(name) for name in names}
    if args.output is not None:
        out = Path(args.output)
        if out.is_dir():
            seen: dict[str, str] = {}
            for name in names:
                other = seen.setdefault(_base_name(name), name)
                if other != name:
                    raise UsageError(f"{other} and {name} would both be written to {out}")
            return {name: out / _base_name(name) for name in names}
        if len(names) > 1:
            raise UsageError(
                "--output names one file; with several FILEs give an existing directory"
            )
        return {names[0]: out}
    if len(names) > 1 and not (args.dry_run or args.diff):
        raise UsageError(
            "say where the results go: --output DIR or --in-place "
            "(or preview with --diff / --dry-run)"
        )
    return dict.fromkeys(names)


def _base_name(name: str) -> str:
    return "stdin.json" if name == STDIN else Path(name).name


def _display(name: str) -> str:
    return STDIN_NAME if name == STDIN else name


def _emit(args: argparse.Namespace, name: str, old: str, new: str, target: Path | None) -> str:
    """Write or print the result; returns what happened, for the report."""
    if args.dry_run:
        return "dry run: nothing written"
    if target is None:
        if args.diff:
            return "nothing written (add --output or --in-place to write)"
        sys.stdout.write(new)
        sys.stdout.flush()
        return "written to stdout"
    if args.in_place and new == old:
        return "unchanged"
    atomic_write_text(target, new)
    return f"written to {target}"


def _show_diff(
    args: argparse.Namespace, name: str, old: str, new: str, target: Path | None
) -> None:
    """With --diff, the file's diff on stdout, after the report (stderr) of that file."""
    if args.diff:
        sys.stderr.flush()
        sys.stdout.write(unified_diff(old, new, name, str(target) if target else name))
        sys.stdout.flush()


def unified_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    """A unified diff like git's: ``a/``/``b/`` before relative names, a marker for a
    missing final newline. Empty when nothing changed."""
    if old == new:
        return ""
    relative = not (Path(old_name).is_absolute() or Path(new_name).is_absolute())
    lines = list(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            f"a/{old_name}" if relative else old_name,
            f"b/{new_name}" if relative else new_name,
        )
    )
    out: list[str] = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _without_position(exc: DQLError) -> str:
    # The position is within the tile's query, not the file: the message names the tile.
    where = f" (line {exc.line}, column {exc.column})" if exc.line is not None else ""
    return exc.message + where + (f" ({exc.hint})" if exc.hint else "")


# ---------------------------------------------------------------- inspect
def _inspect(args: argparse.Namespace) -> int:
    from dqlbuild.documents.workflow import inspect_document

    def work(name: str) -> None:
        inspection = inspect_document(_load(name))
        if args.json:
            sys.stdout.write(json.dumps(_inspection_json(_display(name), inspection)) + "\n")
        else:
            sys.stdout.write(format_inspection(_display(name), inspection))

    return _each_file(args, work)


def _inspection_json(name: str, inspection: Inspection) -> dict[str, Any]:
    data = asdict(inspection)
    data["kind"] = inspection.kind.value
    data["form"] = inspection.form.value
    data["file"] = name
    for tile, info in zip(data["tiles"], inspection.tiles, strict=True):
        tile["parse_status"] = info.parse_status
        # One shape for positions (docs/cli.md): the error and where, in the query.
        line, column = tile.pop("error_line"), tile.pop("error_column")
        if info.error is not None:
            tile["error"] = {"message": info.error, "position": _position(line, column)}
    return data


def _position(line: int | None, column: int | None) -> dict[str, int] | None:
    return {"line": line, "column": column} if line is not None and column is not None else None


def format_inspection(name: str, inspection: Inspection) -> str:
    """The terminal table of ``dqlbuild dashboard inspect``."""
    from dqlbuild.documents.loading import DocumentKind

    queries = sum(t.has_query for t in inspection.tiles)
    what = "tile" if inspection.kind is DocumentKind.DASHBOARD else "section"
    title = f" {inspection.name!r}," if inspection.name else ""
    lines = [
        f"{name}: {inspection.kind.value} ({inspection.form.value}),{title} "
        f"{plural(len(inspection.tiles), what)}, {queries} with DQL"
    ]
    rows = [("ID", "TYPE", "SOURCE", "PARSES", "VARIABLES", "TITLE")]
    errors: list[str] = []
    for tile in inspection.tiles:
        kind = f"{tile.type} (explore)" if tile.explore else tile.type
        parses = "ERROR" if tile.error is not None else tile.parse_status
        if tile.error is not None:
            errors.append(
                f"  {tile.id}: line {tile.error_line}, column {tile.error_column}: {tile.error}"
            )
        refs = ", ".join(f"${v}" for v in tile.variables) or "-"
        rows.append((tile.id, kind, tile.source or "-", parses, refs, _clip(tile.title or "")))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append(("  " + "  ".join([*cells, row[5]])).rstrip())
    if errors:
        lines.append("queries that do not parse (line and column within the query):")
        lines.extend(errors)
    if inspection.kind is DocumentKind.DASHBOARD:
        lines.append(f"variables defined: {_names(inspection.defined)}")
    lines.append(f"referenced but undefined: {_names(inspection.undefined)}")
    if inspection.kind is DocumentKind.DASHBOARD:
        lines.append(f"defined but unused: {_names(inspection.unused)}")
    return "\n".join(lines) + "\n"


def _clip(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _names(names: Sequence[str]) -> str:
    return ", ".join(f"${n}" for n in names) or "none"


# ---------------------------------------------------------------- add-variable
def _add_variable(args: argparse.Namespace) -> int:
    from dqlbuild.documents.models import SELECT_ALL
    from dqlbuild.documents.workflow import add_variable
    from dqlbuild.errors import DQLError

    key = new_variable_key(args.key, "--key")
    default: str | list[str] | None = None
    if args.select_all:
        if not args.multiple:
            raise UsageError("--select-all is a multi-select default: add --multiple")
        default = [SELECT_ALL, *(args.default or [])]
    elif args.default:
        default = list(args.default) if args.multiple else args.default[-1]
        if not args.multiple and len(args.default) > 1:
            raise UsageError("a single-select variable has one --default; add --multiple")
    if args.type != "text" and not args.input:
        raise UsageError(f"a {args.type} variable needs --input")
    if args.type == "csv" and args.default:
        _defaults_among_values(args.default, args.input, SELECT_ALL)
    if args.type == "query":
        option_expression_query("--input", args.input)
    targets = _targets(args)

    def work(name: str) -> None:
        doc = _load(name)
        try:
            result = add_variable(
                doc,
                key,
                args.type,
                args.input,
                multiple=args.multiple,
                default=default,
                replace=args.replace_variable,
            )
        except DQLError as exc:
            raise CliError(name, exc) from None
        outcome = _emit(args, name, doc.text, result.text, targets[name])
        shown = _display(name)
        sys.stderr.write(f"{shown}: variable ${result.key}: {result.message}; {outcome}\n")
        _show_diff(args, shown, doc.text, result.text, targets[name])

    return _each_file(args, work)


def new_variable_key(key: str, option: str) -> str:
    """The key of a variable to create: what the Dashboards app accepts for new keys."""
    from dqlbuild.documents.loading import NEW_VARIABLE_KEY, RESERVED_VARIABLE_PREFIX

    name = variable_key(key, option)
    if name.startswith(RESERVED_VARIABLE_PREFIX):
        raise UsageError(
            f"{option}: keys starting with `{RESERVED_VARIABLE_PREFIX}` are reserved for the "
            "built-in variables"
        )
    if not NEW_VARIABLE_KEY.fullmatch(name):
        raise UsageError(
            f"{option}: {key!r} is not a key the Dashboards app accepts (letters and digits, "
            "starting with a letter)"
        )
    return name


def _defaults_among_values(defaults: list[str], values: str, select_all: str) -> None:
    """A list variable's default must be one of its values (or select-all)."""
    items = [v.strip() for v in values.split(",") if v.strip()]
    for default in defaults:
        if default != select_all and default.strip() not in items:
            raise UsageError(
                f"--default {default!r} is not one of the variable's values: {', '.join(items)}"
            )


def option_expression_query(option: str, text: str) -> None:
    """A query given as an option must parse; otherwise it is invalid input (exit 1)."""
    from dqlbuild.errors import DQLError
    from dqlbuild.syntax.parser import parse

    try:
        parse(text)
    except DQLError as exc:
        raise CliError(option, exc) from None


# ---------------------------------------------------------------- add-filter
def _add_filter(args: argparse.Namespace) -> int:
    from dqlbuild.documents.workflow import add_filter, parse_field, variable_query
    from dqlbuild.errors import DQLError

    new_variable_key(args.variable, "--variable")
    try:
        field = parse_field(args.field)
    except DQLError as exc:
        raise CliError("--field", exc) from None
    if args.where is not None:
        option_expression("--where", args.where)
    try:
        variable_query("x", field, where=args.where)
    except DQLError as exc:
        raise CliError("--where", exc) from None
    targets = _targets(args)
    docs: dict[str, Document | CliError] = {}
    if args.data_object is None:
        # Every file must say which data object it filters before any is changed.
        docs = {name: _load_or_error(name) for name in _files(args)}
        gc.freeze()  # kept until their turn: the cyclic collector need not walk them
        _require_data_object(args, docs)

    def work(name: str) -> None:
        doc = docs.pop(name) if name in docs else _load_or_error(name)
        if isinstance(doc, CliError):
            raise doc
        try:
            result = add_filter(
                doc,
                variable=args.variable,
                field=args.field,
                data_object=args.data_object,
                where=args.where,
                multiple=args.multiple,
                values=args.value,
                values_from=args.values_from,
                replace_variable=args.replace_variable,
                copy_title=args.copy_title,
                skip_unparseable=args.skip_unparseable,
            )
        except DQLError as exc:
            raise CliError(name, exc) from None
        outcome = _emit(args, name, doc.text, result.text, targets[name])
        sys.stderr.write(format_report(_display(name), result, outcome))
        _show_diff(args, _display(name), doc.text, result.text, targets[name])

    return _each_file(args, work)


def _load_or_error(name: str) -> Document | CliError:
    try:
        return _load(name)
    except CliError as exc:
        return exc


def _require_data_object(args: argparse.Namespace, docs: dict[str, Document | CliError]) -> None:
    """Without --data-object the document must say which data object carries the field
    (--values-from, or the variable's own query); else a tile of another data object
    would be emptied by a filter on a field it lacks."""
    from dqlbuild.documents.loading import Document
    from dqlbuild.documents.workflow import data_object_of

    unknown = [
        name
        for name, doc in docs.items()
        if isinstance(doc, Document)
        and data_object_of(doc, args.variable, values_from=args.values_from) is None
    ]
    if unknown:
        # Over a directory of dashboards, name a few, not every file.
        shown = ", ".join(unknown[:3])
        if len(unknown) > 3:
            shown += f" and {plural(len(unknown) - 3, 'more file')}"
        raise UsageError(
            f"{shown}: say which data object carries {args.field}: "
            f"--data-object OBJ (for example --data-object spans); a filter on a field that "
            "a tile's data object lacks would empty that tile"
        )


_STATUS_LABELS: dict[LocationStatus, str] = {
    "filtered": "filtered",
    "partially-filtered": "partially filtered",
    "already-filtered": "already filtered",
    "skipped": "skipped",
    "unparseable": "unparseable",
}


def format_report(name: str, result: AddFilterResult, outcome: str) -> str:
    """The per-tile report of ``add-filter``."""
    from dqlbuild.documents.loading import DocumentKind

    doc = result.document
    noun = "tile" if doc.kind is DocumentKind.DASHBOARD else "section"
    lines = [f"{name}: {doc.kind.value}, condition `{result.condition}`"]
    if result.variable is not None:
        lines.append(f"  variable ${result.variable.key}: {result.variable.message}")
    shown: set[LocationStatus] = {loc.status for loc in result.locations} | {"already-filtered"}
    width = max(len(_STATUS_LABELS[status]) for status in shown)
    for loc in result.locations:
        label = f"{noun} {loc.id}" + (f' "{_clip(loc.title)}"' if loc.title else "")
        reason = loc.reason
        if loc.status == "unparseable":
            reason = f"line {loc.error_line}, column {loc.error_column}: {reason}; left as it is"
        lines.append(f"  {_STATUS_LABELS[loc.status].ljust(width)}  {label}: {reason}")
    lines.extend(f"  note: {note}" for note in result.notes)
    counts = ", ".join(
        f"{result.count(status)} {label}"
        for status, label in _STATUS_LABELS.items()
        # Rare: only queries whose records come from several pipelines can be partial.
        if status != "partially-filtered" or result.count(status)
    )
    untouched = ", ".join(f"{n} {kind}" for kind, n in result.untouched.items())
    lines.append(f"  {counts}" + (f"; not DQL, untouched: {untouched}" if untouched else ""))
    lines.append(f"  {outcome}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- render
def _render(args: argparse.Namespace) -> int:
    from dqlbuild.documents.loading import DocumentKind
    from dqlbuild.documents.workflow import document_values, render_each
    from dqlbuild.errors import DQLError
    from dqlbuild.rewriting.variables import variables

    given = set_values(args.set)
    # One moment for the whole run (as --now gives), so every file shows the same
    # timeframe and a query repeated in several files is rendered once.
    now = parse_now(args.now) or datetime.now(UTC)

    def work(name: str) -> None:
        doc = _load(name)
        name = _display(name)
        values = given if args.no_defaults else document_values(doc, given)[0]
        used = {k: v for k, v in values.items() if k not in given}
        if used:
            shown = ", ".join(f"{k}={v!r}" for k, v in used.items())
            sys.stderr.write(f"{name}: defaults: {shown}\n")
        noun = "tile" if doc.kind is DocumentKind.DASHBOARD else "section"
        failed: list[DQLError] = []
        try:
            rendered = list(
                render_each(
                    doc, given, strict=not args.lenient, defaults=not args.no_defaults, now=now
                )
            )
        except DQLError as exc:  # a value that is not valid for any query
            raise CliError(name, exc.message + (f" ({exc.hint})" if exc.hint else "")) from None
        for loc, result in rendered:
            if isinstance(result, DQLError):
                # Every query that renders is printed; the others are reported after.
                failed.append(result)
                continue
            title = f": {loc.title}" if loc.title else ""
            sys.stdout.write(f"// {noun} {loc.id}{title}\n{result.text}\n\n")
            for warning in result.warnings:
                emit(f"{name}: {noun} {loc.id}: warning: {warning}")
        if given:
            referenced = {ref.name for loc in doc.queries for ref in variables(loc.query)}
            for key in given:
                if key not in referenced:
                    emit(f"{name}: warning: --set {key}: no query uses ${key} (a typo?)")
        for error in failed[:-1]:
            emit(format_error(name, _without_position(error)))
        if failed:
            sys.stdout.flush()
            raise CliError(name, _without_position(failed[-1]))

    return _each_file(args, work)


__all__ = ["format_inspection", "format_report", "register", "unified_diff"]
