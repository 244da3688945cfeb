"""The worker process: it survives a crash, and newer work can push older work out."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from dqlbuild.lsp.worker import Abandoned, Runner


def _crash_once(marker: str) -> str:
    """Kill the worker process the first time (as a crash would), succeed the next."""
    path = Path(marker)
    if not path.exists():
        path.write_text("crashed")
        os._exit(1)
    return f"pid {os.getpid()}"


def test_a_crashed_worker_is_replaced(tmp_path: Path) -> None:
    async def scenario() -> str:
        runner = Runner()
        try:
            return await runner.run(_crash_once, str(tmp_path / "marker"))
        finally:
            runner.close()

    result = asyncio.run(scenario())
    assert result.startswith("pid ") and result != f"pid {os.getpid()}"


def test_restarting_abandons_the_work_in_progress() -> None:
    async def scenario() -> None:
        runner = Runner()
        try:
            assert await runner.run(len, "ready") == 5  # the worker is up
            slow = asyncio.ensure_future(runner.run(time.sleep, 60))
            await asyncio.sleep(0.5)
            started = time.perf_counter()
            runner.restart()
            with pytest.raises(Abandoned):
                await slow
            assert time.perf_counter() - started < 30
            assert await runner.run(len, "again") == 5  # a new worker
        finally:
            runner.close()
        with pytest.raises(Abandoned):
            await runner.run(len, "closed")

    asyncio.run(scenario())
