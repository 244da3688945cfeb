"""FieldSets derived one from another share their names (a pipeline costs what its stages
change); every set still reads as the plain immutable set it stands for."""

from __future__ import annotations

import pytest

from dqlbuild.analysis.fieldflow import FieldSet


def test_derived_sets_keep_their_own_names_and_branches_do_not_interfere() -> None:
    base = FieldSet(frozenset({"a", "b"}))
    one = base.with_names(added=["c"], removed=["a"])
    two = one.with_names(added=["a", "a"], removed=["c", "zz"])
    branch = one.with_names(added=["d"])  # a second set derived from `one`
    again = base.with_names(removed=["b"])  # and from `base`
    assert base.names == {"a", "b"}
    assert one.names == {"b", "c"}
    assert two.names == {"a", "b"}
    assert branch.names == {"b", "c", "d"}
    assert again.names == {"a"}
    assert [n in two for n in "abcd"] == [True, True, False, False]
    assert [n in branch for n in "abcd"] == [False, True, True, True]
    assert two == base and hash(two) == hash(base)
    both = one.with_names(added=["x"], removed=["x"]).with_names(removed=["x"], added=["x"])
    assert both.names == {"b", "c", "x"}


def test_union_open_and_patterns() -> None:
    known = FieldSet(frozenset({"a"})).with_names(added=["b"])
    merged = known.union(FieldSet(frozenset({"c"}), open=True, patterns=frozenset({"l.*"})))
    assert merged.names == {"a", "b", "c"} and merged.open
    assert merged.may_contain("l.x") and merged.may_contain("anything")
    assert not known.open and known.names == {"a", "b"}
    assert repr(FieldSet(frozenset({"a"}))) == (
        "FieldSet(names=frozenset({'a'}), open=False, patterns=frozenset())"
    )
    with pytest.raises(AttributeError):
        known.open = True  # type: ignore[misc]
