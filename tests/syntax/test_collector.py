"""The garbage collector is paused only while dqlbuild works, and always resumed
(parsing alone: tests/syntax/test_limits.py)."""

from __future__ import annotations

import gc

import pytest

from dqlbuild import DQLError, analyze, check, parse
from dqlbuild.rewriting import inject_filter_text, render
from dqlbuild.syntax.collector import collector_paused


def test_every_paused_operation_resumes_it_after_success_and_failure() -> None:
    text = "fetch logs | filter a == 1 // note"
    query = parse(text)
    analyze(query)
    check(query)
    query.format()
    query.insert(1, "limit 1").to_source()
    inject_filter_text(text, "k == $K")
    render(text, {})
    assert gc.isenabled()
    with pytest.raises(DQLError):
        inject_filter_text(text, "k ==")
    with pytest.raises(DQLError):
        analyze("fetch logs | filter (")
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
