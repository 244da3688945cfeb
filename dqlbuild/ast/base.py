"""The node base class: frozen pydantic models with structural equality.

Positions (``span``) and comments are *trivia*: they are kept on parsed nodes and
serialised, but equality and hashing ignore them, so two texts that differ only in
layout, comments, redundant parentheses, backticks or keyword case give equal trees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Literal, NamedTuple, Self, get_args, get_type_hints

from pydantic import BaseModel, ConfigDict


class Span(NamedTuple):
    """Where a node sits in its source: 0-based offsets, 1-based lines and columns."""

    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int


class Comment(BaseModel):
    """A ``// line`` or ``/* block */`` comment, attached to the node it belongs to.

    ``placement`` says whether it is printed before or after that node.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    text: str
    placement: Literal["before", "after"] = "before"

    @property
    def is_line_comment(self) -> bool:
        return self.text.startswith("//")


TRIVIA_FIELDS = frozenset({"span", "comments", "style"})


class Node(BaseModel):
    """Base of every AST node."""

    # Schemas are built on first validation: parsing builds trusted nodes and never
    # needs them, which keeps the command line quick to start.
    model_config = ConfigDict(
        frozen=True, extra="forbid", revalidate_instances="never", defer_build=True
    )

    span: Span | None = None
    comments: tuple[Comment, ...] = ()

    # Derived once per class from the field declarations: the fields that make up
    # the node's meaning, and (see child_fields) those of them that hold child nodes.
    _semantic_fields: ClassVar[tuple[str, ...]] = ()
    _resolved_child_fields: ClassVar[tuple[str, ...]]
    _defaults: ClassVar[dict[str, Any]]
    _all_fields: ClassVar[set[str]]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._semantic_fields = tuple(n for n in cls.model_fields if n not in TRIVIA_FIELDS)

    @classmethod
    def trusted(cls, fields: dict[str, Any]) -> Self:
        """Build a node without validation, for producers that guarantee valid values
        (the parser: its grammar admits only what the fields accept). The test-suite
        re-validates every parsed corpus tree to hold that promise."""
        defaults = cls.__dict__.get("_defaults")
        if defaults is None:
            defaults = {n: f.default for n, f in cls.model_fields.items() if not f.is_required()}
            cls._defaults = defaults
            cls._all_fields = set(cls.model_fields)
        node = object.__new__(cls)
        setattr_ = object.__setattr__
        setattr_(node, "__dict__", {**defaults, **fields})
        setattr_(node, "__pydantic_fields_set__", cls._all_fields)
        setattr_(node, "__pydantic_extra__", None)
        setattr_(node, "__pydantic_private__", None)
        return node

    @classmethod
    def child_fields(cls) -> tuple[str, ...]:
        """Names of the fields that may hold child nodes (resolved on first use, when
        the forward references between node classes are complete)."""
        if "_resolved_child_fields" not in cls.__dict__:
            # Resolved from the annotations themselves: pydantic leaves forward references
            # unresolved until a schema is built, which is deferred.
            hints = get_type_hints(cls)
            cls._resolved_child_fields = tuple(
                n for n in cls._semantic_fields if _holds_nodes(hints[n])
            )
        return cls._resolved_child_fields

    # -- equality ---------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not type(self):
            return NotImplemented
        d1, d2 = self.__dict__, other.__dict__
        return all(d1[n] == d2[n] for n in self._semantic_fields)

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        d = self.__dict__
        return hash((type(self).__name__, *(d[n] for n in self._semantic_fields)))

    # -- copying ------------------------------------------------------------------
    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A changed copy. The copy loses ``span`` (it no longer matches the text) but
        remembers its origin, so lossless printing keeps the untouched layout."""
        copied = super().model_copy(update=update, deep=deep)
        if update:
            if "span" not in update:
                copied.__dict__["span"] = None
            set_private(copied, "origin", self if self.span is not None else origin_of(self))
        return copied

    def with_changes(self, **changes: Any) -> Self:
        """A validated copy with the given fields changed (unchanged children shared)."""
        data = {n: self.__dict__[n] for n in type(self).model_fields}
        data.update(changes)
        if "span" not in changes:
            data["span"] = None
        new = type(self)(**data)
        private = self.__pydantic_private__
        if private:
            object.__setattr__(new, "__pydantic_private__", dict(private))
        set_private(new, "origin", self if self.span is not None else origin_of(self))
        return new

    # -- traversal ------------------------------------------------------------------
    def children(self) -> Iterator[Node]:
        """Direct child nodes, in source order."""
        d = self.__dict__
        for name in self.child_fields():
            value = d[name]
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                for item in value:
                    if isinstance(item, Node):
                        yield item

    def walk(self) -> Iterator[Node]:
        """This node and all its descendants, depth first, in source order."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.children())))

    def transform(self, fn: Callable[[Node], Node | None]) -> Any:
        """Rebuild the tree bottom-up through ``fn``.

        ``fn`` gets each node after its children were transformed and returns the
        node to use instead, or ``None`` to keep it. Unchanged subtrees are shared,
        not copied.
        """
        changes: dict[str, Any] = {}
        d = self.__dict__
        for name in self.child_fields():
            value = d[name]
            if isinstance(value, Node):
                new = value.transform(fn)
                if new is not value:
                    changes[name] = new
            elif isinstance(value, tuple):
                items = tuple(
                    item.transform(fn) if isinstance(item, Node) else item for item in value
                )
                if any(a is not b for a, b in zip(items, value, strict=True)):
                    changes[name] = items
        node: Node = self.model_copy(update=changes) if changes else self
        result = fn(node)
        return node if result is None else result

    def __str__(self) -> str:
        """The node's canonical DQL text (``repr`` shows the structure)."""
        from dqlbuild.printing.canonical import format_node

        return format_node(self)

    def __repr_args__(self) -> Any:
        # Keep reprs short: trivia and defaults are noise when reading trees.
        for name in self._semantic_fields:
            value = self.__dict__[name]
            field = type(self).model_fields[name]
            if name == "kind" or (not field.is_required() and value == field.default):
                continue
            yield name, value


# Per-node bookkeeping that is neither data nor trivia: the parsed node a node was copied
# from (lets the lossless printer reuse the original layout around unchanged parts) and,
# on a Query, its source context. Kept in pydantic's private slot, which copies carry
# along, without declaring private attributes (whose set-up would cost every node).
def get_private(node: Node, key: str) -> Any:
    private = node.__pydantic_private__
    return private.get(key) if private else None


def set_private(node: Node, key: str, value: Any) -> None:
    private = node.__pydantic_private__
    if private is None:
        private = {}
        object.__setattr__(node, "__pydantic_private__", private)
    private[key] = value


def origin_of(node: Node) -> Node | None:
    origin: Node | None = get_private(node, "origin")
    return origin


def _holds_nodes(annotation: Any) -> bool:
    if isinstance(annotation, type):
        return issubclass(annotation, Node)
    return any(_holds_nodes(arg) for arg in get_args(annotation))
