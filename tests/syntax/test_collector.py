"""The garbage collector is paused only while dqlbuild works, and always resumed."""

from __future__ import annotations

import gc

import pytest

from dqlbuild import DQLSyntaxError, analyze, parse
from dqlbuild.syntax.collector import collector_paused


def test_resumed_after_success_and_failure() -> None:
    assert gc.isenabled()
    query = parse("fetch logs | filter a == 1")
    analyze(query)
    query.format()
    assert gc.isenabled()
    with pytest.raises(DQLSyntaxError):
        parse("fetch logs | filter (")
    assert gc.isenabled()


def test_paused_inside_and_left_off_when_the_caller_turned_it_off() -> None:
    seen: list[bool] = []

    @collector_paused
    def work() -> int:
        seen.append(gc.isenabled())
        return 7

    assert work() == 7
    assert gc.isenabled()
    gc.disable()
    try:
        assert work() == 7
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert seen == [False, False]
