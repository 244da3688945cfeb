"""Parse and rewrite speed over a whole corpus of real queries, against peers in the same run.

- floor: one pass of the compiled regex tokenizer of ``parse_speed.py`` over every query;
- parse: ``dqlbuild.parse`` of every query, the trees dropped at once;
- parse, retained: the same, keeping every tree alive (garbage-collector pressure), and
  again with the collector off, to tell its share from that of taking fresh memory;
- inject_filter_text: a filter injected into every query that parses, with the text edit
  verified (compared with ``parse`` of the same queries; both drop each result at once);
- lark: Lark's own LALR parser on the same grammar, building its parse tree (no AST).

Each figure is the best of ``--repeat`` rounds, the variants interleaved within a round,
in CPU time of this process, so a shared machine's other load inflates little; ratios are
what to compare. Each ratio is also given per round (the two variants of a round ran
seconds apart, so load that drifts over minutes cancels): the median and the range over
the rounds. The default corpus is the public one next to the repository
(``../shared/corpus/queries.jsonl``), one JSON object with a ``query`` per line.

Run: python benchmarks/corpus_speed.py [--corpus FILE] [--repeat N]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from parse_speed import TOKEN_RE

import dqlbuild
from dqlbuild import DQLError
from dqlbuild.rewriting import inject_filter_text
from dqlbuild.syntax.grammar import plain_lark

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "queries.jsonl"


def load(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line)["query"] for line in lines if line.strip()]


def floor(texts: list[str]) -> object:
    finditer = TOKEN_RE.finditer
    return [sum(1 for _ in finditer(t)) for t in texts]


def parse_all(texts: list[str], keep: bool, collect: bool = True) -> object:
    kept = []
    if not collect:
        gc.disable()
    try:
        for text in texts:
            try:
                tree = dqlbuild.parse(text)
            except DQLError:
                continue
            if keep:
                kept.append(tree)
    finally:
        gc.enable()
    return len(kept)


def inject_all(texts: list[str]) -> object:
    # Each result dropped at once, as "parse" drops its trees: keeping 8,000 results
    # alive would add the collector's scans of them (see "parse, retained") to one side.
    done = 0
    for text in texts:
        inject_filter_text(text, "k == $Filter")
        done += 1
    return done


def lark_all(texts: list[str]) -> object:
    lark = plain_lark()
    return [lark.parse(t, start="query") for t in texts]


def timed(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.process_time()
    result = fn()
    elapsed = time.process_time() - start
    del result
    gc.collect()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-lark", action="store_true", help="skip the Lark peer (slow)")
    args = parser.parse_args()
    if not args.corpus.exists():
        print(f"no corpus at {args.corpus}: pass --corpus FILE", file=sys.stderr)
        return 2
    texts = load(args.corpus)
    valid = []
    for text in texts:
        try:
            dqlbuild.parse(text)
        except DQLError:
            continue
        valid.append(text)
    size = sum(len(t.encode()) for t in texts)
    print(f"{len(texts):,} queries, {size / 1e6:.1f} MB; {len(valid):,} parse")
    variants: dict[str, Callable[[], object]] = {
        "regex floor": lambda: floor(texts),
        "parse": lambda: parse_all(texts, keep=False),
        "parse, retained": lambda: parse_all(texts, keep=True),
        "parse, retained, no GC": lambda: parse_all(texts, keep=True, collect=False),
        "parse (valid only)": lambda: parse_all(valid, keep=False),
        "inject_filter_text": lambda: inject_all(valid),
    }
    if not args.no_lark:
        variants["lark parse tree"] = lambda: lark_all(valid)
    runs: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeat):
        for name, fn in variants.items():
            runs[name].append(timed(fn))
    best = {name: min(times) for name, times in runs.items()}
    spread = {
        name: (max(times) - min(times)) / statistics.median(times) for name, times in runs.items()
    }
    for name, seconds in best.items():
        print(f"{name:<22} {seconds:>8.3f}s  (spread {spread[name]:.0%} over {args.repeat} runs)")
    print()

    def ratio(label: str, over: str, under: str, target: str = "", digits: int = 2) -> None:
        rounds = [a / b for a, b in zip(runs[over], runs[under], strict=True)]
        print(
            f"{label:<33}{best[over] / best[under]:.{digits}f}x {target}".rstrip()
            + f"  [per round: median {statistics.median(rounds):.{digits}f}x,"
            f" {min(rounds):.{digits}f}-{max(rounds):.{digits}f}x]"
        )

    ratio("parse / regex floor:", "parse", "regex floor", "(target <= 8x)", digits=1)
    ratio("parse retained / dropped:", "parse, retained", "parse", "(target <= 1.2x)")
    ratio("  of which the garbage collector", "parse, retained", "parse, retained, no GC")
    print("  (the rest: taking fresh memory)")
    ratio(
        "inject_filter_text / parse:",
        "inject_filter_text",
        "parse (valid only)",
        "(target <= 1.5x)",
    )
    if "lark parse tree" in best:
        ratio("lark parse tree / parse:", "lark parse tree", "parse (valid only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
