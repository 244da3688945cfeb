"""Query offsets map exactly to the JSON text around them, through every escape."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from dqlbuild.lsp.embedding import OffsetMap, StringMap
from dqlbuild.lsp.units import after_edit, build_model

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


def _dashboard_text() -> str:
    tiles = {
        str(i): {"type": "data", "title": f"T{i}", "query": q}
        for i, q in enumerate(
            [QUERY, "fetch spans | limit 2", 'fetch logs | filter a == "\\"x\\""']
        )
    }
    variables = [{"key": "V", "type": "query", "input": "fetch logs | fields v"}]
    return json.dumps({"variables": variables, "tiles": tiles}, indent=1)


@given(st.data())
def test_typing_in_a_query_gives_the_model_reading_the_file_again_would(
    data: st.DataObject,
) -> None:
    old = _dashboard_text()
    model = build_model(old, json=True)
    unit = data.draw(st.sampled_from(model.units))
    string = unit.map.strings[0]
    start = data.draw(st.integers(string.start, string.end))
    end = data.draw(st.integers(start, min(string.end, start + 3)))
    typed = data.draw(st.text(alphabet=st.sampled_from('ab |\\"/éu0😀'), max_size=4))
    new = old[:start] + typed + old[end:]
    derived = after_edit(model, old, new)
    fresh = build_model(new, json=True)
    if derived is None:
        return  # the edit changed more than one query: the file is read again
    assert [u.text for u in derived.units] == [u.text for u in fresh.units]
    assert [u.map for u in derived.units] == [u.map for u in fresh.units]
    assert derived.document is None


def test_edits_outside_queries_read_the_file_again() -> None:
    old = _dashboard_text()
    model = build_model(old, json=True)
    at = old.index('"T1"') + 2
    assert after_edit(model, old, old[:at] + "x" + old[at:]) is None
