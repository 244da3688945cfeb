"""``dqlbuild run``: run a query, or every tile of a dashboard or notebook, on local data.

Results go to stdout; notes (what the engine ignored or assumed), progress lines for
large inputs and errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from dqlbuild.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    STDIN,
    CliError,
    UsageError,
    add_value_options,
    cli_text,
    emit,
    format_error,
    key_value_pairs,
    option_pairs,
    parse_now,
    read_input,
    refuse_terminal_stdin,
    set_values,
)
from dqlbuild.errors import DQLError, DQLUnsupportedError

if TYPE_CHECKING:
    from datetime import datetime

    from dqlbuild.engine import Dataset, Result

_EXAMPLE = "examples/ai-observability.dashboard.json"
_SPANS = "spans=examples/ai-spans.jsonl"
FORMATS = ("table", "json", "jsonl", "csv")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "run",
        help="run a query (or every tile of a dashboard) on local data",
        description="Run a DQL query on local data: DQL compiled to SQL and executed by "
        "DuckDB (needs pip install 'dqlbuild[run]'). --data gives each data object the "
        "query reads as a JSON Lines, JSON, CSV or Parquet file. FILE may also be a "
        "dashboard or notebook (on standard input too): every DQL tile runs, its variables "
        "rendered from --set and the document's defaults, and a tile's error points into "
        "the JSON file as check-documents reports it. --compare runs once per value and stacks the "
        "results with the value as first column. Notes go to stderr, and so does a "
        "progress line for inputs over 50 MB.",
        epilog="examples:\n"
        f"  dqlbuild run query.dql --data {_SPANS}\n"
        f"  echo 'fetch spans | summarize count(), by: {{model.version}}' | dqlbuild run - "
        f"--data {_SPANS}\n"
        f"  dqlbuild run query.dql --data {_SPANS} --format json --limit 10\n"
        f"  dqlbuild run query.dql --sql --dialect spark\n"
        f"  dqlbuild run dash.json --data {_SPANS} --compare ModelVersion=v1 "
        "--compare ModelVersion=v2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "file", metavar="FILE", help="a .dql file, a dashboard/notebook JSON file, or '-' (stdin)"
    )
    p.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="the records of data object NAME (spans, logs, ...); repeatable",
    )
    p.add_argument(
        "--type",
        action="append",
        default=[],
        metavar="[NAME:]FIELD=TYPE",
        help="declare a field's type (long, double, string, boolean, timestamp, duration); "
        "NAME may be left out when there is one --data",
    )
    add_value_options(p)
    p.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="run once per --compare value and stack the results; repeatable",
    )
    p.add_argument(
        "--tile",
        action="append",
        default=[],
        metavar="ID",
        help="with a dashboard or notebook: run only this tile/section; repeatable",
    )
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (table)")
    p.add_argument("--limit", type=int, metavar="N", help="output at most N records per result")
    p.add_argument("--wide", action="store_true", help="do not shorten long table cells")
    p.add_argument("--sql", action="store_true", help="print the compiled SQL instead")
    p.add_argument(
        "--dialect", default="duckdb", help="SQL dialect for --sql (duckdb, spark, trino, ...)"
    )
    p.set_defaults(func=_run)


def _data(items: Sequence[str]) -> dict[str, str]:
    data: dict[str, str] = {}
    for name, path in option_pairs(list(items), "--data", "NAME=PATH"):
        if name in data:
            raise UsageError(f"--data {name} is given twice")
        data[name] = path
    return data


def _types(items: Sequence[str], data: dict[str, str]) -> dict[str, dict[str, str]]:
    types: dict[str, dict[str, str]] = {}
    for target, kind in option_pairs(list(items), "--type", "[NAME:]FIELD=TYPE"):
        name, sep, field = target.partition(":")
        if not sep:
            if len(data) != 1:
                raise UsageError(
                    "--type needs NAME:FIELD=TYPE when there is not exactly one --data"
                )
            name, field = next(iter(data)), target
        if name not in data:
            raise UsageError(f"--type {target}: there is no --data {name}")
        types.setdefault(name, {})[field] = kind
    return types


def _is_document(name: str, text: str) -> bool:
    # No query begins with `{`: standard input holding one is a document too.
    return name.endswith(".json") or text.lstrip().startswith("{")


def _run(args: argparse.Namespace) -> int:
    from dqlbuild.engine import Dataset  # the engine loads when a query runs

    if args.limit is not None and args.limit < 0:
        raise UsageError("--limit is 0 or more")
    data = _data(args.data)
    types = _types(args.type, data)
    values = set_values(args.set)
    now = parse_now(args.now)
    compare = key_value_pairs(args.compare, "--compare")
    if compare and args.sql:
        raise UsageError("--compare and --sql do not go together")
    if args.file == STDIN:
        refuse_terminal_stdin(args._parser)
    source = read_input(args.file)
    document = _is_document(args.file, source.text)
    if not data and not args.sql:
        raise UsageError("give the data the query reads: --data NAME=PATH (or --sql)")
    if document and args.format in ("csv", "jsonl"):
        raise UsageError(f"--format {args.format} takes one query, not a dashboard")
    if args.tile and not document:
        raise UsageError("--tile selects tiles of a dashboard or notebook")

    try:
        dataset = Dataset(data, types=types, progress=emit) if data else None
    except DQLError as exc:
        raise CliError("dqlbuild run", exc) from None
    try:
        runner = _Runner(args, dataset, now, compare)
        if document:
            return runner.document(source.name, source.text, values)
        return runner.query(source.name, source.text, values)
    finally:
        if dataset is not None:
            dataset.close()


class _Runner:
    def __init__(
        self,
        args: argparse.Namespace,
        dataset: Dataset | None,
        now: datetime | None,
        compare: list[tuple[str, str]],
    ) -> None:
        self.args = args
        self.dataset = dataset
        self.now = now
        self.compare = compare

    def query(self, name: str, text: str, values: dict[str, str | list[str]]) -> int:
        try:
            if self.args.sql:
                sys.stdout.write(self._sql(text, values) + "\n")
                return EXIT_OK
            result = self._result(text, values)
        except DQLError as exc:
            raise CliError(name, exc) from None
        self._notes(name, result.notes)
        sys.stdout.write(self._format(result))
        return EXIT_OK

    def document(self, name: str, text: str, values: dict[str, str | list[str]]) -> int:
        from dqlbuild.documents.loading import DocumentKind, load_document
        from dqlbuild.documents.workflow import document_values

        try:
            doc = load_document(text)
        except DQLError as exc:
            raise CliError(name, exc) from None
        noun = "tile" if doc.kind is DocumentKind.DASHBOARD else "section"
        merged = document_values(doc, values)[0]
        locations = [loc for loc in doc.queries if not self.args.tile or loc.id in self.args.tile]
        missing = set(self.args.tile) - {loc.id for loc in doc.queries}
        if missing:
            known = ", ".join(loc.id for loc in doc.queries)
            raise UsageError(f"{name} has no DQL {noun} {', '.join(sorted(missing))} ({known})")
        status = EXIT_OK
        collected: list[dict[str, Any]] = []
        for loc in locations:
            title = f": {loc.title}" if loc.title else ""
            header = f"// {noun} {loc.id}{title}"
            try:
                if self.args.sql:
                    output = self._sql(loc.query, merged) + "\n"
                else:
                    result = self._result(loc.query, merged)
                    self._notes(f"{name}: {noun} {loc.id}", result.notes)
                    if self.args.format == "json":
                        collected.append(
                            {
                                "id": loc.id,
                                "title": loc.title,
                                **json.loads(self._limited(result).to_json()),
                            }
                        )
                        continue
                    output = self._format(result)
            except DQLUnsupportedError as exc:
                emit(f"{name}: {noun} {loc.id}: not run: {exc}")
                if self.args.format == "json":
                    collected.append({"id": loc.id, "title": loc.title, "notRun": str(exc)})
                    continue
                output = f"not run: {exc}\n"
            except DQLError as exc:
                emit(_tile_error(name, text, loc.query, loc.path, f"{noun} {loc.id}", exc))
                status = EXIT_FAILURE
                continue
            sys.stdout.write(f"{header}\n{output}\n")
        if self.args.format == "json" and not self.args.sql:
            sys.stdout.write(
                json.dumps({"results": collected}, indent=2, ensure_ascii=False) + "\n"
            )
        return status

    # -- helpers ----------------------------------------------------------------------
    def _sql(self, text: str, values: dict[str, str | list[str]]) -> str:
        from dqlbuild.engine import to_sql

        if self.dataset is not None:
            from dqlbuild.engine.api import prepare_query

            query = prepare_query(text, values)
            return self.dataset.to_sql(query, dialect=self.args.dialect)
        return to_sql(text, dialect=self.args.dialect, variables=values, now=self.now)

    def _result(self, text: str, values: dict[str, str | list[str]]) -> Result:
        assert self.dataset is not None
        if not self.compare:
            return self.dataset.run(text, variables=values or None, now=self.now)
        results = []
        for key, value in self.compare:
            merged = {**values, key: value}
            results.append(self.dataset.run(text, variables=merged, now=self.now))
        return _stacked(self.compare, results)

    def _limited(self, result: Result) -> Result:
        if self.args.limit is None:
            return result
        return replace(result, raw=result.raw[: self.args.limit])

    def _format(self, result: Result) -> str:
        fmt = self.args.format
        if fmt == "table":
            cell = None if self.args.wide else 60
            return result.table(max_cell=cell, limit=self.args.limit) + "\n"
        limited = self._limited(result)
        if fmt == "json":
            return limited.to_json() + "\n"
        if fmt == "jsonl":
            return limited.to_jsonl()
        return limited.to_csv()

    def _notes(self, where: str, notes: Sequence[str]) -> None:
        for note in notes:
            emit(f"{where}: note: {note}")


def _stacked(compare: list[tuple[str, str]], results: list[Result]) -> Result:
    """One result: every compared run's records, led by the compared value."""
    from dqlbuild.engine import Result
    from dqlbuild.engine.types import STRING

    keys = {key for key, _ in compare}
    label = next(iter(keys)) if len(keys) == 1 else "compared"
    first = results[0]
    if label in first.columns:
        label = f"{label} (compared)"
    raw: list[tuple[Any, ...]] = []
    for (key, value), result in zip(compare, results, strict=True):
        shown = value if len(keys) == 1 else f"{key}={value}"
        raw.extend((shown, *row) for row in result.raw)
    notes = tuple(dict.fromkeys(n for r in results for n in r.notes))
    return Result(
        (label, *first.columns), (STRING, *first.column_types), tuple(raw), first.sql, notes
    )


def _tile_error(
    name: str, text: str, query: str, path: tuple[str, ...], label: str, exc: DQLError
) -> str:
    """``exc`` of the query at ``path`` in the document ``text``, placed in the file as
    ``check-documents`` places it (the snippet stays the query's own line)."""
    from dqlbuild.cli.check_documents import line_offset, query_locator
    from dqlbuild.errors import DQLSyntaxError

    lines = format_error(name, f"{label}: {exc.message}").splitlines()
    if exc.line is not None:
        if isinstance(exc, DQLSyntaxError):
            offset = exc.offset
        else:
            offset = line_offset(query, exc.line, exc.column or 1)
        _, _, line, column, _, _ = query_locator(text, path)(offset, offset)
        lines[0] = lines[0].replace(f"{name}: ", f"{name}:{line}:{column}: ", 1)
    if exc.hint:
        lines.append(f"  hint: {cli_text(exc.hint)}")
    if isinstance(exc, DQLSyntaxError):
        lines.extend("  " + line for line in exc.snippet().splitlines())
    return "\n".join(lines)


__all__ = ["register"]
