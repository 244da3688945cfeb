"""Generate AI-observability spans as JSON Lines, deterministically for a seed.

Each trace is a chat request: a server span (``chat-api``), usually a retrieval span
(``retriever``) and one or two LLM calls (``llm-gateway``, the second a retry after a
failed first call). Field names are flat DQL names (``gen_ai.request.model``), timestamps
ISO-8601 strings with ``Z`` spread over one day, durations nanoseconds, as Dynatrace
exports spans. Fields are missing where real instrumentation omits them (no prompt
capture, no tokens on a failed call, no temperature set).

    python scripts/gen_spans.py 1000000 --seed 7 -o spans.jsonl

``examples/ai-spans.jsonl`` is ``python scripts/gen_spans.py 300`` (the default seed);
a test keeps it in sync with this script.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

DEFAULT_SEED = 42
DAY_START = datetime(2026, 1, 15, tzinfo=UTC)
DAY_NS = 86_400 * 10**9
DAY_PREFIX = DAY_START.strftime("%Y-%m-%dT")
MS = 1_000_000  # nanoseconds

# (gen_ai.system, request model, response model, $ per 1k input, $ per 1k output)
Model = tuple[str, str, str, float, float]
MODELS = (
    ("openai", "gpt-4o", "gpt-4o-2024-08-06", 0.0025, 0.01),
    ("openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", 0.00015, 0.0006),
    ("anthropic", "claude-3-5-sonnet", "claude-3-5-sonnet-20241022", 0.003, 0.015),
    ("aws.bedrock", "amazon.titan-text-express-v1", "amazon.titan-text-express-v1", 0.0002, 0.0006),
)
MODEL_WEIGHTS = (4, 3, 3, 1)
# model.version: (weight, latency factor, output-token factor, failure rate)
VERSIONS = {
    "v1": (5, 1.0, 1.0, 0.06),
    "v2": (4, 0.8, 0.85, 0.04),
    "v3": (2, 1.15, 1.1, 0.12),
}
DATASETS = ("support-faq", "product-docs", "release-notes", "billing-kb")
TEMPERATURES = (0.0, 0.2, 0.7, 1.0)
PROMPTS = (
    "How do I reset my password?",
    "Summarize the latest release notes.",
    "Why was I charged twice this month?",
    "Which regions support data residency?",
    "Explain the difference between plans.",
)
ANSWERS = (
    "Open Settings, choose Security and follow the reset link.",
    "The release adds faster search and fixes two export bugs.",
    "A pending authorization can look like a second charge; it expires in 3 days.",
    "Data residency is available in the EU, US and APAC regions.",
    "Pro adds SSO and higher limits; Free keeps the core features.",
)
TIERS = ("free", "pro", "enterprise")
REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-2")
FLAG_KEY = "chat.model-rollout"


def _timestamp(offset_ns: int) -> str:
    """ISO-8601 with microseconds and ``Z``; ``offset_ns`` counts from the day start."""
    seconds, micros = divmod(offset_ns // 1000, 1_000_000)
    if seconds >= 86_400:  # a late trace running past midnight; rare, so the slow way
        moment = DAY_START + timedelta(microseconds=offset_ns // 1000)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{DAY_PREFIX}{hour:02d}:{minute:02d}:{second:02d}.{micros:06d}Z"


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def _id(self, bits: int) -> str:
        return format(self.rng.getrandbits(bits), f"0{bits // 4}x")

    def traces(self) -> Iterator[list[dict[str, Any]]]:
        rng = self.rng
        versions = list(VERSIONS)
        version_weights = [v[0] for v in VERSIONS.values()]
        while True:
            yield self._trace(
                rng.choices(versions, version_weights)[0],
                rng.choices(MODELS, MODEL_WEIGHTS)[0],
            )

    def _trace(self, version: str, model: Model) -> list[dict[str, Any]]:
        rng = self.rng
        _, latency, token_factor, failure_rate = VERSIONS[version]
        trace_id = self._id(128)
        root_id = self._id(64)
        start = rng.randrange(DAY_NS - 60 * 10**9)
        dataset = rng.choice(DATASETS)
        spans: list[dict[str, Any]] = []
        cursor = start + rng.randrange(1, 5) * MS
        if rng.random() < 0.85:
            retrieval = int(rng.lognormvariate(3.5, 0.4) * MS)
            spans.append(
                {
                    "timestamp": _timestamp(cursor),
                    "trace.id": trace_id,
                    "span.id": self._id(64),
                    "parent_span_id": root_id,
                    "span.name": "retrieve documents",
                    "span.kind": "client",
                    "service.name": "retriever",
                    "duration": retrieval,
                    "span.status_code": "ok",
                    "dataset.id": dataset,
                    "db.system": "qdrant",
                    "retrieval.documents": rng.randrange(1, 9),
                }
            )
            cursor += retrieval + rng.randrange(1, 3) * MS
        calls = 2 if rng.random() < failure_rate else 1
        failed = False
        for call in range(calls):
            # a retried call failed first; any call may fail (and is then not retried)
            failed = (call == 0 and calls == 2) or rng.random() < failure_rate / 3
            span = self._llm_span(
                trace_id, root_id, cursor, version, model, dataset, latency, token_factor, failed
            )
            spans.append(span)
            cursor += span["duration"] + rng.randrange(1, 4) * MS
        root: dict[str, Any] = {
            "timestamp": _timestamp(start),
            "trace.id": trace_id,
            "span.id": root_id,
            "parent_span_id": None,
            "span.name": "POST /v1/chat",
            "span.kind": "server",
            "service.name": "chat-api",
            "duration": cursor - start,
            "span.status_code": "error" if failed else "ok",
            "http.request.method": "POST",
            "http.response.status_code": 502 if failed else 200,
            "model.version": version,
            "feature_flag.key": FLAG_KEY,
            "feature_flag.result.value": version,
        }
        return [root, *spans]

    def _llm_span(
        self,
        trace_id: str,
        root_id: str,
        cursor: int,
        version: str,
        model: Model,
        dataset: str,
        latency: float,
        token_factor: float,
        failed: bool,
    ) -> dict[str, Any]:
        rng = self.rng
        system, request_model, response_model, input_price, output_price = model
        input_tokens = int(rng.lognormvariate(6.2, 0.5))
        output_tokens = max(1, int(rng.lognormvariate(5.0, 0.6) * token_factor))
        base_ms = 250 + output_tokens * (4 if "mini" in request_model else 9)
        duration = int(base_ms * latency * rng.lognormvariate(0, 0.25) * MS)
        span: dict[str, Any] = {
            "timestamp": _timestamp(cursor),
            "trace.id": trace_id,
            "span.id": self._id(64),
            "parent_span_id": root_id,
            "span.name": f"chat {request_model}",
            "span.kind": "client",
            "service.name": "llm-gateway",
            "span.status_code": "error" if failed else "ok",
            "gen_ai.system": system,
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": request_model,
            "model.version": version,
            "dataset.id": dataset,
            "feature_flag.key": FLAG_KEY,
            "feature_flag.result.value": version,
            "request.is_failed": failed,
            "attributes": {
                "tier": rng.choice(TIERS),
                "region": rng.choice(REGIONS),
                "retries": 0 if not failed else rng.randrange(1, 3),
            },
        }
        if rng.random() < 0.8:
            span["gen_ai.request.temperature"] = rng.choice(TEMPERATURES)
        if failed:
            span["duration"] = int(rng.uniform(80, 30_000) * MS)
            span["gen_ai.usage.input_tokens"] = None
            span["error.type"] = rng.choice(("timeout", "rate_limited", "server_error"))
            return span
        span["duration"] = duration
        span["gen_ai.response.model"] = response_model
        span["gen_ai.response.finish_reasons"] = ["stop"] if rng.random() < 0.9 else ["length"]
        span["gen_ai.usage.input_tokens"] = input_tokens
        span["gen_ai.usage.output_tokens"] = output_tokens
        cost = input_tokens / 1000 * input_price + output_tokens / 1000 * output_price
        span["gen_ai.usage.cost"] = round(cost, 6)
        if rng.random() < 0.35:
            index = rng.randrange(len(PROMPTS))
            span["gen_ai.prompt.0.content"] = PROMPTS[index]
            span["gen_ai.completion.0.content"] = ANSWERS[index]
        return span


def generate(count: int, seed: int = DEFAULT_SEED) -> Iterator[dict[str, Any]]:
    """``count`` spans, whole traces (the last trace is cut short, parents first)."""
    produced = 0
    for trace in _Generator(seed).traces():
        for span in trace:
            if produced == count:
                return
            yield span
            produced += 1


def write(count: int, seed: int, out: TextIO) -> None:
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    batch: list[str] = []
    for span in generate(count, seed):
        batch.append(dumps(span))
        if len(batch) == 10_000:
            out.write("\n".join(batch) + "\n")
            batch.clear()
    if batch:
        out.write("\n".join(batch) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int, metavar="N", help="number of spans")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (%(default)s)")
    parser.add_argument("-o", "--output", type=Path, help="write here (atomically), not stdout")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("N must not be negative")
    if args.output is None:
        write(args.count, args.seed, sys.stdout)
        return 0
    temporary = args.output.with_name(args.output.name + ".tmp")
    try:
        with temporary.open("w", encoding="utf-8", newline="\n") as out:
            write(args.count, args.seed, out)
        temporary.replace(args.output)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        print(f"gen_spans: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
