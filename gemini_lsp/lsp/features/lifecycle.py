"""Start-up, settings and shut-down."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from gemini_lsp import config
from gemini_lsp.gemini import held
from gemini_lsp.generations.link import ClientLink, Stop
from gemini_lsp.lsp.progress import Progress

if TYPE_CHECKING:
    from gemini_lsp.lsp.server import GeminiLanguageServer

log = logging.getLogger(__name__)


def setup(server: GeminiLanguageServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        capabilities = params.capabilities
        # The enum's value ("utf-16"): str() of it is "PositionEncodingKind.Utf16" on 3.11.
        encoding = server.workspace.position_encoding or types.PositionEncodingKind.Utf16
        server.documents.encoding = getattr(encoding, "value", encoding)
        workspace = capabilities.workspace
        window = capabilities.window
        create = (
            server.window_work_done_progress_create_async
            if window is not None and window.work_done_progress
            else None
        )

        def progress(token: types.ProgressToken | None) -> Progress:
            clock = asyncio.get_running_loop().time
            return Progress(server.protocol.notify, create, token, clock)

        server.link_client(
            ClientLink(
                send_edit=functools.partial(
                    server.protocol.send_request_now, types.WORKSPACE_APPLY_EDIT
                ),
                progress=progress,
                versioned_edits=bool(
                    workspace is not None
                    and workspace.workspace_edit is not None
                    and workspace.workspace_edit.document_changes
                ),
            )
        )
        server.update_settings(
            "initializationOptions", config.section_of(params.initialization_options)
        )

    @server.feature(types.INITIALIZED)
    async def initialized(params: types.InitializedParams) -> None:
        # The SDK is not imported yet: google-genai would double the idle footprint (about
        # half a second and tens of MB), and the first generation imports it off the loop.
        await pull_configuration(server)
        # Start-up's temporaries (every module's bytecode, read whole) are freed by now, but
        # glibc keeps their pages: handed back, the idle server holds half a MB less. (No
        # garbage collection first: it would stall the loop for tens of ms, and gain little.)
        held.hand_back_freed()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(params: types.DidChangeConfigurationParams) -> None:
        pushed = config.section_of(params.settings)
        if pushed is not None:
            server.update_settings("didChangeConfiguration", pushed)
        else:  # a pull-model client: the notification only says "ask again"
            await pull_configuration(server)

    @server.feature(types.SHUTDOWN)
    async def shutdown(params: Any) -> None:
        # Generations in flight end as if cancelled (a rewrite puts its original back) and
        # their requests are answered before `shutdown` is.
        await server.stop_generations(Stop.CANCELLED)


async def pull_configuration(server: GeminiLanguageServer) -> None:
    workspace = server.client_capabilities.workspace
    if workspace is None or not workspace.configuration:
        return
    try:
        items = await server.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=config.SECTION)])
        )
    except Exception as error:
        log.warning("workspace/configuration failed: %s", error)
        return
    if items and isinstance(items[0], dict):
        server.update_settings("configuration", items[0])
