"""The parse tables Lark compiles from ``grammar/dql.lark``, as plain data, cached on disk.

Compiling the grammar takes Lark about half a second and importing Lark a tenth of one;
neither is needed to *run* the tables. So the tables are taken from Lark once per grammar
text, written as JSON to the user's cache directory (keyed by a hash of the grammar, so
an edited grammar never meets stale tables), and later processes read that file instead.
A missing, unreadable or unwritable cache only costs the rebuild; it is never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any, NamedTuple

# Bumped whenever the layout below changes, so old cache files are never misread.
FORMAT = 2

# (children, rule name, builder callback or None, splices its children, spliced positions)
Rule = tuple[int, str, str | None, bool, tuple[int, ...]]


class Tables(NamedTuple):
    # A named tuple: a frozen dataclass costs every start-up to generate.
    start_states: dict[str, int]
    end_states: dict[str, int]
    rules: list[Rule]
    # actions[state][terminal]: a new state (shift, >= 0) or ~rule index (reduce, < 0)
    actions: dict[int, dict[str, int]]
    gotos: dict[int, dict[str, int]]
    # Per parser state, the terminals its scanner tries, in Lark's priority order.
    state_terminals: dict[int, tuple[str, ...]]
    terminals: list[tuple[str, str]]  # every terminal and its regular expression, in order
    # Per terminal, the ASCII characters a match can start with (None: not known, any).
    first_chars: dict[str, str | None]
    flags: int
    ignore_types: frozenset[str]
    newline_types: frozenset[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "start_states": self.start_states,
            "end_states": self.end_states,
            "rules": self.rules,
            "actions": self.actions,
            "gotos": self.gotos,
            "state_terminals": self.state_terminals,
            "terminals": self.terminals,
            "first_chars": self.first_chars,
            "flags": self.flags,
            "ignore_types": sorted(self.ignore_types),
            "newline_types": sorted(self.newline_types),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tables:
        return cls(
            start_states=dict(data["start_states"]),
            end_states=dict(data["end_states"]),
            rules=[(n, o, c, s, tuple(at)) for n, o, c, s, at in data["rules"]],
            actions={int(k): dict(v) for k, v in data["actions"].items()},
            gotos={int(k): dict(v) for k, v in data["gotos"].items()},
            state_terminals={int(k): tuple(v) for k, v in data["state_terminals"].items()},
            terminals=[(name, pattern) for name, pattern in data["terminals"]],
            first_chars=dict(data["first_chars"]),
            flags=int(data["flags"]),
            ignore_types=frozenset(data["ignore_types"]),
            newline_types=frozenset(data["newline_types"]),
        )


def from_lark(lark: Any) -> Tables:
    """The tables of a compiled ``Lark`` (LALR, contextual lexer)."""
    frontend = lark.parser
    table = frontend.parser.parser.parse_table
    lexer = frontend.lexer
    rule_ids = {rule: i for i, rule in enumerate(lark.rules)}
    rules: list[Rule] = []
    for rule in lark.rules:
        name = rule.origin.name
        names = [s.name for s in rule.expansion]
        splice = name.startswith("_")
        callback: str | None = rule.alias or name
        if splice or (rule.options.expand1 and len(names) == 1 and not rule.alias):
            callback = None
        at = tuple(i for i, n in enumerate(names) if n.startswith("_"))
        rules.append((len(names), name, callback, splice, at))
    actions: dict[int, dict[str, int]] = {}
    gotos: dict[int, dict[str, int]] = {}
    for state, entries in table.states.items():
        acts, jumps = actions.setdefault(state, {}), gotos.setdefault(state, {})
        for symbol, (action, arg) in entries.items():
            if action.name != "Shift":
                acts[symbol] = ~rule_ids[arg]
            elif symbol.isupper() or symbol == "$END":
                acts[symbol] = arg
            else:
                jumps[symbol] = arg
    root = lexer.root_lexer
    return Tables(
        start_states=dict(table.start_states),
        end_states=dict(table.end_states),
        rules=rules,
        actions=actions,
        gotos=gotos,
        state_terminals={
            state: tuple(t.name for t in basic.terminals) for state, basic in lexer.lexers.items()
        },
        terminals=[(t.name, t.pattern.to_regexp()) for t in root.terminals],
        first_chars={
            t.name: first_chars(t.pattern.to_regexp(), root.g_regex_flags) for t in root.terminals
        },
        flags=root.g_regex_flags,
        ignore_types=frozenset(root.ignore_types),
        newline_types=frozenset(root.newline_types),
    )


def first_chars(pattern: str, flags: int) -> str | None:
    """The ASCII characters that a match of ``pattern`` can start with, or None when the
    pattern is beyond this analysis (then it is tried at every character).

    Python's regex engine tries the alternatives of a scanner one by one; knowing where
    each terminal can start lets the parser try only those that can match at all (the
    others cannot, so their priority order among the rest is kept). Uses the standard
    library's regex parser, only when the tables are built (never at parse time); any
    construct it does not know makes the answer None, which is always correct.
    """
    try:
        tree = _sre("parser").parse(pattern, flags)
        chars, nullable = _first(tree.data, tree.state.flags | flags, tree.state)
    except Exception:  # a private module's shape changed: fall back to "any"
        return None
    if chars is None or nullable:
        return None
    return "".join(sorted(chars))


def _first(items: Any, flags: int, state: Any) -> tuple[set[str] | None, bool]:
    # (characters a match of the sequence can start with, whether it can match empty)
    c = _sre("constants")
    chars: set[str] = set()
    for op, av in items:
        if op in (c.LITERAL, c.NOT_LITERAL, c.IN, c.ANY, c.CATEGORY):
            # One character: which ASCII ones it accepts is asked of the regex engine
            # itself, so case folding and character classes are exactly Python's.
            atom = _sre("compiler").compile(_sre("parser").SubPattern(state, [(op, av)]), flags)
            chars.update(ch for ch in map(chr, range(128)) if atom.match(ch))
            return chars, False
        if op is c.SUBPATTERN:
            _, add, remove, sub = av
            found, nullable = _first(sub.data, (flags | add) & ~remove, state)
        elif op is c.ATOMIC_GROUP:
            found, nullable = _first(av.data, flags, state)
        elif op is c.BRANCH:
            found, nullable = set(), False
            for alternative in av[1]:
                more, empty = _first(alternative.data, flags, state)
                if more is None:
                    return None, False
                found |= more
                nullable = nullable or empty
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            low, _, sub = av
            found, nullable = _first(sub.data, flags, state)
            nullable = nullable or low == 0
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue  # zero width: it only narrows what follows
        else:
            return None, False
        if found is None:
            return None, False
        chars |= found
        if not nullable:
            return chars, False
    return chars, True


def _sre(name: str) -> Any:
    # The standard library's regex internals (private, so typed loosely; see first_chars).
    import importlib

    return importlib.import_module(f"re._{name}")


def cache_dir() -> Path:
    """``$DQLBUILD_CACHE_DIR``, else ``$XDG_CACHE_HOME/dqlbuild``, else ``~/.cache/dqlbuild``."""
    explicit = os.environ.get("DQLBUILD_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dqlbuild"


def cache_path(grammar: str) -> Path:
    digest = hashlib.sha256(f"{FORMAT}\n{grammar}".encode()).hexdigest()[:24]
    return cache_dir() / f"tables-{digest}.json"


def load(grammar: str) -> Tables:
    """The tables of ``grammar``: from the cache, else compiled by Lark and cached."""
    path = cache_path(grammar)
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return Tables.from_json(json.loads(path.read_text(encoding="utf-8")))
    from dqlbuild.syntax.grammar import build_lark  # Lark only when the cache misses

    tables = from_lark(build_lark(text=grammar))
    with contextlib.suppress(OSError):
        _write(path, json.dumps(tables.to_json(), separators=(",", ":")))
    return tables


def _write(path: Path, text: str) -> None:
    # Atomic: a concurrent reader sees the old file or the whole new one, never half.
    import tempfile  # only when the cache is written: it costs every start-up otherwise

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tables-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
