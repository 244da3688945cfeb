"""The lexical structure agrees with the parser on valid DQL and survives broken DQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dqlbuild import Block, Node, parse
from dqlbuild.ast.nodes import Command
from dqlbuild.lsp.scan import Stage, mask, open_token, scan, scan_prefix
from tests.conftest import SHARED
from tests.fixtures_dql import identity_queries, pretty_pairs

CORPUS = SHARED / "corpus" / "queries.jsonl"

Tree = list[tuple[str, int, int, Any]]


def _parsed(commands: tuple[Command, ...]) -> Tree:
    out: Tree = []
    for command in commands:
        assert command.span is not None
        out.append(
            (command.name.lower(), command.span.start, command.span.end, _subqueries(command))
        )
    return out


def _subqueries(node: Node) -> Tree:
    found: Tree = []
    stack = list(reversed(list(node.children())))
    while stack:
        child = stack.pop()
        if isinstance(child, Block):
            found.extend(_parsed(child.commands))
        else:
            stack.extend(reversed(list(child.children())))
    return found


def _scanned(stages: list[Stage]) -> Tree:
    return [(s.name.lower(), s.start, s.end, _scanned(s.children)) for s in stages]


def _queries() -> list[str]:
    queries = identity_queries() + [source for source, _ in pretty_pairs()]
    if CORPUS.exists():
        lines = CORPUS.read_text(encoding="utf-8").splitlines()
        queries += [json.loads(line)["query"] for line in lines[::20]]
    return queries


def test_stages_and_subqueries_are_the_parsers() -> None:
    checked = 0
    for text in _queries():
        try:
            query = parse(text)
        except Exception:
            continue
        assert _scanned(scan(mask(text)).stages) == _parsed(query.commands), text
        checked += 1
    assert checked >= len(identity_queries())  # all of them parse


def test_broken_text_still_has_stages() -> None:
    text = 'fetch logs | filter contains(content, "a|b" | lookup [fetch x | fields a'
    structure = scan(mask(text))
    assert [s.name for s in structure.stages] == ["fetch", "filter", "lookup"]
    assert [s.name for s in structure.stages[2].children] == ["fetch", "fields"]
    assert [f.kind for f in structure.frames] == ["query", "block"]


@pytest.mark.parametrize(
    ("prefix", "inside"),
    [
        ('a == "open', "string"),
        ('a == "closed"', None),
        ('a == "esc\\"', "string"),
        ('a == "esc\\\\"', None),
        ("a // note", "comment"),
        ("a /* open", "comment"),
        ("a /* shut */", None),
        ('a == """x', "string"),
        ("`quoted", "string"),
    ],
)
def test_the_cursor_inside_strings_and_comments(prefix: str, inside: str | None) -> None:
    assert open_token(prefix) == inside


def test_masking_keeps_length_and_lines() -> None:
    text = 'fetch logs /* a\nb */ | filter x == "q|\nr" // c'
    masked = mask(text)
    assert len(masked) == len(text)
    assert masked.count("\n") == 2
    assert masked.count("|") == 1


@settings(max_examples=60)
@given(st.data())
def test_resuming_a_scan_gives_the_same_structure(data: st.DataObject) -> None:
    texts = [s for s, _ in pretty_pairs()] + [
        'fetch a | filter x == "|" // |\n| lookup [fetch b | f',
        "| x | y",
    ]
    text = data.draw(st.sampled_from(texts))
    # Scan a prefix (which leaves a checkpoint), then an edited text, as typing does.
    scan_prefix(text, data.draw(st.integers(0, len(text))))
    cut = data.draw(st.integers(0, len(text)))
    edited = (
        text[:cut] + data.draw(st.sampled_from(["", " ", "|", "x", '"', "[", "]"])) + text[cut:]
    )
    end = data.draw(st.integers(0, len(edited)))
    _masked, structure, inside = scan_prefix(edited, end)
    fresh = scan(mask(edited[:end]))
    assert _scanned(structure.stages) == _scanned(fresh.stages)
    assert [(f.kind, f.open, f.stage_start, f.arg_starts) for f in structure.frames] == [
        (f.kind, f.open, f.stage_start, f.arg_starts) for f in fresh.frames
    ]
    assert inside == open_token(edited[:end])
