"""End to end: an LSP client drives ``dqlbuild lsp`` over stdio."""

from __future__ import annotations

import json

import pytest
from lsprotocol import types

from dqlbuild import format, load_document
from dqlbuild.catalog import get_catalog
from dqlbuild.lsp.text import LineIndex
from tests.lsp.conftest import Client, diagnostics_of, doc, open_file, pos

pytestmark = pytest.mark.asyncio(loop_scope="module")

FORMATTING = types.FormattingOptions(tab_size=4, insert_spaces=True)


def _range_of(text: str, word: str, encoding: str = "utf-16") -> types.Range:
    index = LineIndex(text, encoding)  # type: ignore[arg-type]
    start = text.index(word)
    (l1, c1), (l2, c2) = index.position(start), index.position(start + len(word))
    return types.Range(start=pos(l1, c1), end=pos(l2, c2))


def _apply(text: str, edits: list[types.TextEdit], encoding: str = "utf-16") -> str:
    index = LineIndex(text, encoding)  # type: ignore[arg-type]
    spans = []
    for edit in edits:
        start = index.offset(edit.range.start.line, edit.range.start.character)
        end = index.offset(edit.range.end.line, edit.range.end.character)
        spans.append((start, end, edit.new_text))
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _dashboard(tiles: dict[str, str], variables: list[str], **dump: object) -> str:
    content = {
        "version": 15,
        "variables": [
            {"version": 2, "key": key, "type": "csv", "input": "a,b", "multiple": False}
            for key in variables
        ],
        "tiles": {
            str(i): {"type": "data", "title": title, "query": query}
            for i, (title, query) in enumerate(tiles.items())
        },
        "layouts": {},
    }
    return json.dumps(content, indent=2, **dump)  # type: ignore[arg-type]


# ------------------------------------------------------------------ diagnostics
async def test_syntax_errors_and_checks_with_codes_severities_and_ranges(client: Client) -> None:
    uri = "file:///w/checks.dql"
    text = "fetch logs\n| filtr a == 1\n| fields x = takeFirst(a), y = first(b)"
    open_file(client, uri, text)
    found = await diagnostics_of(client, uri, 1)
    by_code = {d.code: d for d in found}
    assert by_code["DQL101"].severity == types.DiagnosticSeverity.Error
    assert by_code["DQL101"].range == _range_of(text, "filtr a == 1")
    assert "did you mean `filter`?" in by_code["DQL101"].message
    assert by_code["DQL101"].source == "dqlbuild"

    uri = "file:///w/syntax.dql"
    text = "fetch logs\n| filter a == 'x'"
    open_file(client, uri, text)
    (syntax,) = await diagnostics_of(client, uri, 1)
    assert syntax.code == "DQL001"
    assert syntax.range.start == pos(1, text.split("\n")[1].index("'"))
    assert "single-quoted strings are not DQL" in syntax.message
    assert "hint: use double quotes" in syntax.message


async def test_severities_follow_the_check_codes(client: Client) -> None:
    uri = "file:///w/severities.dql"
    text = 'fetch logs\n| filter contains(content, "x", false)\n| summarize n = first(x)'
    open_file(client, uri, text)
    found = {d.code: d.severity for d in await diagnostics_of(client, uri, 1)}
    assert found["DQL118"] == types.DiagnosticSeverity.Warning
    assert found["DQL121"] == types.DiagnosticSeverity.Information


async def test_positions_count_utf16_units(client: Client) -> None:
    uri = "file:///w/unicode.dql"
    text = 'fetch logs | filter content == "😀é" and lenght(content) == "x"'
    open_file(client, uri, text)
    (unknown,) = await diagnostics_of(client, uri, 1)
    assert unknown.code == "DQL102"
    column = len(text[: text.index("lenght")].encode("utf-16-le")) // 2
    assert unknown.range.start == pos(0, column)
    assert column == text.index("lenght") + 1  # the emoji is two units


async def test_utf8_positions_when_the_client_asks_for_them(neovim: Client) -> None:
    uri = "file:///w/unicode8.dql"
    text = 'fetch logs | filter content == "😀é" and lenght(content) == "x"'
    open_file(neovim, uri, text)
    (unknown,) = await diagnostics_of(neovim, uri, 1)
    column = len(text[: text.index("lenght")].encode("utf-8"))
    assert unknown.range.start == pos(0, column)
    # Incremental edits are read in the same units.
    neovim.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=_range_of(text, "lenght", "utf-8"), text="lower"
                )
            ],
        )
    )
    assert await diagnostics_of(neovim, uri, 2) == []


