"""``Node.model_copy``: the quick copy through the maker keeps pydantic's promises and
the bookkeeping lossless printing relies on (origin, source, depth)."""

from __future__ import annotations

import dqlbuild
from dqlbuild.ast.base import Span, depth, get_private, origin_of
from dqlbuild.ast.nodes import Binary, FieldRef, Long, String

TEXT = "fetch logs // c\n| filter a == 1 and b > 2\n| fields a"


def test_a_changed_copy_forgets_span_and_depth_and_remembers_its_origin() -> None:
    query = dqlbuild.parse(TEXT)
    stage = query.commands[1]
    assert get_private(stage, "depth") is None or depth(stage) >= 1
    copied = stage.model_copy(update={"name": "filterOut"})
    assert copied.name == "filterOut" and copied.args == stage.args
    assert copied.span is None and stage.span is not None
    assert origin_of(copied) is stage
    assert get_private(copied, "depth") is None
    # A copy of the copy still points at the parsed node, whose text is known.
    again = copied.model_copy(update={"name": "filter"})
    assert origin_of(again) is stage and again == stage
    # The query keeps its source context, and its untouched stages print as written.
    edited = query.model_copy(update={"commands": (*query.commands, copied)})
    assert edited.source == TEXT and query.source == TEXT
    assert edited.to_source().startswith(TEXT)


def test_a_plain_copy_keeps_everything_and_shares_no_bookkeeping() -> None:
    query = dqlbuild.parse(TEXT)
    copied = query.model_copy()
    assert copied == query and copied.span == query.span and copied.source == TEXT
    assert origin_of(copied) is None
    assert copied.__pydantic_private__ is not query.__pydantic_private__
    assert copied.model_fields_set == query.model_fields_set


def test_an_explicit_span_is_kept_and_fields_set_grows_for_validated_nodes() -> None:
    span = Span(0, 3, 1, 1, 1, 4)
    node = String(value="x")  # validated: only `value` was set
    assert node.model_fields_set == {"value"}
    copied = node.model_copy(update={"style": "triple", "span": span})
    assert copied.span == span and copied.style == "triple"
    assert copied.model_fields_set == {"value", "style", "span"}
    assert copied.model_dump(exclude_unset=True) == {
        "value": "x",
        "style": "triple",
        "span": span,
    }
    parsed = dqlbuild.parse('fetch logs | filter k == "x"').commands[1].args[0]
    assert isinstance(parsed, Binary)
    made = parsed.model_copy(update={"operands": (FieldRef(name="k"), Long(value=1))})
    assert made.model_fields_set == set(type(made).model_fields)


def test_a_deep_copy_copies_the_children() -> None:
    query = dqlbuild.parse(TEXT)
    deep = query.model_copy(deep=True)
    assert deep == query and deep.commands[1] is not query.commands[1]
    changed = query.model_copy(update={"commands": query.commands[:1]}, deep=True)
    assert changed.span is None and origin_of(changed) is query
