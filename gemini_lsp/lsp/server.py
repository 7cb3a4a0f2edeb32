"""The language server: a pygls server built by `create_server()` from feature modules.

The protocol subclass replaces a few of pygls' built-in handlers, as measured on pygls 2.1:
- document sync goes to our line-based store, not pygls' whole-text one;
- `workspace/executeCommand` runs the command as the request's own task, so that
  `$/cancelRequest` really stops it, and hands it the request's `workDoneToken`;
- notifications are handled by plain functions, which pygls does not keep futures for.
Under it, `rpc.RobustProtocol` answers malformed messages and keeps pygls' bookkeeping
bounded, and `transport` frames the messages (stdio, or one TCP connection).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from lsprotocol import types
from pygls.exceptions import FeatureRequestError, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol.language_server import lsp_method

from gemini_lsp import __version__, config
from gemini_lsp.engine.documents import Document, DocumentStore
from gemini_lsp.gemini.secrets import KEYS, Secrets
from gemini_lsp.gemini.uris import UriError, path_of
from gemini_lsp.generations.link import ClientLink, Stop
from gemini_lsp.lsp import transport
from gemini_lsp.lsp.rpc import RobustProtocol

if TYPE_CHECKING:
    from gemini_lsp.gemini.backend import GeminiBackend
    from gemini_lsp.generations.generation import Generation
    from gemini_lsp.generations.registry import GenerationRegistry

log = logging.getLogger(__name__)

CommandHandler = Callable[[types.ExecuteCommandParams], Awaitable[Any]]

# How long `shutdown` (and a vanished client) let generations wind down.
WIND_DOWN_SECONDS = 5.0
DEBUG_STATS = "gemini/debugStats"


class GeminiProtocol(RobustProtocol):
    _server: GeminiLanguageServer

    def __init__(self, server: Any, converter: Any) -> None:
        super().__init__(server, converter)
        # Document sync is on the hot path: every edit the server sends comes back as one.
        self.direct_notifications = {
            types.TEXT_DOCUMENT_DID_OPEN: self.lsp_text_document__did_open,
            types.TEXT_DOCUMENT_DID_CHANGE: self.lsp_text_document__did_change,
            types.TEXT_DOCUMENT_DID_CLOSE: self.lsp_text_document__did_close,
        }

    def inspect(self, data: Any) -> None:
        # Keys are learnt before pygls logs the message that carries them.
        _collect_keys(data, self._server.secrets)

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
        registry = self._server.started_registry()
        generation = registry.by_progress_token(params.token) if registry is not None else None
        if registry is not None and generation is not None:
            registry.cancel(generation.id, None)

    # A coroutine, unlike pygls' generator: pygls then runs it as the request's own task.
    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    async def lsp_workspace__execute_command(  # type: ignore[override]
        self, params: types.ExecuteCommandParams
    ) -> Any:
        handler: CommandHandler | None = self.fm.commands.get(params.command)
        if handler is None:
            raise JsonRpcInvalidParams(f"Unknown command {params.command!r}")
        task = asyncio.current_task()
        if task is not None:
            self.command_tasks.add(task)
        try:
            return await handler(params)
        finally:
            self.command_tasks.discard(task)  # type: ignore[arg-type]


class GeminiLanguageServer(LanguageServer):
    """The server and the state its features share."""

    protocol: GeminiProtocol

    def __init__(self, secrets: Secrets | None = None) -> None:
        super().__init__("gemini-lsp", __version__, protocol_cls=GeminiProtocol)
        # Every key the server has seen: the log formatter, stderr and every message to the
        # client (`RobustProtocol._send_data`) mask them.
        self.secrets = secrets if secrets is not None else KEYS
        self.secrets.add_environment()
        self.protocol.secrets = self.secrets
        self.documents = DocumentStore()
        self.client_link: ClientLink | None = None  # set at `initialize`
        # Later sources win: initializationOptions, workspace/configuration, pushed changes.
        self.setting_sources: dict[str, Any] = {}
        self.settings = config.Settings()
        self._reported_problems: set[str] = set()
        self._reporting = False
        self.documents.on_close = self._document_closed

    # The Gemini client and the generations are created at first use: they load the HTTP,
    # retry and edit machinery, which an editor that starts a server for every file it opens
    # would otherwise pay for in start-up time and memory each time.

    @functools.cached_property
    def backend(self) -> GeminiBackend:
        from gemini_lsp.gemini.backend import GeminiBackend

        return GeminiBackend()

    @functools.cached_property
    def registry(self) -> GenerationRegistry:
        from gemini_lsp.generations.registry import GenerationRegistry

        return GenerationRegistry(self.backend, lambda: self.settings, self.client_link)

    def started_registry(self) -> GenerationRegistry | None:
        """The registry if anything has needed it yet: none means no generation ever ran."""
        registry: GenerationRegistry | None = self.__dict__.get("registry")
        return registry

    def link_client(self, link: ClientLink) -> None:
        self.client_link = link
        registry = self.started_registry()
        if registry is not None:
            registry.link = link

    def _document_closed(self, document: Document) -> None:
        registry = self.started_registry()
        if registry is not None:
            registry.document_closed(document)

    def update_settings(self, source: str, values: Any) -> None:
        self.setting_sources[source] = values
        if isinstance(values, dict) and isinstance(values.get("apiKey"), str):
            self.secrets.add(values["apiKey"])
        order = ("initializationOptions", "configuration", "didChangeConfiguration")
        resolution = config.resolve(*(self.setting_sources.get(name) for name in order))
        self.settings = resolution.settings
        for problem in resolution.problems:
            if problem not in self._reported_problems:
                self._reported_problems.add(problem)
                log.warning("%s", problem)
                self.show(problem, types.MessageType.Warning)

    def show(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=self.redact(message)))

    def redact(self, text: str) -> str:
        return self.secrets.mask(text)

    def report_server_error(self, error: Exception, source: Any) -> None:
        # pygls has logged it already. Requests carry their own error; anything else is
        # shown, once at a time (showing could fail and report again).
        if source is FeatureRequestError or self._reporting:
            return
        self._reporting = True
        try:
            self.show(f"gemini-lsp internal error: {error} — see the server log")
        finally:
            self._reporting = False

    def folders(self) -> list[Path]:
        """The workspace folders: only files inside them are ever read or sent."""
        try:
            workspace = self.workspace
        except RuntimeError:  # not initialized
            return []
        uris = [folder.uri for folder in workspace.folders.values()]
        if workspace.root_uri:
            uris.append(workspace.root_uri)
        folders = []
        for uri in uris:
            try:
                path = path_of(uri)
            except UriError:  # %00, escapes that are not UTF-8, a host: no folder at all
                path = None
            if path is not None:
                folders.append(path)
        return folders

    # -- serving --------------------------------------------------------------------------

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        async def serve() -> None:
            self.protocol.set_writer(transport.StdoutWriter(stdout))
            await self.session(await transport.stdin_reader(stdin))

        asyncio.run(serve())

    def start_tcp(self, host: str, port: int) -> None:
        async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.protocol.set_writer(writer)  # type: ignore[arg-type]
            await self.session(reader)

        def ready(address: str) -> None:
            log.info("listening on %s (one client)", address)

        asyncio.run(transport.serve_tcp(host, port, session, ready))

    @property
    def exit_code(self) -> int:
        """0 after `shutdown`, as LSP asks; 1 when the session ended any other way."""
        protocol = self.protocol
        return protocol.exit_code if protocol.exiting else int(not protocol._shutdown)

    async def session(self, reader: asyncio.StreamReader) -> None:
        """Serve until `exit` or until the client goes away, then stop what is left."""
        protocol = self.protocol
        try:
            await transport.read_frames(reader, protocol.intake, protocol.reject)
        finally:
            protocol.set_writer(transport.NullWriter())  # nobody to talk to any more
            await self.stop_generations(Stop.DISCONNECTED)
            if "backend" in self.__dict__:
                await self.backend.aclose()

    async def stop_generations(self, reason: Stop) -> None:
        """Stop every running generation and let it (and its request) finish, bounded."""
        registry = self.started_registry()
        generations: list[Generation] = registry.running() if registry is not None else []
        for generation in generations:
            generation.stop(reason)
        waiting: set[asyncio.Future[Any]] = {g.outcome for g in generations}
        if waiting:
            done, _ = await asyncio.wait(waiting, timeout=WIND_DOWN_SECONDS)
            for outcome in done:  # retrieved here too: its request may be gone
                if not outcome.cancelled():
                    outcome.exception()
        # Let their requests answer before whatever comes next (the `shutdown` answer).
        commands = set(self.protocol.command_tasks)
        if commands:
            await asyncio.wait(commands, timeout=WIND_DOWN_SECONDS)

    # -- diagnostics ------------------------------------------------------------------------

    def debug_stats(self) -> dict[str, Any]:
        """Counters that must not grow with use (the soak test reads them)."""
        registry = self.registry
        return {
            "tasks": len(asyncio.all_tasks()),
            "requestFutures": len(self.protocol._request_futures),
            "resultTypes": len(self.protocol._result_types),
            "commandTasks": len(self.protocol.command_tasks),
            "pyglsProgressTokens": len(self.work_done_progress.tokens),
            **registry.counts(),
            "documents": len(self.documents),
            "rssBytes": _rss_bytes(),
            "attachmentBytes": _held_bytes(),
        }


def _collect_keys(data: Any, into: Secrets, depth: int = 0) -> None:
    """Every `apiKey` string in a message (settings travel in three different messages)."""
    if depth > 8:
        return
    if isinstance(data, dict):
        for name, value in data.items():
            if name == "apiKey" and isinstance(value, str):
                into.add(value)
            elif isinstance(value, (dict, list)):
                _collect_keys(value, into, depth + 1)
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, (dict, list)):
                _collect_keys(item, into, depth + 1)


def _held_bytes() -> int:
    """Attachment bytes held by running generations: none after they end."""
    from gemini_lsp.gemini.held import HELD

    return HELD.bytes


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def create_server(secrets: Secrets | None = None) -> GeminiLanguageServer:
    """A fresh server with every feature registered; `secrets` collects the keys it sees."""
    from gemini_lsp.lsp.features import code_actions, commands, inline_completion, lifecycle

    server = GeminiLanguageServer(secrets)
    lifecycle.setup(server)
    commands.setup(server)
    code_actions.setup(server)
    inline_completion.setup(server)

    @server.feature(DEBUG_STATS)
    def debug_stats(params: Any) -> dict[str, Any]:
        """Hidden: not advertised, for tests and bug reports (README, Troubleshooting)."""
        return server.debug_stats()

    return server
