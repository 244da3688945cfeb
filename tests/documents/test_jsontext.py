"""The lossless JSON text layer: positions, errors, string re-encoding, insertion."""

from __future__ import annotations

import copy
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dqlbuild.documents.jsontext import (
    EscapeStyle,
    InsertItem,
    InsertMember,
    Remove,
    SetValue,
    apply_edits,
    encode_string,
    insert_item,
    insert_member,
    locate,
    parse_json,
    pointer_join,
    replace_string,
    split_pointer,
)
from dqlbuild.errors import DocumentError

from .conftest import (
    VALID_NAMES,
    assert_pure_insertion,
    fixture_text,
    get_pointer,
    loads,
    set_pointer,
)

QUERY = "/tiles/1/query"
ALL_ESCAPE_STYLES = [EscapeStyle(*flags) for flags in itertools.product((False, True), repeat=4)]


# -- parsing -------------------------------------------------------------------


@pytest.mark.parametrize("name", VALID_NAMES)
def test_tree_matches_json_loads(name: str) -> None:
    text = fixture_text(name)
    doc = parse_json(text)
    assert doc.to_python() == loads(text)


@pytest.mark.parametrize("name", VALID_NAMES)
def test_every_span_and_pointer_is_exact(name: str) -> None:
    text = fixture_text(name)
    doc = parse_json(text)
    whole = loads(text)
    for node in doc.walk():
        # Each node's span is itself valid JSON for the value at its pointer.
        assert json.loads(text[node.start : node.end]) == get_pointer(whole, node.pointer)


def test_positions_and_pointers() -> None:
    text = '{\n  "a/b": [1, {"~k": "v"}],\n  "c": true\n}'
    doc = parse_json(text)
    node = doc.find(pointer_join("", "a/b", 1, "~k"))
    assert node.pointer == "/a~1b/1/~0k"
    assert text[node.start : node.end] == '"v"'
    assert doc.position(node.start) == (2, 21)
    assert split_pointer(node.pointer) == ["a/b", "1", "~k"]
    assert doc.get("/a~1b/2") is None
    assert doc.get("/c/x") is None
    with pytest.raises(DocumentError, match="no JSON value"):
        doc.find("/nope")


def test_duplicate_keys_last_wins_like_json_loads() -> None:
    text = '{"a": 1, "a": 2}'
    doc = parse_json(text)
    assert doc.to_python() == json.loads(text)
    assert doc.find("/a").value == 2
    assert len(doc.root.members) == 2


def test_numbers_decode_like_json() -> None:
    text = "[0, -1, 1.5, 1e3, -2E-2, 12345678901234567890, 1.0]"
    assert parse_json(text).to_python() == json.loads(text)
    assert [type(v) for v in parse_json(text).to_python()] == [  # type: ignore[union-attr]
        type(v) for v in json.loads(text)
    ]


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ('{"a": 1,}', 1, 9, "member name"),
        ('{"a": 1\n "b": 2}', 2, 2, "',' or '}'"),
        ("[1, 2", 1, 6, "',' or ']'"),
        ('{"a": "x\ny"}', 1, 9, "control character"),
        ('{"a": "\\q"}', 1, 8, "escape"),
        ('{"a": NaN}', 1, 7, "expected a JSON value"),
        ("{'a': 1}", 1, 2, "double-quoted"),
        ('{"a": 1} x', 1, 10, "after the end"),
        ("", 1, 1, "end of text"),
        ('{"a": "open', 1, 7, "nterminated"),
    ],
)
def test_invalid_json_reports_line_and_column(
    text: str, line: int, column: int, message: str
) -> None:
    with pytest.raises(DocumentError, match=message) as info:
        parse_json(text)
    assert (info.value.line, info.value.column) == (line, column)


def test_monaco_template_outside_strings_is_named() -> None:
    with pytest.raises(DocumentError, match="Monaco") as info:
        parse_json(fixture_text("monaco-outside-string.json"))
    assert info.value.line == 6
    assert "line 6" in str(info.value)


def test_terraform_interpolation_outside_strings_is_named() -> None:
    with pytest.raises(DocumentError, match="Terraform") as info:
        parse_json(fixture_text("terraform-outside-string.json"))
    assert info.value.line == 4


