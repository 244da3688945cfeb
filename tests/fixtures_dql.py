"""Readers for the DQL fixture files (identity.dql, pretty.dql)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "dql"


def _blocks(name: str) -> list[str]:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return [block.strip("\n") for block in text.split("\n---\n")]


def identity_queries() -> list[str]:
    """Queries already in canonical form: formatting must return them unchanged."""
    return _blocks("identity.dql")


def pretty_pairs() -> list[tuple[str, str]]:
    """(input, expected canonical output) pairs."""
    pairs = []
    for block in _blocks("pretty.dql"):
        source, expected = block.split("\n==>\n")
        pairs.append((source, expected))
    return pairs
