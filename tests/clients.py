"""An LSP client that behaves like an editor: it applies the server's edits to its own copy of
each document and syncs every change back, in the style of a given editor.

Its text handling is written independently of the server's (plain strings, positions by
encoding the line), so that the two cannot share a bug.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

_BREAK = re.compile(r"\r\n|\r|\n")
ENCODINGS = {"utf-8": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}
UNIT_BYTES = {"utf-8": 1, "utf-16": 2, "utf-32": 4}


class ClientDocument:
    """The client's copy of one document, as a plain string."""

    def __init__(self, uri: str, text: str, encoding: str, language_id: str) -> None:
        self.uri = uri
        self.text = text
        self.encoding = encoding
        self.language_id = language_id
        self.version = 0

    def line_starts(self) -> list[int]:
        return [0, *(m.end() for m in _BREAK.finditer(self.text))]

    def offset(self, position: types.Position) -> int:
        starts = self.line_starts()
        if position.line >= len(starts):
            return len(self.text)
        start = starts[position.line]
        end = starts[position.line + 1] if position.line + 1 < len(starts) else len(self.text)
        line = self.text[start:end].rstrip("\r\n")
        data = line.encode(ENCODINGS[self.encoding], "surrogatepass")
        cut = data[: position.character * UNIT_BYTES[self.encoding]]
        return start + len(cut.decode(ENCODINGS[self.encoding], "ignore"))

    def position(self, offset: int) -> types.Position:
        starts = self.line_starts()
        line = max(i for i, s in enumerate(starts) if s <= offset)
        before = self.text[starts[line] : offset]
        units = len(before.encode(ENCODINGS[self.encoding], "surrogatepass"))
        return types.Position(line, units // UNIT_BYTES[self.encoding])

    def replace(self, start: int, end: int, text: str) -> types.TextDocumentContentChangeEvent:
        """Apply a change by offsets and describe it as an incremental change event."""
        change = types.TextDocumentContentChangePartial(
            range=types.Range(self.position(start), self.position(end)), text=text
        )
        self.text = self.text[:start] + text + self.text[end:]
        self.version += 1
        return change


@attrs.define
class AppliedEdit:
    label: str | None
    time: float
    edits: list[tuple[str, types.TextEdit]]
    versioned: bool


class EditorClient:
    """A pytest-lsp client with an editor's `workspace/applyEdit` behaviour."""

    def __init__(self, lsp: LanguageClient, encoding: str) -> None:
        self.lsp = lsp
        self.encoding = encoding
        self.documents: dict[str, ClientDocument] = {}
        self.applied: list[AppliedEdit] = []
        self.rejected = 0
        self.on_edit: list[Callable[[AppliedEdit], None]] = []

        def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            return self._apply_edit(params)

        lsp.feature(types.WORKSPACE_APPLY_EDIT)(apply_edit)

    def open(self, path: Path, text: str, language_id: str = "python") -> ClientDocument:
        uri = path.as_uri()
        document = ClientDocument(uri, text, self.encoding, language_id)
        self.documents[uri] = document
        self.lsp.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri, language_id, document.version, text)
            )
        )
        return document

    def close(self, document: ClientDocument) -> None:
        self.documents.pop(document.uri, None)
        self.lsp.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(document.uri))
        )

    def type(self, document: ClientDocument, offset: int, text: str, delete: int = 0) -> None:
        """The user edits the document."""
        change = document.replace(offset, offset + delete, text)
        self._sync(document, [change])

    def _sync(
        self, document: ClientDocument, changes: list[types.TextDocumentContentChangeEvent]
    ) -> None:
        self.lsp.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=document.uri, version=document.version), changes
            )
        )

    def _apply_edit(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        edit = params.edit
        groups: list[tuple[str, int | None, list[types.TextEdit]]] = []
        for change in edit.document_changes or []:
            assert isinstance(change, types.TextDocumentEdit)
            groups.append(
                (
                    change.text_document.uri,
                    change.text_document.version,
                    [e for e in change.edits if isinstance(e, types.TextEdit)],
                )
            )
        for uri, edits in (edit.changes or {}).items():
            groups.append((uri, None, list(edits)))
        for uri, version, _ in groups:
            document = self.documents.get(uri)
            if document is None or (version is not None and version != document.version):
                self.rejected += 1
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="stale")
        record = AppliedEdit(
            params.label,
            asyncio.get_running_loop().time(),
            [(uri, e) for uri, _, edits in groups for e in edits],
            versioned=bool(edit.document_changes),
        )
        for uri, _, edits in groups:
            document = self.documents[uri]
            spans = [
                (document.offset(e.range.start), document.offset(e.range.end), e.new_text)
                for e in edits
            ]
            changes = [
                document.replace(start, end, text)
                for start, end, text in sorted(spans, key=lambda s: s[0], reverse=True)
            ]
            self._sync(document, changes)
        self.applied.append(record)
        for callback in self.on_edit:
            callback(record)
        return types.ApplyWorkspaceEditResult(applied=True)


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: ours plus `extra` (pytest-lsp replaces, not merges)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL")
    }
    env.update(extra or {})
    return env


async def start_editor(
    style: str,
    workspace: Path,
    settings: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    capabilities: types.ClientCapabilities | None = None,
) -> EditorClient:
    """Start the real server over stdio and initialize it as editor `style` would."""
    lsp = make_test_lsp_client()
    caps = capabilities or client_capabilities(style)
    encodings = (caps.general.position_encodings if caps.general else None) or ["utf-16"]
    encoding = next((e for e in encodings if e in ENCODINGS), "utf-16")
    client = EditorClient(lsp, encoding)
    await lsp.start_io(sys.executable, "-m", "gemini_lsp", env=server_env(env))
    await lsp.initialize_session(
        types.InitializeParams(
            capabilities=caps,
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(workspace.as_uri(), workspace.name)],
            initialization_options={"geminiLsp": settings or {}},
        )
    )
    return client


async def stop_editor(client: EditorClient) -> None:
    await client.lsp.shutdown_session()
    await client.lsp.stop()
