"""check() over the shared corpus of real queries: no valid query gets an error.

The queries that parse but are not valid DQL are listed, each read by hand, in
``corpus_invalid.py``; every other query must come out without an error-severity
diagnostic, and the listed ones with exactly the listed codes. Skipped when ../shared is
absent; nothing from the corpus is copied into the repository.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from dqlbuild import parse
from dqlbuild.analysis.checks import check
from dqlbuild.errors import DQLSyntaxError
from tests.analysis.corpus_invalid import EXPECTED_ERRORS

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "queries.jsonl"


@pytest.mark.skipif(not CORPUS.is_file(), reason="shared corpus not available")
def test_no_false_errors_on_the_corpus() -> None:
    checked = 0
    warnings: Counter[str] = Counter()
    infos: Counter[str] = Counter()
    errors: dict[str, tuple[str, ...]] = {}
    started = time.perf_counter()
    with CORPUS.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            try:
                query = parse(record["query"])
            except DQLSyntaxError:
                continue
            checked += 1
            found = check(query)
            codes = sorted({d.code for d in found if d.severity == "error"})
            if codes:
                errors[record["id"]] = tuple(codes)
            warnings.update(d.code for d in found if d.severity == "warning")
            infos.update(d.code for d in found if d.severity == "info")
    elapsed = time.perf_counter() - started
    print(f"\n{checked} queries checked in {elapsed:.1f} s (parse + check)")
    print(f"errors in {len(errors)} queries known to be invalid")
    print("warnings per code:", dict(sorted(warnings.items())))
    print("infos per code:", dict(sorted(infos.items())))

    assert checked > 7000
    unexpected = {i: c for i, c in errors.items() if i not in EXPECTED_ERRORS}
    assert unexpected == {}, "errors on queries not known to be invalid"
    expected = {i: codes for i, (codes, _reason) in EXPECTED_ERRORS.items()}
    assert errors == expected
