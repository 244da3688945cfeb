"""``dqlbuild lsp`` as a command: started wrongly, it says so."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from dqlbuild.cli.check import SYNTAX_CODE
from dqlbuild.lsp.diagnose import SYNTAX_CODE as LSP_SYNTAX_CODE
from tests.conftest import REPO


def _run(code: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, **kwargs
    )


def test_from_a_terminal_it_prints_its_usage() -> None:
    leader, follower = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "dqlbuild", "lsp"],
            cwd=REPO,
            stdin=follower,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(leader)
        os.close(follower)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: dqlbuild lsp")
    assert "start it from your editor (see docs/editors.md)" in result.stderr
    assert result.stdout == ""


def test_without_the_extra_it_names_what_to_install() -> None:
    code = (
        "import sys; sys.modules['pygls'] = None\n"
        "from dqlbuild.cli import main\n"
        "sys.exit(main(['lsp']))"
    )
    result = _run(code, input="")
    assert result.returncode == 1
    assert "dqlbuild lsp: error: the language server needs pygls, which is not installed" in (
        result.stderr
    )
    assert "hint: pip install 'dqlbuild[lsp]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_log_file_that_cannot_be_written() -> None:
    code = (
        "import sys\nfrom dqlbuild.cli import main\n"
        "sys.exit(main(['lsp', '--log-file', '/nonexistent/dir/x.log']))"
    )
    result = _run(code, input="")
    assert result.returncode == 1
    assert "dqlbuild lsp: error: cannot write the log file" in result.stderr


def test_syntax_errors_have_the_code_the_command_line_gives_them() -> None:
    assert LSP_SYNTAX_CODE == SYNTAX_CODE