def test_templates_inside_strings_are_plain_content() -> None:
    text = fixture_text("dashboard-go.json")
    doc = parse_json(text)
    assert doc.find("/tiles/3/input").value == "{{.slo_id}}"
    new = replace_string(text, "/tiles/3/title", "SLO {{.slo_name}} (v2)")
    assert new.count("{{") == text.count("{{") + 0
    assert loads(new)["tiles"]["3"]["input"] == "{{.slo_id}}"


def test_bom_is_skipped_and_kept() -> None:
    text = fixture_text("dashboard-bom.json")
    assert text.startswith("\ufeff")
    new = replace_string(text, QUERY, "fetch logs")
    assert new.startswith("\ufeff")
    assert loads(new)["tiles"]["1"]["query"] == "fetch logs"


# -- style detection -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "indent", "newline", "sort_keys", "escapes"),
    [
        ("dashboard-2space.json", "  ", "\n", False, EscapeStyle()),
        ("dashboard-4space.json", "    ", "\n", False, EscapeStyle()),
        ("dashboard-tabs.json", "\t", "\n", False, EscapeStyle()),
        ("dashboard-minified.json", None, "\n", False, EscapeStyle()),
        ("dashboard-crlf.json", "  ", "\r\n", False, EscapeStyle()),
        ("dashboard-uescape.json", "  ", "\n", False, EscapeStyle(ascii_only=True)),
        (
            "dashboard-slash-upper.json",
            None,
            "\n",
            False,
            EscapeStyle(ascii_only=True, escape_slash=True, upper_hex=True),
        ),
        ("dashboard-go.json", "  ", "\n", True, EscapeStyle(html_safe=True)),
    ],
)
def test_detect_style(
    name: str, indent: str | None, newline: str, sort_keys: bool, escapes: EscapeStyle
) -> None:
    style = parse_json(fixture_text(name)).style
    assert (style.indent, style.newline, style.sort_keys, style.escapes) == (
        indent,
        newline,
        sort_keys,
        escapes,
    )


def test_detect_separators() -> None:
    assert parse_json(fixture_text("dashboard-minified.json")).style.key_separator == ":"
    spaced = parse_json(fixture_text("dashboard-oneline-spaced.json")).style
    assert (spaced.key_separator, spaced.item_separator) == (": ", ", ")


# -- replacing strings ---------------------------------------------------------


@pytest.mark.parametrize("name", VALID_NAMES)
def test_replace_string_changes_only_that_string(name: str) -> None:
    text = fixture_text(name)
    doc = parse_json(text)
    pointer = "/sections/1/state/input/value" if "notebook" in name else QUERY
    path: tuple[str, ...]
    if name == "string-content.json":
        path = ("/content", pointer)
        outer = doc.find("/content")
    else:
        path = ("/content" + pointer,) if "envelope" in name or "api" in name else (pointer,)
        outer = doc.find(path[0])
    _, node = locate(doc, path)
    assert isinstance(node.value, str)
    new_query = 'fetch spans\n| filter a == "<x> & y/z" // café ☕ 𝄞\n| limit 1'
    new = replace_string(text, path, new_query)
    # Bytes before and after the (outer) string are untouched.
    assert new[: outer.start] == text[: outer.start]
    assert new[len(new) - (len(text) - outer.end) :] == text[outer.end :]
    # The value changed as intended and nothing else did.
    expected = loads(text)
    if name == "string-content.json":
        inner = json.loads(expected["content"])
        set_pointer(inner, pointer, new_query)
        got = loads(new)
        assert json.loads(got.pop("content")) == inner
        expected.pop("content")
        assert got == expected
    else:
        set_pointer(expected, path[0], new_query)
        assert loads(new) == expected


def test_unchanged_value_is_never_reencoded() -> None:
    text = fixture_text("dashboard-uescape.json")
    doc = parse_json(text)
    assert replace_string(text, "/tiles/0/content", doc.find("/tiles/0/content").value) == text  # type: ignore[arg-type]
    assert apply_edits(text, [SetValue("/version", 21), SetValue("/settings", {})]) == text


