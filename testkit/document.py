"""The editor's copy of a document, as a plain string in which each character carries
where it came from: the original text, the user, or a generation.

Written apart from the server's text handling (plain strings, positions found by encoding
the line) so that the two cannot share a bug, and so that tests can judge a result without
trusting the server's account of it.
"""

from __future__ import annotations

import re

import attrs
from lsprotocol import types

from testkit.styles import ENCODINGS

_BREAK = re.compile(r"\r\n|\r|\n")
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


def anchor_offset(document: ClientDocument, original_offset: int) -> int:
    """Where the original text's offset `original_offset` is now in the client's text."""
    before = [i for i, o in enumerate(document.origins) if 0 <= o < original_offset]
    if before:
        return before[-1] + 1
    after = [i for i, o in enumerate(document.origins) if o >= original_offset]
    return after[0] if after else len(document.text)
