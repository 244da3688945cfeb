"""`dqlbuild check-documents`: findings inside dashboards and notebooks, positions mapped
exactly into the JSON file, non-documents skipped on request, .dql files alongside."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dqlbuild.cli.check_documents import StringOffsets
from dqlbuild.documents import parse_json
from tests.cli.test_syntax_cli import Capsys, MonkeyPatch, run

CORPUS_DASHBOARDS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "dashboards"


def dashboard(
    tiles: dict[str, Any], variables: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"version": 15, "variables": variables or [], "tiles": tiles}


def data_tile(query: str, title: str | None = None) -> dict[str, Any]:
    tile: dict[str, Any] = {"type": "data", "query": query}
    if title is not None:
        tile["title"] = title
    return tile


def section(id_: str, query: str) -> dict[str, Any]:
    return {"id": id_, "type": "dql", "state": {"input": {"value": query}}}


def write(path: Path, document: object, **dumps: Any) -> Path:
    path.write_text(json.dumps(document, **dumps) + "\n", encoding="utf-8")
    return path


def at(path: Path, line: int, column: int) -> str:
    """The file text from a reported line and column on."""
    lines = path.read_text(encoding="utf-8").split("\n")
    return "\n".join(lines[line - 1 :])[column - 1 :]


def locations(out: str, path: Path) -> list[tuple[int, int, str]]:
    """(line, column, rest of the line) of each finding reported for ``path``."""
    found = []
    for line in out.splitlines():
        if line.startswith(f"{path}:"):
            row, column, rest = line[len(str(path)) + 1 :].split(":", 2)
            found.append((int(row), int(column), rest))
    return found


def test_findings_point_into_the_file_through_escapes(
    tmp_path: Path, capsys: Capsys, monkeypatch: MonkeyPatch
) -> None:
    query = 'fetch logs // é 😀 "quoted"\n| filter msg == "a\\"b\\tc" and x == 1\n| filtr y == 2'
    for ensure_ascii in (True, False):
        path = write(
            tmp_path / f"d{ensure_ascii}.json",
            dashboard({"7": {"type": "markdown", "content": "x"}, "8": data_tile(query, "Errs")}),
            indent=2,
            ensure_ascii=ensure_ascii,
        )
        code, out, err = run(["check-documents", str(path)], capsys, monkeypatch)
        assert (code, err) == (1, "")
        [(line, column, rest)] = locations(out, path)
        assert rest == ' error: unknown command `filtr` [DQL101] (tile "Errs")'
        assert at(path, line, column).startswith("filtr y == 2")
        assert "  hint: did you mean `filter`?" in out


def test_syntax_errors_show_the_query_line(
    tmp_path: Path, capsys: Capsys, monkeypatch: MonkeyPatch
) -> None:
    path = write(tmp_path / "d.json", dashboard({"3": data_tile("fetch logs\n| filter a && b")}))
    code, out, _ = run(["check-documents", str(path)], capsys, monkeypatch)
    assert code == 1
    [(line, column, rest)] = locations(out, path)
    assert rest.startswith(" error: ") and rest.endswith("[DQL001] (tile 3)")
    assert at(path, line, column).startswith("&& b")
    assert "  | filter a && b\n" in out and out.rstrip().endswith("^")


def test_a_byte_order_mark_is_not_counted_like_in_a_dql_file(
    tmp_path: Path, capsys: Capsys, monkeypatch: MonkeyPatch
) -> None:
    # One line: the finding is on the line the BOM starts.
    text = json.dumps(dashboard({"1": data_tile("fetch logs | sortt")}))
    reports = []
    for name, prefix in (("plain.json", ""), ("bom.json", "\ufeff"), ("cut.json", "\ufeff")):
        path = tmp_path / name
        path.write_text(prefix + (text[:40] if name == "cut.json" else text), encoding="utf-8")
        _, out, _ = run(["check-documents", str(path), "--format", "json"], capsys, monkeypatch)
        reports.append([finding["span"] for finding in json.loads(out)])
    plain, bom, cut = reports
    assert bom == plain and plain[0]["line"] == 1
    assert text[plain[0]["start"] :].startswith("sortt")
    assert plain[0]["column"] == plain[0]["start"] + 1
    assert cut[0]["column"] == cut[0]["start"] + 1 == 41  # the JSON ends there


def test_embedded_content_is_mapped_through_both_encodings(
    tmp_path: Path, capsys: Capsys, monkeypatch: MonkeyPatch
) -> None:
    content = json.dumps(dashboard({"1": data_tile('fetch logs | filter s == "\\u00e9"\n| sortt')}))
    envelope = {"name": "Embedded", "type": "dashboard", "content": content}
    path = write(tmp_path / "env.json", envelope, indent=2)
    code, out, _ = run(["check-documents", str(path)], capsys, monkeypatch)
    assert code == 1
    [(line, column, rest)] = locations(out, path)
    assert "unknown command `sortt`" in rest
    assert at(path, line, column).startswith("sortt")


def test_notebook_sections_and_dashboard_variables(
    tmp_path: Path, capsys: Capsys, monkeypatch: MonkeyPatch
) -> None:
    notebook = {
        "version": "7",
        "sections": [
            {"id": "a", "type": "markdown", "markdown": "# hi"},
            {**section("b", "fetch logs | sortt"), "title": "Logs"},
            section("c", "fetch logs | limt 1"),
            section("d", " "),
        ],
    }
    nb = write(tmp_path / "nb.json", notebook, indent=1)
    variables = [
        {"key": "Service", "type": "query", "input": "fetch spans | summarize by: {service}"},
        {"key": "Host", "type": "query", "input": "fetch logs | fields $Servic"},
        {"key": "Env", "type": "csv", "input": "a,b"},
    ]
    tiles = {"0": data_tile("fetch logs | filter in(s, $Service) and e == $Environment", "T")}
    dash = write(tmp_path / "dash.json", dashboard(tiles, variables))
    code, out, _ = run(["check-documents", str(nb), str(dash)], capsys, monkeypatch)
    assert code == 1
    found = locations(out, nb) + locations(out, dash)
    labels = [rest.rsplit(" (", 1)[1] for _, _, rest in found]
    assert labels == ['section "Logs")', "section c)", 'tile "T")', 'variable "Host")']
    assert "`$Environment` is not defined [DQL301]" in found[2][2]
    assert "$Servic" in found[3][2]
    for path, (line, column, _) in zip([nb, nb, dash, dash], found, strict=True):
        assert at(path, line, column)[:1] in ("s", "l", "$")


def test_non_documents_are_skipped_only_on_request(
    tmp_path: Path, capsys: Capsys, monkeypatch: MonkeyPatch
) -> None:
    others = [
        write(tmp_path / "package.json", {"name": "x", "version": "1.0.0"}),
        write(tmp_path / "list.json", [1, 2]),
        write(tmp_path / "classic.json", {"dashboardMetadata": {}, "tiles": []}),
        write(tmp_path / "workflow.json", {"type": "workflow", "content": {}}),
    ]
    jsonc = tmp_path / "tsconfig.json"
    jsonc.write_text('{\n  // comment\n  "compilerOptions": {}\n}\n')
    others.append(jsonc)
    files = [str(p) for p in others]
    assert run(["check-documents", "--skip-non-documents", *files], capsys, monkeypatch) == (
        0,
        "",
        "",
    )
    code, out, _ = run(["check-documents", *files], capsys, monkeypatch)
    assert code == 1
    assert [line.split(":", 1)[0] for line in out.splitlines() if ": error: " in line] == files


def test_a_broken_document_is_reported_even_when_skipping(
    tmp_path: Path, capsys: Capsys, monkeypatch: MonkeyPatch
) -> None:
    broken = write(tmp_path / "b.json", dashboard({"0": {"type": "data", "query": 5}}))
    code, out, _ = run(
        ["check-documents", "--skip-non-documents", str(broken)], capsys, monkeypatch
    )
    assert code == 1 and out.startswith(f"{broken}:") and "not a valid dashboard" in out


def test_dql_files_report_as_dqlbuild_check_does(
    tmp_path: Path, capsys: Capsys, monkeypatch: MonkeyPatch
) -> None:
    query = tmp_path / "q.dql"
    query.write_text("fetch logs\n| fields a\n| filter b == 1\n| sort c\n| limt 3\n")
    expected = run(["check", str(query)], capsys, monkeypatch)
    assert expected[0] == 1 and "[DQL201]" in expected[1]
    assert run(["check-documents", str(query)], capsys, monkeypatch) == expected


def test_warnings_alone_pass_and_json_output(
    tmp_path: Path, capsys: Capsys, monkeypatch: MonkeyPatch
) -> None:
    path = write(
        tmp_path / "d.json", dashboard({"0": data_tile("fetch logs | fields a | filter b")})
    )
    code, out, _ = run(["check-documents", "--format", "json", str(path)], capsys, monkeypatch)
    assert code == 0
    [record] = json.loads(out)
    assert record["code"] == "DQL201" and record["severity"] == "warning"
    assert record["query"] == "tile 0" and record["file"] == str(path)
    assert at(path, record["line"], record["column"]).startswith("b")


def test_unreadable_file(tmp_path: Path, capsys: Capsys, monkeypatch: MonkeyPatch) -> None:
    missing = tmp_path / "none.json"
    code, out, _ = run(["check-documents", str(missing)], capsys, monkeypatch)
    assert (code, out) == (1, f"{missing}: error: no such file\n")


@given(st.text(), st.booleans())
def test_string_offsets_locate_every_character(value: str, ensure_ascii: bool) -> None:
    raw = json.dumps({"k": value}, ensure_ascii=ensure_ascii)
    node = parse_json(raw).find("/k")
    offsets = StringOffsets(raw, node)
    assert offsets(len(value)) == offsets(len(value) + 5) == node.end - 1
    for i, char in enumerate(value):
        assert json.loads('"' + raw[offsets(i) : offsets(i + 1)] + '"') == char


@pytest.mark.skipif(not CORPUS_DASHBOARDS.is_dir(), reason="../shared/corpus is absent")
def test_corpus_documents_report_positions_inside_their_queries(
    capsys: Capsys, monkeypatch: MonkeyPatch
) -> None:
    files = sorted(CORPUS_DASHBOARDS.glob("*.json"))[::10]
    code, out, err = run(
        ["check-documents", "--format", "json", *map(str, files)], capsys, monkeypatch
    )
    assert err == ""
    records = json.loads(out)
    assert code == (1 if any(r["severity"] == "error" for r in records) else 0)
    for record in records:
        if record["line"] is None:
            continue  # the document itself could not be loaded
        text = at(Path(record["file"]), record["line"], record["column"])
        assert text[:1] not in ("", " ", "\n", '"'), record
