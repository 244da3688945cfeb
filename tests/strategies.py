"""Hypothesis strategies that generate DQL syntax trees directly (not text).

Generating trees reaches printer corner cases that grammar-driven text generation
misses: precedence of every operator pair, names that need backticks, strings with any
character, deep nesting of argument forms.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from dqlbuild import (
    Access,
    Align,
    Assign,
    Binary,
    Block,
    Boolean,
    Brace,
    Call,
    Command,
    Double,
    Duration,
    FieldRef,
    In,
    Long,
    Named,
    Null,
    Query,
    Sorted,
    String,
    Unary,
    Variable,
)
from dqlbuild.ast.nodes import BINARY_OPERATORS, CHAINING_OPERATORS
from dqlbuild.catalog import get_catalog

_RESERVED = {"and", "or", "xor", "not", "in", "true", "false", "null", "asc", "desc"}
_KNOWN_COMMANDS = sorted(c.name for c in get_catalog().commands)
_KNOWN_FUNCTIONS = sorted({f.name for f in get_catalog().functions})
_LOWER_COMMANDS = {n.lower() for n in _KNOWN_COMMANDS}
_LOWER_FUNCTIONS = {n.lower() for n in _KNOWN_FUNCTIONS}

identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: s.lower() not in _RESERVED
)
dotted_names = st.from_regex(
    r"[A-Za-z_][A-Za-z0-9_]{0,5}(\.[A-Za-z0-9_]{1,4}){0,3}", fullmatch=True
)
any_names = st.one_of(dotted_names, st.text(min_size=1, max_size=12))

# Unknown names keep their spelling; known ones are stored in catalog spelling, so the
# generator uses catalog spellings or names that are not in the catalog at all.
command_names = st.one_of(
    st.sampled_from(_KNOWN_COMMANDS),
    identifiers.filter(lambda s: s.lower() not in _LOWER_COMMANDS),
)
function_names = st.one_of(
    st.sampled_from(_KNOWN_FUNCTIONS).filter(lambda s: s.lower() not in _RESERVED),
    identifiers.filter(lambda s: s.lower() not in _LOWER_FUNCTIONS),
)

doubles = st.floats(min_value=0.0, allow_nan=False, allow_infinity=False).filter(
    lambda x: math.copysign(1.0, x) > 0
)

literals = st.one_of(
    st.builds(String, value=st.text(max_size=20), style=st.sampled_from(["double", "triple"])),
    st.builds(Long, value=st.integers(min_value=0, max_value=2**64)),
    st.builds(Double, value=doubles),
    st.builds(
        Duration,
        value=st.integers(min_value=0, max_value=10**6),
        unit=st.sampled_from(["ns", "us", "ms", "s", "m", "min", "h", "d", "w", "M", "q", "y"]),
    ),
    st.builds(Boolean, value=st.booleans()),
    st.builds(Null),
)
leaves = st.one_of(
    literals,
    st.builds(FieldRef, name=any_names),
    st.builds(
        Variable,
        name=identifiers,
        modifier=st.sampled_from([None, "noquote", "backtick", "triplequote"]),
    ),
    st.builds(Align, unit=st.from_regex(r"[0-9]{0,2}[A-Za-z][A-Za-z0-9]{0,3}", fullmatch=True)),
)


def _commands(args: st.SearchStrategy[object], size: int) -> st.SearchStrategy[tuple[Command, ...]]:
    command = st.builds(Command, name=command_names, args=st.lists(args, max_size=3).map(tuple))
    return st.lists(command, min_size=1, max_size=size).map(tuple)


def _extend(children: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    blocks = st.one_of(
        st.just(Block()),
        st.builds(Block, commands=_commands(children, 2)),
    )
    argument_forms = st.one_of(
        children,
        st.builds(Named, name=identifiers, value=children),
        st.builds(Assign, target=any_names, value=st.one_of(children, blocks)),
        st.builds(Sorted, expr=children, direction=st.sampled_from(["asc", "desc"])),
    )
    return st.one_of(
        st.sampled_from(BINARY_OPERATORS).flatmap(
            lambda op: st.builds(
                Binary,
                op=st.just(op),
                operands=st.lists(
                    children, min_size=2, max_size=3 if op in CHAINING_OPERATORS else 2
                ).map(tuple),
            )
        ),
        st.builds(Unary, op=st.sampled_from(["-", "not"]), operand=children),
        st.builds(Call, name=function_names, args=st.lists(argument_forms, max_size=3).map(tuple)),
        st.builds(
            Access,
            base=children,
            key=st.one_of(st.none(), st.integers(-100, 100), any_names),
        ),
        st.builds(
            Align,
            operand=children,
            unit=st.from_regex(r"[0-9]{0,2}[A-Za-z][A-Za-z0-9]{0,3}", fullmatch=True),
        ),
        st.builds(In, operand=children, block=blocks),
    )


expressions = st.recursive(leaves, _extend, max_leaves=12)


def _arguments() -> st.SearchStrategy[object]:
    blocks = st.one_of(st.just(Block()), st.builds(Block, commands=_commands(expressions, 2)))
    value = st.one_of(
        expressions,
        st.builds(Sorted, expr=expressions, direction=st.sampled_from(["asc", "desc"])),
        st.builds(Assign, target=any_names, value=st.one_of(expressions, blocks)),
        blocks,
    )
    braced = st.recursive(
        value,
        lambda inner: st.one_of(
            st.builds(Brace, items=st.lists(inner, max_size=3).map(tuple)),
            st.builds(
                Named, name=identifiers, value=inner.filter(lambda n: not isinstance(n, Named))
            ),
        ),
        max_leaves=4,
    )
    return st.one_of(value, braced, st.builds(Named, name=identifiers, value=value))


arguments = _arguments()
queries = st.builds(
    Query,
    commands=st.lists(
        st.builds(Command, name=command_names, args=st.lists(arguments, max_size=4).map(tuple)),
        min_size=1,
        max_size=4,
    ).map(tuple),
)
