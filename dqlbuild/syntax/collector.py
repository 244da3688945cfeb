"""Pausing Python's cyclic garbage collector while dqlbuild builds trees and results.

Parsing, field-flow analysis and injection make many small objects and no reference
cycles, so the collector has nothing to find among them; left running, its periodic full
scans walk every tree the program holds, again and again (retaining a whole corpus of
trees doubled the time of analysing it). Paused, it resumes afterwards with the new
objects counted, and collects whatever cycles other code made in the meantime.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def collector_paused(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` runs with the collector paused (if it was running; nested calls are free)."""

    @functools.wraps(fn)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return paused
