"""Byte-exact reading and atomic writing of document files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dqlbuild.documents import atomic_write, load_document, read_text
from dqlbuild.errors import DocumentError

from .conftest import FIXTURES


@pytest.mark.parametrize("name", ["dashboard-crlf.json", "dashboard-bom.json"])
def test_read_write_round_trip_is_byte_exact(name: str, tmp_path: Path) -> None:
    original = (FIXTURES / name).read_bytes()
    target = tmp_path / name
    target.write_bytes(original)
    text = read_text(target)
    assert ("\r\n" in text) == (b"\r\n" in original)
    assert text.startswith("\ufeff") == original.startswith(b"\xef\xbb\xbf")
    atomic_write(target, text)
    assert target.read_bytes() == original


def test_crlf_edit_writes_crlf_only(tmp_path: Path) -> None:
    target = tmp_path / "d.json"
    target.write_bytes((FIXTURES / "dashboard-crlf.json").read_bytes())
    doc = load_document(target)
    atomic_write(target, doc.add_variable("A", "csv", "x,y"))
    data = target.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    assert load_document(target).variables()[0].key == "A"


def test_atomic_write_keeps_mode_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "d.json"
    target.write_text("{}")
    os.chmod(target, 0o640)
    atomic_write(target, '{"a": 1}\n')
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_bytes() == b'{"a": 1}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["d.json"]


def test_atomic_write_new_file_gets_umask_mode(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "new.json", "{}")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644


def test_atomic_write_through_a_symlink_replaces_the_target(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write(link, "[]")
    assert link.is_symlink()
    assert real.read_text() == "[]"


def test_atomic_write_failure_keeps_the_original(tmp_path: Path) -> None:
    target = tmp_path / "d.json"
    target.write_text("{}")
    with pytest.raises(DocumentError, match="not encodable"):
        atomic_write(target, "\ud800")
    assert target.read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["d.json"]


def test_read_text_errors(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{\n"a": "caf\xe9"}')
    with pytest.raises(DocumentError, match="not UTF-8") as info:
        read_text(bad)
    assert info.value.line == 2
    with pytest.raises(DocumentError, match="cannot read"):
        read_text(tmp_path / "missing.json")
