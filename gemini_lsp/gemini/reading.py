"""Reading attachments safely: only regular files inside the workspace, never more than the
size limits.

The path is checked, then opened without following a link at its last component and without
waiting (a FIFO cannot block), and what was opened is checked again: a regular file (`fstat`)
whose real path (`/proc/self/fd`) is inside the folder and not excluded — a link swapped in
between the check and the open cannot redirect the read. Callers run this off the event loop.
"""

from __future__ import annotations

import errno
import mimetypes
import os
import stat
from collections.abc import Sequence
from pathlib import PurePosixPath

from gemini_lsp.gemini.held import HELD, Attachment, keep_large_buffers_apart, release
from gemini_lsp.gemini.uris import UriError, path_of, shown
from gemini_lsp.gemini.workspace import EXCLUDED, AttachmentError, Workspace

MAX_FILE_BYTES = 10 * 1024 * 1024
# Gemini takes at most 20 MB of inline data per request; leave room for the prompt.
MAX_TOTAL_BYTES = 15 * 1024 * 1024
# Read in pieces of this size.
READ_BYTES = 1024 * 1024
SENT_AS_IS = (
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/heic",
    "image/heif",
    "application/pdf",
)
_OPEN_FLAGS = (
    os.O_RDONLY
    | os.O_NONBLOCK  # a FIFO opens at once instead of waiting for a writer
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NOCTTY", 0)
    | os.O_CLOEXEC
)


def load_files(workspace: Workspace, uris: Sequence[str]) -> list[Attachment]:
    """Read attachments, refusing anything outside the workspace, excluded, or too big;
    what is read is counted as held until released."""
    keep_large_buffers_apart()
    files: list[Attachment] = []
    total = 0
    try:
        for index, uri in enumerate(uris):
            file = read_attachment(workspace, index, uri, MAX_TOTAL_BYTES - total)
            total += len(file.data)
            files.append(file)
        HELD.take(total)
    except BaseException:
        release(files)
        raise
    for file in files:
        file.held = True
    return files


def read_attachment(
    workspace: Workspace, index: int, uri: str, room: int = MAX_TOTAL_BYTES
) -> Attachment:
    """Read one attachment, or AttachmentError saying why not (naming `attachments[i]`);
    `room` is what the request's earlier attachments left of the total."""
    name = f"attachments[{index}]"
    lexical, relative = _checked_path(workspace, name, uri)
    try:
        fd = os.open(lexical, _OPEN_FLAGS)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise AttachmentError(f"{name}: {relative} is a symbolic link") from None
        raise AttachmentError(f"{name}: {relative} cannot be read ({error.strerror})") from None
    try:
        relative, data = _read_opened(workspace, fd, name, lexical, relative, room)
    except OSError as error:
        raise AttachmentError(f"{name}: {relative} cannot be read ({error.strerror})") from None
    finally:
        os.close(fd)
    return Attachment(uri, relative, _mime_type(name, relative, data), data)


def _checked_path(workspace: Workspace, name: str, uri: str) -> tuple[str, str]:
    """The attachment's normalised path and its path in the workspace, checked before
    opening: nothing outside the workspace is ever opened."""
    try:
        path = path_of(uri)
    except UriError as error:
        raise AttachmentError(f"{name}: {error}") from None
    if path is None:
        raise AttachmentError(f"{name}: {shown(uri)} is not a file URI")
    lexical = os.path.normpath(path)
    try:
        before = os.path.realpath(lexical)
    except (OSError, ValueError):
        raise workspace.outside(name, lexical) from None
    place = workspace.place(before)
    if place is None:
        raise workspace.outside(name, lexical)
    relative = place[1].as_posix()
    if workspace.excluded(lexical) or workspace.excluded(before):
        raise AttachmentError(f"{name}: {relative} {EXCLUDED}")
    try:
        info = os.lstat(lexical)
    except FileNotFoundError:
        raise AttachmentError(f"{name}: {relative} does not exist") from None
    except OSError as error:
        raise AttachmentError(f"{name}: {relative} cannot be read ({error.strerror})") from None
    _check_kind(name, relative, info.st_mode)
    return lexical, relative


def _read_opened(
    workspace: Workspace, fd: int, name: str, lexical: str, shown_as: str, room: int
) -> tuple[str, bytes]:
    """What was opened, whatever happened to the path meanwhile, checked and read: its path
    in the workspace and its bytes."""
    info = os.fstat(fd)
    _check_kind(name, shown_as, info.st_mode)
    real = _real_path(fd, lexical, info)
    place = workspace.place(real) if real is not None else None
    if real is None or place is None:
        raise workspace.outside(name, lexical)
    if workspace.excluded(real):
        raise AttachmentError(f"{name}: {place[1].as_posix()} {EXCLUDED}")
    _check_size(name, shown_as, info.st_size, room)
    # Bounded whatever the size said (a file that grows, a /proc file of size 0).
    data = _read_at_most(fd, min(MAX_FILE_BYTES, room) + 1)
    _check_size(name, shown_as, len(data), room)
    return place[1].as_posix(), data


def _check_kind(name: str, shown_as: str, mode: int) -> None:
    if stat.S_ISLNK(mode):
        raise AttachmentError(f"{name}: {shown_as} is a symbolic link (links are not followed)")
    if stat.S_ISDIR(mode):
        raise AttachmentError(f"{name}: {shown_as} is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise AttachmentError(
            f"{name}: {shown_as} is not a regular file (a device, FIFO or socket)"
        )


def _check_size(name: str, shown_as: str, size: int, room: int) -> None:
    if size > MAX_FILE_BYTES:
        raise AttachmentError(
            f"{name}: {shown_as} is {size / 2**20:.1f} MB; the limit is "
            f"{MAX_FILE_BYTES // 2**20} MB per file"
        )
    if size > room:
        raise AttachmentError(
            f"{name}: the attachments add up to more than {MAX_TOTAL_BYTES // 2**20} MB"
        )


def _real_path(fd: int, lexical: str, info: os.stat_result) -> str | None:
    """The real path of what `fd` is open on, or None when it cannot be known."""
    try:
        real = os.readlink(f"/proc/self/fd/{fd}")
        if real.startswith("/") and not real.endswith(" (deleted)"):
            return real
        return None
    except OSError:
        pass
    # Without /proc: the resolved path counts only if it is the very file that was opened.
    try:
        real = os.path.realpath(lexical)
        now = os.stat(real)
    except (OSError, ValueError):
        return None
    return real if (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino) else None


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        try:
            chunk = os.read(fd, min(limit - size, READ_BYTES))
        except BlockingIOError:  # not a regular file after all: nothing to wait for
            break
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _mime_type(name: str, relative: str, data: bytes) -> str:
    guessed, _ = mimetypes.guess_type(PurePosixPath(relative).name)
    if guessed in SENT_AS_IS:
        return guessed
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise AttachmentError(
            f"{name}: {PurePosixPath(relative).name} is neither text nor a supported image or "
            f"PDF ({guessed or 'unknown type'})"
        ) from None
    # Gemini reads any text as text/plain; source files have no MIME type of their own.
    return "text/plain"
