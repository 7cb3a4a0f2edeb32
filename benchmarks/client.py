"""A lean LSP client over stdio that behaves like an editor and time-stamps every edit.

The test client (pytest-lsp) structures every message into lsprotocol objects and rebuilds
whole documents on each change; timing through it would time the client. This one parses
JSON once and keeps documents as lists of lines; what it does with the server's edits and
when it syncs them back is the style's, written once in testkit.sync.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from testkit.framing import encode, read_message
from testkit.styles import Style
from testkit.sync import SyncQueue, answer, verdict
from testkit.waiting import within

SERVER = (sys.executable, "-m", "gemini_lsp")
INTERNAL_ERROR = -32603


@attrs.define
class Edit:
    """One applied `workspace/applyEdit` for one document."""

    received_at: float  # the whole message has been read from the pipe
    applied_at: float  # and the document holds its text
    text: str


@attrs.define
class Document:
    uri: str
    lines: list[str]  # without their "\n"
    version: int = 0
    edits: list[Edit] = attrs.field(factory=list)
    edited: asyncio.Event = attrs.field(factory=asyncio.Event)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@attrs.define
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
        self.sync = SyncQueue[dict[str, Any]](style, self._send_changes)
        self._ids = itertools.count(1)
        self._pending: dict[int | str, asyncio.Future[Response]] = {}
        self._reader: asyncio.Task[None] | None = None

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
        out = b"".join(encode({"jsonrpc": "2.0", **message}) for message in messages)
        self.proc.stdin.write(out)

    async def _read_loop(self) -> None:
        assert self.proc is not None
        assert self.proc.stdout is not None
        try:
            while (message := await read_message(self.proc.stdout)) is not None:
                self._dispatch(message, time.monotonic())
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
        params = {
            "processId": None,
            "rootUri": root_uri,
            "workspaceFolders": [{"uri": root_uri, "name": "bench"}],
            "capabilities": self.style.capabilities_json,
            "initializationOptions": {"geminiLsp": self.settings},
        }
        response = await within(self.send_request("initialize", params), "initialize")
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
        document = Document(uri, text.split("\n"), self.style.first_version)
        self.documents[uri] = document
        item = {"uri": uri, "languageId": "python", "version": document.version, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": item})
        return document

    def close(self, document: Document) -> None:
        self.sync.flush(document.uri)
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
        answered = self.send_request(
            "workspace/executeCommand",
            {"command": "gemini.generate", "arguments": [argument]},
            msg_id,
        )
        self.sync.request_sent()
        answered.add_done_callback(lambda _: self.sync.request_answered())
        return answered

    def _apply_edit(self, msg_id: Any, params: dict[str, Any], received_at: float) -> None:
        groups = _groups(params["edit"])
        verdicts = [
            verdict(self.style, d.version if (d := self.documents.get(uri)) else None, version)
            for uri, version, _ in groups
        ]
        fate = answer(verdicts)
        if fate == "error":
            error = {"code": INTERNAL_ERROR, "message": "The edit is for a stale version"}
            self._write({"id": msg_id, "error": error})
            return
        if fate == "reject":
            self._write({"id": msg_id, "result": {"applied": False, "failureReason": "stale"}})
            return
        for (uri, _, edits), taken in zip(groups, verdicts, strict=True):
            if taken == "apply":
                self._apply(self.documents[uri], edits, received_at)
        self._write({"id": msg_id, "result": {"applied": True}})

    def _apply(self, document: Document, edits: list[dict[str, Any]], received_at: float) -> None:
        # Bottom-up, so earlier positions stay valid while later ones change.
        ordered = sorted(
            edits,
            key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]),
            reverse=True,
        )
        for text_edit in ordered:
            self._replace(document, text_edit["range"], text_edit["newText"])
        document.version += 1  # one version per workspace edit, however many text edits
        text = "".join(e["newText"] for e in edits)
        document.edits.append(Edit(received_at, time.monotonic(), text))
        document.edited.set()
        # Synced before the edit is answered unless the style holds it (as VS Code does).
        self.sync.changed(
            document.uri, [{"range": e["range"], "text": e["newText"]} for e in ordered]
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

    def _send_changes(self, uri: str, changes: list[dict[str, Any]]) -> None:
        document = self.documents.get(uri)
        if document is None:
            return
        if self.style.full_sync:
            changes = [{"text": document.text}]
        self._write(self._did_change(document, changes))


def _groups(edit: dict[str, Any]) -> list[tuple[str, int | None, list[dict[str, Any]]]]:
    """Each document's text edits, with the version they name (None: unversioned)."""
    groups: list[tuple[str, int | None, list[dict[str, Any]]]] = []
    for change in edit.get("documentChanges") or []:
        document = change["textDocument"]
        groups.append((document["uri"], document.get("version"), change["edits"]))
    for uri, edits in (edit.get("changes") or {}).items():
        groups.append((uri, None, edits))
    return groups
