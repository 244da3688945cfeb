"""``dqlbuild check``: catalog and field-flow checks of DQL files, and the findings both
``check`` and ``check-documents`` report (one text form, one JSON record)."""

from __future__ import annotations

import argparse
import functools
import gc
import json
import re
import sys
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dqlbuild.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    CliError,
    Input,
    Progress,
    emit,
    expand_inputs,
    finding_json,
    read_input,
    span_json,
    variable_key,
)
from dqlbuild.syntax.collector import collector_paused

if TYPE_CHECKING:
    from dqlbuild.errors import DQLError

# Reported by the command line for text that does not parse (not by check()).
SYNTAX_CODE = "DQL001"

# A span in the file: (start, end, line, column, end_line, end_column).
FileSpan = tuple[int, int, int, int, int, int]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "check",
        help="check queries against the DQL catalog and their field flow",
        description="Check DQL queries: unknown commands, functions, parameters and data "
        "objects, missing or misplaced arguments, enum values, start commands, aggregations "
        "out of context, `=` for `==`, fields used after a stage removed them, undefined "
        "variables. Prints FILE:LINE:COL: SEVERITY: MESSAGE [CODE] on stdout (text that "
        "does not parse is reported as DQL001); exits 1 when there is an error. "
        "Directories are searched for *.dql files. The codes are described in "
        "docs/checks.md.",
        epilog="examples:\n  dqlbuild check query.dql\n  dqlbuild check --format json queries/\n"
        "  dqlbuild check tile.dql --var Service --var Host\n"
        "  echo 'fetch logs | filtr x == 1' | dqlbuild check",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "files", nargs="*", metavar="FILE", help="files or directories; '-' or none reads stdin"
    )
    add_format_option(p)
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


def add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text lines (default) or one JSON list of all findings (its schema: "
        "'JSON output' in docs/cli.md)",
    )


@dataclass(frozen=True)
class Finding:
    """One finding about a file, as ``check`` and ``check-documents`` report it."""

    file: str
    span: FileSpan | None  # in the file; None: the file itself failed
    severity: str
    message: str
    code: str | None  # None: the file itself failed (unreadable, not a valid document)
    hint: str | None = None
    where: str | None = None  # the query inside a document: 'tile "Errors"'
    snippet: str | None = None

    def text(self) -> str:
        place = f"{self.file}:{self.span[2]}:{self.span[3]}" if self.span else self.file
        head = f"{place}: {self.severity}: {self.message}"
        if self.code:
            head += f" [{self.code}]"
        if self.where:
            head += f" ({self.where})"
        lines = [head]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        if self.snippet:
            lines.extend("  " + line for line in self.snippet.splitlines())
        return "\n".join(lines)

    def record(self) -> dict[str, Any]:
        return finding_json(
            self.file,
            severity=self.severity,
            message=self.message,
            code=self.code,
            hint=self.hint,
            span=span_json(self.span),
            query=self.where,
        )


def file_failure(name: str, error: DQLError | str) -> Finding:
    """A file that could not be read (or loaded) at all."""
    from dqlbuild.cli.common import cli_text

    message = error if isinstance(error, str) else error.message
    hint = None if isinstance(error, str) else error.hint
    return Finding(name, None, "error", cli_text(message), None, hint and cli_text(hint))


# (start, end, severity, message, code, hint, snippet) of a finding within a query.
_QueryFinding = tuple[int, int, str, str, str, "str | None", "str | None"]


def query_findings(
    name: str,
    text: str,
    locate: Callable[[int, int], FileSpan],
    *,
    where: str | None = None,
    defined: Iterable[str] | None = None,
    multi_select: Iterable[str] = (),
    fragment: bool = False,
) -> Iterator[Finding]:
    """Parse and check one query; ``locate`` maps a span of the query text (start and
    end offsets) to a span of the file. ``multi_select``: the multi-select variables."""
    names = None if defined is None else frozenset(defined)
    found = _check_text(text, names, frozenset(multi_select), fragment)
    for start, end, severity, message, code, hint, snippet in found:
        span = locate(start, end) if start >= 0 else None
        yield Finding(name, span, severity, message, code, hint, where, snippet)


