"""The language server: a pygls server built by `create_server()` from feature modules.

The protocol subclass replaces a few of pygls' built-in handlers (FACTS.md):
- document sync goes to our line-based store, not pygls' whole-text one;
- `workspace/executeCommand` runs the command as the request's own task, so that
  `$/cancelRequest` really stops it, and hands it the request's `workDoneToken`;
- notifications are handled by plain functions, which pygls does not keep futures for.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path

from . import __version__, config
from .backend import GeminiBackend
from .documents import DocumentStore
from .registry import GenerationRegistry

log = logging.getLogger(__name__)

CommandHandler = Callable[[types.ExecuteCommandParams], Awaitable[Any]]


class GeminiProtocol(LanguageServerProtocol):
    _server: GeminiLanguageServer

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        self._server.documents.open(params.text_document)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        self._server.documents.change(params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        self._server.documents.close(params.text_document.uri)

    @lsp_method(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def lsp_work_done_progress_cancel(self, params: types.WorkDoneProgressCancelParams) -> None:
        generation = self._server.registry.by_progress_token(params.token)
        if generation is not None:
            self._server.registry.cancel(generation.id, None)

    # A coroutine, unlike pygls' generator: pygls then runs it as the request's own task.
    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    async def lsp_workspace__execute_command(  # type: ignore[override]
        self, params: types.ExecuteCommandParams
    ) -> Any:
        handler: CommandHandler | None = self.fm.commands.get(params.command)
        if handler is None:
            raise JsonRpcInvalidParams(f"Unknown command {params.command!r}")
        return await handler(params)


class GeminiLanguageServer(LanguageServer):
    """The server and the state its features share."""

    def __init__(self) -> None:
        super().__init__("gemini-lsp", __version__, protocol_cls=GeminiProtocol)
        self.documents = DocumentStore()
        self.backend = GeminiBackend()
        # Later sources win: initializationOptions, workspace/configuration, pushed changes.
        self.setting_sources: dict[str, Any] = {}
        self.settings = config.Settings()
        self._reported_problems: set[str] = set()
        self.registry = GenerationRegistry(self.backend, lambda: self.settings, self.relative_path)
        self.documents.on_close = self.registry.document_closed

    def update_settings(self, source: str, values: Any) -> None:
        self.setting_sources[source] = values
        order = ("initializationOptions", "configuration", "didChangeConfiguration")
        resolution = config.resolve(*(self.setting_sources.get(name) for name in order))
        self.settings = resolution.settings
        for problem in resolution.problems:
            if problem not in self._reported_problems:
                self._reported_problems.add(problem)
                log.warning("%s", problem)
                self.show(problem, types.MessageType.Warning)

    def show(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def relative_path(self, uri: str) -> str:
        path = to_fs_path(uri) or uri
        try:
            folders = [to_fs_path(f.uri) for f in self.workspace.folders.values()]
            folders.append(self.workspace.root_path)
        except RuntimeError:
            folders = []
        for folder in folders:
            if folder and path.startswith(folder.rstrip(os.sep) + os.sep):
                return os.path.relpath(path, folder)
        return os.path.basename(path)


def create_server() -> GeminiLanguageServer:
    """A fresh server with every feature registered."""
    from .features import commands, lifecycle

    server = GeminiLanguageServer()
    lifecycle.setup(server)
    commands.setup(server)
    return server
