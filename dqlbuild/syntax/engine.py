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


class _Rule:
    # A plain class, not a dataclass: generating a dataclass's methods costs start-up.
    __slots__ = ("build", "extends", "origin", "passthrough", "size", "splice", "splice_at")

    def __init__(
        self,
        size: int,
        origin: str,
        build: Callable[[list[Any]], Any] | None,
        splice: bool,
        splice_at: tuple[int, ...],
        passthrough: bool,
        extends: bool,
    ) -> None:
        self.size = size
        self.origin = origin
        # None: pass the single child through (an inlined ``?rule`` with one child).
        self.build = build
        # A ``__rule_star`` helper: its children are spliced into the parent, from
        # these positions among this rule's children.
        self.splice = splice
        self.splice_at = splice_at
        self.passthrough = passthrough  # one child, no callback: the value passes through
        # A left-recursive helper whose other children are plain: grow in place.
        self.extends = extends


_END = "$END"
# Whitespace before a token is skipped by the loop itself (the WS terminal would cost a
# token round). ASCII only: other whitespace is scanned as the WS terminal.
_SPACES = frozenset(ch for ch in map(chr, range(128)) if ch.isspace())
_WS = re.compile(r"\s+")


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

        # Scanning. Lark's contextual lexer tries, per parser state, the terminals
        # acceptable there, in its priority order. One scanner of every terminal in that
        # order picks the same terminal whenever it picks one the state accepts (the
        # state's terminals before it come before it globally too, and did not match), so
        # the state's own scanner is asked only when the global pick is not acceptable
        # (`in` written as a field name). Each scanner is narrowed further to the
        # terminals that can start with the character at hand (tables.first_chars): a
        # terminal that cannot start there cannot match, so dropping it keeps the order
        # of the rest, and the regex engine tries a handful of alternatives, not forty.
        order = {name: i for i, (name, _) in enumerate(tables.terminals)}
        self._patterns = dict(tables.terminals)
        self._names = tuple(order)
        self._first = tables.first_chars
        self._flags = tables.flags
        self.accepts: list[frozenset[str]] = [frozenset() for _ in range(count)]
        self._state_terminals: dict[int, tuple[str, ...]] = {}
        for state, names in tables.state_terminals.items():
            ranks = [order[n] for n in names]
            if ranks != sorted(ranks):
                raise ValueError(f"parser state {state} orders its terminals unlike the lexer")
            self.accepts[state] = frozenset(names)
            self._state_terminals[state] = names
        self._compiled: dict[tuple[str, ...], re.Pattern[str]] = {}
        # The global scanner narrowed per first character (filled as characters are met).
        self.by_char: dict[str, re.Pattern[str] | None] = {}
        self._own: dict[tuple[int, str], re.Pattern[str] | None] = {}
        self.ignore_types = tables.ignore_types
        self.newline_types = tables.newline_types
        self._special = self.ignore_types | self.newline_types  # kinds that need a look
        # Characters that only one terminal can start, that terminal being just that
        # character (and needing no care): the token is the character, no regex needed.
        self.single: dict[str, str] = {}
        for name, pattern in tables.terminals:
            first = self._first[name]
            if (
                first is not None
                and len(first) == 1
                and pattern in (first, "\\" + first)
                and name not in self._special
                and self._starting(self._names, first) == (name,)
            ):
                self.single[first] = name
        self.chains: dict[tuple[int, int, str], int] = {}

    def _compile(self, names: Iterable[str]) -> re.Pattern[str]:
        alternatives = "|".join(f"(?P<{n}>{self._patterns[n]})" for n in names)
        return re.compile(alternatives, self._flags)

    def _starting(self, names: tuple[str, ...], ch: str) -> tuple[str, ...]:
        """Those of ``names`` that can start with ``ch`` (all of them for a non-ASCII one)."""
        if ch >= "\x80":
            return names
        first = self._first
        return tuple(n for n in names if (f := first[n]) is None or ch in f)

    def _scanner(self, names: tuple[str, ...]) -> re.Pattern[str] | None:
        """A scanner of ``names`` in their order, compiled once (None: no names)."""
        if not names:
            return None
        compiled = self._compiled.get(names)
        if compiled is None:
            compiled = self._compiled[names] = self._compile(names)
        return compiled

    def _scan_char(self, ch: str) -> re.Pattern[str] | None:
        found = self.by_char[ch] = self._scanner(self._starting(self._names, ch))
        return found

    def _own_scan(self, state: int, text: str, pos: int) -> re.Match[str] | None:
        # The state's own scanner, for where the global pick is not acceptable there.
        key = (state, text[pos])
        try:
            scanner = self._own[key]
        except KeyError:
            names = self._starting(self._state_terminals[state], key[1])
            scanner = self._own[key] = self._scanner(names)
        return None if scanner is None else scanner.match(text, pos)

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
        by_char = self.by_char
        single = self.single
        accepts = self.accepts
        spaces = _SPACES
        skip_space = _WS.match
        ignore = self.ignore_types
        newline_types = self.newline_types
        special = self._special
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
            ch = text[pos] if pos < length else ""
            if ch in spaces:
                if ch == " " and text[pos + 1 : pos + 2] not in spaces:
                    pos += 1  # one space, the common case: not worth two calls
                else:
                    begin = skip_space(text, pos).end()  # type: ignore[union-attr]
                    newlines = text.count("\n", pos, begin)
                    if newlines:
                        line += newlines
                        line_start = text.rfind("\n", pos, begin) + 1
                    pos = begin
                ch = text[pos] if pos < length else ""
            kind = single.get(ch)
            if kind is not None and kind in accepts[state]:
                # A character that only a one-character terminal can start (`|`, `,`,
                # `(`): no regex to run.
                tok: Tok = (kind, ch, pos, line, pos - line_start + 1)
                pos += 1
            else:
                if ch:
                    try:
                        scanner = by_char[ch]
                    except KeyError:
                        scanner = self._scan_char(ch)
                    if scanner is not None:
                        m = scanner.match(text, pos)
                    if m is None or m.lastgroup not in accepts[state]:
                        m = self._own_scan(state, text, pos)
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
                    tok = (_END, "", length, line, length - line_start + 1)
                    pos = length
                else:
                    kind = m.lastgroup
                    end = m.end()
                    value = m.group()
                    tok = (kind, value, pos, line, pos - line_start + 1)  # type: ignore[assignment]
                    pos = end
                    if kind in special:
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
                try:
                    rule = actions[state][kind]
                except KeyError:
                    raise ParseFailure(tok[2], tok, frozenset(actions[state])) from None
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
                    try:
                        state = chains[key]
                    except KeyError:
                        state = chains[key] = self._unit_chain(states[-2], state, kind)
                    states[-1] = state
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
                if state == end_state and kind == _END:
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
        everything = self._scanner(self._names)
        m = everything.match(text, pos) if everything else None  # pos: not whitespace
        if m is not None and m.lastgroup is not None and m.lastgroup not in self.ignore_types:
            tok: Tok = (m.lastgroup, m.group(m.lastgroup), pos, line, pos - line_start + 1)
            return ParseFailure(pos, tok, allowed)
        return ParseFailure(pos, None, allowed)
