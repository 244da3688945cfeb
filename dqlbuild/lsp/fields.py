"""The fields a stage can use: those the stages before it create, and those they read
that still exist (after ``fetch`` a field is known only once the query names it).

The stages are parsed one by one, so a stage that does not parse (the one being typed,
a typo further up) costs only its own fields; parsed stages are cached by their text,
so completion in a long query parses only what changed.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from dqlbuild.analysis.checks import REFERENCE_KINDS
from dqlbuild.analysis.fieldflow import StageFlow, analyze
from dqlbuild.ast.base import Node
from dqlbuild.ast.nodes import Block, Command, FieldRef, Query
from dqlbuild.errors import DQLError
from dqlbuild.syntax.parser import parse_pipeline

# Field flow is followed over at most this many stages before the cursor: in longer
# queries the fields of earlier stages are not suggested (flow costs grow with length).
MAX_STAGES = 400
_CACHE_SIZE = 8192
_CACHED_LENGTH = 20_000


@dataclass(frozen=True)
class FieldInfo:
    name: str
    created: bool
    """Created by an earlier stage (else only read by one)."""
    stage: str
    """The command that created (or last read) it."""


class _StageCache:
    def __init__(self) -> None:
        self._items: OrderedDict[str, Command | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> Command | None:
        if len(text) > _CACHED_LENGTH:
            return _parse_stage(text)  # not kept: every edit of it would be
        with self._lock:
            if text in self._items:
                self._items.move_to_end(text)
                return self._items[text]
        command = _parse_stage(text)
        with self._lock:
            self._items[text] = command
            if len(self._items) > _CACHE_SIZE:
                self._items.popitem(last=False)
        return command


def _parse_stage(text: str) -> Command | None:
    try:
        commands = parse_pipeline(text).commands
    except DQLError:
        return None
    return commands[0] if len(commands) == 1 else None


_stages = _StageCache()


def upstream_fields(stage_texts: Sequence[str]) -> list[FieldInfo]:
    """The fields after the stages ``stage_texts`` (the stages before the cursor's)."""
    return list(_upstream(tuple(stage_texts[-MAX_STAGES:])))


@functools.lru_cache(maxsize=16)  # typing in one stage asks again and again
def _upstream(stage_texts: tuple[str, ...]) -> tuple[FieldInfo, ...]:
    commands = [c for c in map(_stages.get, stage_texts) if c is not None]
    if not commands:
        return ()
    flow = analyze(Query(commands=tuple(commands)))
    available = flow.fields_after
    found: dict[str, FieldInfo] = {}
    for stage in flow.stages:
        for name in _read_fields(stage):  # read from the fields before the stage
            if name not in found:
                found[name] = FieldInfo(name, False, stage.command.name)
        if stage.removed or stage.removed_patterns or stage.renamed or stage.resets:
            for name in [n for n in found if stage.drops(n) and not stage.creates(n)]:
                del found[name]
        for name in sorted(stage.created | {new for _old, new in stage.renamed}):
            found[name] = FieldInfo(name, True, stage.command.name)
    if not available.open:
        for name in sorted(available.names - set(found)):
            found[name] = FieldInfo(name, False, "")
    kept = [info for info in found.values() if available.may_contain(info.name)]
    return tuple(sorted(kept, key=lambda info: not info.created))


def _read_fields(stage: StageFlow) -> Iterator[str]:
    """Names of the fields the stage's arguments read (subqueries excluded)."""
    if stage.bound is None:
        return
    for value in stage.bound.values:
        param = value.parameter
        if param is None or param.names_other_side or not REFERENCE_KINDS & set(param.kinds):
            continue
        stack: list[Node] = [value.expr]
        while stack:
            node = stack.pop()
            if isinstance(node, FieldRef):
                yield node.name
            elif not isinstance(node, Block):
                stack.extend(node.children())
