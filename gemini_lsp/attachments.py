"""Workspace files sent to Gemini: attachments, and what may never be sent at all.

Only files inside a workspace folder are read (links and `..` resolved first). `.env` files
and whatever the folder's `.geminiignore` lists are never sent, as attachments or as the
code around the cursor.
"""

from __future__ import annotations

import fnmatch
import mimetypes
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

import attrs

IGNORE_FILE = ".geminiignore"
# Secrets live here by convention, whatever the ignore file says.
ALWAYS_EXCLUDED = (".env", ".env.*", "*.env")
MAX_FILE_BYTES = 10 * 1024 * 1024
# Gemini takes at most 20 MB of inline data per request; leave room for the prompt.
MAX_TOTAL_BYTES = 15 * 1024 * 1024
SENT_AS_IS = (
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/heic",
    "image/heif",
    "application/pdf",
)


class AttachmentError(ValueError):
    """An attachment that cannot be sent; the message names it and says why."""


@attrs.frozen
class Attachment:
    relative: str
    mime_type: str
    data: bytes

    def part(self) -> Any:
        """The attachment as a google-genai part."""
        from google.genai import types

        return types.Part.from_bytes(data=self.data, mime_type=self.mime_type)


def path_of(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def _patterns(folder: Path) -> list[str]:
    try:
        text = (folder / IGNORE_FILE).read_text(encoding="utf-8")
    except OSError:
        return []
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def excluded(relative: PurePosixPath, patterns: Sequence[str]) -> bool:
    """Whether a path inside a folder is excluded, gitignore-style (no negation).

    A pattern without a slash matches any file or folder name on the path; one with a
    leading or inner slash matches from the folder's root, the path or a folder on it.
    """
    parts = relative.parts
    prefixes = ["/".join(parts[: k + 1]) for k in range(len(parts))]
    for pattern in (*ALWAYS_EXCLUDED, *patterns):
        body = pattern.rstrip("/")
        if body.startswith("/") or "/" in body:
            # Anchored at the folder's root: the path itself or a folder on it.
            body = body.lstrip("/")
            if any(fnmatch.fnmatchcase(prefix, body) for prefix in prefixes):
                return True
        elif any(fnmatch.fnmatchcase(part, body) for part in parts):
            return True
    return False


def locate(path: Path, folders: Sequence[Path]) -> tuple[Path, PurePosixPath] | None:
    """The workspace folder holding `path` (links resolved) and the path within it."""
    real = path.resolve()
    for folder in folders:
        root = folder.resolve()
        if real.is_relative_to(root):
            return root, PurePosixPath(real.relative_to(root).as_posix())
    return None


def is_private(path: Path, folders: Sequence[Path]) -> bool:
    """Whether a file's content must not be sent to Gemini."""
    place = locate(path, folders)
    if place is None:
        return excluded(PurePosixPath(path.name), ())
    root, relative = place
    return excluded(relative, _patterns(root))


def load(uris: Sequence[str], folders: Sequence[Path]) -> list[Attachment]:
    """Read attachments, refusing anything outside the workspace, excluded, or too big."""
    attachments: list[Attachment] = []
    total = 0
    for index, uri in enumerate(uris):
        name = f"attachments[{index}]"
        path = path_of(uri)
        if path is None:
            raise AttachmentError(f"{name}: {uri} is not a file URI")
        place = locate(path, folders)
        if place is None:
            raise AttachmentError(f"{name}: {path} is outside the workspace folders")
        root, relative = place
        if excluded(relative, _patterns(root)):
            raise AttachmentError(f"{name}: {relative} is excluded ({IGNORE_FILE} or .env)")
        full = root / relative
        if not full.is_file():
            raise AttachmentError(f"{name}: {relative} is not a file")
        size = full.stat().st_size
        if size > MAX_FILE_BYTES:
            raise AttachmentError(
                f"{name}: {relative} is {size / 2**20:.1f} MB; the limit is "
                f"{MAX_FILE_BYTES // 2**20} MB per file"
            )
        total += size
        if total > MAX_TOTAL_BYTES:
            raise AttachmentError(
                f"{name}: the attachments add up to more than {MAX_TOTAL_BYTES // 2**20} MB"
            )
        data = full.read_bytes()
        attachments.append(Attachment(relative.as_posix(), _mime_type(name, full, data), data))
    return attachments


def _mime_type(name: str, path: Path, data: bytes) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    if guessed in SENT_AS_IS:
        return guessed
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise AttachmentError(
            f"{name}: {path.name} is neither text nor a supported image or PDF "
            f"({guessed or 'unknown type'})"
        ) from None
    # Gemini reads any text as text/plain; source files have no MIME type of their own.
    return "text/plain"
