"""A real LSP client (pytest-lsp) talking to ``python -m dqlbuild lsp`` over stdio."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, LanguageClientProtocol
from pytest_lsp.client import register_lsp_features

from tests.conftest import REPO

PUBLISH = types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS
# Short, so that the tests are quick, but long enough to merge a burst of changes.
DEBOUNCE_MS = 150


class _Protocol(LanguageClientProtocol):
    """Keeps every publishDiagnostics, with its version (the stock client keeps only the
    latest list per file)."""

    def _handle_notification(self, method_name: str, params: Any) -> None:
        if method_name == PUBLISH:
            self._server.published.append(params)  # type: ignore[attr-defined]
        super()._handle_notification(method_name, params)


class Client(LanguageClient):
    published: list[types.PublishDiagnosticsParams]


def _client() -> Client:
    client = Client(protocol_cls=_Protocol, converter_factory=default_converter)
    client.published = []
    register_lsp_features(client)
    return client


CONFIG = ClientServerConfig(
    server_command=[sys.executable, "-m", "dqlbuild", "lsp"],
    client_factory=_client,
    server_env=None,
)


async def _start(client: LanguageClient, spec: str) -> None:
    await client.initialize_session(
        types.InitializeParams(
            capabilities=pytest_lsp.client_capabilities(spec),
            root_uri=REPO.as_uri(),
            initialization_options={"debounce": DEBOUNCE_MS},
        )
    )


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: Client) -> Any:
    """A VS Code-like client (UTF-16 positions, snippets)."""
    await _start(lsp_client, "visual-studio-code")
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def neovim(lsp_client: Client) -> Any:
    """A Neovim-like client, which asks for UTF-8 positions."""
    await _start(lsp_client, "neovim@v0.11.0")
    yield
    await lsp_client.shutdown_session()


async def diagnostics_of(
    client: Client, uri: str, version: int, timeout: float = 60
) -> list[types.Diagnostic]:
    """The diagnostics published for ``version`` of ``uri`` (waits for them)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        for params in client.published:
            if params.uri == uri and params.version == version:
                return list(params.diagnostics)
        await asyncio.sleep(0.02)
    raise AssertionError(f"no diagnostics for version {version} of {uri}")


def open_file(client: Client, uri: str, text: str, language: str = "dql") -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


def doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)
