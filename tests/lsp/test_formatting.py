"""Formatting edits: whole files, ranges of stages, and queries inside JSON."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dqlbuild import format, load_document, parse
from dqlbuild.lsp.formatting import Edit, FormatOptions, format_edits
from dqlbuild.lsp.units import build_model
from tests.fixtures_dql import pretty_pairs

OPTIONS = FormatOptions()
QUERY = (
    "fetch logs   ,from:-2h\n| filter a==1 // keep\n// about the limit\n|   limit   5\n| fields a,b"
)


def _apply(text: str, edits: list[Edit]) -> str:
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _format(text: str, selection: tuple[int, int] | None = None, *, json_: bool = False) -> str:
    return _apply(text, format_edits(build_model(text, json=json_), text, OPTIONS, selection))


def _select(text: str, word: str) -> tuple[int, int]:
    start = text.index(word)
    return start, start + len(word)


def test_a_whole_file_ends_with_one_newline_and_edits_are_minimal() -> None:
    edits = format_edits(build_model(QUERY, json=False), QUERY, OPTIONS)
    assert _apply(QUERY, edits) == format(QUERY) + "\n"
    assert len(edits) == 1 and edits[0][0] > 0  # `fetch logs` was already right
    assert format_edits(build_model(format(QUERY) + "\n", json=False), "", OPTIONS) == []


def test_crlf_files_keep_crlf_but_strings_keep_their_newlines() -> None:
    text = 'fetch logs\r\n| filter a=="""x\ny"""\r\n|limit 1\r\n'
    formatted = _format(text)
    assert formatted == 'fetch logs\r\n| filter a == """x\ny"""\r\n| limit 1\r\n'


def test_a_fragment_keeps_its_leading_pipe() -> None:
    assert _format("// step\n|filter a==1|limit 1") == "// step\n| filter a == 1\n| limit 1\n"


def test_a_range_formats_only_the_stages_it_touches() -> None:
    formatted = _format(QUERY, _select(QUERY, "limit"))
    # The stage and the comment that leads it; the stages around it are untouched.
    assert formatted == QUERY.replace("|   limit   5", "| limit 5")
    formatted = _format(QUERY, _select(QUERY, "a==1"))
    assert formatted == QUERY.replace("a==1 // keep", "a == 1 // keep")


def test_a_range_in_the_gap_before_a_stage_formats_that_stage() -> None:
    start = QUERY.index("// about")
    assert _format(QUERY, (start, start)) == QUERY.replace("|   limit   5", "| limit 5")


def test_stages_sharing_a_line_are_formatted_together() -> None:
    text = "fetch logs\n| filter a==1 | limit 5\n| fields a,b"
    formatted = _format(text, _select(text, "limit"))
    assert formatted == "fetch logs\n| filter a == 1\n| limit 5\n| fields a,b"


def test_the_last_stage_takes_the_trailing_comments() -> None:
    text = "fetch logs\n| limit   5\n// the end\n"
    assert _format(text, _select(text, "limit")) == "fetch logs\n| limit 5 // the end\n"


def test_a_comment_across_the_cut_falls_back_to_the_whole_query() -> None:
    text = "fetch logs /* a\nb */\n| limit   5\n| fields a,b"
    assert _format(text, _select(text, "limit")) == format(text) + "\n"


def test_nothing_to_format_in_a_query_that_does_not_parse() -> None:
    assert _format("fetch logs | filter (") == "fetch logs | filter ("


@settings(max_examples=40)
@given(st.data())
def test_any_range_keeps_the_query_and_converges(data: st.DataObject) -> None:
    source = data.draw(st.sampled_from([s for s, _ in pretty_pairs()]))
    a = data.draw(st.integers(0, len(source)))
    b = data.draw(st.integers(a, len(source)))
    formatted = _format(source, (a, b))
    assert parse(formatted) == parse(source)
    assert format(formatted) == format(source)


# ------------------------------------------------------------------ JSON
def _dashboard(*queries: str, ascii_only: bool = True) -> str:
    tiles = {str(i): {"type": "data", "title": f"T{i}", "query": q} for i, q in enumerate(queries)}
    content = {"version": 15, "variables": [], "tiles": tiles, "layouts": {}}
    return json.dumps(content, indent=2, ensure_ascii=ascii_only)


def test_a_query_in_json_changes_only_inside_its_string() -> None:
    first = 'fetch logs|filter x=="é\\"😀"|limit 1'
    second = "fetch spans\n| limit 2"
    text = _dashboard(first, second)
    edits = format_edits(build_model(text, json=True), text, OPTIONS)
    assert len(edits) == 1
    start, end, _new = edits[0]
    string = text.index(json.dumps(first))
    assert string < start <= end < string + len(json.dumps(first))
    formatted = _apply(text, edits)
    queries = [loc.query for loc in load_document(formatted).queries]
    assert queries == [format(first), second]
    # Re-escaped as the file writes strings: ASCII only.
    assert formatted.isascii() and "\\u00e9" in formatted


def test_embedded_content_is_escaped_twice_and_a_range_picks_the_query() -> None:
    inner = _dashboard("fetch logs|limit 1", "fetch spans|limit 2", ascii_only=False)
    text = json.dumps({"name": "D", "type": "dashboard", "content": inner}, indent=2)
    model = build_model(text, json=True)
    second = model.units[1]
    selection = (second.file_start + 1, second.file_start + 2)
    formatted = _apply(text, format_edits(model, text, OPTIONS, selection))
    queries = [loc.query for loc in load_document(formatted).queries]
    assert queries == ["fetch logs|limit 1", "fetch spans\n| limit 2"]
    everything = _apply(text, format_edits(model, text, OPTIONS))
    assert [loc.query for loc in load_document(everything).queries] == [
        "fetch logs\n| limit 1",
        "fetch spans\n| limit 2",
    ]


@pytest.mark.parametrize("explore", [True, False])
def test_explore_tiles_and_broken_queries_are_left_alone(explore: bool) -> None:
    content = {
        "tiles": {
            "1": {"type": "data", "query": "fetch logs|limit 1", "subType": "x"}
            if explore
            else {"type": "data", "query": "fetch logs | filter ("},
            "2": {"type": "data", "query": "fetch spans|limit 2"},
        }
    }
    text = json.dumps(content)
    formatted = _apply(text, format_edits(build_model(text, json=True), text, OPTIONS))
    queries = [loc.query for loc in load_document(formatted).queries]
    assert queries[1] == "fetch spans\n| limit 2"
    assert queries[0] == content["tiles"]["1"]["query"]  # type: ignore[index]
