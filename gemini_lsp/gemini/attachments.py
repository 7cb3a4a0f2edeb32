"""Workspace files sent to Gemini: attachments, and which documents may never be sent.

An attachment is read only when it is a regular file inside a workspace folder:
- the workspace folder may not be a filesystem root, a home directory (or a folder holding
  home directories) or a system folder (`/proc`, `/sys`, `/dev`): those are never a place to
  read files from, whatever the client says;
- the path is checked, then opened without following a link at its last component and
  without waiting (a FIFO cannot block), and what was opened is checked again: a regular
  file (`fstat`) whose real path (`/proc/self/fd`) is inside the folder and not excluded —
  a link swapped in between the check and the open cannot redirect the read;
- it is read off the event loop, never more than the size limit.

Files that are excluded (`ignore.py`: `.env`, keys, certificates, credentials, and whatever
the `.geminiignore` files say) are never sent, as attachments or as the code around the
cursor, whatever the document's URI scheme (`untitled:`, `git:` … are matched by their path).

What a generation has read is held only while it runs (`Attachment.release`); at most
`MAX_HELD_BYTES` are held by all generations together, and a refinement reads the files again.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import errno
import functools
import gc
import mimetypes
import os
import pwd
import stat
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from gemini_lsp.gemini.ignore import (
    IGNORE_FILE,
    FolderRules,
    Warn,
    default_excluded,
    place_excluded,
)

__all__ = [
    "IGNORE_FILE",
    "MAX_FILE_BYTES",
    "MAX_HELD_BYTES",
    "MAX_TOTAL_BYTES",
    "Attachment",
    "AttachmentError",
    "BusyError",
    "PrivateDocumentError",
    "UriError",
    "Workspace",
    "attached_uris",
    "check_document",
    "is_private",
    "load",
    "load_async",
    "locate",
    "path_of",
    "release",
    "reload_async",
    "with_files",
]

MAX_FILE_BYTES = 10 * 1024 * 1024
# Gemini takes at most 20 MB of inline data per request; leave room for the prompt.
MAX_TOTAL_BYTES = 15 * 1024 * 1024
# What all running generations may hold at once (a batch of requests with large attachments
# is refused past this, rather than growing the server without bound).
MAX_HELD_BYTES = 64 * 1024 * 1024
SENT_AS_IS = (
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/heic",
    "image/heif",
    "application/pdf",
)
# Never a place to read files from, nor anything inside them.
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")
_OPEN_FLAGS = (
    os.O_RDONLY
    | os.O_NONBLOCK  # a FIFO opens at once instead of waiting for a writer
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NOCTTY", 0)
    | os.O_CLOEXEC
)
EXCLUDED = (
    f"is excluded ({IGNORE_FILE}, or a default exclusion: env files, keys, certificates, "
    "credentials)"
)


class AttachmentError(ValueError):
    """An attachment that cannot be sent; the message names the field and says why."""


class UriError(ValueError):
    """A URI that names no usable local path; the message says why (the caller names the
    field)."""


class PrivateDocumentError(Exception):
    """A document whose content must not be sent to Gemini."""


class BusyError(Exception):
    """The generations in progress already hold as much attachment data as allowed."""


class _Held:
    """Attachment bytes held by all generations together."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.bytes = 0
        self._lock = threading.Lock()

    def take(self, size: int) -> None:
        with self._lock:
            if self.bytes + size > self.limit:
                raise BusyError(
                    f"the generations in progress hold {self.bytes / 2**20:.0f} MB of "
                    f"attachments; at most {self.limit // 2**20} MB are held at once — wait "
                    "for them to finish"
                )
            self.bytes += size

    def give_back(self, size: int) -> None:
        with self._lock:
            self.bytes = max(self.bytes - size, 0)


HELD = _Held(MAX_HELD_BYTES)


@attrs.define(eq=False)
class Attachment:
    """A file read for one generation; its bytes are dropped once the generation ends."""

    uri: str
    relative: str
    mime_type: str
    data: bytes = attrs.field(repr=False)
    held: bool = attrs.field(default=False, repr=False)

    @property
    def released(self) -> bool:
        return not self.held and not self.data

    def part(self) -> Any:
        """The attachment as a google-genai part."""
        from google.genai import types

        if self.released:
            raise RuntimeError(f"{self.relative} was released; read it again")
        return types.Part.from_bytes(data=self.data, mime_type=self.mime_type)

    def release(self) -> None:
        if self.held:
            HELD.give_back(len(self.data))
            self.held = False
        self.data = b""


def release(parts: Iterable[object]) -> None:
    """Drop the bytes of every attachment among `parts` (or the turns of a conversation);
    once no generation holds any, give the memory back to the system."""
    held = HELD.bytes
    _release(parts)
    if held and not HELD.bytes:
        give_memory_back()


