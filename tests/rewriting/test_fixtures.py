"""Fixture pairs in tests/fixtures/rewrite: ``NAME.before.dql`` rewritten must equal
``NAME.after.dql`` byte for byte.

The first line of both files is a header, not part of the query: ``//!`` and a JSON
object. ``{"inject": CONDITION, "placement": ..., "data-object": ..., "subqueries": bool,
"status": [...], "overall": STATUS}`` runs :func:`inject_filter_text` and expects those
pipeline statuses (the query's own pipeline, then its execution blocks' depth first) and
that status of the whole query (default: the first pipeline status).
``{"render": VALUES, "all_values": ..., "strict": bool, "now": ISO, "warnings": [SUBSTRING,
...]}`` runs :func:`render`.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dqlbuild.rewriting.inject import InjectResult, inject_filter_text
from dqlbuild.rewriting.render import render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rewrite"
NAMES = sorted(p.name.removesuffix(".before.dql") for p in FIXTURES.glob("*.before.dql"))


def read(path: Path) -> tuple[dict[str, Any], str]:
    raw = path.read_bytes().decode("utf-8")
    header, _, text = raw.partition("\n")
    assert header.startswith("//! "), f"{path.name}: the first line must be the //! header"
    meta: dict[str, Any] = json.loads(header[4:])
    return meta, text


def inject(meta: dict[str, Any], text: str) -> InjectResult:
    return inject_filter_text(
        text,
        meta["inject"],
        placement=meta.get("placement", "auto"),
        data_object=meta.get("data-object"),
        into_subqueries=meta.get("subqueries", True),
    )


def rewrite(meta: dict[str, Any], text: str) -> str:
    if "inject" in meta:
        result = inject(meta, text)
        assert [r.pipeline_status for r in result.results()] == meta["status"]
        assert result.status == meta.get("overall", meta["status"][0])
        return result.text
    now = datetime.fromisoformat(meta.get("now", "2024-05-06T07:08:09+00:00"))
    rendered = render(
        text,
        meta["render"],
        strict=meta.get("strict", True),
        all_values=meta.get("all_values"),
        now=now,
    )
    expected_warnings: list[str] = meta.get("warnings", [])
    assert len(rendered.warnings) == len(expected_warnings), rendered.warnings
    for warning, expected in zip(rendered.warnings, expected_warnings, strict=True):
        assert expected in warning
    return rendered.text


def test_every_fixture_has_a_pair() -> None:
    afters = sorted(p.name.removesuffix(".after.dql") for p in FIXTURES.glob("*.after.dql"))
    assert afters == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_fixture(name: str) -> None:
    meta, before = read(FIXTURES / f"{name}.before.dql")
    after_meta, after = read(FIXTURES / f"{name}.after.dql")
    assert after_meta == meta
    assert rewrite(meta, before) == after


INJECTIONS = [n for n in NAMES if "inject" in read(FIXTURES / f"{n}.before.dql")[0]]


@pytest.mark.parametrize("name", INJECTIONS)
def test_injecting_again_changes_nothing(name: str) -> None:
    meta, after = read(FIXTURES / f"{name}.after.dql")
    again = inject(meta, after)
    assert again.text == after
    assert "filtered" not in [r.pipeline_status for r in again.results()]
