"""The node base class: frozen pydantic models with structural equality.

Positions (``span``) and comments are *trivia*: they are kept on parsed nodes and
serialised, but equality and hashing ignore them, so two texts that differ only in
layout, comments, redundant parentheses, backticks or keyword case give equal trees.
"""

import operator
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Literal, NamedTuple, Self, TypeVar, get_args, get_type_hints

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from dqlbuild.errors import SURROGATES, DQLValueError, surrogate_message


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

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        found = SURROGATES.search(value) if isinstance(value, str) else None
        if found is not None:
            raise ValueError(f"a comment holds {surrogate_message(found.group())}")
        return value

    @property
    def is_line_comment(self) -> bool:
        return self.text.startswith("//")

    @classmethod
    def maker(cls) -> Callable[..., "Comment"]:
        """A constructor without validation (see :meth:`Node.maker`), for the parser."""
        return _maker_of(cls)


TRIVIA_FIELDS = frozenset({"span", "comments", "style"})

# Levels of tree a node may have (an operator chain is one level however long): deeper
# trees would not survive pydantic's JSON reader (about 100 levels) and Python's
# recursion limit in code that walks trees recursively. Real queries stay below 25.
MAX_DEPTH = 90


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
    _semantic_values: ClassVar[Callable[[Any], Any]]
    # Every field's name, as a set, and a getter of all their values (for model_copy).
    _field_names: ClassVar[tuple[str, ...]] = ()
    _field_name_set: ClassVar[frozenset[str]] = frozenset()
    _all_values: ClassVar[Callable[[Any], tuple[Any, ...]]]
    _resolved_child_fields: ClassVar[tuple[str, ...]]
    _maker: ClassVar[Callable[..., Any]]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._semantic_fields = tuple(n for n in cls.model_fields if n not in TRIVIA_FIELDS)
        cls._semantic_values = _values_getter(cls._semantic_fields)
        cls._field_names = tuple(cls.model_fields)
        cls._field_name_set = frozenset(cls._field_names)
        cls._all_values = operator.attrgetter(*cls._field_names)  # span, comments: two or more

    @model_validator(mode="after")
    def _check_depth(self) -> Self:
        if type(self).child_fields():
            levels = 1 + max((depth(child) for child in self.children()), default=0)
            if levels > MAX_DEPTH:
                raise ValueError(f"the tree would nest deeper than {MAX_DEPTH} levels")
            set_private(self, "depth", levels)
        return self

    @classmethod
    def maker(cls) -> Callable[..., Self]:
        """A constructor without validation, taking the fields as keyword arguments, for
        producers that guarantee valid values (the parser: its grammar admits only what
        the fields accept; the test-suite re-validates every parsed corpus tree to hold
        that promise). Several times faster than ``model_construct``, and it fills the
        fields in one order, so that instances share their dict keys (less memory)."""
        return _maker_of(cls)

    @classmethod
    def trusted(cls, fields: dict[str, Any]) -> Self:
        """Like :meth:`maker`, with the fields in a dict."""
        return cls.maker()(**fields)

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
        values = type(self)._semantic_values
        return bool(values(self) == values(other))

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash((type(self).__name__, type(self)._semantic_values(self)))

    # -- copying ------------------------------------------------------------------
    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A changed copy. The copy loses ``span`` (it no longer matches the text) but
        remembers its origin, so lossless printing keeps the untouched layout."""
        cls = type(self)
        if deep or (update and not update.keys() <= cls._field_name_set):
            copied = super().model_copy(update=update, deep=deep)
            if update:
                if "span" not in update:
                    object.__setattr__(copied, "span", None)
                changed = self._changed(copied.__pydantic_private__)
                object.__setattr__(copied, "__pydantic_private__", changed)
            return copied
        # What pydantic's copy does, through the generated constructor: several times
        # quicker, and it keeps the fields inline (no dictionary per node).
        values = dict(zip(cls._field_names, cls._all_values(self), strict=True))
        private = self.__pydantic_private__
        if update:
            values["span"] = None
            values.update(update)
            private = self._changed(private)
        elif private:
            private = dict(private)
        copied = _maker_of(cls)(**values)
        fields_set = self.__pydantic_fields_set__
        if fields_set is not cls.__pydantic_fields_set__:  # not every field set
            fields_set = fields_set | (update.keys() if update else set())
            object.__setattr__(copied, "__pydantic_fields_set__", fields_set)
        if private:
            object.__setattr__(copied, "__pydantic_private__", private)
        return copied

    def _changed(self, private: dict[str, Any] | None) -> dict[str, Any]:
        """The bookkeeping of a changed copy of this node, from a copy's ``private``: no
        depth (other children may give another), and the parsed node it came from."""
        changed = dict(private) if private else {}
        changed.pop("depth", None)
        changed["origin"] = self if self.span is not None else origin_of(self)
        return changed

    def with_changes(self, **changes: Any) -> Self:
        """A validated copy with the given fields changed (unchanged children shared)."""
        data = {n: getattr(self, n) for n in type(self).model_fields}
        data.update(changes)
        if "span" not in changes:
            data["span"] = None
        new = type(self)(**data)
        private = self.__pydantic_private__
        if private:
            merged = {k: v for k, v in private.items() if k != "depth"}
            merged.update(new.__pydantic_private__ or {})
            object.__setattr__(new, "__pydantic_private__", merged)
        set_private(new, "origin", self if self.span is not None else origin_of(self))
        return new

    # -- traversal ------------------------------------------------------------------
    def children(self) -> Iterator["Node"]:
        """Direct child nodes, in source order."""
        return iter(child_nodes(self))

    def walk(self) -> Iterator["Node"]:
        """This node and all its descendants, depth first, in source order."""
        stack: list[Node] = [self]
        pop, push = stack.pop, stack.extend
        while stack:
            node = pop()
            yield node
            kids = child_nodes(node)
            if kids:
                kids.reverse()
                push(kids)

    def transform(self, fn: Callable[["Node"], "Node | None"]) -> Any:
        """Rebuild the tree bottom-up through ``fn``.

        ``fn`` gets each node after its children were transformed and returns the
        node to use instead, or ``None`` to keep it. Unchanged subtrees are shared,
        not copied.
        """
        changes: dict[str, Any] = {}
        for name in self.child_fields():
            value = getattr(self, name)
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
            value = getattr(self, name)
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


N = TypeVar("N", bound=Node)


def make(cls: type[N], **fields: Any) -> N:
    """A node, with pydantic's validation errors reported as :class:`DQLValueError`."""
    try:
        return cls(**fields)
    except ValidationError as exc:
        # pydantic prefixes the messages of our own validators with "Value error, ".
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        article = "an" if cls.__name__[0] in "AEIOU" else "a"
        raise DQLValueError(f"cannot build {article} {cls.__name__} node: {problems}") from None


