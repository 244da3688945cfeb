"""The parse tables taken from Lark and cached on disk (dqlbuild.syntax.tables)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dqlbuild.syntax import tables
from dqlbuild.syntax.engine import Engine
from dqlbuild.syntax.grammar import COMMENT_TERMINALS, build_lark, grammar_text
from dqlbuild.syntax.parser import _Builder

QUERY = 'fetch logs // c\n| filter in == "x" and b > 1h\n| summarize n = count(), by: {k}'


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DQLBUILD_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _parse(t: tables.Tables, text: str = QUERY) -> object:
    engine = Engine(t, _Builder(), frozenset(COMMENT_TERMINALS))
    return engine.parse(text, "query", [])[0]


def test_the_cached_tables_are_the_ones_lark_compiles(cache: Path) -> None:
    fresh = tables.from_lark(build_lark())
    assert not cache.exists()
    first = tables.load(grammar_text())  # a miss: compiled and written
    written = list(cache.glob("tables-*.json"))
    assert len(written) == 1
    second = tables.load(grammar_text())  # a hit: read back
    assert first == second == fresh
    assert _parse(second) == _parse(fresh)


def test_another_grammar_text_never_meets_stale_tables(cache: Path) -> None:
    assert tables.cache_path(grammar_text()) != tables.cache_path(grammar_text() + "\n")
    assert tables.cache_path(grammar_text()).parent == cache


@pytest.mark.parametrize("content", ["", "{", '{"rules": 3}', "[]", "\x00\x01"])
def test_a_damaged_cache_file_is_rebuilt(cache: Path, content: str) -> None:
    path = tables.cache_path(grammar_text())
    path.parent.mkdir(parents=True)
    path.write_text(content)
    loaded = tables.load(grammar_text())
    assert loaded == tables.from_lark(build_lark())
    assert json.loads(path.read_text())["rules"]  # and replaced with good tables


def test_an_unwritable_cache_only_costs_the_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("DQLBUILD_CACHE_DIR", str(blocker / "cache"))
    assert _parse(tables.load(grammar_text())) == _parse(tables.from_lark(build_lark()))


def test_the_cache_follows_xdg_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DQLBUILD_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert tables.cache_dir() == tmp_path / "dqlbuild"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert tables.cache_dir() == tmp_path / "home" / ".cache" / "dqlbuild"


def test_a_state_whose_terminals_are_ordered_otherwise_is_refused() -> None:
    # The global scanner stands in for a state's own only if both try terminals in one order.
    good = tables.from_lark(build_lark())
    state, names = next((s, n) for s, n in good.state_terminals.items() if len(n) > 2)
    swapped = {**good.state_terminals, state: (names[1], names[0], *names[2:])}
    bad = good._replace(state_terminals=swapped)
    with pytest.raises(ValueError, match="orders its terminals"):
        Engine(bad, _Builder(), frozenset(COMMENT_TERMINALS))


def test_parsing_with_cached_tables_does_not_import_lark(cache: Path) -> None:
    tables.load(grammar_text())  # fill the cache
    code = f"import sys, dqlbuild\ndqlbuild.parse({QUERY!r})\nprint('lark' in sys.modules)\n"
    env = {**os.environ, "DQLBUILD_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("abc", "a"),
        ("(?i:and)(?![a-z])", "Aa"),
        ("[0-9]+(?:ms|s)", "0123456789"),
        ("-?[xy]", "-xy"),
        ("(?:a|b)*c", "abc"),
        ("(?=q)qr", "q"),
        (r"\$[A-Z]", "$"),
        (r"\s+", "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "),
        ("(?>ab|cd)", "ac"),
        ("[^\x00-\x7e]", "\x7f"),
        ("a*", None),  # can match nothing: a terminal like it could start anywhere
        ("(a)?(?(1)b|c)", None),  # a construct the analysis does not know
    ],
)
def test_first_chars_are_the_ascii_characters_a_match_can_start_with(
    pattern: str, expected: str | None
) -> None:
    assert tables.first_chars(pattern, 0) == expected


_TABLES = tables.load(grammar_text())


@pytest.mark.parametrize("name", [n for n, _ in _TABLES.terminals])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_terminal_starts_outside_its_first_chars(name: str, data: st.DataObject) -> None:
    # A scanner narrowed by first characters must never drop a terminal that matches.
    pattern = dict(_TABLES.terminals)[name]
    first = _TABLES.first_chars[name]
    text = data.draw(
        st.from_regex(re.compile(rf"(?:{pattern})[\s\S]{{0,3}}", _TABLES.flags), fullmatch=True)
    )
    assume(re.compile(pattern, _TABLES.flags).match(text))
    if first is not None and text[0] < "\x80":
        assert text[0] in first


@pytest.mark.parametrize("space", [" ", "\t", "\x0b", "\x0c", "\x1c", "\xa0", "\u2003", "\u3000"])
def test_any_whitespace_separates_tokens_as_in_larks_lexer(space: str) -> None:
    from tests.syntax.test_grammar import lark_reference_parse

    text = f"fetch{space}logs{space}|{space}filter{space}in{space}=={space}1{space}"
    assert _parse(_TABLES, text) == lark_reference_parse(text)
