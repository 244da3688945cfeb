"""A list given to an unknown keyword is most likely a misspelled parameter."""

from __future__ import annotations

import pytest

from dqlbuild import DQLValueError, fetch, fn


def test_misspelled_list_parameter_gets_a_did_you_mean() -> None:
    with pytest.raises(DQLValueError, match="byy=") as info:
        fetch("logs").summarize(n=fn.count(), byy=["a"])
    assert info.value.hint is not None and "'by'" in info.value.hint


def test_the_extremes_of_a_long_and_empty_in_lists() -> None:
    from dqlbuild import F, lit, parse_expression

    assert parse_expression(str(lit(-(2**63)))) == lit(-(2**63)).node
    with pytest.raises(DQLValueError, match="does not fit"):
        lit(-(2**63) - 1)
    with pytest.raises(DQLValueError, match="at least one value"):
        F("h").in_([])


def test_bad_command_names_read_plainly() -> None:
    with pytest.raises(DQLValueError, match=r"^cannot build a Command node: a command name"):
        fetch("logs").pipe("no such")
