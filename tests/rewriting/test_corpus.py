"""Conformance over the shared corpus of real queries: every query that parses can take
an injected filter (placement auto, into every execution block), and the edited text
parses back to the edited tree; every one with variables renders safely. Skipped when
../shared is absent; nothing is copied.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dqlbuild import parse, parse_expression
from dqlbuild.errors import DQLError, DQLSyntaxError
from dqlbuild.rewriting.inject import inject_filter_text
from dqlbuild.rewriting.render import render
from dqlbuild.rewriting.variables import variables

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "queries.jsonl"
CONDITION = parse_expression("in(service.name, array($Service))")


@dataclass
class Outcome:
    statuses: Counter[str] = field(default_factory=Counter)
    errors: dict[str, list[str]] = field(default_factory=dict)
    unparsed: int = 0

    def error(self, key: str, query_id: str) -> None:
        self.errors.setdefault(key, []).append(query_id)


@pytest.fixture(scope="module")
def outcome() -> Outcome:
    if not CORPUS.exists():
        pytest.skip("shared corpus not available")
    result = Outcome()
    with CORPUS.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            try:
                injected = inject_filter_text(record["query"], CONDITION)
            except DQLSyntaxError:
                result.unparsed += 1
                continue
            except DQLError as exc:
                result.error(exc.message, record["id"])
                continue
            for item in injected.results():
                result.statuses[item.status] += 1
            result.statuses[f"query {injected.status}"] += 1
    print(
        f"\ncorpus injection: {dict(result.statuses)}, unparsed {result.unparsed}, "
        f"errors { ({k: len(v) for k, v in result.errors.items()}) }"
    )
    return result


def test_every_parsed_corpus_query_takes_the_filter(outcome: Outcome) -> None:
    # inject_filter_text raises when the edited text does not parse back to the edited
    # tree or loses a comment: no such error may occur.
    assert not {key: ids[:5] for key, ids in outcome.errors.items()}
    assert outcome.statuses["filtered"] > 0


# A value per modifier that each strategy can hold (the hypothesis tests cover escaping;
# values the app would break on make every query slower to check).
RENDER_VALUES = {None: "a b", "noquote": "-5", "backtick": "my field", "triplequote": 'a "b" c'}


def test_every_parsed_corpus_query_with_variables_renders() -> None:
    if not CORPUS.exists():
        pytest.skip("shared corpus not available")
    rendered = 0
    failures: list[tuple[str, str]] = []
    with CORPUS.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            text = record["query"]
            refs = variables(text)
            if not refs:
                continue
            try:
                parse(text)
            except DQLSyntaxError:
                continue
            values = {ref.name: RENDER_VALUES[ref.modifier] for ref in refs}
            try:
                parse(render(text, values).text)
            except DQLError as exc:
                failures.append((record["id"], str(exc)))
            rendered += 1
    print(f"\ncorpus render: {rendered} queries with variables rendered")
    assert not failures[:5]
    assert rendered > 0
