"""Conformance over the shared corpus of real dashboards and notebooks.

Skipped when ../shared is not present. Nothing from the corpus is copied.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dqlbuild.documents import load_document
from dqlbuild.documents.jsontext import locate, parse_json

from .conftest import CORPUS_DASHBOARDS, assert_pure_insertion, loads

FILES = (
    sorted(p.name for p in CORPUS_DASHBOARDS.glob("*.json")) if CORPUS_DASHBOARDS.is_dir() else []
)
SUFFIX = "\n| limit 1"


def _content(data: Any) -> Any:
    """The content object, found with plain json (no content strings in the corpus)."""
    if "tiles" not in data and "sections" not in data:
        if "content" not in data:
            data = data[next(k for k in ("dashboard", "notebook", "document") if k in data)]
        data = data["content"]
    return data


def _expected_queries(content: Any) -> list[tuple[str, str]]:
    """Queries found with plain json: data tiles and notebook DQL sections."""
    if "tiles" in content:
        return [
            (tid, tile["query"])
            for tid, tile in content["tiles"].items()
            if isinstance(tile, dict)
            and tile.get("type") == "data"
            and isinstance(tile.get("query"), str)
        ]
    out = []
    for i, s in enumerate(content["sections"]):
        value = ((s.get("state") or {}).get("input") or {}).get("value")
        if s.get("type") == "dql" and isinstance(value, str):
            out.append((s.get("id") or f"#{i}", value))
    return out


@pytest.mark.parametrize("name", FILES)
def test_corpus_file(name: str, corpus_dir: Path) -> None:
    doc = load_document(corpus_dir / name)
    data = loads(doc.text)
    content = _content(data)
    # Ids may be disambiguated; compare the queries in order and the ids where unique.
    expected = _expected_queries(content)
    assert [q.query for q in doc.queries] == [q for _, q in expected]
    assert [q.id for q in doc.queries if not q.id.startswith("#")] == [
        i for (i, _), q in zip(expected, doc.queries, strict=True) if not q.id.startswith("#")
    ]

    # A no-op rewrite reproduces the file byte for byte.
    assert doc.with_queries({q.id: q.query for q in doc.queries}) == doc.text

    # Appending to every query inserts exactly the encoded suffix at the end of each string.
    new = doc.with_queries({q.id: q.query + SUFFIX for q in doc.queries})
    parsed = parse_json(doc.text)
    ends = sorted(locate(parsed, q.path)[1].end - 1 for q in doc.queries)
    pieces, last = [], 0
    for end in ends:
        pieces += [doc.text[last:end], "\\n| limit 1"]
        last = end
    assert new == "".join(pieces) + doc.text[last:]
    expected_data = json.loads(json.dumps(data))
    expected_content = _content(expected_data)
    if "tiles" in expected_content:
        for tile in expected_content["tiles"].values():
            if (
                isinstance(tile, dict)
                and tile.get("type") == "data"
                and isinstance(tile.get("query"), str)
            ):
                tile["query"] += SUFFIX
    else:
        for s in expected_content["sections"]:
            value = ((s.get("state") or {}).get("input") or {}).get("value")
            if s.get("type") == "dql" and isinstance(value, str):
                s["state"]["input"]["value"] += SUFFIX
    assert loads(new) == expected_data


@pytest.mark.parametrize("name", FILES)
def test_corpus_add_variable(name: str, corpus_dir: Path) -> None:
    doc = load_document(corpus_dir / name)
    if doc.kind.value != "dashboard":
        pytest.skip("notebooks have no variables")
    key = "ModelVersion"
    while any(v.key == key for v in doc.variables()):
        key += "X"
    new = doc.add_variable(key, "csv", "v1,v2", multiple=True, default=["v1"])
    assert_pure_insertion(doc.text, new)
    data, expected = loads(doc.text), loads(new)
    content = _content(data)
    content.setdefault("variables", []).append(
        {
            "version": 2,
            "key": key,
            "type": "csv",
            "visible": True,
            "editable": True,
            "input": "v1,v2",
            "multiple": True,
            "defaultValue": ["v1"],
        }
    )
    assert expected == data
    assert doc.reload(new).variables()[-1].key == key
