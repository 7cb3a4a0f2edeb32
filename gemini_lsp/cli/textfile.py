"""A text file read and written back faithfully: its line endings, final newline, byte-order
mark and permissions survive, and a save is atomic (a crash mid-write leaves the old file).

The LSP session sees the text with `\\n` line endings only; `TextFile.render` turns the edited
text back into the file's own layout.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

import attrs

BOM = "\ufeff"


@attrs.frozen
class Layout:
    """How a file writes its lines."""

    newline: str  # "\n", "\r\n" or "\r"
    final_newline: bool
    bom: bool


def detect_layout(raw: str) -> Layout:
    """The file's line ending is the one its first line ends with (LF when it has none)."""
    bom = raw.startswith(BOM)
    body = raw[1:] if bom else raw
    newline = "\n"
    for index, char in enumerate(body):
        if char == "\n":
            break
        if char == "\r":
            newline = "\r\n" if body[index + 1 : index + 2] == "\n" else "\r"
            break
    # An empty file gets the usual final line break.
    return Layout(newline, body == "" or body.endswith(("\n", "\r")), bom)


def to_lsp_text(raw: str) -> str:
    """The text as the session edits it: no byte-order mark, every line ending `\\n`."""
    body = raw[1:] if raw.startswith(BOM) else raw
    return body.replace("\r\n", "\n").replace("\r", "\n")


def render(text: str, layout: Layout) -> str:
    """Edited session text back in the file's layout.

    A file that ended with a line break still does, and one that did not still does not
    (text generated at its very end then ends without one, as the file did).
    """
    if text and layout.final_newline and not text.endswith("\n"):
        text += "\n"
    elif not layout.final_newline:
        text = text.removesuffix("\n")
    if layout.newline != "\n":
        text = text.replace("\n", layout.newline)
    return (BOM if layout.bom else "") + text


def count_lines(text: str) -> int:
    """Lines in a piece of text: a last line without a line break counts too."""
    if not text:
        return 0
    return text.count("\n") + (0 if text.endswith("\n") else 1)


class FileChangedError(Exception):
    """The file changed on disk while the generation ran; saving would lose that change."""


@attrs.frozen
class TextFile:
    path: Path
    raw: bytes
    layout: Layout
    text: str  # the session's text (see to_lsp_text)

    @classmethod
    def read(cls, path: Path) -> TextFile:
        """Raises OSError, or UnicodeDecodeError for a file that is not UTF-8."""
        raw = path.read_bytes()
        decoded = raw.decode("utf-8")
        return cls(path, raw, detect_layout(decoded), to_lsp_text(decoded))

    def render(self, text: str) -> str:
        return render(text, self.layout)

    def save(self, text: str) -> bool:
        """Writes `text` in the file's layout, atomically; False when nothing changed."""
        data = self.render(text).encode("utf-8")
        if data == self.raw:
            return False
        if self.path.read_bytes() != self.raw:
            raise FileChangedError(str(self.path))
        atomic_write(self.path, data)
        return True


def atomic_write(path: Path, data: bytes) -> None:
    """A temporary file in the same folder, flushed to disk, renamed over `path`.

    The permission bits of the file it replaces are kept. A link is followed: the file it
    points to is replaced, and the link stays a link.
    """
    target = path.resolve()
    mode = stat.S_IMODE(target.stat().st_mode)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
