"""The workspace folders of one request: where files may be read from, and what is excluded.

A workspace folder may not be a filesystem root, a home directory (or a folder holding home
directories) or a system folder (`/proc`, `/sys`, `/dev`): those are never a place to read
files from, whatever the client says. Excluded files (`ignore.py`) are never sent, whatever
the document's URI scheme (`untitled:`, `git:` … are matched by their path).
"""

from __future__ import annotations

import contextlib
import functools
import os
import pwd
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from gemini_lsp.gemini.ignore import (
    IGNORE_FILE,
    FolderRules,
    Warn,
    default_excluded,
    place_excluded,
)
from gemini_lsp.gemini.uris import document_path, path_of

# Never a place to read files from, nor anything inside them.
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")
# The accounts whose home directories count: root and people (not system accounts).
_ROOT_UID = 0
_PEOPLE_UIDS = range(1000, 65534)
EXCLUDED = (
    f"is excluded ({IGNORE_FILE}, or a default exclusion: env files, keys, certificates, "
    "credentials)"
)


class AttachmentError(ValueError):
    """An attachment that cannot be sent; the message names the field and says why."""


def _homes() -> set[str]:
    """The home directories of people on this machine, read again only when the account
    database or the current user's home may have changed: listing every account and
    resolving each home costs about half a millisecond at every request otherwise."""
    try:
        accounts: int | None = os.stat("/etc/passwd").st_mtime_ns
    except OSError:
        accounts = None
    return set(_read_homes(accounts, os.getuid(), os.environ.get("HOME")))


@functools.lru_cache(maxsize=1)
def _read_homes(accounts: int | None, uid: int, home_variable: str | None) -> frozenset[str]:
    """The homes as they are now; the arguments are what they depend on."""
    homes = {os.path.expanduser("~"), os.environ.get("HOME", "")}
    try:
        homes.add(pwd.getpwuid(os.getuid()).pw_dir)
        for entry in pwd.getpwall():
            if entry.pw_uid == _ROOT_UID or entry.pw_uid in _PEOPLE_UIDS:
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
    return frozenset(real)


def refused_root(real: str, homes: set[str] | None = None) -> str | None:
    """Why a workspace folder (its real path) is never a place to read files from."""
    if os.path.dirname(real) == real:
        return "is a filesystem root"
    if any(inside(real, system) for system in SYSTEM_FOLDERS):
        return "is a system folder"
    for home in _homes() if homes is None else homes:
        if home == real:
            return "is a home directory"
        if inside(home, real):
            return "holds home directories"
    return None


def inside(path: str, root: str) -> bool:
    """Whether `path` is `root` or below it (both absolute and normalised)."""
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

    def excluded(self, path: str, is_dir: bool = False) -> bool:
        """Whether an absolute path is excluded: by a default exclusion, or by the ignore
        files of any workspace folder holding it (nested folders: each one's own)."""
        if place_excluded(path):
            return True
        holders = [root for root in self._rules if inside(path, root) and path != root]
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
            text = document_path(uri)
            name = PurePosixPath(text).name or text
            if text.startswith("/"):
                excluded = self.excluded(os.path.normpath(text))
            else:
                excluded = default_excluded(PurePosixPath(text))
            return f"{name} {EXCLUDED}" if excluded else None
        lexical = os.path.normpath(path)
        candidates = [lexical]
        with contextlib.suppress(OSError, ValueError):
            real = os.path.realpath(lexical)  # a link to an excluded file
            if real != lexical:  # usually the same path: matching it twice doubles the check
                candidates.append(real)
        if any(self.excluded(candidate) for candidate in candidates):
            return f"{path.name} {EXCLUDED}"
        return None

    def document_name(self, uri: str) -> str:
        """What the prompt calls a document: its path within the nearest workspace folder,
        else its file name; a URI naming no local file, as it is. UriError for a `file:` URI
        that names no local path."""
        path = path_of(uri)
        if path is None:
            return uri
        place = self.locate(path)
        return place[1].as_posix() if place is not None else path.name

    def place(self, path: str) -> tuple[str, PurePosixPath] | None:
        """The usable folder holding an absolute path, and the path within it."""
        for root in self.roots:
            if inside(path, root) and path != root:
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
            if inside(lexical, root) and lexical != root:
                return Path(root), PurePosixPath(os.path.relpath(lexical, root))
        return None

    def outside(self, name: str, shown: str) -> AttachmentError:
        """The error for a file outside every usable folder, saying why a folder was
        refused when one was."""
        reason = f"{name}: {shown} is outside the workspace folders"
        if self.refused:
            folder, why = next(iter(self.refused.items()))
            reason += (
                f" (the workspace folder {folder} {why}: files are never read from a "
                "filesystem root, a home directory or a system folder as a whole — open a "
                "project folder)"
            )
        return AttachmentError(reason)
