"""A lean driver for the LALR tables and contextual scanners that Lark compiles from
``grammar/dql.lark``.

Lark stays the single source of truth: it builds the parse table and, per parser
state, the scanner of the terminals acceptable there (the contextual lexer). This module
only runs them in one tight loop, with plain tuples for tokens and precomputed actions,
because Lark's general-purpose runtime spends most of its time on bookkeeping we do not
need (rule-keyed dictionaries, Token objects, per-token callbacks). The result is
checked against Lark's own parser on the whole corpus by the test-suite.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lark import Lark

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


class Engine:
    def __init__(self, lark: Lark, builder: Any, comment_types: frozenset[str]) -> None:
        frontend = lark.parser
        table = frontend.parser.parser.parse_table
        self.start_states: dict[str, int] = dict(table.start_states)
        self.end_states: dict[str, int] = dict(table.end_states)
        self.comment_types = comment_types
        lexer = frontend.lexer

        rules: dict[int, _Rule] = {}
        rule_ids: dict[Any, int] = {}
        for rule in lark.rules:
            rule_ids[rule] = len(rule_ids)
        for rule, rid in rule_ids.items():
            name = rule.origin.name
            names = [s.name for s in rule.expansion]
            splice_at = tuple(i for i, n in enumerate(names) if n.startswith("_"))
            splice = name.startswith("_")
            build: Callable[[list[Any]], Any] | None
            if splice or (rule.options.expand1 and len(names) == 1 and not rule.alias):
                build = None
            else:
                build = getattr(builder, rule.alias or name)
            rules[rid] = _Rule(
                len(names),
                name,
                build,
                splice,
                splice_at,
                build is None and not splice,
                splice and splice_at == (0,),
            )
        self.rules = rules

        # actions[state][terminal] = new state (shift, >= 0) or ~rule id (reduce, < 0)
        self.actions: dict[int, dict[str, int]] = {}
        self.gotos: dict[int, dict[str, int]] = {}
        for state, entries in table.states.items():
            acts: dict[str, int] = {}
            gotos: dict[str, int] = {}
            for symbol, (action, arg) in entries.items():
                if action.name == "Shift":
                    if symbol.isupper() or symbol == _END:
                        acts[symbol] = arg
                    else:
                        gotos[symbol] = arg
                else:
                    acts[symbol] = ~rule_ids[arg]
            self.actions[state] = acts
            self.gotos[state] = gotos

        # Per parser state, the terminals Lark's contextual lexer accepts there, in Lark's
        # order. Scanners are compiled on first use (a query touches few states), each
        # also skipping the whitespace before its token, which halves the scans.
        self._state_patterns: dict[int, str] = {
            state: "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in basic.terminals)
            for state, basic in lexer.lexers.items()
        }
        self._flags = lexer.root_lexer.g_regex_flags
        self._compiled: dict[str, re.Pattern[str]] = {}
        self.scanners: dict[int, re.Pattern[str]] = {}
        self._root_lexer = lexer.root_lexer  # all terminals; its scanner is built on errors only
        self.ignore_types = frozenset(lexer.root_lexer.ignore_types)
        self.newline_types = frozenset(lexer.root_lexer.newline_types)
        self.chains: dict[tuple[int, int, str], int] = {}

    def _scanner(self, state: int) -> re.Pattern[str]:
        pattern = self._state_patterns[state]
        compiled = self._compiled.get(pattern)
        if compiled is None:
            compiled = self._compiled[pattern] = re.compile(rf"\s*(?:{pattern})", self._flags)
        self.scanners[state] = compiled
        return compiled

    def _unit_chain(self, below: int, state: int, kind: str) -> int:
        """The top state after all one-child pass-through reductions on ``kind``."""
        while True:
            action = self.actions[state].get(kind)
            if action is None or action >= 0 or not self.rules[~action].passthrough:
                return state
            state = self.gotos[below][self.rules[~action].origin]

    def parse(self, text: str, start: str, comments: list[Tok]) -> tuple[Any, int]:
        """The value built for ``start`` and the number of tokens read."""
        actions = self.actions
        gotos = self.gotos
        rules = self.rules
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
            # ---- next token, scanned with the current state's terminals
            m = None
            if pos < length:
                scanner = scanners.get(state) or self._scanner(state)
                m = scanner.match(text, pos)
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
                if begin != pos and "\n" in text[pos:begin]:
                    line += text.count("\n", pos, begin)
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
                action = acts.get(kind)
                if action is None:
                    raise ParseFailure(tok[2], tok, frozenset(acts))
                if action >= 0:
                    states.append(action)
                    values.append(tok)
                    shifted += 1
                    break
                rule = rules[~action]
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
                else:
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
        for mre in self._root_lexer.scanner._mres:
            m = mre.match(text, pos)
            if m and m.lastgroup is not None and m.lastgroup not in self.ignore_types:
                tok: Tok = (m.lastgroup, m.group(0), pos, line, pos - line_start + 1)
                return ParseFailure(pos, tok, allowed)
        return ParseFailure(pos, None, allowed)