def test_appending_to_a_query_inserts_only_the_new_bytes() -> None:
    # The unchanged prefix keeps its escapes (\u00EF, \/) although the writer
    # would produce the same style here; the point is that no byte moves.
    text = fixture_text("dashboard-slash-upper.json")
    old = parse_json(text).find(QUERY)
    assert isinstance(old.value, str)
    new = replace_string(text, QUERY, old.value + "\n| limit 1")
    assert new == text[: old.end - 1] + "\\n| limit 1" + text[old.end - 1 :]


def test_mixed_escapes_in_unchanged_parts_survive() -> None:
    text = '{"q": "a\\u0041\\/b/\\u00e9\\u00E9 end"}'
    new = replace_string(text, "/q", "aA/b/éé END")
    assert new == '{"q": "a\\u0041\\/b/\\u00e9\\u00E9 END"}'


@pytest.mark.parametrize(
    ("name", "expected_fragment"),
    [
        ("dashboard-2space.json", '"x <é> & a/b ☕"'),
        ("dashboard-uescape.json", '"x <\\u00e9> & a/b \\u2615"'),
        ("dashboard-slash-upper.json", '"x <\\u00E9> & a\\/b \\u2615"'),
        ("dashboard-go.json", '"x \\u003cé\\u003e \\u0026 a/b ☕"'),
    ],
)
def test_new_text_uses_the_file_escape_style(name: str, expected_fragment: str) -> None:
    text = fixture_text(name)
    new = replace_string(text, "/tiles/2/title", "x <é> & a/b ☕")
    assert expected_fragment in new
    assert loads(new)["tiles"]["2"]["title"] == "x <é> & a/b ☕"


def test_per_string_style_beats_file_style() -> None:
    # The file mostly writes raw UTF-8, but this one string used \u escapes.
    text = '{"a": "é ü ö", "b": "\\u00e9"}'
    assert replace_string(text, "/b", "éx") == '{"a": "é ü ö", "b": "\\u00e9x"}'
    assert replace_string(text, "/b", "ü") == '{"a": "é ü ö", "b": "\\u00fc"}'


def test_non_bmp_in_ascii_style_uses_surrogate_pairs() -> None:
    text = '{"a": "\\u00e9"}'
    new = replace_string(text, "/a", "𝄞")
    assert new == '{"a": "\\ud834\\udd1e"}'
    assert json.loads(new)["a"] == "𝄞"


def test_replace_string_requires_a_string() -> None:
    with pytest.raises(DocumentError, match="not a string"):
        replace_string('{"a": 1}', "/a", "x")


@given(
    old=st.text(max_size=40),
    new=st.text(max_size=40),
    style=st.sampled_from(ALL_ESCAPE_STYLES),
)
@settings(max_examples=400, deadline=None)
def test_escape_round_trip_with_minimal_diff(old: str, new: str, style: EscapeStyle) -> None:
    text = '{"before": "k\\u00e9ep", "s": ' + encode_string(old, style) + ', "after": [1]}'
    assert json.loads(text)["s"] == old
    out = replace_string(text, "/s", new)
    assert json.loads(out) == {"before": "kéep", "s": new, "after": [1]}
    assert out.startswith('{"before": "k\\u00e9ep", "s": "')
    assert out.endswith('", "after": [1]}')


@given(value=st.text(), style=st.sampled_from(ALL_ESCAPE_STYLES))
@settings(max_examples=400, deadline=None)
def test_encode_string_round_trips(value: str, style: EscapeStyle) -> None:
    encoded = encode_string(value, style)
    assert json.loads(encoded) == value
    if style.ascii_only:
        assert encoded.isascii()
    if style.html_safe:
        assert not set("<>&") & set(encoded)
    if style.escape_slash:
        assert "/" not in encoded.replace("\\/", "")


@pytest.mark.parametrize("name", [n for n in VALID_NAMES if n.startswith("dashboard")])
@given(value=st.text(max_size=30))
@settings(max_examples=60, deadline=None)
def test_any_string_written_into_any_fixture_decodes_back(name: str, value: str) -> None:
    text = fixture_text(name)
    new = replace_string(text, "/tiles/2/title", value)
    expected = loads(text)
    expected["tiles"]["2"]["title"] = value
    assert loads(new) == expected