def _release(parts: Iterable[object]) -> None:
    for part in parts:
        if isinstance(part, Attachment):
            part.release()
        elif isinstance(part, dict) and isinstance(part.get("parts"), list):
            _release(part["parts"])


def give_memory_back() -> None:
    """Collect what a cancelled request left in reference cycles (the SDK's request, its
    encoded body: tens of megabytes with large attachments), and hand the freed memory to
    the system (glibc keeps it otherwise)."""
    gc.collect()
    with contextlib.suppress(Exception):
        _libc().malloc_trim(0)


@functools.cache
def _libc() -> Any:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def keep_large_buffers_apart() -> None:
    """Large buffers get their own mappings, returned to the system when freed (glibc would
    otherwise raise its threshold after the first large free, and keep later ones)."""
    with contextlib.suppress(Exception):
        _libc().mallopt(-3, 256 * 1024)  # M_MMAP_THRESHOLD


def attached_uris(contents: Sequence[dict[str, Any]]) -> list[str]:
    """The URIs of the files attached to a conversation, in order."""
    return [
        part.uri
        for turn in contents
        for part in turn.get("parts", [])
        if isinstance(part, Attachment)
    ]


def with_files(
    contents: Sequence[dict[str, Any]], files: Sequence[Attachment]
) -> list[dict[str, Any]]:
    """The conversation with its attachments replaced by `files` (in the first turn)."""
    turns = []
    for index, turn in enumerate(contents):
        parts = [p for p in turn.get("parts", []) if not isinstance(p, Attachment)]
        turns.append({**turn, "parts": parts + list(files) if index == 0 else parts})
    return turns


# -- URIs -------------------------------------------------------------------------------------


def path_of(uri: str) -> Path | None:
    """The local path a `file:` URI names; None for another scheme; UriError when the URI
    cannot name a local file (a host, `%00`, escapes that are not UTF-8, a relative path)."""
    parts = urlsplit(uri)
    if parts.scheme.lower() != "file":
        return None
    if parts.netloc not in ("", "localhost"):
        raise UriError(f"{_short(uri)} names a host ({parts.netloc}); only local files are read")
    if "\x00" in parts.path or "%00" in parts.path:
        raise UriError(f"{_short(uri)} contains a NUL character (%00)")
    try:
        path = unquote(parts.path, errors="strict")
    except UnicodeDecodeError:
        raise UriError(f"{_short(uri)} has percent-escapes that are not UTF-8") from None
    if "\x00" in path:
        raise UriError(f"{_short(uri)} contains a NUL character")
    if not path.startswith("/"):
        raise UriError(f"{_short(uri)} is not an absolute path")
    return Path(path)


def _short(uri: str) -> str:
    return uri if len(uri) <= 200 else uri[:197] + "..."


def _document_path(uri: str) -> str:
    """The path part of a URI of any scheme (`untitled:Untitled-1`, `git:/ws/a.py?…`)."""
    parts = urlsplit(uri)
    return unquote(parts.path, errors="replace").replace("\x00", "")


# -- workspace folders ------------------------------------------------------------------------


def _homes() -> set[str]:
    """The home directories of people on this machine (the current user's first)."""
    homes = {os.path.expanduser("~"), os.environ.get("HOME", "")}
    try:
        homes.add(pwd.getpwuid(os.getuid()).pw_dir)
        for entry in pwd.getpwall():
            if entry.pw_uid == 0 or 1000 <= entry.pw_uid < 65534:
                homes.add(entry.pw_dir)
    except (KeyError, OSError):
        pass
    real = set()
    for home in homes:
        if home and home.startswith("/"):
            try:
                real.add(os.path.realpath(home))
            except (OSError, ValueError):
                continue
    return real


def refused_root(real: str, homes: set[str] | None = None) -> str | None:
    """Why a workspace folder (its real path) is never a place to read files from."""
    if os.path.dirname(real) == real:
        return "is a filesystem root"
    if any(_inside(real, system) for system in SYSTEM_FOLDERS):
        return "is a system folder"
    for home in _homes() if homes is None else homes:
        if home == real:
            return "is a home directory"
        if _inside(home, real):
            return "holds home directories"
    return None


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


