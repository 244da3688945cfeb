"""The DQL language server (``dqlbuild lsp``): diagnostics, formatting, completion,
hover, outline and folding for ``.dql`` files and for the queries inside dashboard and
notebook JSON. It needs the ``lsp`` extra (pygls and lsprotocol); see ``docs/editors.md``.
"""

from __future__ import annotations

from dqlbuild.errors import DQLError

EXTRA_HINT = "pip install 'dqlbuild[lsp]'"
_NEEDS = ("pygls", "lsprotocol")


def serve() -> None:
    """Serve LSP on stdin/stdout until the client exits.

    Raises :class:`~dqlbuild.DQLError` when the ``lsp`` extra is not installed.
    """
    try:
        from dqlbuild.lsp.server import serve as run
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] not in _NEEDS:
            raise
        raise DQLError(
            f"the language server needs {exc.name.split('.')[0]}, which is not installed",
            hint=EXTRA_HINT,
        ) from None
    run()


__all__ = ["EXTRA_HINT", "serve"]