def test_lone_surrogates_are_escaped() -> None:
    new = replace_string('{"a": "é"}', "/a", "x\ud800y")
    assert "\\ud800" in new
    assert json.loads(new)["a"] == "x\ud800y"
    new.encode("utf-8")


# -- inserting -------------------------------------------------------------------

VARIABLE = {"version": 2, "key": "Model", "type": "csv", "input": "a,b", "multiple": True}


@pytest.mark.parametrize(
    ("name", "expected_block"),
    [
        (
            "dashboard-2space.json",
            '  "variables": [\n    {\n      "version": 2,\n      "key": "Model",\n'
            '      "type": "csv",\n      "input": "a,b",\n      "multiple": true\n    }\n  ],\n',
        ),
        (
            "dashboard-4space.json",
            '    "variables": [\n        {\n            "version": 2,\n'
            '            "key": "Model",\n',
        ),
        ("dashboard-tabs.json", '\t"variables": [\n\t\t{\n\t\t\t"version": 2,\n'),
        (
            "dashboard-crlf.json",
            '  "variables": [\r\n    {\r\n      "version": 2,\r\n      "key": "Model",\r\n',
        ),
        (
            "dashboard-minified.json",
            '"variables":[{"version":2,"key":"Model","type":"csv","input":"a,b","multiple":true}]',
        ),
        (
            "dashboard-oneline-spaced.json",
            '"variables": [{"version": 2, "key": "Model", "type": "csv", "input": "a,b", '
            '"multiple": true}]',
        ),
    ],
)
def test_insert_into_empty_array_follows_file_style(name: str, expected_block: str) -> None:
    text = fixture_text(name)
    new = insert_item(text, "/variables", VARIABLE)
    assert expected_block in new
    assert_pure_insertion(text, new)
    expected = loads(text)
    expected["variables"].append(VARIABLE)
    assert loads(new) == expected
    if "crlf" in name:
        assert new.count("\n") == new.count("\r\n")


def test_append_to_non_empty_array_keeps_every_other_line() -> None:
    text = fixture_text("dashboard-go.json")
    new = insert_item(text, "/variables", VARIABLE)
    at = assert_pure_insertion(text, new)
    old_lines, new_lines = text.split("\n"), new.split("\n")
    hit = text.count("\n", 0, at)
    # The line at the insertion point only gains a comma; all others are identical.
    assert new_lines[hit] == old_lines[hit] + ","
    added = new.count("\n") - text.count("\n")
    assert new_lines[:hit] == old_lines[:hit]
    assert new_lines[hit + added + 1 :] == old_lines[hit + 1 :]
    # Monaco files sort keys: so does the inserted object.
    block = "\n".join(new_lines[hit + 1 : hit + added + 1])
    assert block.index('"input"') < block.index('"key"') < block.index('"version"')


def test_insert_member_at_a_position() -> None:
    text = fixture_text("dashboard-explore-novars.json")
    new = insert_member(text, "", "variables", [], index=1)
    assert new.startswith('{\n  "version": 21,\n  "variables": [],\n  "tiles": {')
    assert_pure_insertion(text, new)
    first = insert_member(text, "", "a", 1, index=0)
    assert first.startswith('{\n  "a": 1,\n  "version": 21,')


def test_insert_into_empty_object_inside_one_line_parent_stays_on_one_line() -> None:
    text = '{\n  "a": {"b": {}},\n  "c": []\n}\n'
    assert insert_member(text, "/a/b", "k", [1]) == '{\n  "a": {"b": {"k": [1]}},\n  "c": []\n}\n'
    assert insert_item(text, "/c", {"x": 1}) == (
        '{\n  "a": {"b": {}},\n  "c": [\n    {\n      "x": 1\n    }\n  ]\n}\n'
    )


def test_several_inserts_at_one_place_keep_their_order() -> None:
    text = '{"v": [0]}'
    new = apply_edits(text, [InsertItem("/v", 1), InsertItem("/v", 2), InsertItem("/v", 3, 0)])
    assert json.loads(new) == {"v": [3, 0, 1, 2]}


