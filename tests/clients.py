"""The pytest-lsp transport for the editor model (testkit.editor): a client that applies the
server's edits to its own copy of each document and syncs every change back, in the style of
a given editor, over stdio to the real server."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient, make_test_lsp_client

from testkit.editor import Editor
from testkit.environment import server_env
from testkit.styles import Style
from testkit.waiting import within


class EditorClient(Editor):
    """A pytest-lsp client with an editor's `workspace/applyEdit` and sync behaviour."""

    def __init__(self, lsp: LanguageClient, encoding: str, style: Style | None = None) -> None:
        super().__init__(encoding, style)
        self.lsp = lsp
        self.unanswered: set[str] = set()  # documents whose edits this editor never answers
        self._answering = asyncio.Event()

        # A generator, so that pygls can leave an edit unanswered: it answers once the
        # generator returns, and a handler it yields to that never returns holds the answer.
        def apply_edit(
            params: types.ApplyWorkspaceEditParams,
        ) -> Generator[Any, Any, types.ApplyWorkspaceEditResult]:
            uris = set(params.edit.changes or {}) | {
                change.text_document.uri
                for change in params.edit.document_changes or []
                if isinstance(change, types.TextDocumentEdit)
            }
            if uris & self.unanswered:
                yield self._answering.wait, (), {}
            return self.apply_edit(params)

        lsp.feature(types.WORKSPACE_APPLY_EDIT)(apply_edit)

    def answer_again(self) -> None:
        """Answer the edits held unanswered (applying them), and any later ones."""
        self.unanswered.clear()
        self._answering.set()

    def _send_open(self, item: types.TextDocumentItem) -> None:
        self.lsp.text_document_did_open(types.DidOpenTextDocumentParams(item))

    def _send_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self.lsp.text_document_did_change(params)

    def _send_close(self, uri: str) -> None:
        self.lsp.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )

    async def quiet(self, seconds: float = 0.1, timeout: float = 20.0) -> None:
        """Until nothing is held and neither an edit nor a sync has gone by for `seconds`:
        a sync that comes late may show the server an edit to repair."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            last = max(self.applied[-1].time if self.applied else 0.0, self.last_sync)
            if not self.holding and loop.time() - last >= seconds:
                return
            if loop.time() > deadline:
                raise TimeoutError("the client never went quiet")
            await asyncio.sleep(0.02)


async def start_editor(
    style: str | Style,
    workspace: Path,
    settings: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    capabilities: types.ClientCapabilities | None = None,
) -> EditorClient:
    """Start the real server over stdio and initialize it as editor `style` would.

    `style` is a `Style`, or the name of an editor whose recorded capabilities to send with
    plain behaviour (immediate incremental sync, stale versioned edits refused).
    """
    if isinstance(style, str):
        style = Style.plain(style)
    lsp = make_test_lsp_client()
    client = EditorClient(lsp, "utf-16", style)
    await lsp.start_io(sys.executable, "-m", "gemini_lsp", env=server_env(env))
    result = await within(
        lsp.initialize_session(
            types.InitializeParams(
                capabilities=capabilities or style.capabilities,
                root_uri=workspace.as_uri(),
                workspace_folders=[types.WorkspaceFolder(workspace.as_uri(), workspace.name)],
                initialization_options={"geminiLsp": settings or {}},
            )
        ),
        "initialize",
    )
    client.encoding = str(result.capabilities.position_encoding or "utf-16")
    return client


async def stop_editor(client: EditorClient) -> None:
    client.flush()
    await within(client.lsp.shutdown_session(), "shutdown")
    await client.lsp.stop()  # type: ignore[no-untyped-call]
