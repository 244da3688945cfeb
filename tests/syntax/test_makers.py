"""The parser's unvalidated constructors (``Node.maker``) and their generated module."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from pydantic import BaseModel

from dqlbuild.ast import _makers
from dqlbuild.ast.base import Comment, Node, Span, maker_shape
from dqlbuild.ast.nodes import NODE_TYPES, Binary, Call, FieldRef, Long, String
from tests.conftest import REPO

CLASSES: list[type[BaseModel]] = [*NODE_TYPES, Comment]


def test_the_generated_makers_are_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("gen_makers", REPO / "scripts" / "gen_makers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    current = (REPO / "dqlbuild" / "ast" / "_makers.py").read_text(encoding="utf-8")
    assert current == module.render(), "run: python scripts/gen_makers.py"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_node_class_takes_its_maker_from_the_generated_module(cls: Any) -> None:
    assert cls.maker().__code__.co_filename == _makers.__file__
    assert _makers.SHAPES[cls.__name__] == maker_shape(cls)


def test_a_maker_fills_every_field_and_makes_what_validation_makes() -> None:
    span = Span(0, 3, 1, 1, 1, 4)
    made = String.maker()(value="abc", span=span)
    assert made == String(value="abc") and made.span == span and made.style == "double"
    assert made.model_fields_set == set(String.model_fields)
    tree = Binary.maker()(op="+", operands=(Long.maker()(value=1), FieldRef.maker()(name="x")))
    assert tree == Binary(op="+", operands=(Long(value=1), FieldRef(name="x")))
    assert Comment.maker()(text="// c") == Comment(text="// c")
    with pytest.raises(TypeError, match="value"):
        String.maker()()  # a required field stays required
    with pytest.raises(TypeError, match="colour"):
        Call.maker()(name="f", colour=1)  # and an unknown one is refused


@pytest.mark.parametrize("module", ["dqlbuild.ast.nodes", __name__])
def test_a_class_of_another_shape_compiles_its_own_maker(module: str) -> None:
    # As if nodes.py had gained a field since _makers.py was generated (the first case),
    # or a class of somebody else's under a generated class's name: the generated maker
    # would leave the field out, so the class compiles its own from its fields.
    FieldRef = type(
        "FieldRef",
        (Node,),
        {
            "__module__": module,
            "__annotations__": {"kind": str, "name": str, "extra": int},
            "kind": "field",
            "extra": 7,
        },
    )
    make = FieldRef.maker()
    assert make.__code__.co_filename != _makers.__file__
    node = make(name="n")
    assert (node.name, node.extra, node.span) == ("n", 7, None)
    assert node == FieldRef(name="n")
