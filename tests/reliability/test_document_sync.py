"""Document sync, which every streamed edit comes back as, goes from the intake straight to
the document store (`RobustProtocol.direct_notifications`): applied in order, with no
bookkeeping left behind, and a failure is reported without stopping the server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gemini_lsp.lsp.server import GeminiLanguageServer, create_server

URI = "file:///workspace/a.py"


class Collected:
    """A writer that keeps what the server sends."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        self.messages.append(json.loads(data.split(b"\r\n\r\n", 1)[1]))

    def close(self) -> None:
        pass


def send(server: GeminiLanguageServer, method: str, params: dict[str, Any]) -> None:
    body = {"jsonrpc": "2.0", "method": method, "params": params}
    assert server.protocol.receive(json.dumps(body).encode())


def change(version: int, line: int, text: str) -> dict[str, Any]:
    at = {"line": line, "character": 0}
    return {
        "textDocument": {"uri": URI, "version": version},
        "contentChanges": [{"range": {"start": at, "end": at}, "text": text}],
    }


@pytest.fixture
def server() -> tuple[GeminiLanguageServer, Collected]:
    server = create_server()
    out = Collected()
    server.protocol.set_writer(out)
    document = {"uri": URI, "languageId": "python", "version": 1, "text": "a\nb\n"}
    send(server, "textDocument/didOpen", {"textDocument": document})
    return server, out


def test_changes_apply_in_order_and_leave_nothing_behind(
    server: tuple[GeminiLanguageServer, Collected],
) -> None:
    lsp, out = server
    for k in range(100):
        send(lsp, "textDocument/didChange", change(k + 2, 1 + k, f"x{k}\n"))
    document = lsp.documents.get(URI)
    assert document is not None and document.version == 101
    assert document.buffer.text == "a\n" + "".join(f"x{k}\n" for k in range(100)) + "b\n"
    assert lsp.protocol._request_futures == {}
    assert out.messages == []
    send(lsp, "textDocument/didClose", {"textDocument": {"uri": URI}})
    assert lsp.documents.get(URI) is None


def test_a_failed_change_is_reported_and_the_next_one_applies(
    server: tuple[GeminiLanguageServer, Collected], monkeypatch: pytest.MonkeyPatch
) -> None:
    lsp, out = server
    store = type(lsp.documents)
    original = store.change

    def broken(self: Any, params: Any) -> None:
        raise RuntimeError("planted failure")

    monkeypatch.setattr(store, "change", broken)
    send(lsp, "textDocument/didChange", change(2, 0, "lost\n"))
    shown = [m["params"]["message"] for m in out.messages if m["method"] == "window/showMessage"]
    assert len(shown) == 1 and "planted failure" in shown[0]
    monkeypatch.setattr(store, "change", original)
    send(lsp, "textDocument/didChange", change(3, 0, "kept\n"))
    document = lsp.documents.get(URI)
    assert document is not None and document.buffer.text == "kept\na\nb\n"
