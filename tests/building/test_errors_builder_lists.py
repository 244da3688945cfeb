"""A list given to an unknown keyword is most likely a misspelled parameter."""

from __future__ import annotations

import pytest

from dqlbuild import DQLValueError, fetch, fn


def test_misspelled_list_parameter_gets_a_did_you_mean() -> None:
    with pytest.raises(DQLValueError, match="byy=") as info:
        fetch("logs").summarize(n=fn.count(), byy=["a"])
    assert info.value.hint is not None and "'by'" in info.value.hint
