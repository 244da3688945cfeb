"""Diagnostics run in a worker process, off the server's event loop.

Parsing and checking a large file takes seconds of pure Python; in a thread it would
hold the GIL against the loop that answers completion and hover. A single worker process
keeps the loop free, and a crash there (memory, recursion) cannot take the server down:
a broken worker is replaced, and if that fails too, work moves to a thread.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import sys
import weakref
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")


def _start_worker() -> None:
    # The worker inherits the server's stdout, which carries the protocol: nothing it
    # prints may end up there.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    from dqlbuild.syntax.parser import parse

    parse("fetch logs")  # build the parser now, not on the first request


class Abandoned(Exception):
    """The work was dropped: the worker was restarted for newer work, or stopped."""


class Runner:
    """Runs functions in the worker, one at a time."""

    def __init__(self, *, processes: bool = True) -> None:
        self._processes = processes
        self._executor: Executor | None = None
        self._abandoned: weakref.WeakSet[Executor] = weakref.WeakSet()
        self._failures = 0
        self.closed = False

    def _get(self) -> Executor:
        if self.closed:
            raise Abandoned("the server is stopping")
        if self._executor is None:
            if self._processes:
                context = multiprocessing.get_context("spawn")  # no fork of a threaded server
                self._executor = ProcessPoolExecutor(
                    max_workers=1, mp_context=context, initializer=_start_worker
                )
            else:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dql")
        return self._executor

    def start(self) -> None:
        """Start the worker early, so that it is ready when the first file opens."""
        self._get().submit(int)

    async def run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """``fn(*args, **kwargs)`` in the worker; :class:`Abandoned` if the worker was
        restarted or stopped meanwhile."""
        loop = asyncio.get_running_loop()
        call = functools.partial(fn, *args, **kwargs)
        while True:
            executor = self._get()
            try:
                return await loop.run_in_executor(executor, call)
            except BrokenProcessPool:
                if executor in self._abandoned or self.closed:
                    raise Abandoned("the worker was restarted") from None
                # The worker died (memory, a crash): a new one, and after repeated deaths
                # a thread instead.
                self._failures += 1
                self._processes = self._processes and self._failures < 3
                if self._executor is executor:
                    self._executor = None
                    executor.shutdown(wait=False)

    def restart(self) -> None:
        """Abandon the work in progress and queued; the next run starts a new worker."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        self._abandoned.add(executor)
        # Terminating the worker marks every pending call broken, hence abandoned.
        processes = dict(getattr(executor, "_processes", None) or {})
        executor.shutdown(wait=False)
        for process in processes.values():
            process.terminate()

    def close(self) -> None:
        """Stop at once, abandoning work in progress (a worker busy with a large file would
        keep the editor's exit waiting)."""
        self.closed = True
        self.restart()
