"""Speed of ``dqlbuild.run`` against hand-written DuckDB SQL for the same result.

On N generated spans (``scripts/gen_spans.py``, default 1,000,000) loaded once into a
``dqlbuild.Dataset``, each DQL query runs through the whole engine (parse, compile to
SQL with sqlglot, execute on DuckDB, fetch) and its hand-written SQL runs on the same
DuckDB table; both results are checked to be equal before anything is timed. Times are
the best of several repeats, so background load on a shared machine inflates nothing.
Target (issue 9): the engine within 1.5x of the hand-written SQL. Loading is reported
too: the Dataset against DuckDB's own ``read_json`` with type detection over all records.

Run: python benchmarks/run_speed.py [--spans N] [--repeat N] [--data FILE]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
INTERVAL = 300_000_000_000  # 5 minutes in nanoseconds

# (name, DQL, hand-written DuckDB SQL for the same records; {table} is the spans table)
CASES: list[tuple[str, str, str]] = [
    (
        "summarize",
        """fetch spans
| filter isNotNull(model.version)
| summarize requests = count(), avg_duration = avg(duration), p95 = percentile(duration, 95),
    output_tokens = sum(gen_ai.usage.output_tokens), by: {model.version}""",
        """SELECT "model.version", count(*),
  CAST(round(avg(duration)) AS BIGINT),
  CAST(round(quantile_cont(duration, 0.95)) AS BIGINT),
  CAST(sum("gen_ai.usage.output_tokens") AS DOUBLE)
FROM {table}
WHERE "model.version" IS NOT NULL
GROUP BY "model.version"
ORDER BY "model.version\"""",
    ),
    (
        "makeTimeseries",
        """fetch spans
| filter isNotNull(gen_ai.request.model)
| makeTimeseries requests = count(), avg(duration), by: {gen_ai.request.model}, interval: 5m""",
        f"""WITH llm AS (
  SELECT "gen_ai.request.model" AS model, "timestamp" AS ts, duration
  FROM {{table}} WHERE "gen_ai.request.model" IS NOT NULL
), frame AS (
  SELECT min(ts) - min(ts) % {INTERVAL} AS first,
    max(ts) + {INTERVAL} - (max(ts) % {INTERVAL}) AS last FROM llm
), bins AS (
  SELECT model, (ts - first) // {INTERVAL} AS bin, count(*) AS n,
    CAST(round(avg(duration)) AS BIGINT) AS avg_duration
  FROM llm, frame GROUP BY model, bin
), series AS (
  SELECT model, map(list(bin), list(n)) AS n, map(list(bin), list(avg_duration)) AS a
  FROM bins GROUP BY model
)
SELECT {{'start': first, 'end': last}}, {INTERVAL}, model,
  list_transform(range((last - first) // {INTERVAL}), lambda b: n[b]),
  list_transform(range((last - first) // {INTERVAL}), lambda b: a[b])
FROM series, frame
ORDER BY model""",
    ),
]


def best_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def spans_file(count: int, given: str | None) -> Path:
    if given:
        return Path(given)
    path = Path(tempfile.gettempdir()) / "dqlbuild-bench" / f"spans-{count}-42.jsonl"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"generating {count:,} spans into {path} ...", file=sys.stderr)
        script = ROOT / "scripts" / "gen_spans.py"
        subprocess.run([sys.executable, str(script), str(count), "-o", str(path)], check=True)
    return path


def _fetch_all(connection: Any, sql: str) -> object:
    return connection.execute(sql).fetchall()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000, help="number of spans")
    parser.add_argument("--repeat", type=int, default=7, help="repeats; the best counts")
    parser.add_argument("--data", help="a spans JSON Lines file to use instead")
    args = parser.parse_args()
    try:
        import duckdb

        import dqlbuild
    except ImportError:
        print("the run extra is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    path = spans_file(args.spans, args.data)

    start = time.perf_counter()
    dataset = dqlbuild.Dataset({"spans": path})
    load = time.perf_counter() - start
    start = time.perf_counter()
    plain = duckdb.connect()
    plain.execute(
        f"CREATE TABLE spans AS SELECT * FROM read_json('{path}', format = 'newline_delimited', "
        "sample_size = -1)"
    )
    load_duckdb = time.perf_counter() - start
    plain.close()
    table = '"' + dataset.table("spans").sql_name + '"'
    records = dataset.table("spans").rows
    print(f"{records:,} spans from {path}")
    print(f"load: Dataset {load:.2f} s, DuckDB read_json (types from all records) "
          f"{load_duckdb:.2f} s ({load / load_duckdb:.2f}x)\n")  # fmt: skip

    connection = dataset.connection
    print(f"{'query':<15} {'dqlbuild.run':>13} {'hand SQL':>10} {'ratio':>7}")
    ratios = []
    for name, dql, hand in CASES:
        sql = hand.replace("{table}", table)
        engine_rows = dataset.run(dql).raw
        hand_rows = tuple(tuple(row) for row in connection.execute(sql).fetchall())
        if engine_rows != hand_rows:
            print(f"{name}: the results differ", file=sys.stderr)
            return 1
        t_engine = best_time(partial(dataset.run, dql), args.repeat)
        t_hand = best_time(partial(_fetch_all, connection, sql), args.repeat)
        ratios.append(t_engine / t_hand)
        print(
            f"{name:<15} {t_engine * 1e3:>10.1f} ms {t_hand * 1e3:>7.1f} ms {t_engine / t_hand:>7.2f}"
        )
    dataset.close()
    print(f"\ngeometric mean {statistics.geometric_mean(ratios):.2f}x hand-written SQL "
          f"(target <= 1.5x for each query)")  # fmt: skip
    return 0 if all(r <= 1.5 for r in ratios) else 1


if __name__ == "__main__":
    sys.exit(main())
