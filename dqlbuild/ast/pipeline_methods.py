"""One method per DQL pipeline command, mixed into :class:`~dqlbuild.ast.nodes.Query`.

``parse("fetch logs").filter("a > 1")`` and ``fetch("logs").filter(F("a") > 1)`` are the
same method on the same class. Every method returns a new query with one more stage and
shares the existing ones. The builder is imported when a method runs, not when this
module loads, so that the AST does not depend on the builder at import time.

Arguments (see :func:`dqlbuild.building.stage` and docs/builder.md): positional
arguments are proxies (``F``, ``fn``, ``lit``...), AST nodes, Python values or DQL text;
keyword arguments are named parameters (``by=``, ``from_=``, ``sort=``) or, for commands
that take them, assignments (``fields_add(total=F("a") + F("b"))``). A test checks that
every pipeline command of the catalog has its method here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dqlbuild.ast.nodes import Query
    from dqlbuild.building.expressions import ArgLike


def _stage(query: object, name: str, args: tuple[ArgLike, ...], named: dict[str, Any]) -> Query:
    from dqlbuild.building.query import add_stage

    return add_stage(query, name, args, named)


class PipelineMethods:
    """The pipeline commands as methods (snake_case names of the DQL commands)."""

    __slots__ = ()

    def pipe(self, name: str, /, *args: ArgLike, **named: ArgLike) -> Query:
        """Any command by name (camelCase or snake_case), including commands newer than
        the catalog: ``q.pipe("filter", "a > 1")``."""
        return _stage(self, name, args, named)

    def append_(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``append [subquery]`` (``Query.append`` is the stage-editing method)."""
        return _stage(self, "append", args, named)

    def dedup(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``dedup host, sort: {timestamp desc}``."""
        return _stage(self, "dedup", args, named)

    def expand(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``expand tags`` or ``expand tag = tags``."""
        return _stage(self, "expand", args, named)

    def experimental_save(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``experimentalSave "/lookups/file", overwrite: true``."""
        return _stage(self, "experimentalSave", args, named)

    def fail_if(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``failIf condition, "message"``."""
        return _stage(self, "failIf", args, named)

    def fields(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``fields a, b, c = expr``."""
        return _stage(self, "fields", args, named)

    def fields_add(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``fieldsAdd name = expr, ...``."""
        return _stage(self, "fieldsAdd", args, named)

    def fields_flatten(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``fieldsFlatten record, prefix: "r."``."""
        return _stage(self, "fieldsFlatten", args, named)

    def fields_keep(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``fieldsKeep a, "dt.*"``."""
        return _stage(self, "fieldsKeep", args, named)

    def fields_remove(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``fieldsRemove a, "dt.*"``."""
        return _stage(self, "fieldsRemove", args, named)

    def fields_rename(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``fieldsRename new = old, ...``."""
        return _stage(self, "fieldsRename", args, named)

    def fields_summary(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``fieldsSummary field, topValues: 5``."""
        return _stage(self, "fieldsSummary", args, named)

    def filter(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``filter condition``."""
        return _stage(self, "filter", args, named)

    def filter_out(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``filterOut condition``."""
        return _stage(self, "filterOut", args, named)

    def join(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``join [subquery], kind: inner, on: {id}, prefix: "r."``."""
        return _stage(self, "join", args, named)

    def join_nested(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``joinNested name = [subquery], on: {id}``."""
        return _stage(self, "joinNested", args, named)

    def json_extract(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``jsonExtract content``."""
        return _stage(self, "jsonExtract", args, named)

    def limit(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``limit 10``."""
        return _stage(self, "limit", args, named)

    def lookup(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``lookup [subquery], sourceField: a, lookupField: b``."""
        return _stage(self, "lookup", args, named)

    def make_timeseries(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``makeTimeseries n = count(), by: {host}, interval: 1m``."""
        return _stage(self, "makeTimeseries", args, named)

    def parse(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``parse content, "DPL pattern"`` (a str pattern is the pattern itself)."""
        return _stage(self, "parse", args, named)

    def search(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``search "text"``."""
        return _stage(self, "search", args, named)

    def sort(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``sort timestamp desc, ...``."""
        return _stage(self, "sort", args, named)

    def summarize(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``summarize n = count(), by: {host}``."""
        return _stage(self, "summarize", args, named)

    def traverse(self, /, *args: ArgLike, **named: ArgLike) -> Query:
        """``traverse edgeType, targetType, direction: backward``."""
        return _stage(self, "traverse", args, named)
