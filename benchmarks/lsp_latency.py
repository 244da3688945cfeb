"""Responsiveness of ``dqlbuild lsp`` on a 1 MB file, against peers in the same run.

A real client starts the server over stdio, opens a generated 1 MB ``.dql`` file and a
1 MB dashboard, and measures:

- time to diagnostics after opening and after a one-character change, against the peer
  ``dqlbuild.check(dqlbuild.parse(text))`` in this process (what the server cannot avoid);
- hover and completion latency while the server is busy checking the file, against the
  same requests on a small file with the server idle (is the event loop kept free?);
- the same for a dashboard, where a change to one tile re-checks only that tile.

Run: python benchmarks/lsp_latency.py [--size BYTES]   (needs: pip install -e '.[lsp]')
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

try:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient
except ImportError:
    print("the language server extra is not installed: pip install -e '.[lsp]'", file=sys.stderr)
    raise SystemExit(2) from None

import dqlbuild

STAGES = (
    '| fieldsAdd f{i} = concat(loglevel, "x{i}"), g{i} = if(status == {i}, "a", else: "b")\n'
    '| filter contains(content, "needle{i}") or f{i} != "z"\n'
)
TILE = (
    "fetch spans, from: now() - 2h\n| filter service.name == $Service and duration > {i}ms\n"
    "| summarize p95 = percentile(duration, 95), calls = count(), by: {{endpoint.name}}\n"
    "| sort p95 desc\n| limit 10"
)


def big_query(size: int) -> str:
    parts, total, i = ["fetch logs // generated\n"], 0, 0
    while total < size:
        stage = STAGES.format(i=i)
        parts.append(stage)
        total += len(stage)
        i += 1
    return "".join(parts)


def big_dashboard(size: int) -> str:
    tiles: dict[str, Any] = {}
    i = 0
    while len(json.dumps(tiles)) < size:
        for j in range(100):
            tiles[str(i + j)] = {
                "type": "data",
                "title": f"Tile {i + j}",
                "query": TILE.format(i=i + j),
            }
        i += 100
    content = {"version": 15, "variables": [{"key": "Service", "type": "text"}], "tiles": tiles}
    return json.dumps(content, indent=2)


class Bench:
    def __init__(self) -> None:
        self.client = LanguageClient("lsp-latency", "1")
        self.published: dict[tuple[str, int | None], float] = {}

        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.published[(params.uri, params.version)] = time.perf_counter()

        self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(on_diagnostics)

    async def start(self) -> None:
        await self.client.start_io(sys.executable, "-m", "dqlbuild", "lsp")
        await self.client.initialize_async(
            types.InitializeParams(capabilities=types.ClientCapabilities())
        )
        self.client.initialized(types.InitializedParams())

    async def diagnostics(self, uri: str, version: int, since: float) -> float:
        while (uri, version) not in self.published:
            await asyncio.sleep(0.005)
        return self.published[(uri, version)] - since

    def open(self, uri: str, text: str, language: str) -> float:
        item = types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
        return time.perf_counter()

    def change(self, uri: str, version: int, line: int, character: int, new: str) -> float:
        at = types.Position(line=line, character=character)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=at, end=at), text=new
                    )
                ],
            )
        )
        return time.perf_counter()

    async def timed(self, request: Callable[[], Awaitable[object]]) -> float:
        start = time.perf_counter()
        await request()
        return time.perf_counter() - start

    def hover(self, uri: str, line: int, character: int) -> Callable[[], Awaitable[object]]:
        params = types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
        )
        return lambda: self.client.text_document_hover_async(params)

    def complete(self, uri: str, line: int, character: int) -> Callable[[], Awaitable[object]]:
        params = types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
        )
        return lambda: self.client.text_document_completion_async(params)

    async def while_busy(
        self, uri: str, version: int, request: Callable[[], Awaitable[object]]
    ) -> list[float]:
        """Latencies of ``request`` sent over and over until ``version`` is diagnosed."""
        times = []
        while (uri, version) not in self.published:
            times.append(await self.timed(request))
            await asyncio.sleep(0.05)
        return times

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()  # type: ignore[no-untyped-call]  # pygls leaves it untyped


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


async def run(size: int) -> None:
    query = big_query(size)
    dashboard = big_dashboard(size)
    start = time.perf_counter()
    dqlbuild.check(dqlbuild.parse(query))
    peer = time.perf_counter() - start
    print(f".dql file: {len(query):,} characters, {query.count(chr(10)):,} lines")
    print(f"peer: parse + check in-process: {ms(peer)}")

    bench = Bench()
    await bench.start()
    small = "file:///bench/small.dql"
    bench.open(small, 'fetch logs\n| filter loglevel == "ERROR"\n| limit 10', "dql")
    await bench.diagnostics(small, 1, 0)
    idle_hover = statistics.median([await bench.timed(bench.hover(small, 1, 3)) for _ in range(20)])
    idle_complete = statistics.median(
        [await bench.timed(bench.complete(small, 2, 2)) for _ in range(20)]
    )
    print(
        f"idle server, small file: hover {ms(idle_hover)}, completion {ms(idle_complete)} (median)"
    )

    uri = "file:///bench/big.dql"
    last_line = query.count("\n") - 1
    opened = bench.open(uri, query, "dql")
    busy = await bench.while_busy(uri, 1, bench.hover(uri, 1, 4))
    first = await bench.diagnostics(uri, 1, opened)
    print(f"open: diagnostics after {ms(first)} ({first / peer:.2f}x the peer)")
    print(
        f"  hover during the check: median {ms(statistics.median(busy))}, max {ms(max(busy))}, "
        f"{len(busy)} requests ({statistics.median(busy) / idle_hover:.1f}x idle)"
    )
    changed = bench.change(uri, 2, last_line, 0, " ")
    busy = await bench.while_busy(uri, 2, bench.complete(uri, last_line, 3))
    again = await bench.diagnostics(uri, 2, changed)
    print(
        f"change: diagnostics after {ms(again)} ({again / peer:.2f}x the peer, debounce included)"
    )
    print(
        f"  completion at the end during the check: median {ms(statistics.median(busy))}, "
        f"max {ms(max(busy))}, first {ms(busy[0])}, {len(busy)} requests "
        f"({statistics.median(busy) / idle_complete:.1f}x idle)"
    )

    # Keep typing while the check runs: the stale check is dropped, not waited for.
    bench.change(uri, 3, last_line, 0, " ")
    await asyncio.sleep(10)
    changed = bench.change(uri, 4, last_line, 0, " ")
    again = await bench.diagnostics(uri, 4, changed)
    print(f"change 10 s into the check of the previous one: diagnostics after {ms(again)}")

    uri = "file:///bench/big.json"
    tiles = dashboard.count('"type": "data"')
    print(f"dashboard: {len(dashboard):,} characters, {tiles:,} tiles")
    opened = bench.open(uri, dashboard, "json")
    first = await bench.diagnostics(uri, 1, opened)
    print(f"open: diagnostics after {ms(first)}")
    line = dashboard[: dashboard.index("duration > 5ms")].count("\n")
    column = len(dashboard.split("\n")[line]) - 2
    await bench.timed(bench.complete(uri, line, column))  # the server has read the file
    changed = bench.change(uri, 2, line, column, " ")
    typed = await bench.timed(bench.complete(uri, line, column + 1))
    busy = await bench.while_busy(uri, 2, bench.hover(uri, line, column - 10))
    again = await bench.diagnostics(uri, 2, changed)
    print(
        f"change in one tile: completion right after it {ms(typed)}; diagnostics after "
        f"{ms(again)}; hover meanwhile: median {ms(statistics.median(busy) if busy else 0)} "
        f"over {len(busy)} requests"
    )
    await bench.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="bytes of each file")
    args = parser.parse_args()
    asyncio.run(run(args.size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
