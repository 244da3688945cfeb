"""Parse speed of dqlbuild against two peers measured in the same run.

- floor: one pass of a single compiled regex that tokenizes the same DQL text;
- sqlglot: ``sqlglot.parse_one`` on SQL written to have a similar token count.

Each timing is the best of several repeats (as sqlglot's own benchmark does), so
background noise on a shared machine inflates nothing. Targets (issue 2): dqlbuild at
most 10x the tokenizer pass and at most 0.5x sqlglot's time.

Run: python benchmarks/parse_speed.py [--repeat N]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from functools import partial

import dqlbuild

# Realistic queries written for this benchmark, each paired with SQL of similar size.
CASES: list[tuple[str, str, str]] = [
    (
        "short",
        'fetch logs | filter loglevel == "ERROR" | limit 10',
        "SELECT * FROM logs WHERE loglevel = 'ERROR' LIMIT 10",
    ),
    (
        "ab-test",
        """fetch spans
| filter isNotNull(gen_ai.system) and isNotNull(model.version)
| summarize versions = collectDistinct(model.version)
| expand versions""",
        """SELECT DISTINCT model_version AS versions FROM spans
WHERE gen_ai_system IS NOT NULL AND model_version IS NOT NULL ORDER BY versions""",
    ),
    (
        "tile",
        """fetch spans, from: now() - 24h
| filter gen_ai.system == "openai" and model.version == $ModelVersion
| fieldsAdd tokens = gen_ai.usage.input_tokens + gen_ai.usage.output_tokens
| summarize requests = count(), p95 = percentile(duration, 95), avg_tokens = avg(tokens),
    by: {gen_ai.request.model, model.version}
| sort requests desc
| limit 20""",
        """SELECT gen_ai_request_model, model_version, COUNT(*) AS requests,
  PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY duration) AS p95,
  AVG(input_tokens + output_tokens) AS avg_tokens
FROM spans WHERE gen_ai_system = 'openai' AND model_version = 'v2'
  AND start_time > CURRENT_TIMESTAMP - INTERVAL '24' HOUR
GROUP BY gen_ai_request_model, model_version ORDER BY requests DESC LIMIT 20""",
    ),
    (
        "timeseries",
        """timeseries { p50 = median(dt.service.request.response_time), p90 = percentile(dt.service.request.response_time, 90) },
  by: {dt.entity.service}, interval: 5m, from: now()-1d@d, to: now()@d,
  filter: in(dt.entity.service, array($Service)) and endpoint.name != "/health"
| fieldsAdd name = entityName(dt.entity.service), worst = arrayMax(p90)
| sort worst desc
| limit 10""",
        """SELECT service, name, MAX(p90) AS worst FROM (
  SELECT service, entity_name(service) AS name, window_start,
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY response_time) AS p50,
    PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY response_time) AS p90
  FROM requests WHERE service IN ('a', 'b') AND endpoint_name <> '/health'
  GROUP BY service, window_start) AS t GROUP BY service, name ORDER BY worst DESC LIMIT 10""",
    ),
    (
        "join",
        """fetch logs, from: -2h
| filter loglevel == "ERROR" and not contains(content, "health", caseSensitive: false)
| parse content, "LD 'status=' INT:status LD"
| lookup [fetch dt.entity.host | fields id, entity.name], sourceField: dt.entity.host, lookupField: id, prefix: "host."
| join [fetch spans | filter request.is_failed == true | summarize failures = count(), by: {trace.id}], on: {trace.id}, kind: leftOuter, fields: {failures}
| summarize errors = count(), by: {host.entity.name, status, bucket = bin(timestamp, 5m)}
| sort errors desc""",
        """SELECT h.entity_name, l.status, date_trunc('minute', l.ts) AS bucket, COUNT(*) AS errors
FROM logs AS l LEFT JOIN hosts AS h ON h.id = l.host_id
LEFT JOIN (SELECT trace_id, COUNT(*) AS failures FROM spans WHERE is_failed = TRUE GROUP BY trace_id) AS f
  ON f.trace_id = l.trace_id
WHERE l.loglevel = 'ERROR' AND NOT LOWER(l.content) LIKE '%health%' AND l.ts > NOW() - INTERVAL '2' HOUR
GROUP BY h.entity_name, l.status, bucket ORDER BY errors DESC""",
    ),
]

# The floor: one alternation of DQL's token patterns, compiled once.
TOKEN_RE = re.compile(
    r'\s+|//[^\n]*|/\*[\s\S]*?\*/|"""[\s\S]*?"""|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`'
    r"|\$[A-Za-z_]\w*(?::\w+)?|@\w+|0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?[A-Za-z]*"
    r"|[A-Za-z_]\w*(?:\.\w+)*|==|!=|<=|>=|[-+*/%~<>=|,:()\[\]{}]"
)


def tokenize(text: str) -> int:
    return sum(1 for m in TOKEN_RE.finditer(text) if not m.group(0).isspace())


def best_time(fn: Callable[[], object], repeat: int, number: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def peak_memory(fn: Callable[[], object]) -> int:
    """Peak bytes allocated while ``fn`` runs (tracemalloc), result kept alive."""
    tracemalloc.start()
    try:
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--number", type=int, default=200)
    args = parser.parse_args()
    try:
        import sqlglot
        from sqlglot.tokens import Tokenizer
    except ImportError:
        print("sqlglot is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    dqlbuild.parse(CASES[0][1])  # load grammar and catalog outside the timings

    print(
        f"{'query':<11} {'tokens':>6} {'sql tok':>7} {'dqlbuild':>10} {'regex':>10} "
        f"{'sqlglot':>10} {'x regex':>8} {'x sqlglot':>9} {'memory x sqlglot':>16}"
    )
    ratios_floor, ratios_sqlglot, ratios_memory = [], [], []
    for name, dql, sql in CASES:
        dql_tokens = tokenize(dql)
        sql_tokens = len(Tokenizer().tokenize(sql))
        t_dql = best_time(partial(dqlbuild.parse, dql), args.repeat, args.number)
        t_re = best_time(partial(tokenize, dql), args.repeat, args.number)
        t_sql = best_time(partial(sqlglot.parse_one, sql), args.repeat, args.number)
        m_dql = peak_memory(partial(dqlbuild.parse, dql))
        m_sql = peak_memory(partial(sqlglot.parse_one, sql))
        ratios_floor.append(t_dql / t_re)
        ratios_sqlglot.append(t_dql / t_sql)
        ratios_memory.append(m_dql / m_sql)
        print(
            f"{name:<11} {dql_tokens:>6} {sql_tokens:>7} {t_dql * 1e3:>8.3f}ms "
            f"{t_re * 1e3:>8.3f}ms {t_sql * 1e3:>8.3f}ms {t_dql / t_re:>8.1f} "
            f"{t_dql / t_sql:>9.2f} {m_dql / m_sql:>16.2f}"
        )
    floor = statistics.geometric_mean(ratios_floor)
    versus = statistics.geometric_mean(ratios_sqlglot)
    memory = statistics.geometric_mean(ratios_memory)
    print(
        f"\ngeometric mean: {floor:.1f}x the regex tokenizer pass (target <= 8x), "
        f"{versus:.2f}x sqlglot.parse_one (target <= 0.3x), "
        f"peak memory while parsing {memory:.2f}x sqlglot's"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
