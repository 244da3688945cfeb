"""The library and the command line tried as a new user would (issue 12): text where a query
is expected, str() of nodes, fragments, line ends and byte-order marks, directories."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import dqlbuild
from dqlbuild.errors import DQLTypeError
from tests.cli.test_cli_rules import Capsys, run

REPO = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- the library
def test_str_is_dql_and_repr_is_the_structure() -> None:
    query = dqlbuild.parse("fetch logs|filter a>1 // big\n|limit 5")
    assert str(query) == query.format() == "fetch logs\n| filter a > 1 // big\n| limit 5"
    # A line comment ends its line, so that the text stays DQL wherever it is pasted.
    assert str(query.commands[1]) == "filter a > 1 // big\n"
    assert str(query.commands[1].args[0]) == "a > 1"
    assert repr(query).startswith("Query(commands=(Command(name='fetch'")
    assert f"{dqlbuild.F('a') == 1}" == "a == 1"


def test_a_fragment_keeps_its_leading_pipe() -> None:
    assert dqlbuild.parse_pipeline("| a | b").format() == "| a\n| b"
    assert str(dqlbuild.parse_pipeline("// first\n  | fieldsAdd x = 1")) == (
        "// first\n| fieldsAdd x = 1"
    )
    assert dqlbuild.parse_pipeline("a | b").format() == "a\n| b"
    assert dqlbuild.parse_pipeline("| a | b").insert(1, "limit 1").format() == "| a\n| limit 1\n| b"


def test_format_of_something_that_is_not_dql_is_a_type_error() -> None:
    for value in (123, None, b"fetch logs", ["fetch logs"]):
        with pytest.raises(DQLTypeError, match="format\\(\\) takes a query, a node or DQL text"):
            dqlbuild.format(value)  # type: ignore[arg-type]


def test_every_entry_point_taking_text_rejects_other_types_alike() -> None:
    calls: dict[str, Callable[[Any], object]] = {
        "parse": dqlbuild.parse,
        "parse_pipeline": dqlbuild.parse_pipeline,
        "check": dqlbuild.check,
        "analyze": dqlbuild.analyze,
        "variables": dqlbuild.variables,
        "inject_filter": lambda v: dqlbuild.inject_filter(v, "a == 1"),
        "render": lambda v: dqlbuild.render(v, {}),
    }
    for call in calls.values():
        for value in (123, b"fetch logs"):
            with pytest.raises(DQLTypeError, match=r"not (int|bytes)"):
                call(value)


def test_check_and_analyze_take_text_like_format_does() -> None:
    text = "fetch logs | fields a | filter b == 1"
    assert dqlbuild.check(text) == dqlbuild.check(dqlbuild.parse(text))
    assert dqlbuild.analyze(text).fields_after.names == {"a"}


def test_import_dqlbuild_loads_only_what_is_used() -> None:
    code = (
        "import sys, dqlbuild; assert 'dqlbuild.documents' not in sys.modules; "
        "dqlbuild.parse('fetch logs'); assert 'dqlbuild.rewriting' not in sys.modules; "
        "assert sorted(dqlbuild.__all__) == sorted(set(dqlbuild.__all__)); "
        "[getattr(dqlbuild, name) for name in dqlbuild.__all__]; "
        "assert set(dqlbuild.__all__) <= set(dir(dqlbuild)); "
        "assert not {'importlib', 'Any', 'TYPE_CHECKING', 'annotations'} & set(dir(dqlbuild)); "
        "print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout == "ok\n", result.stderr
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        dqlbuild.nope  # type: ignore[attr-defined]  # noqa: B018


# ---------------------------------------------------------------- fmt
def test_fmt_fragment(capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run(["fmt"], capsys, monkeypatch, stdin="| fieldsAdd x = 1")
    assert code == 1 and out == ""
    assert err.splitlines()[:2] == [
        "<stdin>:1:1: error: a query cannot begin with `|`",
        "  hint: the text is a pipeline fragment: add --fragment",
    ]
    code, out, _ = run(["fmt", "--fragment"], capsys, monkeypatch, stdin="| fieldsAdd x=1|limit 2")
    assert (code, out) == (0, "| fieldsAdd x = 1\n| limit 2\n")
    code, out, _ = run(["parse", "--fragment", "--compact"], capsys, monkeypatch, stdin="| limit 2")
    assert code == 0 and json.loads(out)["commands"][0]["name"] == "limit"


def test_fmt_keeps_crlf_and_a_byte_order_mark(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    crlf = tmp_path / "crlf.dql"
    crlf.write_bytes(b"fetch logs|limit 1 // one\r\n| sort a\r\n")
    bom = tmp_path / "bom.dql"
    bom.write_bytes(b"\xef\xbb\xbffetch logs | limit 1\n")
    both = tmp_path / "both.dql"
    both.write_bytes(b'\xef\xbb\xbffetch logs\r\n| fields x = """a\r\nb"""\r\n')
    code, out, _ = run(["fmt", str(crlf)], capsys, monkeypatch)
    assert (code, out) == (0, "fetch logs\r\n| limit 1 // one\r\n| sort a\r\n")
    assert run(["fmt", "-i", str(crlf), str(bom), str(both)], capsys, monkeypatch)[0] == 0
    assert crlf.read_bytes() == b"fetch logs\r\n| limit 1 // one\r\n| sort a\r\n"
    assert bom.read_bytes() == b"\xef\xbb\xbffetch logs\n| limit 1\n"
    assert both.read_bytes() == b'\xef\xbb\xbffetch logs\r\n| fields x = """a\r\nb"""\r\n'
    code, _, err = run(["fmt", "--check", str(crlf), str(bom), str(both)], capsys, monkeypatch)
    assert (code, err) == (0, "")
    code, out, _ = run(["check", str(bom)], capsys, monkeypatch)
    assert (code, out) == (0, "")


def test_fmt_refuses_to_change_mixed_line_ends_inside_a_string(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    mixed = tmp_path / "mixed.dql"
    before = b'fetch logs\r\n| fields x = """a\nb"""\r\n'
    mixed.write_bytes(before)
    code, _, err = run(["fmt", "-i", str(mixed)], capsys, monkeypatch)
    assert code == 1 and "mixes LF and CRLF line ends" in err
    assert mixed.read_bytes() == before


def test_the_fmt_hook_passes_on_formatted_crlf_files(tmp_path: Path) -> None:
    path = tmp_path / "q.dql"
    path.write_bytes(b"fetch logs\r\n| limit 1\r\n")
    result = subprocess.run(
        [sys.executable, "-m", "dqlbuild", "fmt", "--check", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")


# ---------------------------------------------------------------- many files and directories
def test_directories_are_searched_recursively(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "a" / "one.dql").write_text("fetch logs|limit 1")
    (tmp_path / "a" / "b" / "two.DQL").write_text("fetch logs | filtr x")
    (tmp_path / ".hidden" / "three.dql").write_text("fetch logs |")
    (tmp_path / "a" / "notes.txt").write_text("not DQL")
    shutil_copy = (REPO / "examples" / "ai-observability.dashboard.json").read_text()
    (tmp_path / "a" / "b" / "dash.json").write_text(shutil_copy)
    code, _, err = run(["fmt", "--check", str(tmp_path)], capsys, monkeypatch)
    assert code == 1
    assert err.splitlines() == [
        f"{tmp_path}/a/one.dql: would reformat",
        f"{tmp_path}/a/b/two.DQL: would reformat",
    ]
    code, out, _ = run(["check", str(tmp_path)], capsys, monkeypatch)
    assert code == 1 and out.startswith(f"{tmp_path}/a/b/two.DQL:1:14: error: unknown command")
    code, out, _ = run(["dashboard", "inspect", str(tmp_path)], capsys, monkeypatch)
    assert code == 0 and out.startswith(f"{tmp_path}/a/b/dash.json: dashboard")
    code, out, _ = run(["check-documents", str(tmp_path / "a")], capsys, monkeypatch)
    assert code == 1 and "two.DQL" in out and "dash.json" not in out
    code, _, err = run(
        ["inject", str(tmp_path / "a"), "--filter", "a == 1", "-i"], capsys, monkeypatch
    )
    assert code == 0
    assert (tmp_path / "a" / "one.dql").read_text() == "fetch logs|filter a == 1|limit 1"


def test_several_files_to_print_need_in_place(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a.dql", "b.dql"):
        (tmp_path / name).write_text("fetch logs")
    args = ["inject", str(tmp_path / "a.dql"), str(tmp_path / "b.dql"), "--filter", "x == 1"]
    code, _, err = run(args, capsys, monkeypatch)
    assert code == 2 and "several files are rewritten with --in-place" in err
    code, _, err = run(["fmt", "-", "-"], capsys, monkeypatch, stdin="fetch logs")
    assert code == 2 and "standard input ('-') can be read only once" in err


# ---------------------------------------------------------------- variables
def test_a_list_default_must_be_one_of_its_values(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = str(REPO / "examples" / "ai-observability.dashboard.json")
    base = ["dashboard", "add-variable", example, "--key", "P", "--type", "csv", "-n"]
    code, _, err = run([*base, "--input", "a, b", "--default", "c"], capsys, monkeypatch)
    assert code == 2
    assert "--default 'c' is not one of the variable's values: a, b" in err
    assert run([*base, "--input", "a, b", "--default", "b"], capsys, monkeypatch)[0] == 0
    multi = [*base, "--input", "a,b", "--multiple", "--select-all", "--default", "a"]
    assert run(multi, capsys, monkeypatch)[0] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "dt_x"], "--key: keys starting with `dt_` are reserved"),
        (["--key", "my_key"], "--key: 'my_key' is not a key the Dashboards app accepts"),
        (["--key", "$Good", "--default", "x"], None),
    ],
)
def test_variable_keys_are_usage_errors(
    args: list[str], message: str | None, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = str(REPO / "examples" / "ai-observability.dashboard.json")
    code, _, err = run(
        ["dashboard", "add-variable", example, "--type", "text", "-n", *args], capsys, monkeypatch
    )
    if message is None:
        assert code == 0, err
    else:
        assert code == 2 and message in err