class Workspace:
    """The workspace folders, for one request: where files may be read from, and what is
    excluded. Its methods touch the filesystem: run them off the event loop."""

    def __init__(self, folders: Iterable[Path | str], warn: Warn | None = None) -> None:
        self.roots: list[str] = []  # real paths of the folders files may be read from
        self.refused: dict[str, str] = {}  # folder → why not
        self._rules: dict[str, FolderRules] = {}  # every folder's ignore files, by path
        self._warn = warn
        homes = _homes()
        for folder in folders:
            try:
                lexical = os.path.normpath(os.fspath(folder))
                real = os.path.realpath(lexical)
            except (OSError, ValueError, TypeError):
                continue  # not a path (a folder URI with %00 …)
            if not real.startswith("/"):
                continue
            for name in {lexical, real}:
                self._rules.setdefault(name, FolderRules(name, warn))
            problem = refused_root(real, homes)
            if problem is None:
                if real not in self.roots:
                    self.roots.append(real)
            else:
                self.refused[lexical] = problem

    # -- what is excluded -------------------------------------------------------------------

    def excluded(self, path: str, is_dir: bool = False) -> bool:
        """Whether an absolute path is excluded: by a default exclusion, or by the ignore
        files of any workspace folder holding it (nested folders: each one's own)."""
        if place_excluded(path):
            return True
        holders = [root for root in self._rules if _inside(path, root) and path != root]
        if not holders:
            return default_excluded(PurePosixPath(path.lstrip("/")), is_dir)
        return any(
            self._rules[root].excluded(PurePosixPath(os.path.relpath(path, root)), is_dir)
            for root in holders
        )

    def document_problem(self, uri: str) -> str | None:
        """Why a document's content must not be sent, or None. UriError for a `file:` URI
        that names no local path."""
        path = path_of(uri)
        if path is None:  # untitled:, git:, vscode-notebook-cell: … matched by their path
            text = _document_path(uri)
            name = PurePosixPath(text).name or text
            if text.startswith("/"):
                excluded = self.excluded(os.path.normpath(text))
            else:
                excluded = default_excluded(PurePosixPath(text))
            return f"{name} {EXCLUDED}" if excluded else None
        lexical = os.path.normpath(path)
        candidates = [lexical]
        with contextlib.suppress(OSError, ValueError):
            candidates.append(os.path.realpath(lexical))  # a link to an excluded file
        if any(self.excluded(candidate) for candidate in candidates):
            return f"{path.name} {EXCLUDED}"
        return None

    # -- where a path is -------------------------------------------------------------------

    def place(self, path: str) -> tuple[str, PurePosixPath] | None:
        """The usable folder holding an absolute path, and the path within it."""
        for root in self.roots:
            if _inside(path, root) and path != root:
                return root, PurePosixPath(os.path.relpath(path, root))
        return None

    def locate(self, path: Path | str) -> tuple[Path, PurePosixPath] | None:
        """The folder holding a document's path (lexically, the nearest), and the path
        within it: what the prompt calls the file."""
        try:
            lexical = os.path.normpath(path)
        except (TypeError, ValueError):
            return None
        for root in sorted(self._rules, key=len, reverse=True):
            if _inside(lexical, root) and lexical != root:
                return Path(root), PurePosixPath(os.path.relpath(lexical, root))
        return None

    def _outside(self, name: str, shown: str) -> AttachmentError:
        reason = f"{name}: {shown} is outside the workspace folders"
        if self.refused:
            folder, why = next(iter(self.refused.items()))
            reason += (
                f" (the workspace folder {folder} {why}: files are never read from a "
                "filesystem root, a home directory or a system folder as a whole — open a "
                "project folder)"
            )
        return AttachmentError(reason)

    # -- reading ---------------------------------------------------------------------------

    def read_attachment(self, index: int, uri: str, room: int = MAX_TOTAL_BYTES) -> Attachment:
        """Read one attachment, or AttachmentError saying why not (naming `attachments[i]`);
        `room` is what the request's earlier attachments left of the total."""
        name = f"attachments[{index}]"
        try:
            path = path_of(uri)
        except UriError as error:
            raise AttachmentError(f"{name}: {error}") from None
        if path is None:
            raise AttachmentError(f"{name}: {_short(uri)} is not a file URI")
        lexical = os.path.normpath(path)
        # Checked before opening: nothing outside the workspace is ever opened.
        try:
            before = os.path.realpath(lexical)
        except (OSError, ValueError):
            raise self._outside(name, lexical) from None
        place = self.place(before)
        if place is None:
            raise self._outside(name, lexical)
        shown = place[1].as_posix()
        if self.excluded(lexical) or self.excluded(before):
            raise AttachmentError(f"{name}: {shown} {EXCLUDED}")
        try:
            info = os.lstat(lexical)
        except FileNotFoundError:
            raise AttachmentError(f"{name}: {shown} does not exist") from None
        except OSError as error:
            raise AttachmentError(f"{name}: {shown} cannot be read ({error.strerror})") from None
        _check_kind(name, shown, info.st_mode)
        try:
            fd = os.open(lexical, _OPEN_FLAGS)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise AttachmentError(f"{name}: {shown} is a symbolic link") from None
            raise AttachmentError(f"{name}: {shown} cannot be read ({error.strerror})") from None
        try:
            # What was opened, whatever happened to the path meanwhile.
            info = os.fstat(fd)
            _check_kind(name, shown, info.st_mode)
            real = _real_path(fd, lexical, info)
            place = self.place(real) if real is not None else None
            if real is None or place is None:
                raise self._outside(name, lexical)
            if self.excluded(real):
                raise AttachmentError(f"{name}: {place[1].as_posix()} {EXCLUDED}")
            _check_size(name, shown, info.st_size, room)
            # Bounded whatever the size said (a file that grows, a /proc file of size 0).
            data = _read_at_most(fd, min(MAX_FILE_BYTES, room) + 1)
            _check_size(name, shown, len(data), room)
        except OSError as error:
            raise AttachmentError(f"{name}: {shown} cannot be read ({error.strerror})") from None
        finally:
            os.close(fd)
        relative = place[1].as_posix()
        return Attachment(uri, relative, _mime_type(name, relative, data), data)

    def load(self, uris: Sequence[str]) -> list[Attachment]:
        """Read attachments, refusing anything outside the workspace, excluded, or too big;
        what is read is counted as held until released."""
        files: list[Attachment] = []
        total = 0
        try:
            for index, uri in enumerate(uris):
                file = self.read_attachment(index, uri, MAX_TOTAL_BYTES - total)
                total += len(file.data)
                files.append(file)
            HELD.take(total)
        except BaseException:
            release(files)
            raise
        for file in files:
            file.held = True
        return files


