"""The server's copy of a document, kept as a list of lines (in blocks when it is large).

An incremental change touches only the lines it spans, so its cost does not grow with the
size of the document (pygls' own store rebuilds the whole text on every change).
Places are `Loc(line, col)`, where `col` indexes the line's Python string; conversion to and
from LSP positions happens at the edges, in the negotiated encoding.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from lsprotocol import types

from gemini_lsp.engine.lines import Lines, line_store, splice

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Loc(NamedTuple):
    line: int
    col: int


def split_lines(text: str) -> list[str]:
    """Lines with their terminators; the last item has none (it may be empty).

    Only CR, LF and CRLF end a line, as in LSP (not the other breaks `splitlines` knows).
    """
    # `splitlines` is ten times faster than the loop below; its result stands when it made
    # no more lines than there are CRs and LFs (it also breaks at \v, \f, U+2028 …).
    lines = text.splitlines(keepends=True)
    breaks = text.count("\n")
    if "\r" in text:
        breaks += text.count("\r") - text.count("\r\n")
    open_end = bool(lines) and not lines[-1].endswith(("\n", "\r"))
    if len(lines) == breaks + open_end:
        if not open_end:
            lines.append("")
        return lines
    lines = []
    start = 0
    for match in _LINE_BREAK.finditer(text):
        lines.append(text[start : match.end()])
        start = match.end()
    lines.append(text[start:])
    return lines


def end_of_insert(start: Loc, text: str) -> Loc:
    """Where text inserted at `start` ends."""
    parts = split_lines(text)
    if len(parts) == 1:
        return Loc(start.line, start.col + len(text))
    return Loc(start.line + len(parts) - 1, len(parts[-1]))


def content(line: str) -> str:
    """A line without its terminator."""
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith(("\n", "\r")):
        return line[:-1]
    return line


def _units(text: str, encoding: str) -> int:
    if encoding == types.PositionEncodingKind.Utf32 or text.isascii():
        return len(text)
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _col_of_units(text: str, units: int, encoding: str) -> int:
    """The string index reached after `units` code units.

    A position inside a character (a stale position, or a client's mistake) rounds down to
    the character's start, as VS Code does: the server must read a stale raw position the
    way the client applied it.
    """
    if encoding == types.PositionEncodingKind.Utf32 or text.isascii():
        return min(units, len(text))
    utf16 = encoding == types.PositionEncodingKind.Utf16
    count = 0
    for index, ch in enumerate(text):
        code = ord(ch)
        if utf16:
            count += 2 if code > 0xFFFF else 1
        else:
            count += 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        if count > units:
            return index
    return len(text)


def encoding_kind(encoding: object) -> types.PositionEncodingKind:
    """The encoding an LSP value names: "utf-8", the enum, or the enum's str()
    ("PositionEncodingKind.Utf8" on Python 3.11). Anything else is UTF-16, LSP's default."""
    name = str(getattr(encoding, "value", encoding)).lower().replace("-", "")
    for kind in types.PositionEncodingKind:
        if name.endswith(kind.value.replace("-", "")):
            return kind
    return types.PositionEncodingKind.Utf16


def position_json(position: types.Position) -> dict[str, int]:
    """A position as command arguments and results carry it: plain JSON."""
    return {"line": position.line, "character": position.character}


def range_json(value: types.Range) -> dict[str, dict[str, int]]:
    """A range as command arguments and results carry it: plain JSON."""
    return {"start": position_json(value.start), "end": position_json(value.end)}


class TextBuffer:
    """A document's text with LSP position conversion in one encoding."""

    def __init__(self, text: str, encoding: str = types.PositionEncodingKind.Utf16) -> None:
        self.lines: list[str] | Lines = line_store(split_lines(text))
        self.encoding = encoding_kind(encoding)
        self._eol: str | None = None
        _ = self.eol  # fixed by the text the document opens with, if it has a line break

    @property
    def text(self) -> str:
        return "".join(self.lines)

    @property
    def eol(self) -> str:
        """The document's line ending: its first line's, from the first time it has one, as
        an editor keeps a file's format even while the user deletes every line break (LF
        until then)."""
        if self._eol is None:
            first = self.lines[0]
            if first.endswith("\r\n"):
                self._eol = "\r\n"
            elif first.endswith(("\r", "\n")):
                self._eol = first[-1]
            else:
                return "\n"
        return self._eol

    @property
    def end(self) -> Loc:
        return Loc(len(self.lines) - 1, len(self.lines[-1]))

    def line_text(self, line: int) -> str:
        """Line `line` without its terminator."""
        return content(self.lines[line])

    def clamp(self, loc: Loc) -> Loc:
        if loc.line >= len(self.lines):
            return self.end
        line = max(loc.line, 0)
        return Loc(line, min(max(loc.col, 0), len(content(self.lines[line]))))

    def loc(self, position: types.Position) -> Loc:
        """The place an LSP position names; out-of-range positions clamp, as clients do."""
        if position.line >= len(self.lines):
            return self.end
        text = content(self.lines[position.line])
        return Loc(position.line, _col_of_units(text, position.character, self.encoding))

    def position(self, loc: Loc) -> types.Position:
        text = content(self.lines[loc.line])
        return types.Position(loc.line, _units(text[: loc.col], self.encoding))

    def range(self, start: Loc, end: Loc) -> types.Range:
        return types.Range(self.position(start), self.position(end))

    def slice(self, start: Loc, end: Loc) -> str:
        if start.line == end.line:
            return self.lines[start.line][start.col : end.col]
        middle = "".join(self.lines[start.line + 1 : end.line])
        return self.lines[start.line][start.col :] + middle + self.lines[end.line][: end.col]

    def replace(self, start: Loc, end: Loc, text: str) -> None:
        """Replace the text between two places (in order, within the document)."""
        # Re-split one line either side as well, so that a CR and an LF that meet across
        # the edit become one CRLF terminator, exactly as a client would see them.
        first = max(start.line - 1, 0)
        last = min(end.line + 1, len(self.lines) - 1)
        window = self.lines[first : last + 1]
        head, tail = start.line - first, end.line - first
        before = "".join(window[:head]) + window[head][: start.col]
        after = window[tail][end.col :] + "".join(window[tail + 1 :])
        lines = split_lines(before + text + after)
        if last < len(self.lines) - 1:
            lines.pop()  # the window ends with a terminator: its "" is the next line's start
        splice(self.lines, first, last + 1, lines)

    def copy(self) -> TextBuffer:
        twin = TextBuffer.__new__(TextBuffer)
        twin.lines = self.lines.copy()
        twin.encoding = self.encoding
        twin._eol = self._eol
        return twin

    def replace_all(self, text: str) -> None:
        self.lines = line_store(split_lines(text))

    def window(self, first_line: int, last_line: int) -> str:
        """Lines `first_line` to `last_line` inclusive, with terminators."""
        return "".join(self.lines[first_line : last_line + 1])

    def offset_in_window(self, first_line: int, loc: Loc) -> int:
        return sum(len(line) for line in self.lines[first_line : loc.line]) + loc.col
