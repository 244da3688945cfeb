"""A lean driver for the LALR tables and contextual scanners that Lark compiles from
``grammar/dql.lark`` (see :mod:`dqlbuild.syntax.tables`).

Lark stays the single source of truth: it builds the parse table and, per parser
state, the set of terminals acceptable there (the contextual lexer). This module only
runs them in one tight loop, with plain tuples for tokens and precomputed actions,
because Lark's general-purpose runtime spends most of its time on bookkeeping we do not
need (rule-keyed dictionaries, Token objects, per-token callbacks). The result is
checked against Lark's own parser on the whole corpus by the test-suite.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dqlbuild.syntax.tables import Tables

# A token: (type, text, start offset, line, column). End positions are derived.
Tok = tuple[str, str, int, int, int]


class ParseFailure(Exception):
    """Raised by the engine; turned into a DQLSyntaxError by the caller.

    ``token`` is the offending token (None when no terminal matched at ``offset``) and
    ``allowed`` the terminals the parser could accept there.
    """

    def __init__(self, offset: int, token: Tok | None, allowed: frozenset[str]) -> None:
        super().__init__(offset)
        self.offset = offset
        self.token = token
        self.allowed = allowed


@dataclass(frozen=True, slots=True)
class _Rule:
    size: int
    origin: str
    # None: pass the single child through (an inlined ``?rule`` with one child).
    build: Callable[[list[Any]], Any] | None
    splice: bool  # a ``__rule_star`` helper: its children are spliced into the parent
    splice_at: tuple[int, ...]  # positions of spliced children among this rule's children
    passthrough: bool  # one child, no callback: the value passes through unchanged
    extends: bool  # a left-recursive helper whose other children are plain: grow in place


_END = "$END"
# Tokens a parser state scans with the global scanner before it gets its own.
COMPILE_AFTER = 64


class Engine:
    def __init__(self, tables: Tables, builder: Any, comment_types: frozenset[str]) -> None:
        self.start_states = tables.start_states
        self.end_states = tables.end_states
        self.comment_types = comment_types
        self.rules = [
            _Rule(
                size,
                origin,
                None if callback is None else getattr(builder, callback),
                splice,
                splice_at,
                callback is None and not splice,
                splice and splice_at == (0,),
            )
            for size, origin, callback, splice, splice_at in tables.rules
        ]
        # actions[state][terminal]: the new state (an int: shift) or the rule to reduce.
        # Indexed by state number (lists: quicker than dicts in the loop).
        count = 1 + max(tables.actions)
        # Values: int (shift) or _Rule (reduce); Any, as mypy does not narrow `type(x) is int`.
        self.actions: list[dict[str, Any]] = [{} for _ in range(count)]
        for state, acts in tables.actions.items():
            self.actions[state] = {t: a if a >= 0 else self.rules[~a] for t, a in acts.items()}
        self.gotos: list[dict[str, int]] = [{} for _ in range(count)]
        for state, jumps in tables.gotos.items():
            self.gotos[state] = jumps

        # One scanner of every terminal, in Lark's priority order, stands in for a state's
        # own scanner until that state is used often (see _cold_scan): the state's own
        # (Lark's contextual lexer: the terminals acceptable there, in the same order)
        # would pick the same terminal whenever the global one picks a terminal the state
        # accepts, because the state's terminals before it come before it globally too
        # and did not match. Only when the global pick is not acceptable (`in` written as
        # a field name) must the state's own decide. So a short run compiles one big
        # pattern, not one per state, and a long one the few, faster, that it uses most.
        order = {name: i for i, (name, _) in enumerate(tables.terminals)}
        self._patterns = dict(tables.terminals)
        self._flags = tables.flags
        self.accepts: list[frozenset[str]] = [frozenset() for _ in range(count)]
        self._state_terminals: dict[int, tuple[str, ...]] = {}
        for state, names in tables.state_terminals.items():
            ranks = [order[n] for n in names]
            if ranks != sorted(ranks):
                raise ValueError(f"parser state {state} orders its terminals unlike the lexer")
            self.accepts[state] = frozenset(names)
            self._state_terminals[state] = names
        self.scanner = self._compile(n for n, _ in tables.terminals)
        self._compiled: dict[tuple[str, ...], re.Pattern[str]] = {}
        self.scanners: list[re.Pattern[str] | None] = [None] * count
        self._visits = [0] * count
        self.ignore_types = tables.ignore_types
        self.newline_types = tables.newline_types
        self.chains: dict[tuple[int, int, str], int] = {}

    def _compile(self, names: Iterable[str]) -> re.Pattern[str]:
        # Each scanner also skips the whitespace before its token, which halves the scans.
        alternatives = "|".join(f"(?P<{n}>{self._patterns[n]})" for n in names)
        return re.compile(rf"\s*(?:{alternatives})", self._flags)

    def _cold_scan(self, text: str, pos: int, state: int) -> re.Match[str] | None:
        # A state's own scanner matches faster (fewer alternatives) but costs a compile:
        # worth it once the state is seen often, not for the few tokens of a short run.
        seen = self._visits[state] = self._visits[state] + 1
        if seen >= COMPILE_AFTER:
            return self._scanner(state).match(text, pos)
        m = self.scanner.match(text, pos)
        if m is not None and m.lastgroup not in self.accepts[state]:
            return self._scanner(state).match(text, pos)
        return m

    def _scanner(self, state: int) -> re.Pattern[str]:
        names = self._state_terminals[state]
        compiled = self._compiled.get(names)
        if compiled is None:
            compiled = self._compiled[names] = self._compile(names)
        self.scanners[state] = compiled
        return compiled

    def _unit_chain(self, below: int, state: int, kind: str) -> int:
        """The top state after all one-child pass-through reductions on ``kind``."""
        while True:
            action = self.actions[state].get(kind)
            if action is None or type(action) is int or not action.passthrough:
                return state
            state = self.gotos[below][action.origin]

    def parse(self, text: str, start: str, comments: list[Tok]) -> tuple[Any, int]:
        """The value built for ``start`` and the number of tokens read."""
        actions = self.actions
        gotos = self.gotos
        scanners = self.scanners
        ignore = self.ignore_types
        newline_types = self.newline_types
        comment_types = self.comment_types
        end_state = self.end_states[start]
        chains = self.chains

        states = [self.start_states[start]]
        values: list[Any] = []
        pos = 0
        line = 1
        line_start = 0
        length = len(text)
        shifted = 0

        while True:
            state = states[-1]
            # ---- next token: the global scanner, or the state's own where it must decide
            m = None
            if pos < length:
                scanner = scanners[state]
                m = scanner.match(text, pos) if scanner else self._cold_scan(text, pos, state)
            if m is None:
                # Nothing but whitespace left is the end; anything else is an error.
                rest = text.count("\n", pos, length)
                if text[pos:length].strip():
                    skipped = len(text) - len(text[pos:].lstrip())
                    if rest:
                        line += text.count("\n", pos, skipped)
                        line_start = text.rfind("\n", 0, skipped) + 1
                    raise self._no_match(text, skipped, line, line_start, state)
                if rest:
                    line += rest
                    line_start = text.rfind("\n", 0, length) + 1
                tok: Tok = (_END, "", length, line, length - line_start + 1)
                pos = length
            else:
                kind = m.lastgroup
                assert kind is not None
                end = m.end()
                value = m.group(kind)
                begin = end - len(value)
                if begin != pos:
                    newlines = text.count("\n", pos, begin)
                    if newlines:
                        line += newlines
                        line_start = text.rfind("\n", pos, begin) + 1
                tok = (kind, value, begin, line, begin - line_start + 1)
                pos = end
                if kind in newline_types and "\n" in value:
                    line += value.count("\n")
                    line_start = end - (len(value) - value.rfind("\n") - 1)
                if kind in ignore:
                    if kind in comment_types:
                        comments.append(tok)
                    continue

            # ---- feed it: reduce as long as needed, then shift
            kind = tok[0]
            while True:
                acts = actions[state]
                rule = acts.get(kind)
                if rule is None:
                    raise ParseFailure(tok[2], tok, frozenset(acts))
                if type(rule) is int:
                    states.append(rule)
                    values.append(tok)
                    shifted += 1
                    break
                if rule.passthrough:
                    # A chain of inlined one-child ``?rule`` reductions (the precedence
                    # ladder) leaves the value and the state below it untouched; where
                    # it ends depends only on (state below, top state, lookahead), so
                    # it is computed once and then jumped over.
                    key = (states[-2], state, kind)
                    target = chains.get(key)
                    if target is None:
                        target = chains[key] = self._unit_chain(states[-2], state, kind)
                    states[-1] = state = target
                    continue
                size = rule.size
                if size:
                    children = values[-size:]
                    del states[-size:]
                    del values[-size:]
                else:
                    children = []
                if rule.splice_at:
                    if rule.extends:
                        # `__x_star: __x_star COMMA arg`: the list so far grows in
                        # place (it is referenced only from this stack), so a list
                        # of n items costs O(n), not O(n²).
                        flat: list[Any] = children[0]
                        flat.extend(children[1:])
                    else:
                        flat = []
                        for i, child in enumerate(children):
                            if i in rule.splice_at:
                                flat.extend(child)
                            else:
                                flat.append(child)
                    children = flat
                build = rule.build
                value_out = children if build is None else build(children)
                state = gotos[states[-1]][rule.origin]
                states.append(state)
                values.append(value_out)
                if kind == _END and state == end_state:
                    return value_out, shifted
            if kind == _END:
                # $END is never shifted by Lark's tables; never loop forever regardless.
                raise ParseFailure(tok[2], tok, frozenset())

    def _no_match(
        self, text: str, pos: int, line: int, line_start: int, state: int
    ) -> ParseFailure:
        # Like Lark's contextual lexer: if some terminal of the whole grammar matches,
        # report it as an unexpected token; otherwise as an unexpected character.
        allowed = frozenset(self.actions[state])
        m = self.scanner.match(text, pos)
        if m is not None and m.lastgroup is not None and m.lastgroup not in self.ignore_types:
            tok: Tok = (m.lastgroup, m.group(m.lastgroup), pos, line, pos - line_start + 1)
            return ParseFailure(pos, tok, allowed)
        return ParseFailure(pos, None, allowed)