async def test_incremental_changes_with_crlf_and_astral_characters(client: Client) -> None:
    uri = "file:///w/edit.dql"
    text = 'fetch logs\r\n| filter x == "😀😀"\r\n| limit 1'
    open_file(client, uri, text)
    assert await diagnostics_of(client, uri, 1) == []
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(range=_range_of(text, "limit"), text="limt")
            ],
        )
    )
    edited = text.replace("limit", "limt")
    (found,) = await diagnostics_of(client, uri, 2)
    assert found.code == "DQL101" and found.range == _range_of(edited, "limt 1")


async def test_a_burst_of_changes_is_checked_once(client: Client) -> None:
    uri = "file:///w/burst.dql"
    open_file(client, uri, "fetch logs")
    await diagnostics_of(client, uri, 1)
    text = "fetch logs"
    for version, ch in enumerate(" | limt 1", start=2):
        end = pos(0, len(text))
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=end, end=end), text=ch
                    )
                ],
            )
        )
        text += ch
    last = len(" | limt 1") + 1
    (found,) = await diagnostics_of(client, uri, last)
    assert found.code == "DQL101"
    versions = [p.version for p in client.published if p.uri == uri]
    assert versions == [1, last]  # none for the versions typed in between


async def test_closing_a_file_clears_its_diagnostics(client: Client) -> None:
    uri = "file:///w/closing.dql"
    open_file(client, uri, "fetch logs | limt 1")
    assert len(await diagnostics_of(client, uri, 1)) == 1
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=doc(uri)))
    assert await diagnostics_of(client, uri, None) == []  # type: ignore[arg-type]


# ------------------------------------------------------------------ dashboards
QUERY_WITH_ESCAPES = 'fetch logs\n| filter content == "say \\"é\\" 😀"\n| filter svc == $Servce'


async def test_dashboard_diagnostics_point_into_the_json(client: Client) -> None:
    uri = "file:///w/dash.json"
    text = _dashboard({"Errors": QUERY_WITH_ESCAPES, "Fine": "fetch spans"}, ["Service"])
    assert "\\u00e9" in text and "\\ud83d\\ude00" in text  # ASCII-escaped, as Python writes
    open_file(client, uri, text, "json")
    (undefined,) = await diagnostics_of(client, uri, 1)
    assert undefined.code == "DQL301"
    assert undefined.range == _range_of(text, "$Servce")
    assert "did you mean `$Service`?" in undefined.message
    assert '(tile "Errors")' in undefined.message


async def test_embedded_content_positions(client: Client) -> None:
    uri = "file:///w/embedded.json"
    inner = _dashboard({"Errors": QUERY_WITH_ESCAPES}, ["Service"], ensure_ascii=False)
    text = json.dumps({"name": "D", "type": "dashboard", "content": inner})
    open_file(client, uri, text, "json")
    (undefined,) = await diagnostics_of(client, uri, 1)
    assert undefined.range == _range_of(text, "$Servce")


async def test_notebook_sections(client: Client) -> None:
    uri = "file:///w/notebook.json"
    content = {
        "version": "7",
        "sections": [
            {"id": "a", "type": "markdown", "markdown": "# notes"},
            {
                "id": "b",
                "type": "dql",
                "title": "Q",
                "state": {"input": {"value": "fetch logs | limt 1"}},
            },
        ],
    }
    text = json.dumps(content)
    open_file(client, uri, text, "json")
    (found,) = await diagnostics_of(client, uri, 1)
    assert found.range == _range_of(text, "limt 1") and '(section "Q")' in found.message


async def test_other_files_are_left_alone_and_broken_dashboards_are_reported(
    client: Client,
) -> None:
    uri = "file:///w/package.json"
    open_file(client, uri, '{"name": "x", "version": "1.0.0"}', "json")
    assert await diagnostics_of(client, uri, 1) == []
    # Plain text that an editor sends along with `.dql` files (VS Code's language for
    # unknown extensions) is not DQL.
    notes = "file:///w/notes.txt"
    open_file(client, notes, "fetch this | and that", "plaintext")
    hovered = await client.text_document_hover_async(
        types.HoverParams(text_document=doc(notes), position=pos(0, 1))
    )
    assert hovered is None
    assert not [p for p in client.published if p.uri == notes]
    uri = "file:///w/broken.json"
    text = '{"tiles": {"1": {"type": "data", "query": "fetch logs"}'
    open_file(client, uri, text, "json")
    (broken,) = await diagnostics_of(client, uri, 1)
    assert "not valid JSON" in broken.message and broken.range.start.line == 0


