"""Diagnostics of a dashboard are those `dqlbuild check-documents` reports for it."""

from __future__ import annotations

import io
import json
import sys

import pytest

from dqlbuild.cli.check_documents import _check_file
from dqlbuild.lsp.diagnose import diagnose

DASHBOARD = {
    "version": 15,
    "variables": [
        {"key": "Hosts", "type": "csv", "input": "a,b", "multiple": True},
        {"key": "Level", "type": "csv", "input": "x,y", "multiple": False},
    ],
    "tiles": {
        "1": {
            "type": "data",
            "title": "Hosts",
            "query": "fetch logs\n| filter host.name == $Hosts and loglevel == $Level\n"
            "| filter in(host.name, $Hosts) and x == $Undefined",
        }
    },
}


def test_a_dashboard_gets_the_findings_check_documents_gives_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = json.dumps(DASHBOARD, indent=2)
    found = diagnose(text, json=True)
    # Multi-select variables are known (DQL303, DQL304), undefined ones reported.
    assert sorted(f.code or "" for f in found) == ["DQL301", "DQL303", "DQL304"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    cli = [f for f in _check_file("-", skip_non_documents=False) if f.span is not None]
    assert sorted((f.span[0], f.span[1], f.code) for f in cli if f.span) == sorted(
        (f.start, f.end, f.code) for f in found
    )
