"""Streaming post-processing of model output: code fences, indentation, the final newline.

Each transform is pure (no I/O, no LSP types) and streaming: `feed(chunk)` returns the text
that is safe to emit now and `finish()` flushes what was held back when the stream ends. A
transform holds back only text whose output still depends on what comes next, so code shows
up in the editor as soon as it is certain.

Each transform has a whole-text counterpart that defines its result: feeding any chunking of
a text and then finishing gives exactly what `strip_fences`, `reindent` or
`trim_final_newline` give for the whole text.

Lines end in "\n". The model may send "\r\n" (or a lone "\r"); `FenceStripper`, which runs
first, turns every line break into "\n" and the engine converts to the document's EOL later.
(Over 400 lines: three transforms, each beside the whole-text function that defines it.)
"""

from __future__ import annotations

import enum
import re
from typing import Protocol

import attrs

_INDENT = re.compile(r"[ \t]*")
_LINE_BREAK = re.compile(r"\r\n?")
_FENCE_CHARS = "`~"
_MIN_FENCE_LENGTH = 3


class Transform(Protocol):
    """A streaming text transform: `feed` each chunk in order, then `finish` once."""

    def feed(self, chunk: str) -> str: ...

    def finish(self) -> str: ...


class Pipeline:
    """Transforms in a chain: what one emits is what the next one is fed."""

    def __init__(self, *transforms: Transform) -> None:
        self._transforms = transforms

    def feed(self, chunk: str) -> str:
        for transform in self._transforms:
            chunk = transform.feed(chunk)
        return chunk

    def finish(self) -> str:
        # What a stage flushes at the end is still input for the stages after it.
        tail = ""
        for transform in self._transforms:
            tail = transform.feed(tail) + transform.finish()
        return tail


def insertion_pipeline(
    indent: str, at_line_start: bool, drop_final_newline: bool, single_final_newline: bool = False
) -> Pipeline:
    """The post-processing of code inserted at a position, in the order that matters:
    fences come off before the indentation is measured."""
    return Pipeline(
        FenceStripper(),
        Reindenter(indent, at_line_start),
        FinalNewlineTrimmer(drop_final_newline, single_final_newline),
    )


# --- Line helpers ---------------------------------------------------------------------------


def _split_lines(text: str) -> list[str]:
    """Lines, each with its "\n"; the last one may lack it. An empty text has no lines."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines


def _split_indent(line: str) -> tuple[str, str]:
    """A line's leading spaces and tabs, and the rest."""
    end = _indent_end(line, 0)
    return line[:end], line[end:]


def _indent_end(text: str, pos: int) -> int:
    """Where the run of spaces and tabs starting at `pos` ends."""
    match = _INDENT.match(text, pos)
    return match.end() if match else pos


def _is_blank(line: str) -> bool:
    return not line.strip(" \t")


def _run_length(text: str, char: str) -> int:
    """How many times `char` repeats at the start of `text`."""
    return len(text) - len(text.lstrip(char)) if char else 0


# --- Code fences ----------------------------------------------------------------------------


@attrs.frozen
class _Fence:
    """An opening fence line: ```python, ~~~~, ..."""

    indent: str
    char: str
    length: int

    def closes(self, line: str) -> bool:
        """Whether `line` (without its newline) closes this fence.

        The closer may be indented, but no deeper than the opener: an indented ``` inside
        an unindented block (a docstring's example, say) is code, not the end of it.
        """
        lead, marker = _split_indent(line)
        run = _run_length(marker, self.char)
        return self.indent.startswith(lead) and run >= self.length and _is_blank(marker[run:])

    def may_close(self, partial: str) -> bool:
        """Whether the start of a line could still grow into a closing line."""
        lead, marker = _split_indent(partial)
        run = _run_length(marker, self.char)
        rest = marker[run:]
        return self.indent.startswith(lead) and (
            not rest or (run >= self.length and _is_blank(rest))
        )


def _open_fence(line: str) -> _Fence | None:
    """The fence that `line` (without its newline) opens, if it is an opening fence line."""
    lead, marker = _split_indent(line)
    char = marker[:1]
    if not char or char not in _FENCE_CHARS:
        return None
    run = _run_length(marker, char)
    # As in CommonMark: ```a``` is inline code, not a fence with the info string a```.
    if run < _MIN_FENCE_LENGTH or (char == "`" and "`" in marker[run:]):
        return None
    return _Fence(lead, char, run)


