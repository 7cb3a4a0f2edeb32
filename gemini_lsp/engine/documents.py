"""Open documents: the server's copy of each, kept in sync by the client's notifications."""

from __future__ import annotations

from collections.abc import Callable

from lsprotocol import types

from gemini_lsp.engine.anchor import Change, Region
from gemini_lsp.engine.text import Loc, TextBuffer

ChangeObserver = Callable[[Change], None]


class DocumentClosedError(Exception):
    """The document was closed while something still needed it."""


class Document:
    """One open document: its text, version and language, and who watches its changes."""

    def __init__(self, uri: str, language_id: str, version: int, text: str, encoding: str):
        self.uri = uri
        self.language_id = language_id
        self.version = version
        self.buffer = TextBuffer(text, encoding)
        self.closed = False
        # Called with each change before the buffer applies it, so that the engine sees
        # the text the change was made against.
        self.observer: ChangeObserver | None = None
        self.on_synced: Callable[[], None] | None = None
        # Places held across a wait (a command reading attachments): each change moves them.
        self._held: list[Region] = []

    def hold(self, region: Region) -> Region:
        """Keep `region` where it is in the text while the document changes, until
        `release`."""
        self._held.append(region)
        return region

    def release(self, region: Region) -> None:
        self._held = [held for held in self._held if held is not region]

    def apply(self, change: types.TextDocumentContentChangeEvent) -> None:
        if isinstance(change, types.TextDocumentContentChangePartial):
            start = self.buffer.loc(change.range.start)
            end = self.buffer.loc(change.range.end)
            edit = Change(min(start, end), max(start, end), change.text)
        else:
            edit = whole_text_change(self.buffer, change.text)
        edit = joined(self.buffer, edit)
        for region in self._held:
            region.map(edit)
        if self.observer is not None:
            self.observer(edit)
        self.buffer.replace(edit.start, edit.end, edit.text)


def joined(buffer: TextBuffer, change: Change) -> Change:
    """`change`, widened to cover a CR and an LF that it brings together.

    They become one line break, so the places after them are one line higher than the
    change's own text says; inside the widened change the arithmetic of anchors holds.
    """
    lines = buffer.lines
    start, end, text = change.start, change.end, change.text
    if start.col:
        before = lines[start.line][start.col - 1]
    else:  # the previous line's terminator, if any
        before = lines[start.line - 1][-1:] if start.line else ""
    after = lines[end.line][end.col : end.col + 1]
    if before == "\r" and (text or after)[:1] == "\n":
        if start.col:
            start = Loc(start.line, start.col - 1)
        else:
            start = Loc(start.line - 1, len(lines[start.line - 1]) - 1)
        text = "\r" + text
    if (text or before)[-1:] == "\r" and after == "\n":
        end = Loc(end.line + 1, 0)
        text += "\n"
    if text == change.text:
        return change
    return Change(start, end, text)


def common_prefix(a: str, b: str) -> int:
    # Binary search on slice equality: memcmp speed even for megabytes of text.
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _common_suffix(a: str, b: str, limit: int) -> int:
    low, high = 0, limit
    while low < high:
        mid = (low + high + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            low = mid
        else:
            high = mid - 1
    return low


def _loc_of_offset(buffer: TextBuffer, offset: int) -> Loc:
    for line, text in enumerate(buffer.lines):
        if offset <= len(text) and (offset < len(text) or line == len(buffer.lines) - 1):
            return Loc(line, offset)
        offset -= len(text)
    return buffer.end


def whole_text_change(buffer: TextBuffer, new_text: str) -> Change:
    """The single replacement that turns the buffer's text into `new_text`."""
    old_text = buffer.text
    prefix = common_prefix(old_text, new_text)
    suffix = _common_suffix(old_text, new_text, min(len(old_text), len(new_text)) - prefix)
    # Never split a CRLF: widen the change to keep the pair whole on either side.
    if 0 < prefix < len(old_text) and old_text[prefix - 1] == "\r" and old_text[prefix] == "\n":
        prefix -= 1
    end = len(old_text) - suffix
    if 0 < end < len(old_text) and old_text[end - 1] == "\r" and old_text[end] == "\n":
        end += 1
        suffix -= 1
    return Change(
        _loc_of_offset(buffer, prefix),
        _loc_of_offset(buffer, end),
        new_text[prefix : len(new_text) - suffix],
    )


class DocumentStore:
    """The open documents, by URI."""

    def __init__(self) -> None:
        self._documents: dict[str, Document] = {}
        self.encoding: str = types.PositionEncodingKind.Utf16
        self.on_close: Callable[[Document], None] | None = None

    def open(self, item: types.TextDocumentItem) -> Document:
        document = Document(item.uri, item.language_id, item.version, item.text, self.encoding)
        previous = self._documents.get(item.uri)
        if previous is not None:
            self._close(previous)
        self._documents[item.uri] = document
        return document

    def change(self, params: types.DidChangeTextDocumentParams) -> None:
        document = self._documents.get(params.text_document.uri)
        if document is None:
            return
        for change in params.content_changes:
            document.apply(change)
        document.version = params.text_document.version
        if document.on_synced is not None:
            document.on_synced()

    def close(self, uri: str) -> None:
        document = self._documents.pop(uri, None)
        if document is not None:
            self._close(document)

    def _close(self, document: Document) -> None:
        document.closed = True
        if self.on_close is not None:
            self.on_close(document)

    def get(self, uri: str) -> Document | None:
        return self._documents.get(uri)

    def __len__(self) -> int:
        return len(self._documents)
