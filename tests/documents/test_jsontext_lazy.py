"""The lazy JSON reader (children read on demand, validated by the C scanner) gives the tree
the full parser gives, and style detection without a full walk finds what a walk finds."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dqlbuild.documents.jsontext import (
    JsonNode,
    JsonStyle,
    _Parser,
    detect_style,
    parse_json,
)

from .conftest import CORPUS_DASHBOARDS, VALID_NAMES, fixture_text

SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
JSON_VALUES = st.recursive(
    SCALARS | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=20,
)
LAYOUTS = st.sampled_from(
    [
        {},
        {"indent": 2},
        {"indent": "\t", "sort_keys": True},
        {"separators": (",", ":")},
        {"indent": 1, "separators": (", ", " : ")},
        {"ensure_ascii": False},
    ]
)


def _same(lazy: JsonNode, full: JsonNode) -> None:
    stack = [(lazy, full)]
    while stack:
        a, b = stack.pop()
        assert (a.kind, a.start, a.end, a.pointer) == (b.kind, b.start, b.end, b.pointer)
        assert a.value == b.value and type(a.value) is type(b.value)
        assert [(m.key, m.key_start, m.key_end) for m in a.members] == [
            (m.key, m.key_start, m.key_end) for m in b.members
        ]
        stack.extend((x.value, y.value) for x, y in zip(a.members, b.members, strict=True))
        stack.extend(zip(a.items, b.items, strict=True))


def _style_by_walking(text: str, root: JsonNode) -> tuple[Counter[str], str | None, int, int]:
    """The separators and key order found by walking every node (the former method)."""
    key_seps: Counter[str] = Counter()
    item_sep: str | None = None
    sorted_objects = unsorted_objects = 0
    stack = [root]
    while stack:
        node = stack.pop()
        spans = node.spans()
        if node.kind == "object" and node.members:
            if sum(key_seps.values()) < 64:
                for m in node.members[:4]:
                    key_seps[text[m.key_end : m.value.start]] += 1
            if len(node.members) >= 3:
                keys = [m.key for m in node.members]
                if keys == sorted(keys):
                    sorted_objects += 1
                else:
                    unsorted_objects += 1
        if item_sep is None and len(spans) >= 2:
            gap = text[spans[0][1] : spans[1][0]]
            if "\n" not in gap:
                item_sep = gap
        stack.extend(reversed([m.value for m in node.members] or list(node.items)))
    return key_seps, item_sep, sorted_objects, unsorted_objects


def _check(text: str) -> None:
    doc = parse_json(text)
    _same(doc.root, _Parser(text).parse())
    assert doc.to_python() == json.loads(text.removeprefix("\ufeff"))
    key_seps, item_sep, sorted_objects, unsorted_objects = _style_by_walking(text, doc.root)
    style: JsonStyle = detect_style(doc)
    if key_seps:
        assert style.key_separator == key_seps.most_common(1)[0][0]
    assert style.item_separator == (item_sep or ",")
    assert style.sort_keys == (sorted_objects > 0 and unsorted_objects == 0)


@settings(max_examples=150)
@given(JSON_VALUES, LAYOUTS)
def test_the_lazy_tree_and_the_style_match_a_full_parse(value: object, layout: dict) -> None:  # type: ignore[type-arg]
    _check(json.dumps(value, **layout))


def test_mixed_layouts_and_duplicate_keys() -> None:
    _check('{"b": 1, "a": 2, "b": 3,\n "c": [1,2, 3], "d": {"x": 1,"y": 2 , "z": 3}}')
    _check('[[1,2], 3, {"a" :1}]')
    _check('\ufeff {"a": {}, "b": [], "c": [[]]} ')


@pytest.mark.parametrize("name", VALID_NAMES)
def test_fixtures(name: str) -> None:
    _check(fixture_text(name))


@pytest.mark.skipif(not CORPUS_DASHBOARDS.is_dir(), reason="../shared/corpus is absent")
def test_corpus_documents() -> None:
    for path in sorted(Path(CORPUS_DASHBOARDS).glob("*.json"))[::7]:
        _check(path.read_bytes().decode("utf-8"))