def test_insert_member_rejects_existing_key() -> None:
    with pytest.raises(DocumentError, match="already has a member 'version'"):
        insert_member(fixture_text("dashboard-2space.json"), "", "version", 1)
    with pytest.raises(DocumentError, match="not an array"):
        insert_item(fixture_text("dashboard-2space.json"), "/tiles", 1)


# -- batches, nesting, removal -----------------------------------------------------


def test_batch_applies_all_edits_against_the_original_text() -> None:
    text = fixture_text("dashboard-2space.json")
    edits = [
        SetValue("/tiles/1/query", "fetch logs | limit 1"),
        InsertItem("/variables", VARIABLE),
        SetValue("/tiles/2/title", "Latency"),
        InsertMember("/tiles/2", "description", "p50"),
        SetValue("/layouts/2/h", 7),
    ]
    new = apply_edits(text, edits)
    expected = loads(text)
    expected["tiles"]["1"]["query"] = "fetch logs | limit 1"
    expected["variables"].append(VARIABLE)
    expected["tiles"]["2"]["title"] = "Latency"
    expected["tiles"]["2"]["description"] = "p50"
    expected["layouts"]["2"]["h"] = 7
    assert loads(new) == expected
    assert apply_edits(text, list(reversed(edits))) == new


def test_overlapping_edits_are_refused() -> None:
    text = fixture_text("dashboard-2space.json")
    with pytest.raises(DocumentError, match="same part"):
        apply_edits(text, [SetValue(QUERY, "a"), SetValue(QUERY, "b")])
    with pytest.raises(DocumentError, match="same part"):
        apply_edits(text, [SetValue("/tiles/1", {}), SetValue(QUERY, "b")])


def test_nested_string_edits() -> None:
    text = fixture_text("string-content.json")
    new = apply_edits(
        text,
        [
            SetValue(("/content", QUERY), "fetch logs <1>"),
            InsertItem(("/content", "/variables"), VARIABLE),
            SetValue("/name", "Renamed"),
        ],
    )
    got = loads(new)
    inner = json.loads(got["content"])
    assert inner["tiles"]["1"]["query"] == "fetch logs <1>"
    assert inner["variables"] == [VARIABLE]
    assert got["name"] == "Renamed"
    # The outer string keeps Go-style escaping, also for the new text.
    assert "fetch logs \\u003c1\\u003e" in new
    assert "<" not in new
    # The inner JSON stays minified.
    assert '\\"variables\\":[{\\"version\\":2,' in new


def test_nested_path_into_a_non_string_fails() -> None:
    with pytest.raises(DocumentError, match="only a string can hold embedded JSON"):
        apply_edits(fixture_text("envelope.json"), [SetValue(("/content", "/version"), 1)])


def test_remove_members_and_items() -> None:
    text = '{\n  "a": 1,\n  "b": [1, 2, 3],\n  "c": 3\n}'
    assert apply_edits(text, [Remove("/a")]) == '{\n  "b": [1, 2, 3],\n  "c": 3\n}'
    assert apply_edits(text, [Remove("/c")]) == '{\n  "a": 1,\n  "b": [1, 2, 3]\n}'
    assert apply_edits(text, [Remove("/b/1"), Remove("/b/2")]) == (
        '{\n  "a": 1,\n  "b": [1],\n  "c": 3\n}'
    )
    assert apply_edits(text, [Remove("/b/0"), Remove("/b/1"), Remove("/b/2")]) == (
        '{\n  "a": 1,\n  "b": [],\n  "c": 3\n}'
    )
    both = apply_edits(text, [Remove("/b"), Remove("/c"), InsertMember("", "d", True)])
    assert json.loads(both) == {"a": 1, "d": True}


def test_set_value_of_other_types() -> None:
    text = fixture_text("dashboard-4space.json")
    new = apply_edits(text, [SetValue("/settings", {"gridLayout": {"columnsCount": 24}})])
    assert '    "settings": {\n        "gridLayout": {\n            "columnsCount": 24\n' in new
    data = copy.deepcopy(loads(text))
    data["settings"] = {"gridLayout": {"columnsCount": 24}}
    assert loads(new) == data
    with pytest.raises(DocumentError, match="cannot be written"):
        apply_edits(text, [SetValue("/version", float("nan"))])
