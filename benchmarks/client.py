"""A lean LSP client over stdio that behaves like an editor and time-stamps every edit.

The test client (pytest-lsp) structures every message into lsprotocol objects and rebuilds
whole documents on each change; timing through it would time the client. This one parses
JSON once, keeps documents as lists of lines, and otherwise does what an editor does:
applies each `workspace/applyEdit`, syncs it back with `didChange` before answering, and
rejects a versioned edit whose version is not the document's (as VS Code does).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .styles import Style

SERVER = (sys.executable, "-m", "gemini_lsp")


@dataclass
class Edit:
    """One applied `workspace/applyEdit` for one document."""

    received_at: float  # the whole message has been read from the pipe
    applied_at: float  # and the document holds its text
    text: str


@dataclass
class Document:
    uri: str
    lines: list[str]  # without their "\n"
    version: int = 0
    edits: list[Edit] = field(default_factory=list)
    edited: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class Response:
    received_at: float
    result: Any = None
    error: dict[str, Any] | None = None


def _index(line: str, units: int, encoding: str) -> int:
    """The string index of a column counted in the negotiated encoding's code units."""
    if line.isascii() or encoding == "utf-32":
        return units
    codec, size = ("utf-16-le", 2) if encoding == "utf-16" else ("utf-8", 1)
    data = line.encode(codec, "surrogatepass")[: units * size]
    return len(data.decode(codec, "ignore"))


