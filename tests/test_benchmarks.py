"""Every benchmark still runs and prints its verdict lines, on inputs small enough for CI.

No figure is checked (speed lives in the benchmarks, not in tests): this only keeps the
documented commands of docs/performance.md from breaking unnoticed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

QUERIES = [
    'fetch logs | filter loglevel == "ERROR" | limit 10',
    "fetch spans | summarize n = count(), by: {service.name} | sort n desc",
    "fetch logs | fieldsAdd k = lower(host.name) | fields timestamp, k",
    "fetch logs | filter (",  # a syntax error: counted, not parsed
]


def finished(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def run(script: str, *args: str) -> str:
    done = finished(script, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_corpus_speed_gives_each_ratio_per_round(tmp_path: Path) -> None:
    corpus = tmp_path / "queries.jsonl"
    corpus.write_text("".join(json.dumps({"query": q}) + "\n" for q in QUERIES))
    out = run("corpus_speed.py", "--corpus", str(corpus), "--repeat", "2", "--no-lark")
    assert "4 queries" in out and "3 parse" in out
    for label in (
        "parse / regex floor:",
        "parse retained / dropped:",
        "inject_filter_text / parse:",
    ):
        line = next(line for line in out.splitlines() if line.startswith(label))
        assert "[per round: median" in line


def test_corpus_speed_says_when_the_corpus_is_missing(tmp_path: Path) -> None:
    done = finished("corpus_speed.py", "--corpus", str(tmp_path / "none.jsonl"))
    assert done.returncode == 2 and "no corpus at" in done.stderr


@pytest.mark.parametrize(
    ("script", "args", "verdict"),
    [
        ("parse_speed.py", ["--repeat", "1", "--number", "1"], "geometric mean:"),
        ("scaling.py", ["--max-size", "10KB", "--shape", "or-chain", "--op", "parse"], "worst 10x"),
        ("memory.py", ["--size", "10KB", "--case", "1 + 1 + ..."], "worst:"),
        ("cli_speed.py", ["--quick", "--repeat", "1"], "fmt / peer"),
        ("lsp_latency.py", ["--size", "3000"], "change in one tile"),
    ],
)
def test_benchmark_runs(script: str, args: list[str], verdict: str) -> None:
    assert verdict in run(script, *args)


def test_run_speed_compares_results_before_timing() -> None:
    # Exit 1 is either a missed target (tiny data times poorly) or a result that differs
    # from the hand-written SQL's, said on stderr before any timing.
    done = finished("run_speed.py", "--spans", "500", "--repeat", "1")
    assert done.returncode in (0, 1) and "differ" not in done.stderr, done.stderr
    assert "geometric mean" in done.stdout


def test_scaling_refuses_an_unknown_shape() -> None:
    done = finished("scaling.py", "--shape", "chain")
    assert done.returncode == 2 and "invalid choice" in done.stderr
