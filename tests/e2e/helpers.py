"""Small helpers for end-to-end tests against the real server and the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsprotocol import types

from gemini_lsp.emulator import Emulator
from testkit.document import ClientDocument
from testkit.emulators import API_KEY
from testkit.styles import style_named
from testkit.waiting import within
from tests.clients import EditorClient, start_editor, stop_editor

# Each editor's habits (testkit/styles.py): VS Code, Neovim with its 150 ms debounce, Eglot
# (blocking commands, idle sync), a client that syncs only once a request is answered, and
# one that batches its changes behind a debounce.
STYLES = ["vscode", "neovim-debounced", "eglot", "sync-after-answer", "batching"]
INVALID_PARAMS = types.ErrorCodes.InvalidParams.value
REQUEST_FAILED = types.LSPErrorCodes.RequestFailed.value
REQUEST_CANCELLED = types.LSPErrorCodes.RequestCancelled.value


@asynccontextmanager
async def editor(
    style: str, workspace: Path, emulator: Emulator, **settings: Any
) -> AsyncIterator[EditorClient]:
    client = await start_editor(
        style_named(style),
        workspace,
        {"baseUrl": emulator.base_url, **settings},
        env={"GEMINI_API_KEY": API_KEY},
    )
    try:
        yield client
    finally:
        await stop_editor(client)


def generate_args(doc: ClientDocument, offset: int, prompt: str = "write it") -> dict[str, Any]:
    position = doc.position(offset)
    return {
        "textDocument": {"uri": doc.uri},
        "position": {"line": position.line, "character": position.character},
        "prompt": prompt,
    }


def edit_args(doc: ClientDocument, start: int, end: int, prompt: str = "rewrite") -> dict[str, Any]:
    a, b = doc.position(start), doc.position(end)
    return {
        "textDocument": {"uri": doc.uri},
        "range": {
            "start": {"line": a.line, "character": a.character},
            "end": {"line": b.line, "character": b.character},
        },
        "prompt": prompt,
    }


async def execute(
    client: EditorClient, command: str, argument: dict[str, Any], **params: Any
) -> Any:
    """Run a command the way the client's editor does: changes held back go first (or,
    for an editor that syncs only when idle, the user pauses before a command, though a
    cancel is pressed at once), and an editor that syncs nothing while a request is pending
    holds its changes until it is answered."""
    if client.style.flush_before_request:
        client.flush()
    elif command != "gemini.cancel":
        await wait_for(lambda: not client.holding)
    client.request_sent()
    try:
        return await within(
            client.lsp.workspace_execute_command_async(
                types.ExecuteCommandParams(command, [argument], **params)
            ),
            command,
        )
    finally:
        client.request_answered()


async def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.005)


def progress_kinds(client: EditorClient) -> dict[Any, list[str]]:
    return {
        token: [report.kind for report in reports]
        for token, reports in client.lsp.progress_reports.items()
    }
