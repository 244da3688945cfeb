"""Positions in LSP units and minimal edits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dqlbuild.lsp.text import LineIndex, minimal_edit

TEXT = 'fetch é\r\n| filter x == "😀" // ok\r| limit 1\n\u2028still line 3'


def test_lines_end_at_lf_crlf_and_cr_only() -> None:
    index = LineIndex(TEXT)
    assert index.line_count == 4
    assert index.position(TEXT.index("| filter")) == (1, 0)
    assert index.position(TEXT.index("| limit")) == (2, 0)
    # U+2028 is not a line break in LSP (str.splitlines would split there).
    assert index.position(TEXT.index("still")) == (3, 1)


@pytest.mark.parametrize(
    ("encoding", "column"),
    [("utf-16", len('| filter x == "') + 2), ("utf-8", len('| filter x == "') + 4)],
)
def test_characters_after_an_astral_character(encoding: str, column: int) -> None:
    index = LineIndex(TEXT, encoding)  # type: ignore[arg-type]
    after = TEXT.index("😀") + 1
    assert index.position(after) == (1, column)
    assert index.offset(1, column) == after


def test_utf32_counts_code_points() -> None:
    index = LineIndex(TEXT, "utf-32")
    after = TEXT.index("😀") + 1
    assert index.position(after) == (1, len('| filter x == "') + 1)


def test_positions_outside_the_text_are_clamped() -> None:
    index = LineIndex(TEXT)
    assert index.offset(0, 999) == TEXT.index("\r\n")  # past the line end: its end
    assert index.offset(99, 0) == len(TEXT)
    assert index.offset(-1, 0) == 0
    # Between `\r` and `\n` is no position: it is the end of the line.
    assert index.position(TEXT.index("\r\n") + 1) == index.position(TEXT.index("\r\n"))


def test_a_position_inside_a_surrogate_pair_is_the_characters_start() -> None:
    index = LineIndex(TEXT)
    emoji = TEXT.index("😀")
    _line, column = index.position(emoji)
    assert index.offset(1, column + 1) == emoji


@given(
    st.text(alphabet=st.sampled_from("ab\r\n é😀")),
    st.text(alphabet=st.sampled_from("ab\r\n é😀")),
)
def test_round_trip_and_minimal_edit(old: str, new: str) -> None:
    for encoding in ("utf-8", "utf-16", "utf-32"):
        index = LineIndex(old, encoding)  # type: ignore[arg-type]
        for offset in range(len(old) + 1):
            if old[offset - 1 : offset + 1] == "\r\n":
                continue  # not a position
            assert index.offset(*index.position(offset)) == offset
    edit = minimal_edit(old, new)
    if edit is None:
        assert old == new
        return
    start, end, text = edit
    assert old[:start] + text + old[end:] == new
    assert old[start - 1 : start + 1] != "\r\n" and old[end - 1 : end + 1] != "\r\n"