# ------------------------------------------------------------------ formatting
async def test_formatting_a_dql_file_and_a_range(client: Client) -> None:
    uri = "file:///w/fmt.dql"
    text = "fetch logs|filter a==1\n|limit   5\n| fields a,b"
    open_file(client, uri, text)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=doc(uri), options=FORMATTING)
    )
    assert edits is not None and _apply(text, edits) == format(text) + "\n"
    edits = await client.text_document_range_formatting_async(
        types.DocumentRangeFormattingParams(
            text_document=doc(uri), range=_range_of(text, "limit"), options=FORMATTING
        )
    )
    assert edits is not None
    assert _apply(text, edits) == "fetch logs|filter a==1\n| limit 5\n| fields a,b"


async def test_formatting_a_dashboard_edits_only_that_string(client: Client) -> None:
    uri = "file:///w/fmt-dash.json"
    ugly = 'fetch logs|filter content=="é\\"😀"|limit 1'
    text = _dashboard({"Ugly": ugly, "Fine": "fetch spans\n| limit 2"}, [])
    open_file(client, uri, text, "json")
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=doc(uri), options=FORMATTING)
    )
    assert edits is not None and len(edits) == 1
    string = json.dumps(ugly)
    at = text.index(string)
    index = LineIndex(text)
    start = index.offset(edits[0].range.start.line, edits[0].range.start.character)
    end = index.offset(edits[0].range.end.line, edits[0].range.end.character)
    assert at < start <= end < at + len(string)
    formatted = _apply(text, edits)
    assert [q.query for q in load_document(formatted).queries] == [
        format(ugly),
        "fetch spans\n| limit 2",
    ]
    assert formatted.isascii()  # escaped as the file escapes


# ------------------------------------------------------------------ completion and hover
async def _complete(client: Client, uri: str, text: str, at: int) -> types.CompletionList:
    """Completion at offset ``at`` of ``text``, the file's current text."""
    line, character = LineIndex(text).position(at)
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc(uri), position=pos(line, character))
    )
    assert isinstance(result, types.CompletionList)
    return result


async def test_completion_in_a_dql_file(client: Client) -> None:
    uri = "file:///w/complete.dql"
    marked = "fetch logs\n| fieldsAdd sev = upper(loglevel)\n| filter s‸"
    open_file(client, uri, marked.replace("‸", ""))
    result = await _complete(client, uri, marked.replace("‸", ""), marked.index("‸"))
    labels = {item.label: item for item in result.items}
    assert labels["sev"].kind == types.CompletionItemKind.Field
    assert labels["loglevel"].kind == types.CompletionItemKind.Field
    edit = labels["sev"].text_edit
    assert isinstance(edit, types.TextEdit)
    assert edit.range == types.Range(start=pos(2, 9), end=pos(2, 10))
    contains = labels["contains"]
    assert contains.insert_text_format == types.InsertTextFormat.Snippet  # VS Code takes them
    resolved = await client.completion_item_resolve_async(contains)
    assert isinstance(resolved.documentation, types.MarkupContent)
    assert "contains(expression, substring" in resolved.documentation.value


async def test_completion_after_fetch_offers_the_catalog_data_objects(client: Client) -> None:
    uri = "file:///w/fetch.dql"
    text = "fetch dt.entity.h"
    open_file(client, uri, text)
    result = await _complete(client, uri, text, len(text))
    labels = [item.label for item in result.items]
    assert labels == list(get_catalog().data_object_names)
    assert {"logs", "user.sessions", "dt.entity.host"} <= set(labels)


async def test_completion_in_a_dashboard_offers_its_variables(client: Client) -> None:
    uri = "file:///w/complete.json"
    text = _dashboard({"T": "fetch logs | filter svc == $"}, ["Service", "Host"])
    open_file(client, uri, text, "json")
    at = text.index('$"') + 1
    line, character = LineIndex(text).position(at)
    result = await _complete(client, uri, text, at)
    labels = [item.label for item in result.items]
    assert labels[:2] == ["$Service", "$Host"]
    edit = result.items[0].text_edit
    assert isinstance(edit, types.TextEdit)
    assert edit.range.start == pos(line, character - 1)
    # Outside any query: nothing.
    outside = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc(uri), position=pos(0, 0))
    )
    assert outside is None