@functools.lru_cache(maxsize=4096)
def _check_text(
    text: str, defined: frozenset[str] | None, multi: frozenset[str], fragment: bool
) -> tuple[_QueryFinding, ...]:
    """The findings of one query text, computed once per process: dashboards repeat
    queries (copies of a tile, versions of a dashboard)."""
    from dqlbuild.analysis.checks import check
    from dqlbuild.cli.common import cli_text
    from dqlbuild.errors import DQLError, DQLSyntaxError
    from dqlbuild.syntax.parser import parse, parse_pipeline

    try:
        tree = parse_pipeline(text) if fragment else parse(text)
    except DQLError as exc:
        offset = exc.offset if isinstance(exc, DQLSyntaxError) else 0
        hint = exc.hint
        if not fragment and text.lstrip().startswith("|"):
            hint = "the text is a pipeline fragment: add --fragment"
        # Inside JSON the line shown is the query's own, not the escaped file line.
        snippet = exc.snippet() if isinstance(exc, DQLSyntaxError) else None
        message = cli_text(exc.message)
        return ((offset, offset, "error", message, SYNTAX_CODE, hint and cli_text(hint), snippet),)
    return tuple(
        (
            found.span.start if found.span else -1,
            found.span.end if found.span else -1,
            found.severity,
            found.message,
            found.code,
            found.hint,
            None,
        )
        for found in check(tree, defined_variables=defined, multi_select=multi, fragment=fragment)
    )


def text_locator(text: str) -> Callable[[int, int], FileSpan]:
    """Spans of a query that is the whole file (``text`` without its BOM)."""
    starts: list[int] = []

    def position(offset: int) -> tuple[int, int]:
        if not starts:  # built on the first finding: most files have none
            starts.append(0)
            starts.extend(m.end() for m in re.finditer("\n", text))
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    def locate(start: int, end: int) -> FileSpan:
        return (start, end, *position(start), *position(end))

    return locate


def dql_file_findings(source: Input, **options: Any) -> Iterator[Finding]:
    yield from query_findings(source.name, source.text, text_locator(source.text), **options)


class Reporter:
    """Prints findings as they come (text) or all at the end (JSON); knows the exit code."""

    def __init__(self, output_format: str, total: int) -> None:
        self.json = output_format == "json"
        self.records: list[dict[str, Any]] = []
        self.failed = False
        self.progress = Progress(total)

    def add(self, findings: Iterable[Finding]) -> None:
        for found in findings:
            self.failed = self.failed or found.severity == "error"
            if self.json:
                self.records.append(found.record())
            else:
                self.progress.clear()
                emit(found.text(), sys.stdout)

    def finish(self) -> int:
        self.progress.clear()
        if self.json:
            sys.stdout.write(json.dumps(self.records, indent=2) + "\n")
        return EXIT_FAILURE if self.failed else EXIT_OK


@collector_paused
def check_files(
    reporter: Reporter,
    names: Iterable[str],
    findings: Callable[..., Iterable[Finding]],
    **options: Any,
) -> None:
    """Report ``findings(name, **options)`` of each file, with the cyclic collector
    paused for the whole batch: the documents, trees and results hold no cycles, and its
    scans of them (and of the catalog, loaded meanwhile) took a tenth of the time, for a
    few hundred objects found over a corpus of dashboards."""
    for name in names:
        reporter.progress.step(name)
        reporter.add(findings(name, **options))
    if gc.get_freeze_count():
        # A command-line process (see dqlbuild.cli.main): what the batch loaded (the
        # catalog, caches) lives as long as it does, and the collector, resumed, would
        # scan it all once more before the process ends.
        gc.freeze()


def _check(args: argparse.Namespace) -> int:
    names = expand_inputs(args.files, (".dql",), args._parser)
    defined = (
        frozenset(variable_key(v, "--var") for v in args.var) if args.var is not None else None
    )
    reporter = Reporter(args.format, len(names))
    check_files(reporter, names, _file_findings, defined=defined, fragment=args.fragment)
    return reporter.finish()


def _file_findings(
    name: str, *, defined: frozenset[str] | None, fragment: bool
) -> Iterator[Finding]:
    try:
        source = read_input(name)
    except CliError as exc:
        yield file_failure(exc.filename, exc.error)
        return
    yield from dql_file_findings(source, defined=defined, fragment=fragment)
