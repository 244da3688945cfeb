"""examples/ai-spans.jsonl is the output of scripts/gen_spans.py, and looks like spans."""

from __future__ import annotations

import importlib.util
import io
import json
import re
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "ai-spans.jsonl"
EXAMPLE_COUNT = 300
ISO_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z")


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_spans", REPO / "scripts" / "gen_spans.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_spans"] = module
    spec.loader.exec_module(module)
    return module


gen_spans = _load_script()


def _spans(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def _generate(count: int, seed: int) -> str:
    out = io.StringIO()
    gen_spans.write(count, seed, out)
    return out.getvalue()


def test_example_is_the_script_output() -> None:
    expected = _generate(EXAMPLE_COUNT, gen_spans.DEFAULT_SEED)
    assert EXAMPLE.read_text(encoding="utf-8") == expected, (
        "examples/ai-spans.jsonl is stale: run python scripts/gen_spans.py 300 -o "
        "examples/ai-spans.jsonl"
    )
    assert EXAMPLE.stat().st_size < 200_000


def test_deterministic_per_seed() -> None:
    assert _generate(50, 7) == _generate(50, 7)
    assert _generate(50, 7) != _generate(50, 8)
    # a shorter run is a prefix of a longer one with the same seed
    assert _generate(120, 7).startswith(_generate(50, 7))


def test_spans_are_flat_well_formed_traces() -> None:
    spans = _spans(EXAMPLE.read_text(encoding="utf-8"))
    assert len(spans) == EXAMPLE_COUNT
    ids = {span["span.id"] for span in spans}
    assert len(ids) == len(spans)
    by_id = {span["span.id"]: span for span in spans}
    for span in spans:
        assert ISO_Z.match(span["timestamp"]), span["timestamp"]
        assert span["timestamp"].startswith("2026-01-15T")
        assert isinstance(span["duration"], int) and span["duration"] > 0
        parent = span["parent_span_id"]
        if parent is None:
            assert span["service.name"] == "chat-api"
        else:
            assert by_id[parent]["trace.id"] == span["trace.id"]
            assert by_id[parent]["timestamp"] <= span["timestamp"]
        for key, value in span.items():
            # flat DQL names; the only nested object is the attributes record
            assert isinstance(value, dict) == (key == "attributes"), key
    llm = [s for s in spans if "gen_ai.system" in s]
    versions = Counter(s["model.version"] for s in llm)
    assert set(versions) == {"v1", "v2", "v3"} and min(versions.values()) >= 15
    assert len({s["dataset.id"] for s in llm}) >= 3
    assert any(s["request.is_failed"] for s in llm)
    assert any("gen_ai.response.model" not in s for s in llm)  # failed calls lack it
    assert any(s.get("gen_ai.usage.input_tokens", 0) is None for s in llm)  # explicit nulls


def test_types_stay_consistent_per_field() -> None:
    kinds: dict[str, set[str]] = {}
    for span in _spans(_generate(3000, 1)):
        for key, value in span.items():
            if value is not None:
                kinds.setdefault(key, set()).add(type(value).__name__)
    mixed = {key: types for key, types in kinds.items() if len(types) > 1}
    assert not mixed


def test_cli_writes_a_file_and_rejects_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "spans.jsonl"
    assert gen_spans.main(["25", "--seed", "3", "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == _generate(25, 3)
    assert not list(tmp_path.glob("*.tmp"))
    assert gen_spans.main(["5", "-o", str(tmp_path / "missing" / "x.jsonl")]) == 1
    assert "cannot write" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        gen_spans.main(["-3"])
    assert exit_info.value.code == 2


DASHBOARD = REPO / "examples" / "ai-observability.dashboard.json"


def _tile_queries() -> list[tuple[str, str]]:
    tiles = json.loads(DASHBOARD.read_text(encoding="utf-8"))["tiles"]
    return [(key, tile["query"]) for key, tile in tiles.items() if tile.get("query")]


@pytest.mark.parametrize("version", [None, "v1", "v2", "v3"])
@pytest.mark.parametrize(("tile", "query"), _tile_queries(), ids=[t for t, _ in _tile_queries()])
def test_every_dashboard_tile_returns_rows(tile: str, query: str, version: str | None) -> None:
    """Each tile of the bundled dashboard shows something on the sample spans, also
    filtered to one model version (the tutorial's A/B comparison)."""
    import dqlbuild

    pytest.importorskip("duckdb")
    if version is not None:
        query = dqlbuild.inject_filter_text(query, "model.version == $ModelVersion").text
    variables = {"ModelVersion": version} if version else None
    data = {"spans": str(EXAMPLE)}
    if query.lstrip().startswith("timeseries"):  # metrics are not spans: refused, clearly
        with pytest.raises(dqlbuild.DQLError, match="timeseries"):
            dqlbuild.run(query, data, variables=variables)
        return
    rows = dqlbuild.run(query, data, variables=variables).rows
    assert rows, f"tile {tile} shows no rows"
    for row in rows:
        assert any(value is not None for value in row.values())


def _span_tiles() -> list[Any]:
    """The tiles that read spans (the metric ``timeseries`` tile is refused, see above)."""
    return [
        pytest.param(tile, query, id=tile)
        for tile, query in _tile_queries()
        if not query.lstrip().startswith("timeseries")
    ]


@pytest.mark.parametrize(("tile", "query"), _span_tiles())
def test_dashboard_tiles_agree_with_the_reference(tile: str, query: str) -> None:
    """Realistic data for the differential check: the tiles the reference evaluates give
    the same rows from the engine."""
    import dqlbuild
    from tests.engine import reference
    from tests.engine.test_differential import row_key

    pytest.importorskip("duckdb")
    data = {"spans": _spans(EXAMPLE.read_text(encoding="utf-8"))}
    expected = reference.run(query, data)
    actual = dqlbuild.run(query, data).rows
    assert Counter(map(row_key, actual)) == Counter(map(row_key, expected))