def _check_kind(name: str, shown: str, mode: int) -> None:
    if stat.S_ISLNK(mode):
        raise AttachmentError(f"{name}: {shown} is a symbolic link (links are not followed)")
    if stat.S_ISDIR(mode):
        raise AttachmentError(f"{name}: {shown} is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise AttachmentError(f"{name}: {shown} is not a regular file (a device, FIFO or socket)")


def _check_size(name: str, shown: str, size: int, room: int) -> None:
    if size > MAX_FILE_BYTES:
        raise AttachmentError(
            f"{name}: {shown} is {size / 2**20:.1f} MB; the limit is "
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
            chunk = os.read(fd, min(limit - size, 1024 * 1024))
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


# -- the API the server uses --------------------------------------------------------------------


def load(uris: Sequence[str], folders: Sequence[Path]) -> list[Attachment]:
    """Read attachments (on this thread): see `Workspace.load`."""
    return Workspace(folders).load(uris)


async def load_async(
    uris: Sequence[str], folders: Sequence[Path], warn: Warn | None = None
) -> list[Attachment]:
    """Read attachments off the event loop."""
    if not uris:
        return []
    return await asyncio.to_thread(lambda: Workspace(folders, warn).load(uris))


async def reload_async(
    uris: Sequence[str], folders: Sequence[Path], warn: Warn | None = None
) -> tuple[list[Attachment], list[str]]:
    """Read a generation's attachments again (for a refinement): the files that can still be
    sent, and for each one that cannot, why (it is dropped, not an error)."""
    if not uris:
        return [], []

    def read() -> tuple[list[Attachment], list[str]]:
        workspace = Workspace(folders, warn)
        files: list[Attachment] = []
        dropped: list[str] = []
        for uri in uris:
            try:
                files.extend(workspace.load([uri]))
            except (AttachmentError, BusyError) as error:
                dropped.append(str(error).removeprefix("attachments[0]: "))
        return files, dropped

    return await asyncio.to_thread(read)


async def check_document(uri: str, folders: Sequence[Path], warn: Warn | None = None) -> None:
    """PrivateDocumentError when a document's content must not be sent (off the event loop);
    UriError when its `file:` URI names no local path."""
    problem = await asyncio.to_thread(lambda: Workspace(folders, warn).document_problem(uri))
    if problem is not None:
        raise PrivateDocumentError(problem)


def is_private(path: Path | str, folders: Sequence[Path]) -> bool:
    """Whether a document's content must not be sent (`path`: a local path or any URI).
    On this thread: the ignore files are read without waiting, but prefer `check_document`."""
    workspace = Workspace(folders)
    if isinstance(path, Path):
        path = path.as_uri() if path.is_absolute() else str(path)
    try:
        return workspace.document_problem(path) is not None
    except UriError:
        return True  # a URI that names no local path is not sent either


def locate(path: Path, folders: Sequence[Path]) -> tuple[Path, PurePosixPath] | None:
    """The workspace folder holding `path` (lexically, the nearest) and the path within it."""
    return Workspace(folders).locate(path)
