"""A session with the real server (over stdio, as an editor runs it) that keeps everything the
server emits: each protocol message it sent, its stderr and its log file."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import sys
import threading
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import attrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import make_test_lsp_client

from gemini_lsp.emulator import Emulator
from testkit.document import ClientDocument
from testkit.emulators import API_KEY, fast_emulator
from testkit.environment import server_env
from testkit.styles import VSCODE, Style
from testkit.waiting import within
from tests.clients import EditorClient
from tests.e2e.helpers import (  # noqa: F401  (re-exported for the reliability tests)
    INVALID_PARAMS,
    REQUEST_CANCELLED,
    REQUEST_FAILED,
    edit_args,
    generate_args,
    wait_for,
)

T = TypeVar("T")


@attrs.define
class Session:
    """A running server and what it has said so far."""

    editor: EditorClient
    workspace: Path
    received: list[str]  # every message from the server, as JSON
    stderr: bytearray
    log_file: Path

    @property
    def lsp(self) -> Any:
        return self.editor.lsp

    def open(self, name: str, text: str) -> ClientDocument:
        return self.editor.open(self.workspace / name, text)

    async def execute(self, command: str, argument: Any, **params: Any) -> Any:
        return await within(
            self.lsp.workspace_execute_command_async(
                types.ExecuteCommandParams(command, [argument], **params)
            ),
            command,
        )

    async def fails(self, command: str, argument: Any) -> JsonRpcException:
        """The error a command answers with (the test fails if it succeeds)."""
        try:
            result = await self.execute(command, argument)
        except JsonRpcException as error:
            return error
        raise AssertionError(f"{command} succeeded: {result}")

    async def stats(self) -> dict[str, int]:
        """The server's own counters (the hidden `gemini/debugStats` request)."""
        result = await within(
            self.lsp.protocol.send_request_async("gemini/debugStats", None), "gemini/debugStats"
        )
        return dict(result._asdict())  # pygls turns a JSON object into a named tuple

    def configure(self, **settings: Any) -> None:
        """Push settings, replacing those pushed before (initializationOptions stay)."""
        self.lsp.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"geminiLsp": settings})
        )

    def progress_messages(self) -> list[list[str]]:
        return [
            [getattr(report, "message", None) or "" for report in reports]
            for reports in self.lsp.progress_reports.values()
        ]

    def everything(self) -> str:
        """All the server emitted: protocol messages, stderr and the log file."""
        log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        return "\n".join([*self.received, self.stderr.decode(errors="replace"), log])


@asynccontextmanager
async def session(
    workspace: Path,
    emulator: Emulator | None,
    env: dict[str, str] | None = None,
    log_level: str = "INFO",
    style: Style = VSCODE,
    folders: list[str] | None = None,
    **settings: Any,
) -> AsyncIterator[Session]:
    """The server started as an editor starts it, initialized, and shut down at the end.
    `folders`: the workspace folders' URIs (default: `workspace` alone)."""
    lsp = make_test_lsp_client()
    received: list[str] = []
    structure = lsp.protocol.structure_message

    def record(data: dict[str, Any]) -> Any:
        if "jsonrpc" in data:
            received.append(json.dumps(data))
        return structure(data)

    lsp.protocol.structure_message = record  # type: ignore[method-assign]
    editor = EditorClient(lsp, "utf-16", style)
    log_file = workspace / "server.log"
    base = {"baseUrl": emulator.base_url} if emulator is not None else {}
    await lsp.start_io(
        sys.executable,
        "-m",
        "gemini_lsp",
        "--log-file",
        str(log_file),
        "--log-level",
        log_level,
        env=server_env({"GEMINI_API_KEY": API_KEY} if env is None else env),
    )
    stderr = bytearray()
    assert lsp._stderr_forwarder is not None and lsp._server is not None
    lsp._stderr_forwarder.cancel()  # ours keeps it instead of printing it
    collector = asyncio.ensure_future(_collect(lsp._server.stderr, stderr))
    result = await within(
        lsp.initialize_session(
            types.InitializeParams(
                capabilities=style.capabilities,
                root_uri=(folders or [workspace.as_uri()])[0],
                workspace_folders=[
                    types.WorkspaceFolder(uri, f"folder{index}")
                    for index, uri in enumerate(folders or [workspace.as_uri()])
                ],
                initialization_options={"geminiLsp": {**base, **settings}},
            )
        ),
        "initialize",
    )
    editor.encoding = str(result.capabilities.position_encoding or "utf-16")
    try:
        yield Session(editor, workspace, received, stderr, log_file)
    finally:
        editor.flush()
        if lsp._server and lsp._server.returncode is None:
            await asyncio.wait_for(lsp.shutdown_session(), 20)
        await lsp.stop()  # type: ignore[no-untyped-call]
        await asyncio.wait_for(collector, 5)


async def _collect(stream: asyncio.StreamReader | None, into: bytearray) -> None:
    while stream is not None and (chunk := await stream.read(65536)):
        into.extend(chunk)


class Background:
    """A server session on an event loop of its own, for hypothesis' synchronous tests."""

    def __init__(self, workspace: Path, log_level: str = "INFO", **settings: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.stack = contextlib.AsyncExitStack()
        self.workspace = workspace
        self.answers: dict[str, int] = {}
        self.log_level = log_level
        self.settings = settings or {"maxOutputTokens": 16, "retries": 0}

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def start(self) -> Session:
        self.emulator = await self.stack.enter_async_context(fast_emulator())
        return await self.stack.enter_async_context(
            session(self.workspace, self.emulator, log_level=self.log_level, **self.settings)
        )

    def close(self) -> None:
        self.run(self.stack.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def sent_to_gemini(emulator: Emulator) -> str:
    """Everything the emulator received: the request bodies, and the files attached to them
    decoded."""
    texts = []
    for request in emulator.requests:
        body = request.body or {}
        texts.append(json.dumps(body))
        for content in body.get("contents", []):
            for part in content.get("parts", []):
                inline = part.get("inlineData") or part.get("inline_data")
                if inline:
                    data = base64.urlsafe_b64decode(inline["data"])
                    texts.append(data.decode(errors="replace"))
    return "\n".join(texts)
