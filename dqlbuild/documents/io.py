"""Reading and writing document files without touching their bytes.

``read_text`` decodes UTF-8 and changes nothing else: newlines stay as they
are and a byte-order mark is kept as ``"\\ufeff"`` at the start of the text,
so writing the text back reproduces the file exactly (the JSON layer skips a
leading BOM when parsing). ``atomic_write`` never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from dqlbuild.errors import DocumentError


def read_text(path: str | os.PathLike[str]) -> str:
    """The file's text: strict UTF-8, BOM and newlines preserved."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise DocumentError(f"cannot read {os.fspath(path)}: {e.strerror or e}") from e
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise DocumentError(
            f"{os.fspath(path)} is not UTF-8 text (byte {e.start})", line=line
        ) from None


def atomic_write(path: str | os.PathLike[str], text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8, newlines exactly as given).

    The text goes to a temporary file in the same directory, which then
    replaces the target in one step. An existing file keeps its permission
    bits; a symlink keeps pointing at the file it names, which is replaced.
    """
    target = Path(os.path.realpath(path))
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise DocumentError(
            f"cannot write {os.fspath(path)}: character {e.start} is not encodable as UTF-8"
        ) from None
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        # mkstemp creates 0600; a new file should get the usual umask-based mode.
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