def spans_any(node: Node, offsets: list[int] | None) -> bool:
    """Whether the span of ``node`` holds one of the sorted text ``offsets`` (true without
    offsets or without a span): a walk for what a mark in the text shows (a `$`) can skip
    the subtrees that hold none, as a parsed node's span covers its children's."""
    span = node.span
    if offsets is None or span is None:
        return True
    k = bisect_left(offsets, span.start)
    return k < len(offsets) and offsets[k] < span.end


_CHILD_FIELDS: dict[type[Node], tuple[str, ...]] = {}


def child_nodes(node: Node) -> list[Node]:
    """The child nodes of ``node`` in source order, as a new list (what
    :meth:`Node.children` iterates; hot: every walk over a tree comes through here)."""
    fields = _CHILD_FIELDS.get(type(node))
    if fields is None:
        fields = _CHILD_FIELDS[type(node)] = type(node).child_fields()
    kids: list[Node] = []
    if fields:
        for name in fields:
            value = getattr(node, name)
            if type(value) is tuple:
                kids.extend(value)
            elif value is not None:
                kids.append(value)
    return kids


def depth(node: Node) -> int:
    """Levels of tree from ``node`` down (a leaf is 1). Known for nodes built with
    validation; computed once (iteratively) and remembered for others."""
    private = node.__pydantic_private__
    known = private.get("depth") if private else None
    if known is not None:
        return int(known)
    if not type(node).child_fields():
        return 1
    deepest = 0
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        item, level = stack.pop()
        private = item.__pydantic_private__
        below = private.get("depth") if private and item is not node else None
        if below is not None:
            deepest = max(deepest, level - 1 + below)
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in item.children())
    set_private(node, "depth", deepest)
    return deepest


