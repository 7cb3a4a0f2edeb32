"""An LSP client that behaves like an editor: it applies the server's edits to its own copy of
each document and syncs every change back, in the style of a given editor.

Its text handling is written independently of the server's (plain strings, positions by
encoding the line), so that the two cannot share a bug. Each character also carries where it
came from (the original text, the user, or a generation), so that tests can judge the result
without trusting the server's account of it.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import attrs
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

_BREAK = re.compile(r"\r\n|\r|\n")
_GENERATION_LABEL = re.compile(r"generation g(\d+)")
ENCODINGS = {"utf-8": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}
UNIT_BYTES = {"utf-8": 1, "utf-16": 2, "utf-32": 4}

# Origins: an original character is its index in the text the document was opened with.
USER = -1
SERVER = -2  # inserted by a server edit with no generation in its label
_GENERATION_BASE = -10


def generation_origin(generation_id: str) -> int:
    """The origin of text written by generation `gN` (its label says so)."""
    return _GENERATION_BASE - int(generation_id.lstrip("g"))


def is_generated(origin: int) -> bool:
    return origin <= SERVER


@attrs.define
class Tombstone:
    """Text a server edit removed, kept where it was: the server may put it back.

    What is typed exactly there later may go on either side of it, so its place is a span:
    from before to after everything inserted at it since.
    """

    offset: int
    text: str
    origins: list[int]
    end: int = -1

    def __attrs_post_init__(self) -> None:
        self.end = self.offset if self.end < 0 else self.end

    def map(self, start: int, end: int, length: int) -> None:
        def moved(offset: int, right: bool) -> int:
            if offset < start or (offset == start and not right):
                return offset
            if offset > end or (offset == end and start < end):
                return offset + length - (end - start)
            return start + length if right else start

        self.offset, self.end = moved(self.offset, False), moved(self.end, True)


@attrs.frozen
class Style:
    """How an editor syncs and how it treats the server's edits, as measured in the real
    editors (see the module docstring of gemini_lsp/engine/edits.py).

    A plain editor name (as `start_editor` always took) means immediate incremental sync and
    a stale versioned edit answered `applied: false`.
    """

    name: str
    editor: str  # pytest-lsp's recorded capabilities
    document_changes: bool | None = None  # overrides the recorded capability
    # A stale versioned edit: "reject" (applied:false, VS Code), "skip" (skipped but answered
    # applied:true, Neovim) or "error" (a JSON-RPC error, Eglot).
    stale_versioned: str = "reject"
    check_version_zero: bool = True  # Neovim applies a version-0 edit unchecked
    race_seconds: float = 0.0  # an unversioned edit this soon after typing is refused (VS Code)
    debounce_seconds: float = 0.0  # didChange delayed, the timer restarted by every change
    full_sync: bool = False  # the whole text in each didChange
    first_version: int = 0
    # No didChange while a request the user made is pending: Eglot runs commands as
    # blocking requests and syncs only when Emacs is idle.
    quiet_while_requesting: bool = False
    # Held changes go out before a request (Neovim, VS Code); Eglot sends them only when idle.
    flush_before_request: bool = True


VSCODE = Style("vscode", "visual-studio-code", race_seconds=0.02, first_version=1)
VSCODE_UNVERSIONED = attrs.evolve(VSCODE, name="vscode-unversioned", document_changes=False)
NEOVIM = Style(
    "neovim", "neovim", stale_versioned="skip", check_version_zero=False, debounce_seconds=0.15
)
NEOVIM_VERSIONED = attrs.evolve(NEOVIM, name="neovim-versioned", document_changes=True)
FULL_SYNC = Style("full-sync", "neovim", full_sync=True)
# Emacs + Eglot: versioned edits (UTF-16: Eglot 1.9 names no encoding), a stale one answered
# with an error, changes sent after 0.5 s of idle time and never during a blocking command.
EGLOT = Style(
    "eglot",
    "visual-studio-code",
    stale_versioned="error",
    debounce_seconds=0.5,
    quiet_while_requesting=True,
    flush_before_request=False,
)
# A client that holds every change until the request has been answered.
SYNC_AFTER_ANSWER = Style(
    "sync-after-answer", "neovim", quiet_while_requesting=True, flush_before_request=False
)
# Versioned edits, and many changes at a time in one didChange after a 150 ms debounce.
BATCHING = Style("batching", "visual-studio-code", race_seconds=0.02, debounce_seconds=0.15)
STYLES = {
    s.name: s
    for s in (
        VSCODE,
        VSCODE_UNVERSIONED,
        NEOVIM,
        NEOVIM_VERSIONED,
        FULL_SYNC,
        EGLOT,
        SYNC_AFTER_ANSWER,
        BATCHING,
    )
}


class StaleEditError(Exception):
    """What an Eglot-like editor answers a stale versioned edit with."""


class ClientDocument:
    """The client's copy of one document, as a plain string, with each character's origin."""

    def __init__(
        self, uri: str, text: str, encoding: str, language_id: str, version: int = 0
    ) -> None:
        self.uri = uri
        self.text = text
        self.original = text
        self.encoding = encoding
        self.language_id = language_id
        self.version = version
        self.origins: list[int] = list(range(len(text)))
        self.tombstones: list[Tombstone] = []
        self.typed_inside: set[int] = set()  # generations the user typed strictly inside

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

    def replace(
        self, start: int, end: int, text: str, origin: int = USER
    ) -> types.TextDocumentContentChangeEvent:
        """Apply a change by offsets and describe it as an incremental change event.

        Text a server edit removes is kept as a tombstone; when a server edit inserts the very
        same text at the same place (or with only the user's typing in between), the
        characters get their origins back: it was a repair.
        """
        change = types.TextDocumentContentChangePartial(
            range=types.Range(self.position(start), self.position(end)), text=text
        )
        removed = Tombstone(start, self.text[start:end], self.origins[start:end])
        origins = [origin] * len(text)
        restored = self._restore(start, text) if is_generated(origin) and text else None
        for stone in self.tombstones:
            stone.map(start, end, len(text))
        if restored is not None:
            stone, origins = restored
            if stone.text.startswith(text):  # the rest is put back after this part
                stone.text, stone.origins = stone.text[len(text) :], stone.origins[len(text) :]
                stone.offset = start + len(text)
                stone.end = max(stone.end, stone.offset)
            else:  # the rest is put back before this part
                stone.text, stone.origins = stone.text[: -len(text)], stone.origins[: -len(text)]
                stone.offset, stone.end = min(stone.offset, start), start
            if not stone.text:
                self.tombstones.remove(stone)
        if is_generated(origin) and removed.text:
            self.tombstones.append(removed)
        self.text = self.text[:start] + text + self.text[end:]
        self.origins[start:end] = origins
        self.version += 1
        return change

    def _restore(self, offset: int, text: str) -> tuple[Tombstone, list[int]] | None:
        """The tombstone that server text inserted at `offset` puts back (whole or a part at
        either end), and the origins it gives that text."""
        for stone in reversed(self.tombstones):
            if not self._near(stone, offset):
                continue
            if stone.text.startswith(text):
                return stone, stone.origins[: len(text)]
            if stone.text.endswith(text):
                return stone, stone.origins[len(stone.text) - len(text) :]
        return None

    def _near(self, stone: Tombstone, offset: int) -> bool:
        """Whether `offset` is the tombstone's place, or only the user's typing is between."""
        low, high = (offset, stone.offset) if offset < stone.offset else (stone.end, offset)
        return all(o == USER for o in self.origins[low:high])

    def generated(self, origin: int) -> str:
        return "".join(c for c, o in zip(self.text, self.origins, strict=True) if o == origin)

    def span(self, origin: int) -> tuple[int, int] | None:
        """From the first to past the last character of that origin."""
        indexes = [i for i, o in enumerate(self.origins) if o == origin]
        return (indexes[0], indexes[-1] + 1) if indexes else None


def as_seen_in_full(old: str, offset: int, delete: int, text: str) -> tuple[int, int, str]:
    """The user's edit as a full-text sync shows it: between the common prefix and suffix.

    Where the user typed inside a run of equal characters is not in the text, so whoever
    reads whole texts (the server) must pick; the origins follow the same pick.
    """
    new = old[:offset] + text + old[offset + delete :]
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    limit = min(len(old), len(new)) - prefix
    while suffix < limit and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    return prefix, len(old) - suffix - prefix, new[prefix : len(new) - suffix]


@attrs.define
class AppliedEdit:
    label: str | None
    time: float
    edits: list[tuple[str, types.TextEdit]]
    versioned: bool


class Editor:
    """An editor's handling of documents, typing and the server's edits, without a transport.

    `EditorClient` connects it to a real server over stdio; tests of the engine alone connect
    it to an in-process pump.
    """

    def __init__(self, encoding: str, style: Style | None = None) -> None:
        self.encoding = encoding
        self.style = style or Style("plain", "visual-studio-code")
        self.documents: dict[str, ClientDocument] = {}
        self.applied: list[AppliedEdit] = []
        self.rejected = 0
        self.skipped = 0  # stale versioned edits skipped and answered applied:true
        self.on_edit: list[Callable[[AppliedEdit], None]] = []
        self.manual_flush = False  # a debouncing editor holds changes until `flush()`
        self.requesting = 0  # requests pending that hold back a quiet-while-requesting sync
        # Decides, edit by edit, whether the editor drops it yet answers applied:true.
        self.drops: Callable[[], bool] | None = None
        self.dropped = 0
        # An edit was dropped or skipped and no didChange has gone since: only the next one
        # can show the server that it is missing.
        self.owes_sync = False
        self._pending: dict[str, list[types.TextDocumentContentChangeEvent]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._typed_at: dict[str, float] = {}
        self.last_sync = 0.0  # when the last didChange went out
        self._typed_unsynced: set[str] = set()  # documents with typing not yet synced

    # -- what the transport does ---------------------------------------------------------

    def _send_open(self, item: types.TextDocumentItem) -> None:
        raise NotImplementedError

    def _send_change(self, params: types.DidChangeTextDocumentParams) -> None:
        raise NotImplementedError

    def _send_close(self, uri: str) -> None:
        raise NotImplementedError

    # -- what the user does --------------------------------------------------------------

    def open(self, path: Path, text: str, language_id: str = "python") -> ClientDocument:
        uri = path.as_uri()
        document = ClientDocument(
            uri, text, self.encoding, language_id, version=self.style.first_version
        )
        self.documents[uri] = document
        self._send_open(types.TextDocumentItem(uri, language_id, document.version, text))
        return document

    def close(self, document: ClientDocument) -> None:
        self.flush(document)
        self.documents.pop(document.uri, None)
        self._send_close(document.uri)

    def type(self, document: ClientDocument, offset: int, text: str, delete: int = 0) -> None:
        """The user edits the document."""
        if self.style.full_sync:
            offset, delete, text = as_seen_in_full(document.text, offset, delete, text)
        if text:
            for origin in {o for o in document.origins if is_generated(o)}:
                span = document.span(origin)
                if span is not None and span[0] < offset < span[1]:
                    document.typed_inside.add(origin)
        self._typed_at[document.uri] = asyncio.get_running_loop().time()
        self._typed_unsynced.add(document.uri)
        change = document.replace(offset, offset + delete, text)
        self._changed(document, [change])

    def flush(self, document: ClientDocument | None = None) -> None:
        """Send the changes a debouncing editor still holds."""
        for uri in [document.uri] if document else list(self._pending):
            timer = self._timers.pop(uri, None)
            if timer is not None:
                timer.cancel()
            changes = self._pending.pop(uri, [])
            if changes and uri in self.documents:
                self._send_changes(self.documents[uri], changes)

    @property
    def holding(self) -> bool:
        """Whether some change has not been synced yet."""
        return any(self._pending.values())

    @property
    def typing_unsynced(self) -> bool:
        """Whether the user typed something not synced yet."""
        return bool(self._typed_unsynced)

    @property
    def held_back(self) -> bool:
        """Whether syncing waits for a pending request to be answered."""
        return self.style.quiet_while_requesting and self.requesting > 0

    def request_answered(self) -> None:
        """A request the user made has been answered: a held-back sync may go."""
        self.requesting -= 1
        if self.held_back:
            return
        if not self.style.debounce_seconds or self.manual_flush:
            self.flush()
            return
        loop = asyncio.get_running_loop()
        for uri in list(self._pending):
            timer = self._timers.pop(uri, None)
            if timer is not None:
                timer.cancel()
            document = self.documents.get(uri)
            if document is not None:
                self._timers[uri] = loop.call_later(
                    self.style.debounce_seconds, self._idle, document
                )

    # -- syncing -------------------------------------------------------------------------

    def _changed(
        self, document: ClientDocument, changes: list[types.TextDocumentContentChangeEvent]
    ) -> None:
        delay = self.style.debounce_seconds
        if not delay and not self.held_back:
            self._send_changes(document, changes)
            return
        self._pending.setdefault(document.uri, []).extend(changes)
        if self.manual_flush or self.held_back:
            return
        timer = self._timers.pop(document.uri, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self._timers[document.uri] = loop.call_later(delay, self._idle, document)

    def _idle(self, document: ClientDocument) -> None:
        self._timers.pop(document.uri, None)
        if not self.held_back:
            self.flush(document)

    def _send_changes(
        self, document: ClientDocument, changes: list[types.TextDocumentContentChangeEvent]
    ) -> None:
        if self.style.full_sync:
            changes = [types.TextDocumentContentChangeWholeDocument(text=document.text)]
        self.last_sync = asyncio.get_running_loop().time()
        self.owes_sync = False
        self._typed_unsynced.discard(document.uri)
        self._send_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=document.uri, version=document.version),
                changes,
            )
        )

    # -- the server's edits --------------------------------------------------------------

    def _verdict(self, uri: str, version: int | None) -> str:
        """How to take one document's edits: "apply", "skip" (say applied) or "reject"."""
        document = self.documents.get(uri)
        if document is None:
            return "reject"
        style = self.style
        if version is None:
            typed_at = self._typed_at.get(uri)
            now = asyncio.get_running_loop().time()
            racing = typed_at is not None and now - typed_at < style.race_seconds
            return "reject" if racing else "apply"
        if version == document.version or (version == 0 and not style.check_version_zero):
            return "apply"
        return {"skip": "skip", "error": "error"}.get(style.stale_versioned, "reject")

    def apply_edit(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
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
        verdicts = [self._verdict(uri, version) for uri, version, _ in groups]
        if "error" in verdicts:
            self.rejected += 1
            raise StaleEditError("The edit is for a version the buffer no longer has")
        if "reject" in verdicts:
            self.rejected += 1
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason="stale")
        record = AppliedEdit(
            params.label,
            asyncio.get_running_loop().time(),
            [(uri, e) for uri, _, edits in groups for e in edits],
            versioned=bool(edit.document_changes),
        )
        found = _GENERATION_LABEL.search(params.label or "")
        origin = generation_origin(found.group(1)) if found else SERVER
        dropped = self.drops is not None and self.drops()
        for (uri, _, edits), verdict in zip(groups, verdicts, strict=True):
            if verdict == "skip" or dropped:
                self.skipped += verdict == "skip"
                self.dropped += dropped
                self.owes_sync = True
                continue
            document = self.documents[uri]
            spans = [
                (document.offset(e.range.start), document.offset(e.range.end), e.new_text)
                for e in edits
            ]
            changes = [
                document.replace(start, end, text, origin)
                for start, end, text in sorted(spans, key=lambda s: s[0], reverse=True)
            ]
            self._changed(document, changes)
        self.applied.append(record)
        for callback in self.on_edit:
            callback(record)
        return types.ApplyWorkspaceEditResult(applied=True)


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
        style = Style(style, style, first_version=1 if style == VSCODE.editor else 0)
    lsp = make_test_lsp_client()
    caps = capabilities or client_capabilities(style.editor)
    if style.document_changes is not None:
        workspace_caps = caps.workspace or types.WorkspaceClientCapabilities()
        edit_caps = workspace_caps.workspace_edit or types.WorkspaceEditClientCapabilities()
        caps = attrs.evolve(
            caps,
            workspace=attrs.evolve(
                workspace_caps,
                workspace_edit=attrs.evolve(edit_caps, document_changes=style.document_changes),
            ),
        )
    client = EditorClient(lsp, "utf-16", style)
    await lsp.start_io(sys.executable, "-m", "gemini_lsp", env=server_env(env))
    result = await lsp.initialize_session(
        types.InitializeParams(
            capabilities=caps,
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(workspace.as_uri(), workspace.name)],
            initialization_options={"geminiLsp": settings or {}},
        )
    )
    client.encoding = str(result.capabilities.position_encoding or "utf-16")
    return client


async def stop_editor(client: EditorClient) -> None:
    client.flush()
    await client.lsp.shutdown_session()
    await client.lsp.stop()  # type: ignore[no-untyped-call]