def _may_open(partial: str) -> bool:
    """Whether the start of a line could still grow into an opening fence line."""
    marker = _split_indent(partial)[1]
    if not marker:
        return True
    run = _run_length(marker, marker[0])
    return marker[0] in _FENCE_CHARS and (run == len(marker) or _open_fence(partial) is not None)


def _first_content_line(text: str) -> tuple[int, int]:
    """Start and end (-1 if it has no newline yet) of the first line that is not blank."""
    start = 0
    while (end := text.find("\n", start)) >= 0 and _is_blank(text[start:end]):
        start = end + 1
    return start, end


def strip_fences(text: str) -> str:
    """The code inside a fenced block that opens the text (after blank lines), or the text.

    The opening line goes, and so do the leading blank lines before it, the closing line
    and anything after it (the model's commentary). An unclosed block runs to the end.
    Line breaks become "\n".
    """
    text = _LINE_BREAK.sub("\n", text)
    start, end = _first_content_line(text)
    fence = _open_fence(text[start:] if end < 0 else text[start:end])
    if fence is None:
        return text
    body = _split_lines(text[start:])[1:]
    closer = next((i for i, line in enumerate(body) if fence.closes(line.rstrip("\n"))), None)
    return "".join(body[:closer])


class _LineBreakNormalizer:
    """Turns "\r\n" and "\r" into "\n"; a chunk's last "\r" waits for the next chunk,
    whose first character says whether it was half of a "\r\n"."""

    def __init__(self) -> None:
        self._cr = ""

    def feed(self, chunk: str) -> str:
        text = self._cr + chunk
        self._cr = "\r" if text.endswith("\r") else ""
        return _LINE_BREAK.sub("\n", text[: len(text) - len(self._cr)])

    def finish(self) -> str:
        cr, self._cr = self._cr, ""
        return "\n" if cr else ""


class _Phase(enum.Enum):
    OPENING = enum.auto()  # undecided: blank lines and the first line are held
    PLAIN = enum.auto()  # no fence: everything passes
    FENCED = enum.auto()  # inside the block
    CLOSED = enum.auto()  # past the closing line: commentary, dropped


class FenceStripper:
    """Streams `strip_fences`: holds the first line while it may open a fence, and inside a
    block holds a line only while it may still close the fence."""

    def __init__(self) -> None:
        self._line_breaks = _LineBreakNormalizer()
        self._phase = _Phase.OPENING
        self._head = ""  # OPENING: everything so far
        self._fence = _Fence("", "`", _MIN_FENCE_LENGTH)  # FENCED: the opener
        self._candidate: str | None = ""  # FENCED: the current line while it may close

    def feed(self, chunk: str) -> str:
        return self._push(self._line_breaks.feed(chunk))

    def finish(self) -> str:
        out = self._push(self._line_breaks.finish())
        if self._phase is _Phase.OPENING:
            head, self._head = self._head, ""
            return out + ("" if _open_fence(head.rpartition("\n")[2]) else head)
        if self._phase is _Phase.FENCED and self._candidate:
            candidate, self._candidate = self._candidate, ""
            return out + ("" if self._fence.closes(candidate) else candidate)
        return out

    def _push(self, text: str) -> str:
        if self._phase is _Phase.OPENING:
            self._head += text
            return self._decide()
        if self._phase is _Phase.PLAIN:
            return text
        if self._phase is _Phase.FENCED:
            return self._fenced(text)
        return ""

    def _decide(self) -> str:
        start, end = _first_content_line(self._head)
        if end < 0 and _may_open(self._head[start:]):
            return ""
        fence = _open_fence(self._head[start:end]) if end >= 0 else None
        head, self._head = self._head, ""
        if fence is None:
            self._phase = _Phase.PLAIN
            return head
        self._phase, self._fence = _Phase.FENCED, fence
        return self._fenced(head[end + 1 :])

    def _fenced(self, text: str) -> str:
        out: list[str] = []
        pos = 0
        while pos < len(text):
            end = text.find("\n", pos)
            if self._candidate is None:  # this line cannot close the fence any more
                if end < 0:
                    out.append(text[pos:])
                    break
                out.append(text[pos : end + 1])
            else:
                line = self._candidate + (text[pos:] if end < 0 else text[pos:end])
                if end < 0:
                    if self._fence.may_close(line):
                        self._candidate = line
                    else:
                        self._candidate = None
                        out.append(line)
                    break
                if self._fence.closes(line):
                    self._phase = _Phase.CLOSED
                    break
                out.append(line + "\n")
            self._candidate = ""
            pos = end + 1
        return "".join(out)