def _values_getter(names: tuple[str, ...]) -> Callable[[Any], Any]:
    # Attribute reads, not ``__dict__``: reading the dict would make CPython build one
    # for a node whose fields it keeps inline (see _compile_maker). Not a function, so
    # that it stays unbound as a class attribute; one name gives the value itself.
    return operator.attrgetter(*names) if names else operator.attrgetter("__class__")


def _maker_of(cls: type[BaseModel]) -> Callable[..., Any]:
    made = cls.__dict__.get("_maker")  # the class's own, not a base class's
    if made is None:
        made = _compile_maker(cls)
        type.__setattr__(cls, "_maker", made)
    return made


def _compile_maker(cls: type[BaseModel]) -> Callable[..., Any]:
    # Generated like dataclasses' __init__: one assignment per field, in declaration
    # order. Fields set as attributes stay in CPython's inline value array, shared keys
    # per class and no dict object per node: a third less memory, and one object less
    # per node for the garbage collector to walk, while the instance holds a tree.
    #
    # pydantic's three bookkeeping slots are not set per node: class attributes of the
    # same names stand in for them (every made node has every field set, no extra and
    # no private values), and an instance that sets one (pydantic when it validates,
    # set_private) keeps its own value, which attribute lookup finds first.
    for name, value in (
        ("__pydantic_fields_set__", set(cls.model_fields)),
        ("__pydantic_extra__", None),
        ("__pydantic_private__", None),
    ):
        type.__setattr__(cls, name, value)
    shape = maker_shape(cls)
    factory = _prebuilt_factory(cls, shape)
    if factory is None:
        env: dict[str, Any] = {"Any": Any}
        exec(maker_factory_source(cls.__name__, shape), env)  # built from field names
        factory = env[cls.__name__]
    defaults = [info.default for info in cls.model_fields.values() if not info.is_required()]
    made: Callable[..., Any] = factory(object.__new__, object.__setattr__, cls, *defaults)
    return made


def maker_shape(cls: type[BaseModel]) -> tuple[tuple[str, bool], ...]:
    """What a class's maker is generated from: its fields in order, and which are required."""
    return tuple((name, info.is_required()) for name, info in cls.model_fields.items())


def maker_factory_source(name: str, shape: tuple[tuple[str, bool], ...]) -> str:
    """The source of ``def <name>(new, setattr_, cls, *defaults)``, which returns the maker
    of a class of that shape (``defaults``: those of its optional fields, in order).
    Laid out as ``ruff format`` would, as scripts/gen_makers.py writes it into a module."""
    defaults = [f"default_{i}" for i, (_, required) in enumerate(shape) if not required]
    params = [
        f"{field}: Any" if required else f"{field}: Any = default_{i}"
        for i, (field, required) in enumerate(shape)
    ]
    return "\n".join(
        [
            f"def {name}(",
            *(f"    {p}: Any," for p in ("new", "setattr_", "cls", *defaults)),
            ") -> Any:",
            "    def make(",
            *(["        *,"] if params else []),
            *(f"        {p}," for p in params),
            "    ) -> Any:",
            "        node = new(cls)",
            *(f'        setattr_(node, "{field}", {field})' for field, _ in shape),
            "        return node",
            "",
            "    return make",
            "",
        ]
    )


def _prebuilt_factory(cls: type[BaseModel], shape: tuple[tuple[str, bool], ...]) -> Any:
    # The factories of dqlbuild's own node classes are generated ahead of time
    # (scripts/gen_makers.py), so Python's bytecode cache holds them compiled: compiling
    # them here would cost every start-up a few milliseconds. One whose class has
    # changed shape since is not used (and the test-suite says to regenerate).
    if cls.__module__ not in ("dqlbuild.ast.nodes", __name__):
        return None
    from dqlbuild.ast import _makers

    factory = getattr(_makers, cls.__name__, None)
    return factory if _makers.SHAPES.get(cls.__name__) == shape else None


def _holds_nodes(annotation: Any) -> bool:
    if isinstance(annotation, type):
        return issubclass(annotation, Node)
    return any(_holds_nodes(arg) for arg in get_args(annotation))
