"""Command-line speed against peers measured in the same run (issue 11, goal 4).

1. Start-up: ``dqlbuild fmt`` of one small file against ``python -c "import lark,
   pydantic"`` (what any dqlbuild command must at least load). Target: at most 1.5x.
2. Batch: the ``dashboard`` commands and ``check-documents`` over a directory of
   dashboards (default: the shared corpus), all files in one process. Target: at least
   5 MB/s of input, wall clock, on one core. The same files run one process per file give
   the figure the batch replaces.

Every figure is the best of ``--repeat`` runs, interleaved so that load on a shared
machine hits peers alike; the spread (worst / best) is printed too. Processes run with
bytecode caching on (a warm-up run writes it), as a user's installation has.

``--split`` then runs each batch command once more in this process and says where its
CPU time goes: parsing (wherever it happens), ``inject_filter_text``, ``check`` and
``render`` (each without the parsing inside), loading documents, and the rest (JSON
positions, edits, reports, output).

Run: python benchmarks/cli_speed.py [--repeat N] [--dashboards DIR] [--quick] [--split]
(``--quick``: start-up only.)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "dashboards"
SMALL_QUERY = 'fetch logs\n| filter loglevel == "ERROR" // errors only\n| limit 10\n'
DQLBUILD = [sys.executable, "-m", "dqlbuild"]
# Commands run over all the files in one process; FILES stands for them (named one by
# one, not by their directory, so that versions without directory support compare too).
BATCH: dict[str, list[str]] = {
    "dashboard inspect": ["dashboard", "inspect", "FILES"],
    "check-documents": ["check-documents", "FILES"],
    "dashboard render": ["dashboard", "render", "FILES", "--lenient"],
    "dashboard add-filter --dry-run": [
        "dashboard", "add-filter", "FILES", "--variable", "Namespace",
        "--field", "k8s.namespace.name", "--data-object", "logs", "--value", "prod",
        "--skip-unparseable", "--dry-run",
    ],
}  # fmt: skip


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users' installations have bytecode
    return env


def _run(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one process (its output discarded). A usage error (exit 2:
    the command did no work) stops the benchmark rather than timing a refusal."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
    wall = time.perf_counter() - start
    if done.returncode >= 2:
        problem = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise SystemExit(f"exit {done.returncode} from {argv[2:4]}: {problem}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _best(times: list[tuple[float, float]]) -> tuple[float, float, float]:
    walls = sorted(w for w, _ in times)
    return walls[0], min(c for _, c in times), walls[-1] / walls[0]


MODEL_PEER = "import lark, pydantic\nclass Model(pydantic.BaseModel, defer_build=True):\n    x: int"


def startup(repeat: int, folder: Path) -> None:
    small = folder / "small.dql"
    small.write_text(SMALL_QUERY, encoding="utf-8")
    cases = {
        "peer: python -c 'import lark, pydantic'": [
            sys.executable,
            "-c",
            "import lark, pydantic",
        ],
        "dqlbuild fmt small.dql": [*DQLBUILD, "fmt", str(small)],
        # `import pydantic` is lazy: its model machinery, which any model needs, loads
        # with the first model class (its schema deferred, as dqlbuild's nodes do). This
        # peer is the floor of any tool built on pydantic models.
        "peer 2: the same and one pydantic model": [sys.executable, "-c", MODEL_PEER],
        "dqlbuild --version": [*DQLBUILD, "--version"],
        "python -c 'import dqlbuild'": [sys.executable, "-c", "import dqlbuild"],
    }
    for argv in cases.values():
        _run(argv)  # warm-up: bytecode written, files cached
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, argv in cases.items():
            times[name].append(_run(argv))
    peer, peer_cpu, _ = _best(times[next(iter(cases))])
    print(f"\nstart-up (best of {repeat}: wall, x peer; CPU, x peer; spread worst/best)")
    for name in cases:
        wall, cpu, spread = _best(times[name])
        print(
            f"  {name:42} {wall * 1000:7.1f} ms {wall / peer:5.2f}x  "
            f"{cpu * 1000:7.1f} ms {cpu / peer_cpu:5.2f}x  spread {spread:4.2f}"
        )
    wall, cpu, _ = _best(times["dqlbuild fmt small.dql"])
    print(f"  fmt / peer = {wall / peer:.2f} wall, {cpu / peer_cpu:.2f} CPU (target <= 1.5)")
    peer2, peer2_cpu, _ = _best(times["peer 2: the same and one pydantic model"])
    print(f"  fmt / peer 2 = {wall / peer2:.2f} wall, {cpu / peer2_cpu:.2f} CPU")


def _expand(template: list[str], files: list[Path]) -> list[str]:
    return [arg for a in template for arg in ([str(f) for f in files] if a == "FILES" else [a])]


def batch(repeat: int, directory: Path, per_file_sample: int) -> None:
    files = sorted(directory.glob("*.json"))
    size = sum(f.stat().st_size for f in files)
    print(f"\nbatch over {len(files)} files, {size / 1e6:.1f} MB in {directory}")
    print(f"  (best of {repeat}; MB/s of input, wall; the same per CPU second; spread worst/best)")
    for name, template in BATCH.items():
        argv = [*DQLBUILD, *_expand(template, files)]
        _run(argv)
        runs = [_run(argv) for _ in range(repeat)]
        wall, cpu, spread = _best(runs)
        print(
            f"  {name:34} {size / 1e6 / wall:6.2f} MB/s  {wall:6.2f} s wall  "
            f"{size / 1e6 / cpu:6.2f} MB/s CPU  {cpu:6.2f} s CPU  spread {spread:4.2f}"
        )
    if per_file_sample:
        sample = files[:: max(1, len(files) // per_file_sample)][:per_file_sample]
        sample_size = sum(f.stat().st_size for f in sample)
        start = time.perf_counter()
        for file in sample:
            template = BATCH["dashboard add-filter --dry-run"]
            _run([*DQLBUILD, *_expand(template, [file])])
        wall = time.perf_counter() - start
        print(
            f"  one process per file (add-filter, {len(sample)} files): "
            f"{sample_size / 1e6 / wall:.2f} MB/s"
        )
    print("  target: >= 5 MB/s")


# What --split attributes time to: the innermost of these that is running gets it.
SPLIT: dict[str, list[tuple[str, str]]] = {
    "parse": [
        ("dqlbuild.syntax.parser", "parse"),
        ("dqlbuild.syntax.parser", "parse_pipeline"),
        ("dqlbuild.syntax.parser", "parse_expression"),
    ],
    "inject": [("dqlbuild.rewriting.inject", "inject_filter_text")],
    "check": [("dqlbuild.analysis.checks", "check")],
    "render": [("dqlbuild.rewriting.render", "render")],
    "load": [("dqlbuild.documents.loading", "load_document")],
}


def split(directory: Path) -> None:
    """Each batch command run in this process, its CPU time split by what runs."""
    from dqlbuild.cli import main as cli_main

    files = sorted(directory.glob("*.json"))
    # Imported first: what a command imports is not its time here.
    for module in ("cli.dashboard", "cli.check_documents", "documents.workflow"):
        importlib.import_module(f"dqlbuild.{module}")
    totals = dict.fromkeys(SPLIT, 0.0)
    running: list[list[Any]] = []  # [category, CPU time since which it runs alone]

    def timed(category: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            now = time.process_time()
            if running:  # the caller's category pauses
                totals[running[-1][0]] += now - running[-1][1]
            running.append([category, now])
            try:
                return function(*args, **kwargs)
            finally:
                end = time.process_time()
                totals[category] += end - running.pop()[1]
                if running:
                    running[-1][1] = end

        return wrapper

    # Wrapped wherever the function was imported to (modules bind it by name).
    for category, targets in SPLIT.items():
        for module_name, name in targets:
            original = getattr(importlib.import_module(module_name), name)
            wrapper = timed(category, original)
            for loaded in list(sys.modules.values()):
                for key, value in list(getattr(loaded, "__dict__", {}).items()):
                    if value is original:
                        setattr(loaded, key, wrapper)
    print("\nsplit of CPU time (s), one run in this process; other: positions, edits,")
    print("reports, output")
    with open(os.devnull, "w") as sink:
        for name, template in BATCH.items():
            for category in totals:
                totals[category] = 0.0
            start = time.process_time()
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                cli_main(_expand(template, files))
            total = time.process_time() - start
            parts = "  ".join(f"{k} {v:4.2f}" for k, v in totals.items() if v >= 0.005)
            other = total - sum(totals.values())
            print(f"  {name:34} {total:5.2f}: {parts}  other {other:4.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dashboards", type=Path, default=CORPUS)
    parser.add_argument("--per-file-sample", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="start-up figures only")
    parser.add_argument(
        "--split", action="store_true", help="also split each batch command's CPU time"
    )
    args = parser.parse_args()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    print(
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as folder:
        startup(args.repeat, Path(folder))
    if args.quick:
        return 0
    if not args.dashboards.is_dir():
        print(f"\nno dashboards at {args.dashboards}: batch figures skipped")
        return 0
    batch(args.repeat, args.dashboards, args.per_file_sample)
    if args.split:
        split(args.dashboards)
    return 0


if __name__ == "__main__":
    sys.exit(main())