class LeanClient:
    def __init__(self, style: Style, settings: Mapping[str, Any]) -> None:
        self.style = style
        self.settings = dict(settings)
        self.documents: dict[str, Document] = {}
        self.proc: asyncio.subprocess.Process | None = None
        self.messages: list[str] = []  # window/showMessage texts, for diagnosing a bad run
        self._ids = itertools.count(1)
        self._pending: dict[int | str, asyncio.Future[Response]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._unsynced: dict[str, list[dict[str, Any]]] = {}
        self._debounce: asyncio.TimerHandle | None = None
        self._commands = 0  # command requests waiting for their answer

    # -- process and framing -------------------------------------------------------------

    async def spawn(self, env: Mapping[str, str], command: Sequence[str] = SERVER) -> int:
        """Start the server (or a profiler running it); returns its pid. Nothing is sent yet."""
        self.proc = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=dict(env),
            limit=1 << 24,
        )
        self._reader = asyncio.create_task(self._read_loop())
        return self.proc.pid

    def _write(self, *messages: Mapping[str, Any]) -> None:
        assert self.proc is not None
        assert self.proc.stdin is not None
        out = bytearray()
        for message in messages:
            body = json.dumps({"jsonrpc": "2.0", **message}).encode()
            out += b"Content-Length: %d\r\n\r\n" % len(body) + body
        self.proc.stdin.write(bytes(out))

    async def _read_loop(self) -> None:
        assert self.proc is not None
        assert self.proc.stdout is not None
        stdout = self.proc.stdout
        try:
            while True:
                header = await stdout.readuntil(b"\r\n\r\n")
                length = 0
                for line in header.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await stdout.readexactly(length)
                self._dispatch(json.loads(body), time.monotonic())
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("the server went away"))

    def _dispatch(self, message: dict[str, Any], now: float) -> None:
        method = message.get("method")
        if method is None:
            future = self._pending.pop(message.get("id"), None)  # type: ignore[arg-type]
            if future is not None and not future.done():
                future.set_result(Response(now, message.get("result"), message.get("error")))
            return
        if method == "workspace/applyEdit":
            self._apply_edit(message["id"], message["params"], now)
        elif method == "workspace/configuration":
            items = message["params"]["items"]
            self._write({"id": message["id"], "result": [self.settings for _ in items]})
        elif "id" in message:  # progress token creation, registrations: accept them
            self._write({"id": message["id"], "result": None})
        elif method == "window/showMessage":
            self.messages.append(message["params"]["message"])

    # -- requests ------------------------------------------------------------------------

    def send_request(
        self, method: str, params: Any, msg_id: int | None = None
    ) -> asyncio.Future[Response]:
        msg_id = next(self._ids) if msg_id is None else msg_id
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        self._write({"id": msg_id, "method": method, "params": params})
        return future

    def next_id(self) -> int:
        return next(self._ids)

    def notify(self, method: str, params: Any) -> None:
        self._write({"method": method, "params": params})

    async def initialize(self, root_uri: str) -> Response:
        response = await self.send_request(
            "initialize",
            {
                "processId": None,
                "rootUri": root_uri,
                "workspaceFolders": [{"uri": root_uri, "name": "bench"}],
                "capabilities": self.style.capabilities,
                "initializationOptions": {"geminiLsp": self.settings},
            },
        )
        self.notify("initialized", {})
        return response

    async def shutdown(self) -> None:
        if self.proc is None:
            return
        try:
            await asyncio.wait_for(self.send_request("shutdown", None), 5)
            self.notify("exit", None)
            await asyncio.wait_for(self.proc.wait(), 5)
        except (asyncio.TimeoutError, ConnectionError):
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            await self._reader

    # -- documents -----------------------------------------------------------------------

    def open(self, uri: str, text: str) -> Document:
        document = Document(uri, text.split("\n"))
        self.documents[uri] = document
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 0, "text": text}},
        )
        return document

    def close(self, document: Document) -> None:
        self.documents.pop(document.uri, None)
        self.notify("textDocument/didClose", {"textDocument": {"uri": document.uri}})

    def generate(
        self, document: Document, line: int, prompt: str, msg_id: int | None = None
    ) -> asyncio.Future[Response]:
        argument = {
            "textDocument": {"uri": document.uri},
            "position": {"line": line, "character": 0},
            "prompt": prompt,
        }
        answer = self.send_request(
            "workspace/executeCommand",
            {"command": "gemini.generate", "arguments": [argument]},
            msg_id,
        )
        self._commands += 1
        answer.add_done_callback(self._command_answered)
        return answer

    def _command_answered(self, _: asyncio.Future[Response]) -> None:
        self._commands -= 1
        if self._unsynced and not self._holding:
            self._restart_debounce()

    @property
    def _holding(self) -> bool:
        return self.style.quiet_while_requesting and self._commands > 0

    def _apply_edit(self, msg_id: Any, params: dict[str, Any], received_at: float) -> None:
        edit = params["edit"]
        groups: list[tuple[str, int | None, list[dict[str, Any]]]] = []
        for change in edit.get("documentChanges") or []:
            groups.append(
                (
                    change["textDocument"]["uri"],
                    change["textDocument"].get("version"),
                    change["edits"],
                )
            )
        for uri, edits in (edit.get("changes") or {}).items():
            groups.append((uri, None, edits))
        for uri, version, _ in groups:
            document = self.documents.get(uri)
            if document is None or (version is not None and version != document.version):
                self._write({"id": msg_id, "result": {"applied": False, "failureReason": "stale"}})
                return
        syncs = []
        for uri, _, edits in groups:
            document = self.documents[uri]
            # Bottom-up, so earlier positions stay valid while later ones change.
            ordered = sorted(
                edits,
                key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]),
                reverse=True,
            )
            for text_edit in ordered:
                self._replace(document, text_edit["range"], text_edit["newText"])
            document.version += 1  # one version per workspace edit, however many text edits
            changes = [{"range": e["range"], "text": e["newText"]} for e in ordered]
            text = "".join(e["newText"] for e in edits)
            document.edits.append(Edit(received_at, time.monotonic(), text))
            document.edited.set()
            syncs.append((document, changes))
        if self.style.debounce_s > 0:
            self._write({"id": msg_id, "result": {"applied": True}})
            for document, changes in syncs:
                self._unsynced.setdefault(document.uri, []).extend(changes)
            if not self._holding:
                self._restart_debounce()
        else:
            # Like VS Code: the change is synced before the edit is answered.
            self._write(
                *(self._did_change(d, c) for d, c in syncs),
                {"id": msg_id, "result": {"applied": True}},
            )

    def _replace(self, document: Document, where: dict[str, Any], text: str) -> None:
        start, end = where["start"], where["end"]
        lines, encoding = document.lines, self.style.encoding
        first, last = start["line"], min(end["line"], len(lines) - 1)
        head = lines[first][: _index(lines[first], start["character"], encoding)]
        tail = lines[last][_index(lines[last], end["character"], encoding) :]
        lines[first : last + 1] = (head + text + tail).split("\n")

    def _did_change(self, document: Document, changes: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "method": "textDocument/didChange",
            "params": {
                "textDocument": {"uri": document.uri, "version": document.version},
                "contentChanges": changes,
            },
        }

    def _restart_debounce(self) -> None:
        # Neovim's timer restarts on every change: a steady stream of edits is synced late.
        if self._debounce is not None:
            self._debounce.cancel()
        self._debounce = asyncio.get_running_loop().call_later(self.style.debounce_s, self._flush)

    def _flush(self) -> None:
        self._debounce = None
        pending, self._unsynced = self._unsynced, {}
        messages = [
            self._did_change(self.documents[uri], changes)
            for uri, changes in pending.items()
            if uri in self.documents
        ]
        if messages:
            self._write(*messages)
