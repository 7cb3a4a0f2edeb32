"""An editor's handling of documents, typing and the server's edits, in a given style and
without a transport: subclasses send what it says (over stdio, or into a test's queue)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import attrs
from lsprotocol import types

from testkit.document import (
    SERVER,
    USER,
    ClientDocument,
    as_seen_in_full,
    generation_origin,
    is_generated,
)
from testkit.styles import Style
from testkit.sync import SyncQueue, Verdict, answer, verdict

_GENERATION_LABEL = re.compile(r"generation g(\d+)")
Change = types.TextDocumentContentChangeEvent


class StaleEditError(Exception):
    """What an Eglot-like editor answers a stale versioned edit with."""


@attrs.define
class AppliedEdit:
    label: str | None
    time: float
    edits: list[tuple[str, types.TextEdit]]
    versioned: bool


class Editor:
    """The documents an editor holds, what the user types in them and how the server's edits
    are taken and synced back, as `style` does."""

    def __init__(self, encoding: str, style: Style | None = None) -> None:
        self.encoding = encoding
        self.style = style or Style("plain", "visual-studio-code")
        self.documents: dict[str, ClientDocument] = {}
        self.applied: list[AppliedEdit] = []
        self.rejected = 0
        self.skipped = 0  # stale versioned edits skipped and answered applied:true
        self.on_edit: list[Callable[[AppliedEdit], None]] = []
        # Decides, edit by edit, whether the editor drops it yet answers applied:true.
        self.drops: Callable[[], bool] | None = None
        self.dropped = 0
        # An edit was dropped or skipped and no didChange has gone since: only the next one
        # can show the server that it is missing.
        self.owes_sync = False
        self.last_sync = 0.0  # when the last didChange went out
        self.sync = SyncQueue[Change](self.style, self._send_changes)
        self._typed_at: dict[str, float] = {}
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
        change = document.replace(offset, offset + delete, text, USER)
        self.sync.changed(document.uri, [change])

    def flush(self, document: ClientDocument | None = None) -> None:
        """Send the changes a debouncing editor still holds."""
        self.sync.flush(document.uri if document else None)

    def request_sent(self) -> None:
        """The user made a request: a quiet-while-requesting editor holds its syncs."""
        self.sync.request_sent()

    def request_answered(self) -> None:
        """A request the user made has been answered: a held-back sync may go."""
        self.sync.request_answered()

    @property
    def requesting(self) -> int:
        return self.sync.requesting

    @property
    def manual_flush(self) -> bool:
        """Whether a debouncing editor holds changes until `flush()`."""
        return self.sync.manual_flush

    @manual_flush.setter
    def manual_flush(self, value: bool) -> None:
        self.sync.manual_flush = value

    @property
    def holding(self) -> bool:
        """Whether some change has not been synced yet."""
        return self.sync.holding

    @property
    def held_back(self) -> bool:
        """Whether syncing waits for a pending request to be answered."""
        return self.sync.held_back

    @property
    def typing_unsynced(self) -> bool:
        """Whether the user typed something not synced yet."""
        return bool(self._typed_unsynced)

    # -- syncing -------------------------------------------------------------------------

    def _send_changes(self, uri: str, changes: list[Change]) -> None:
        document = self.documents.get(uri)
        if document is None:
            return
        if self.style.full_sync:
            changes = [types.TextDocumentContentChangeWholeDocument(text=document.text)]
        self.last_sync = asyncio.get_running_loop().time()
        self.owes_sync = False
        self._typed_unsynced.discard(uri)
        self._send_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=document.version),
                changes,
            )
        )

    # -- the server's edits --------------------------------------------------------------

    def _verdict(self, uri: str, version: int | None) -> Verdict:
        document = self.documents.get(uri)
        typed_at = self._typed_at.get(uri)
        ago = None if typed_at is None else asyncio.get_running_loop().time() - typed_at
        held = None if document is None else document.version
        return verdict(self.style, held, version, ago)

    def apply_edit(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        """Take a `workspace/applyEdit` as the style does; raises StaleEditError where the
        style answers with an error."""
        groups = _groups(params.edit)
        verdicts = [self._verdict(uri, version) for uri, version, _ in groups]
        fate = answer(verdicts)
        if fate == "error":
            self.rejected += 1
            raise StaleEditError("The edit is for a version the buffer no longer has")
        if fate == "reject":
            self.rejected += 1
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason="stale")
        record = AppliedEdit(
            params.label,
            asyncio.get_running_loop().time(),
            [(uri, e) for uri, _, edits in groups for e in edits],
            versioned=bool(params.edit.document_changes),
        )
        found = _GENERATION_LABEL.search(params.label or "")
        origin = generation_origin(found.group(1)) if found else SERVER
        dropped = self.drops is not None and self.drops()
        for (uri, _, edits), taken in zip(groups, verdicts, strict=True):
            if taken == "skip" or dropped:
                self.skipped += taken == "skip"
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
            self.sync.changed(uri, changes)
        self.applied.append(record)
        for callback in self.on_edit:
            callback(record)
        return types.ApplyWorkspaceEditResult(applied=True)


def _groups(edit: types.WorkspaceEdit) -> list[tuple[str, int | None, list[types.TextEdit]]]:
    """Each document's text edits, with the version they name (None: unversioned)."""
    groups: list[tuple[str, int | None, list[types.TextEdit]]] = []
    for change in edit.document_changes or []:
        assert isinstance(change, types.TextDocumentEdit)
        edits = [e for e in change.edits if isinstance(e, types.TextEdit)]
        groups.append((change.text_document.uri, change.text_document.version, edits))
    for uri, plain in (edit.changes or {}).items():
        groups.append((uri, None, list(plain)))
    return groups