# --- Indentation ----------------------------------------------------------------------------


def _common_prefix_length(a: str, b: str) -> int:
    length = 0
    while length < min(len(a), len(b)) and a[length] == b[length]:
        length += 1
    return length


def _shift(leading: str, base: str, indent: str) -> str:
    """Moves a line's leading whitespace from the model's `base` to `indent`.

    A line indented less than the base gives up as much of `indent` as it falls short by
    (counted in characters: the base is a string prefix, tabs included).
    """
    common = _common_prefix_length(leading, base)
    shortfall = len(base) - common
    return indent[: max(0, len(indent) - shortfall)] + leading[common:]


def _base_indent(text: str) -> str:
    """The model's base indentation: that of its first line that is not blank."""
    start, _ = _first_content_line(text)
    return _split_indent(text[start:])[0]


def reindent(text: str, indent: str, at_line_start: bool) -> str:
    """Re-bases the text's indentation on `indent`; see `Reindenter`."""
    base = _base_indent(text)
    out: list[str] = []
    for number, line in enumerate(_split_lines(text)):
        content = line.rstrip("\n")
        leading, code = _split_indent(content)
        if code and (number > 0 or at_line_start):
            out.append(_shift(leading, base, indent))
        out.append(code + line[len(content) :])
    return "".join(out)


class Reindenter:
    """Makes the model's indentation follow the insertion point.

    The model's base indentation (its first non-blank line's) is replaced by `indent` on
    every line, except on the first line when `at_line_start` is False: the cursor already
    sits after the indentation there, or mid-line. Blank lines come out empty. A line's
    leading whitespace is held only until its first other character or its newline.
    """

    def __init__(self, indent: str, at_line_start: bool) -> None:
        self._indent = indent
        self._at_line_start = at_line_start
        self._base: str | None = None  # known at the first non-blank character
        self._first_line = True
        self._leading: str | None = ""  # the current line's whitespace; None once past it

    def feed(self, chunk: str) -> str:
        out: list[str] = []
        pos = 0
        while pos < len(chunk):
            if self._leading is None:
                end = chunk.find("\n", pos)
                if end < 0:
                    out.append(chunk[pos:])
                    break
                out.append(chunk[pos : end + 1])
                pos = self._next_line(end)
                continue
            stop = _indent_end(chunk, pos)
            self._leading += chunk[pos:stop]
            pos = stop
            if pos == len(chunk):
                break
            if chunk[pos] == "\n":  # a blank line: its whitespace goes
                out.append("\n")
                pos = self._next_line(pos)
            else:
                out.append(self._prefix(self._leading))
                self._leading = None
        return "".join(out)

    def finish(self) -> str:
        # Whitespace still held belongs to a last line that stayed blank: it goes.
        return ""

    def _next_line(self, newline: int) -> int:
        self._first_line = False
        self._leading = ""
        return newline + 1

    def _prefix(self, leading: str) -> str:
        if self._base is None:
            self._base = leading
        if self._first_line and not self._at_line_start:
            return ""
        return _shift(leading, self._base, self._indent)


# --- The final newline ----------------------------------------------------------------------


def trim_final_newline(text: str, drop_final_newline: bool, single: bool = False) -> str:
    """The whole-text counterpart of `FinalNewlineTrimmer`."""
    if single:
        return text.rstrip("\n") + "\n" if text.strip("\n") else ""
    return text[:-1] if drop_final_newline and text.endswith("\n") else text


class FinalNewlineTrimmer:
    """Fits the stream's end to what follows the insertion point.

    `drop_final_newline`: drop the final "\n", so that text inserted just before an
    existing line break does not leave a blank line behind. `single`: end with exactly one
    "\n" (a rewrite of whole lines replaced their line break, and blank lines the model adds
    at the end would pile up).

    Meanwhile the newlines at the current end of the stream are held: only more text (or
    the end) tells whether one is final. With nothing to change, everything passes at once.
    """

    def __init__(self, drop_final_newline: bool, single: bool = False) -> None:
        self._drop = drop_final_newline
        self._single = single
        self._newlines = ""
        self._wrote = False

    def feed(self, chunk: str) -> str:
        if not (self._drop or self._single):
            return chunk
        text = self._newlines + chunk
        kept = text.rstrip("\n")
        self._newlines = text[len(kept) :]
        self._wrote = self._wrote or bool(kept)
        return kept

    def finish(self) -> str:
        newlines, self._newlines = self._newlines, ""
        if self._single:
            return "\n" if self._wrote else ""
        return newlines[1:]
