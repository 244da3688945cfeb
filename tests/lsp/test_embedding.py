"""Query offsets map exactly to the JSON text around them, through every escape."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from dqlbuild.lsp.embedding import OffsetMap, StringMap
from dqlbuild.lsp.units import build_model

QUERY = 'fetch logs\n| filter content == "say \\"hi\\" é😀" and lvl == "\u2028"\n| limit 1'


def _literal_map(literal: str, prefix: str = '{"q": ') -> tuple[str, StringMap]:
    text = prefix + literal + "}"
    start = len(prefix) + 1
    return text, StringMap.of(text, start, start + len(literal) - 2)


def _check(text: str, string: StringMap, value: str) -> None:
    assert string.length == len(value)
    for i in range(len(value) + 1):
        at = string.to_text(i)
        # Everything before the character's spelling decodes to the value up to it.
        assert json.loads('"' + text[string.start : at] + '"') == value[:i]
        assert string.to_value(at) == i


@given(st.text(), st.booleans())
def test_every_character_maps_both_ways(value: str, ascii_only: bool) -> None:
    literal = json.dumps(value, ensure_ascii=ascii_only)
    text, string = _literal_map(literal)
    _check(text, string, value)


def test_escapes_of_every_kind() -> None:
    literal = '"a\\n\\"\\\\\\/\\u00e9\\ud83d\\ude00\\ud800x\\t"'
    value = json.loads(literal)
    assert len(value) == 10  # the surrogate pair is one character, the lone one another
    text, string = _literal_map(literal)
    _check(text, string, value)
    # A cursor inside an escape belongs to the character it writes.
    at = text.index("\\ud83d")
    assert string.to_value(at + 3) == value.index("😀")


def test_nested_strings_map_through_both_levels() -> None:
    inner = json.dumps({"tiles": {"1": {"type": "data", "query": QUERY}}}, ensure_ascii=False)
    outer = json.dumps({"name": "D", "type": "dashboard", "content": inner}, ensure_ascii=True)
    model = build_model(outer, json=True)
    (unit,) = model.units
    assert unit.text == QUERY
    assert len(unit.map.strings) == 2
    for i in range(len(QUERY) + 1):
        at = unit.map.to_file(i)
        assert unit.map.to_query(at) == i
        assert unit.map.contains(at)
    # The file text of the word `limit` is the word itself.
    start = unit.map.to_file(QUERY.index("limit"))
    assert outer[start : start + 5] == "limit"
    assert not unit.map.contains(outer.index('"name"'))


def test_a_dql_file_maps_to_itself() -> None:
    assert OffsetMap().to_file(7) == 7 and OffsetMap().to_query(7) == 7