async def test_completion_text_is_json_escaped_inside_json(client: Client) -> None:
    uri = "file:///w/escape.json"
    text = _dashboard({"T": 'fetch logs | summarize count(), by: {`a"b`} | sort '}, [])
    open_file(client, uri, text, "json")
    result = await _complete(client, uri, text, text.index('| sort "') + len("| sort "))
    item = next(i for i in result.items if i.label == 'a"b')
    assert isinstance(item.text_edit, types.TextEdit)
    assert item.text_edit.new_text == '`a\\"b`'


async def test_hover_in_a_dql_file_and_in_a_dashboard(client: Client) -> None:
    uri = "file:///w/hover.dql"
    text = "fetch logs\n| summarize n = count(), by: {host}"
    open_file(client, uri, text)
    found = await client.text_document_hover_async(
        types.HoverParams(text_document=doc(uri), position=pos(1, 4))
    )
    assert found is not None and isinstance(found.contents, types.MarkupContent)
    assert "**summarize** — command" in found.contents.value
    assert found.range == _range_of(text, "summarize")

    uri = "file:///w/hover.json"
    text = _dashboard({"T": QUERY_WITH_ESCAPES.replace("Servce", "Service")}, ["Service"])
    open_file(client, uri, text, "json")
    line, character = LineIndex(text).position(text.index("$Service") + 2)
    found = await client.text_document_hover_async(
        types.HoverParams(text_document=doc(uri), position=pos(line, character))
    )
    assert found is not None and isinstance(found.contents, types.MarkupContent)
    assert "**$Service** — csv variable" in found.contents.value
    assert found.range == _range_of(text, "$Service")


# ------------------------------------------------------------------ outline and folding
async def test_symbols_one_per_stage_with_subqueries_nested(client: Client) -> None:
    uri = "file:///w/symbols.dql"
    text = (
        "fetch logs\n| lookup [\n    fetch dt.entity.host\n    | fields id, name\n  ],\n"
        "  sourceField: dt.entity.host, lookupField: id\n| limit 5"
    )
    open_file(client, uri, text)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc(uri))
    )
    assert symbols is not None
    names = [(s.name, [c.name for c in s.children or []]) for s in symbols]  # type: ignore[union-attr]
    assert names == [("fetch", []), ("lookup", ["fetch", "fields"]), ("limit", [])]
    folds = await client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=doc(uri))
    )
    assert folds is not None
    assert [(f.start_line, f.end_line) for f in folds] == [(1, 3)]


async def test_symbols_of_a_dashboard_one_per_query(client: Client) -> None:
    uri = "file:///w/symbols.json"
    text = _dashboard({"Errors": "fetch logs | limit 1", "Spans": "fetch spans"}, [])
    open_file(client, uri, text, "json")
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc(uri))
    )
    assert symbols is not None
    assert [s.name for s in symbols] == ['tile "Errors"', 'tile "Spans"']
    first = symbols[0]
    assert isinstance(first, types.DocumentSymbol) and first.children is not None
    assert [c.name for c in first.children] == ["fetch", "limit"]
    assert first.children[1].range == _range_of(text, "limit 1")


async def test_typing_in_a_dashboard_query_keeps_positions_right(client: Client) -> None:
    uri = "file:///w/typing.json"
    text = _dashboard(
        {"A": 'fetch logs | filter x == "é"', "B": "fetch logs | fieldsAdd sev = 1 | "}, ["V"]
    )
    open_file(client, uri, text, "json")
    await diagnostics_of(client, uri, 1)
    # Type `filter s` at the end of tile B's query, one character at a time.
    at = text.index('sev = 1 | "') + len("sev = 1 | ")
    for version, ch in enumerate("filter s", start=2):
        line, character = LineIndex(text).position(at)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=pos(line, character), end=pos(line, character)),
                        text=ch,
                    )
                ],
            )
        )
        text = text[:at] + ch + text[at:]
        at += 1
        result = await _complete(client, uri, text, at)
    line, character = LineIndex(text).position(at)
    sev = next(item for item in result.items if item.label == "sev")
    assert isinstance(sev.text_edit, types.TextEdit)
    assert sev.text_edit.range == types.Range(
        start=pos(line, character - 1), end=pos(line, character)
    )
    # The other tile still maps: hover its `filter`.
    line, character = LineIndex(text).position(text.index("filter x") + 2)
    found = await client.text_document_hover_async(
        types.HoverParams(text_document=doc(uri), position=pos(line, character))
    )
    assert found is not None and found.range == _range_of(text, "filter")
