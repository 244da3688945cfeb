"""Conformance on real DQL written by other people (../shared/corpus/queries.jsonl).

Every query parses, or is listed in known_invalid.txt with the reason it is not DQL;
for every parsed query the printing invariants hold. Skipped when the corpus is absent.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from dqlbuild import DQLSyntaxError, Query, format, parse
from tests.conftest import SHARED
from tests.syntax.test_grammar import lark_reference_parse

CORPUS = SHARED / "corpus" / "queries.jsonl"
KNOWN_INVALID = Path(__file__).with_name("known_invalid.txt")

pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpus is not present")


def _known_invalid() -> dict[str, str]:
    reasons = {}
    for line in KNOWN_INVALID.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            query_id, reason = line.split("\t", 1)
            reasons[query_id] = reason
    return reasons


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, str]]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def parsed(corpus: list[dict[str, str]]) -> list[tuple[str, str, Query]]:
    known = _known_invalid()
    result, unexpected, stale = [], [], []
    for record in corpus:
        try:
            query = parse(record["query"])
        except DQLSyntaxError as err:
            if record["id"] not in known:
                unexpected.append(f"{record['id']}: {err.message} at {err.line}:{err.column}")
            continue
        if record["id"] in known:
            stale.append(record["id"])
        result.append((record["id"], record["query"], query))
    assert not unexpected, "valid-looking corpus queries fail to parse:\n" + "\n".join(unexpected)
    assert not stale, f"listed as invalid but parse now (update known_invalid.txt): {stale}"
    print(
        f"\ncorpus: {len(corpus)} queries, {len(result)} parsed, "
        f"{len(corpus) - len(result)} known invalid "
        f"({(len(corpus) - len(result)) / len(corpus):.1%})"
    )
    return result


def test_every_query_parses_or_is_known_invalid(
    corpus: list[dict[str, str]], parsed: list[tuple[str, str, Query]]
) -> None:
    # DQL_SPEC §10: about 3 % of the corpus is not DQL; the grammar must not learn it.
    assert len(parsed) >= 0.95 * len(corpus)
    reasons = Counter(r.split(":")[0] for r in _known_invalid().values())
    print("known invalid by reason:", dict(reasons.most_common()))


def test_known_invalid_entries_explain_themselves() -> None:
    for query_id, reason in _known_invalid().items():
        assert query_id.startswith("q") and len(reason) > 20, (query_id, reason)


def test_printing_invariants_hold_on_every_parsed_query(
    parsed: list[tuple[str, str, Query]],
) -> None:
    failures = []
    for query_id, text, query in parsed:
        try:
            assert query.to_source() == text, "lossless reprint differs"
            canonical = format(query)
            assert parse(canonical) == query, "parse(format(q)) != q"
            assert format(canonical) == canonical, "format is not idempotent"
            assert Query.model_validate_json(query.model_dump_json()) == query, "json"
        except AssertionError as err:
            failures.append(f"{query_id}: {err}")
    assert not failures, "\n".join(failures[:20])


def test_trusted_trees_are_valid_models(parsed: list[tuple[str, str, Query]]) -> None:
    # The parser builds nodes without validation; full validation must agree.
    for _, _, query in parsed[::7]:
        assert Query.model_validate(query.model_dump()) == query


def test_engine_matches_larks_runtime_on_a_sample(parsed: list[tuple[str, str, Query]]) -> None:
    for _, text, query in parsed[::25]:
        assert lark_reference_parse(text) == query
