"""The language server: the features of this package served over LSP with pygls.

The server keeps its own copy of each open file (LSP line rules, negotiated position
encoding). Diagnostics are computed in a worker process once the text has been quiet for
``debounce`` seconds, at most one run per file at a time, and published only if the file
has not changed since; requests that need more than a moment run in a thread. So the
event loop always answers quickly, whatever the size of the file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from dqlbuild import __version__
from dqlbuild.documents.jsontext import encode_string_body
from dqlbuild.lsp.catalog_info import command_markdown, function_markdown
from dqlbuild.lsp.completion import complete
from dqlbuild.lsp.diagnose import Finding, diagnose
from dqlbuild.lsp.formatting import FormatOptions, format_edits
from dqlbuild.lsp.hover import hover
from dqlbuild.lsp.outline import document_symbols, folding_ranges
from dqlbuild.lsp.text import Encoding, LineIndex
from dqlbuild.lsp.units import FileModel, QueryUnit, after_edit, build_model, file_kind
from dqlbuild.lsp.worker import Abandoned, Runner

log = logging.getLogger(__name__)

DEBOUNCE = 0.3
# A check of one .dql file running longer than this when the file changes is abandoned
# (its result would be stale) rather than waited for: restarting the worker costs less.
RESTART_AFTER = 5.0
TRIGGER_CHARACTERS = ["|", "$", ".", "(", ",", "{", ":", "["]
_SEVERITIES = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}
_ENCODINGS: dict[str, Encoding] = {"utf-8": "utf-8", "utf-16": "utf-16", "utf-32": "utf-32"}


@dataclass(eq=False)
class OpenFile:
    uri: str
    json: bool
    text: str
    version: int
    changed_at: float = 0.0
    dirty: bool = False
    running_since: float | None = None
    task: asyncio.Task[None] | None = None
    _index: LineIndex | None = field(default=None, repr=False)
    _model: tuple[str, FileModel] | None = field(default=None, repr=False)

    def set_text(self, text: str) -> None:
        self.text = text
        self._index = None

    def index(self, encoding: Encoding) -> LineIndex:
        if self._index is None or self._index.text is not self.text:
            self._index = LineIndex(self.text, encoding)
        return self._index


class DQLLanguageServer(LanguageServer):
    def __init__(self, *, debounce: float = DEBOUNCE, processes: bool = True) -> None:
        super().__init__(
            "dqlbuild", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental
        )
        self.files: dict[str, OpenFile] = {}
        self.debounce = debounce
        self.runner = Runner(processes=processes)
        self.format_options = FormatOptions()
        self.snippets = False
        features: list[tuple[str, Any, Any]] = [
            (types.INITIALIZE, self.initialize, None),
            (types.TEXT_DOCUMENT_DID_OPEN, self.did_open, None),
            (types.TEXT_DOCUMENT_DID_CHANGE, self.did_change, None),
            (types.TEXT_DOCUMENT_DID_CLOSE, self.did_close, None),
            (
                types.TEXT_DOCUMENT_COMPLETION,
                self.completion,
                types.CompletionOptions(
                    trigger_characters=TRIGGER_CHARACTERS, resolve_provider=True
                ),
            ),
            (types.COMPLETION_ITEM_RESOLVE, self.resolve, None),
            (types.TEXT_DOCUMENT_HOVER, self.hover, None),
            (types.TEXT_DOCUMENT_DOCUMENT_SYMBOL, self.symbols, None),
            (types.TEXT_DOCUMENT_FOLDING_RANGE, self.folding, None),
            (types.TEXT_DOCUMENT_FORMATTING, self.formatting, None),
            (types.TEXT_DOCUMENT_RANGE_FORMATTING, self.range_formatting, None),
        ]
        for name, method, options in features:
            self.feature(name, options)(_handler(method))

    @property
    def encoding(self) -> Encoding:
        kind = self.workspace.position_encoding
        name = kind.value if isinstance(kind, types.PositionEncodingKind) else str(kind)
        return _ENCODINGS.get(name, "utf-16")

    # ------------------------------------------------------------------ life cycle
    def initialize(self, params: types.InitializeParams) -> None:
        completion = (
            params.capabilities.text_document and params.capabilities.text_document.completion
        )
        item = completion.completion_item if completion else None
        self.snippets = bool(item and item.snippet_support)
        self._configure(params.initialization_options)
        self.runner.start()

    def _configure(self, options: object) -> None:
        """``initializationOptions``: ``width`` and ``indent`` of the formatter (as
        ``dqlbuild fmt --width/--indent``), ``debounce`` in milliseconds."""
        if not isinstance(options, dict):
            return
        width, indent = options.get("width", 100), options.get("indent", 2)
        if isinstance(width, int) and isinstance(indent, int) and width >= 20 and indent >= 1:
            self.format_options = FormatOptions(width, indent)
        else:
            self._warn("width must be an integer of at least 20 and indent of at least 1")
        debounce = options.get("debounce", self.debounce * 1000)
        if isinstance(debounce, int | float) and 0 <= debounce <= 10_000:
            self.debounce = debounce / 1000
        else:
            self._warn("debounce must be a number of milliseconds from 0 to 10000")

    def _warn(self, message: str) -> None:
        self.window_log_message(
            types.LogMessageParams(type=types.MessageType.Warning, message=f"dqlbuild: {message}")
        )

    def shutdown(self) -> None:
        self.runner.close()
        super().shutdown()  # type: ignore[no-untyped-call]

    # ------------------------------------------------------------------ text sync
    def did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        kind = file_kind(doc.uri, doc.language_id)
        if kind is None:
            return  # not DQL, nor JSON that could hold it
        self.files[doc.uri] = file = OpenFile(doc.uri, kind == "json", doc.text, doc.version)
        self._schedule(file, at_once=True)

    def did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        file = self.files.get(params.text_document.uri)
        if file is None:
            return
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                index = file.index(self.encoding)
                start = index.offset(change.range.start.line, change.range.start.character)
                end = index.offset(change.range.end.line, change.range.end.character)
                file.set_text(file.text[:start] + change.text + file.text[end:])
            else:
                file.set_text(change.text)
        file.version = params.text_document.version
        self._schedule(file)

    def did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        file = self.files.pop(params.text_document.uri, None)
        if file is None:
            return
        if file.task is not None:
            file.task.cancel()
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )

    # ------------------------------------------------------------------ diagnostics
    def _schedule(self, file: OpenFile, *, at_once: bool = False) -> None:
        loop = asyncio.get_running_loop()
        file.dirty = True
        file.changed_at = loop.time() - (self.debounce if at_once else 0)
        busy = [f for f in self.files.values() if f.running_since is not None]
        if (
            busy == [file]
            and not file.json  # a dashboard's queries are cached in the worker: keep it
            and file.changed_at - (file.running_since or 0) > RESTART_AFTER
        ):
            self.runner.restart()
        if file.task is None or file.task.done():
            file.task = loop.create_task(self._diagnose(file))

    async def _diagnose(self, file: OpenFile) -> None:
        loop = asyncio.get_running_loop()
        while file.dirty and self.files.get(file.uri) is file:
            # Wait until the text has been quiet for `debounce` seconds.
            while (wait := file.changed_at + self.debounce - loop.time()) > 0:
                await asyncio.sleep(wait)
            file.dirty = False
            text, version = file.text, file.version
            file.running_since = loop.time()
            try:
                findings = await self.runner.run(diagnose, text, json=file.json)
            except Abandoned:
                if self.runner.closed:
                    return
                file.dirty = True  # dropped for newer work: check again
                continue
            except Exception as exc:  # never let one file stop the server
                log.exception("diagnostics of %s failed", file.uri)
                self._warn(f"could not check {file.uri}: {exc!r}")
                continue
            finally:
                file.running_since = None
            if self.files.get(file.uri) is file and file.version == version:
                self._publish(file, findings)

    def _publish(self, file: OpenFile, findings: list[Finding]) -> None:
        index = file.index(self.encoding)
        diagnostics = [
            types.Diagnostic(
                range=_range(index, f.start, f.end),
                severity=_SEVERITIES.get(f.severity, types.DiagnosticSeverity.Error),
                code=f.code,
                source="dqlbuild",
                message=f"{f.message}\nhint: {f.hint}" if f.hint else f.message,
            )
            for f in findings
        ]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=file.uri, diagnostics=diagnostics, version=file.version
            )
        )

    # ------------------------------------------------------------------ requests
    async def _snapshot(
        self, uri: str, *, full: bool = False
    ) -> tuple[OpenFile, str, LineIndex, FileModel] | None:
        """The file as it is now, its line index and its queries (``full``: with the
        document, which formatting needs)."""
        file = self.files.get(uri)
        if file is None:
            return None
        text, index = file.text, file.index(self.encoding)
        cached = file._model
        model = None
        if cached is not None and cached[0] is text:
            model = cached[1]
        elif cached is not None and file.json:
            # Typing inside a query moves the other queries but changes nothing else:
            # no need to read a large dashboard again.
            model = after_edit(cached[1], cached[0], text)
        if model is None or (full and file.json and model.document is None):
            if file.json:
                model = await asyncio.to_thread(build_model, text, json=True)
            else:
                model = build_model(text, json=False)
        file._model = (text, model)
        return file, text, index, model

    async def _at(
        self, uri: str, position: types.Position
    ) -> tuple[LineIndex, FileModel, QueryUnit, int] | None:
        """The query under ``position`` and the cursor's offset in it."""
        snapshot = await self._snapshot(uri)
        if snapshot is None:
            return None
        _file, _text, index, model = snapshot
        offset = index.offset(position.line, position.character)
        unit = model.unit_at(offset)
        if unit is None:
            return None
        return index, model, unit, unit.map.to_query(offset)

    async def completion(self, params: types.CompletionParams) -> types.CompletionList | None:
        found = await self._at(params.text_document.uri, params.position)
        if found is None:
            return None
        index, model, unit, offset = found
        result = await asyncio.to_thread(
            complete, unit.text, offset, variables=model.variables, snippets=self.snippets
        )
        if result is None:
            return None
        replace = _range(index, unit.map.to_file(result.start), unit.map.to_file(offset))
        for item in result.items:
            new_text = _escaped(unit, item.insert_text or item.label)
            item.text_edit = types.TextEdit(range=replace, new_text=new_text)
            item.insert_text = None
        return types.CompletionList(is_incomplete=False, items=result.items)

    def resolve(self, item: types.CompletionItem) -> types.CompletionItem:
        data = item.data if isinstance(item.data, dict) else {}
        markdown = None
        if "command" in data:
            markdown = command_markdown(str(data["command"]))
        elif "function" in data:
            markdown = function_markdown(str(data["function"]))
        if markdown:
            item.documentation = types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown)
        return item

    async def hover(self, params: types.HoverParams) -> types.Hover | None:
        found = await self._at(params.text_document.uri, params.position)
        if found is None:
            return None
        index, model, unit, offset = found
        result = await asyncio.to_thread(hover, unit.text, offset, variables=model.variables)
        if result is None:
            return None
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=result.markdown),
            range=_range(index, unit.map.to_file(result.start), unit.map.to_file(result.end)),
        )

    async def symbols(
        self, params: types.DocumentSymbolParams
    ) -> list[types.DocumentSymbol] | None:
        snapshot = await self._snapshot(params.text_document.uri)
        if snapshot is None:
            return None
        _file, _text, index, model = snapshot

        def to_range(start: int, end: int) -> types.Range:
            return _range(index, start, end)

        return await asyncio.to_thread(document_symbols, model, to_range)

    async def folding(self, params: types.FoldingRangeParams) -> list[types.FoldingRange] | None:
        snapshot = await self._snapshot(params.text_document.uri)
        if snapshot is None:
            return None
        _file, text, index, model = snapshot
        if model.kind != "dql":
            return []  # a query in JSON is a one-line string: nothing to fold
        return await asyncio.to_thread(folding_ranges, text, index)

    async def formatting(
        self, params: types.DocumentFormattingParams
    ) -> list[types.TextEdit] | None:
        return await self._format(params.text_document.uri, None)

    async def range_formatting(
        self, params: types.DocumentRangeFormattingParams
    ) -> list[types.TextEdit] | None:
        snapshot = await self._snapshot(params.text_document.uri)
        if snapshot is None:
            return None
        index = snapshot[2]
        start, end = params.range.start, params.range.end
        selection = (
            index.offset(start.line, start.character),
            index.offset(end.line, end.character),
        )
        return await self._format(params.text_document.uri, selection)

    async def _format(
        self, uri: str, selection: tuple[int, int] | None
    ) -> list[types.TextEdit] | None:
        snapshot = await self._snapshot(uri, full=True)
        if snapshot is None:
            return None
        _file, text, index, model = snapshot
        edits = await asyncio.to_thread(format_edits, model, text, self.format_options, selection)
        return [types.TextEdit(range=_range(index, a, b), new_text=new) for a, b, new in edits]


def _handler(method: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A plain function calling ``method`` (pygls marks handlers with attributes, which
    bound methods cannot take)."""
    if asyncio.iscoroutinefunction(method):

        async def run_async(params: Any) -> Any:
            return await method(params)

        return run_async

    def run(params: Any) -> Any:
        return method(params)

    return run


def _range(index: LineIndex, start: int, end: int) -> types.Range:
    (l1, c1), (l2, c2) = index.position(start), index.position(end)
    return types.Range(
        start=types.Position(line=l1, character=c1), end=types.Position(line=l2, character=c2)
    )


def _escaped(unit: QueryUnit, text: str) -> str:
    """``text`` as it must be written where ``unit``'s query is: escaped once per JSON
    string around it."""
    for _string in unit.map.strings:
        text = encode_string_body(text)
    return text


def serve(*, debounce: float = DEBOUNCE) -> None:
    """Serve LSP on stdin/stdout until the client says ``exit`` or goes away."""
    DQLLanguageServer(debounce=debounce).start_io()
