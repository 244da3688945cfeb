"""Peak memory of parsing, valid or not, as a multiple of the input size.

Each case runs in a fresh subprocess: the input text is built first, then ``parse`` runs;
the growth of the process's peak resident size (``ru_maxrss``) during the parse, divided
by the input size, is the figure (the text itself is not counted, the tree built is). With
``--tracemalloc`` the peak of memory allocated by Python is measured instead (exact, but
it makes allocation-heavy cases about ten times slower). Target (issue 11): about 10x
the input at most.

Run: python benchmarks/memory.py [--size 10MB] [--case NAME] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from scaling import parse_size

# name -> (description, Python expression building the text from n bytes)
CASES: dict[str, tuple[str, str]] = {
    "string": ("one string literal", "'fetch logs | filter s == \"' + 'x' * n + '\"'"),
    "unterminated string": ("a string never closed", "'fetch logs | filter s == \"' + 'x' * n"),
    "escapes": ("a string of escapes", "'fetch logs | filter s == \"' + '\\\\n' * (n // 2) + '\"'"),
    "block comment": ("a comment left open", "'fetch logs /* ' + 'x' * n"),
    "1 + 1 + ...": ("an operator chain", "'fetch logs | filter x == 1' + ' + 1' * (n // 4)"),
    "1 + 1 + ... +": (
        "a chain ending in `+`",
        "'fetch logs | filter x == 1' + ' + 1' * (n // 4) + ' +'",
    ),
    "pipeline": (
        "typical stages",
        "'fetch logs' + ''.join(f'\\n| filter status >= {i} and host.name == \"h{i}\"'"
        " for i in range(n // 44))",
    ),
    "fields": (
        "a long field list",
        "'fetch logs | fields ' + ', '.join(f'f{i}' for i in range(n // 8))",
    ),
    "((((": ("brackets never closed", "'fetch logs | filter ' + '(' * n"),
    "error at the end": (
        "a long line, then an error",
        "'fetch logs | filter ' + 'a == 1 or ' * (n // 10) + ')'",
    ),
}

CHILD = r"""
import gc, json, resource, sys, tracemalloc
import dqlbuild
n, traced = int(sys.argv[1]), sys.argv[3] == "1"
text = eval(sys.argv[2])
dqlbuild.parse("fetch logs | filter a == 1")  # grammar and catalog loaded first
gc.collect()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
if traced:
    tracemalloc.start()
try:
    result = dqlbuild.parse(text)
    outcome = "parsed"
except dqlbuild.DQLError as err:
    outcome = f"{type(err).__name__}: {err.message[:50]}"
if traced:
    peak = tracemalloc.get_traced_memory()[1]
else:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
print(json.dumps({"size": len(text), "peak": peak, "outcome": outcome}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="10MB", help="input size (default 10MB)")
    parser.add_argument(
        "--case", action="append", choices=list(CASES), help="only these cases (repeatable)"
    )
    parser.add_argument("--tracemalloc", action="store_true", help="Python allocations only")
    args = parser.parse_args()
    n = parse_size(args.size)
    what = "tracemalloc peak" if args.tracemalloc else "peak RSS growth"
    print(f"input about {n:,} bytes; {what} during parse / input size")
    print(f"{'case':<22} {'peak':>7}  outcome")
    worst = 0.0
    for name, (_what, expression) in CASES.items():
        if args.case and name not in args.case:
            continue
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(n), expression, "1" if args.tracemalloc else "0"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"{name:<22} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        row = json.loads(done.stdout)
        ratio = row["peak"] / row["size"]
        worst = max(worst, ratio)
        print(f"{name:<22} {ratio:>6.1f}x  {row['outcome']}", flush=True)
    print(f"\nworst: {worst:.1f}x the input (target: about 10x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
