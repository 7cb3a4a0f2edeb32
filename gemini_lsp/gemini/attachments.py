"""Workspace files sent to Gemini: attachments, and which documents may never be sent.

The API the server uses; the work is done by `workspace.py` (which folders files may come
from, what is excluded), `reading.py` (reading a file safely and within the size limits),
`held.py` (the bytes held while a generation runs, `MAX_HELD_BYTES` for all together) and
`uris.py`. Everything that touches the filesystem runs off the event loop. A refinement
reads its files again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gemini_lsp.gemini.held import HELD, MAX_HELD_BYTES, Attachment, BusyError, release
from gemini_lsp.gemini.ignore import IGNORE_FILE, Warn
from gemini_lsp.gemini.reading import MAX_FILE_BYTES, MAX_TOTAL_BYTES, load_files
from gemini_lsp.gemini.uris import UriError, path_of
from gemini_lsp.gemini.workspace import AttachmentError, Workspace

__all__ = [
    "HELD",
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
    "load",
    "load_async",
    "path_of",
    "release",
    "reload_async",
    "with_files",
]


class PrivateDocumentError(Exception):
    """A document whose content must not be sent to Gemini."""


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


def load(uris: Sequence[str], folders: Sequence[Path]) -> list[Attachment]:
    """Read attachments (on this thread): see `reading.load_files`."""
    return load_files(Workspace(folders), uris)


async def load_async(
    uris: Sequence[str], folders: Sequence[Path], warn: Warn | None = None
) -> list[Attachment]:
    """Read attachments off the event loop."""
    if not uris:
        return []
    return await asyncio.to_thread(lambda: load_files(Workspace(folders, warn), uris))


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
                files.extend(load_files(workspace, [uri]))
            except (AttachmentError, BusyError) as error:
                dropped.append(str(error).removeprefix("attachments[0]: "))
        return files, dropped

    return await asyncio.to_thread(read)


async def check_document(uri: str, folders: Sequence[Path], warn: Warn | None = None) -> str:
    """What the prompt calls a document whose content may be sent (`Workspace.document_name`),
    found off the event loop with the check: PrivateDocumentError when its content must not be
    sent, UriError when its `file:` URI names no local path."""

    def check() -> tuple[str | None, str]:
        workspace = Workspace(folders, warn)
        return workspace.document_problem(uri), workspace.document_name(uri)

    problem, name = await asyncio.to_thread(check)
    if problem is not None:
        raise PrivateDocumentError(problem)
    return name
