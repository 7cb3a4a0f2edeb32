"""The local paths URIs name, refusing what cannot name a local file."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

# A URI longer than this is cut short in messages.
MAX_SHOWN_URI = 200


class UriError(ValueError):
    """A URI that names no usable local path; the message says why (the caller names the
    field)."""


def path_of(uri: str) -> Path | None:
    """The local path a `file:` URI names; None for another scheme; UriError when the URI
    cannot name a local file (a host, `%00`, escapes that are not UTF-8, a relative path)."""
    parts = urlsplit(uri)
    if parts.scheme.lower() != "file":
        return None
    if parts.netloc not in ("", "localhost"):
        raise UriError(f"{shown(uri)} names a host ({parts.netloc}); only local files are read")
    if "\x00" in parts.path or "%00" in parts.path:
        raise UriError(f"{shown(uri)} contains a NUL character (%00)")
    try:
        path = unquote(parts.path, errors="strict")
    except UnicodeDecodeError:
        raise UriError(f"{shown(uri)} has percent-escapes that are not UTF-8") from None
    if "\x00" in path:
        raise UriError(f"{shown(uri)} contains a NUL character")
    if not path.startswith("/"):
        raise UriError(f"{shown(uri)} is not an absolute path")
    return Path(path)


def shown(uri: str) -> str:
    """The URI as a message shows it: cut short when long."""
    return uri if len(uri) <= MAX_SHOWN_URI else uri[: MAX_SHOWN_URI - 3] + "..."


def document_path(uri: str) -> str:
    """The path part of a URI of any scheme (`untitled:Untitled-1`, `git:/ws/a.py?…`)."""
    parts = urlsplit(uri)
    return unquote(parts.path, errors="replace").replace("\x00", "")
