"""What is never sent to Gemini: the default exclusions (secrets by convention) and the
`.geminiignore` files of the workspace folders, read with git's own rules. Patterns are
translated by pathspec's `GitIgnoreSpec`; they are applied as git applies them (a property
test compares the result with git's own).

As git reads `.gitignore` files:
- every folder may hold a `.geminiignore`; its patterns are relative to that folder, and a
  deeper file's match overrides a shallower one's (within a file, the last match wins);
- a path is excluded when it or any folder above it is, and nothing inside an excluded folder
  can be included again;
- the file is read without following a link, a UTF-8 byte order mark is skipped, a `\\r`
  before a line break is dropped, and bytes that are not UTF-8 are matched byte for byte
  (with a warning).

The default exclusions apply whatever the files say, without regard to case (`.ENV`,
`Cert.PEM`), to every path inside a workspace folder; those that name a place (`.aws/`,
`.ssh/` …) also apply to the path from the filesystem root, so that a workspace folder
opened inside such a place is covered too.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import stat
from collections.abc import Callable
from pathlib import PurePosixPath

from pathspec import GitIgnoreSpec

log = logging.getLogger(__name__)

IGNORE_FILE = ".geminiignore"
# An ignore file larger than this is not a list of patterns; it is skipped with a warning.
MAX_RULES_BYTES = 1024 * 1024

# Secrets live here by convention (gitignore patterns, matched without regard to case).
DEFAULT_EXCLUSIONS: tuple[str, ...] = (
    # environment files
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    # private keys, keystores, certificates
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "id_ecdsa_sk",
    "id_ed25519_sk",
    "*.pem",
    "*.key",
    "*.p8",
    "*.p12",
    "*.pfx",
    "*.ppk",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "*.crt",
    "*.cer",
    "*.der",
    "secring.*",
    "**/.ssh/",
    "**/.gnupg/",
    # credentials of tools and clouds
    ".netrc",
    "_netrc",
    ".npmrc",
    ".pypirc",
    ".pgpass",
    ".git-credentials",
    "**/.git/config",
    ".htpasswd",
    ".dockercfg",
    ".vault-token",
    ".terraformrc",
    "terraform.rc",
    "*.tfstate",
    "*.tfstate.backup",
    "credentials.json",
    "client_secret*.json",
    "*service-account*.json",
    "*service_account*.json",
    "*serviceaccount*.json",
    "application_default_credentials.json",
    "kubeconfig",
    "**/.aws/",
    "**/.azure/",
    "**/.kube/config",
    "**/.docker/config.json",
    "**/.config/gcloud/",
    "**/.config/gh/hosts.yml",
)

_DEFAULTS = GitIgnoreSpec.from_lines(DEFAULT_EXCLUSIONS)
# Those that name a place: matched against the whole path too.
_PLACES = GitIgnoreSpec.from_lines(p for p in DEFAULT_EXCLUSIONS if "/" in p.rstrip("/"))

Warn = Callable[[str], None]


def default_excluded(path: PurePosixPath, is_dir: bool = False) -> bool:
    """Whether a default exclusion covers a relative path (or a folder above it)."""
    return _DEFAULTS.match_file(_spec_path(path, is_dir).lower())


def place_excluded(absolute: str) -> bool:
    """Whether an absolute path lies in a place the defaults exclude (`~/.aws/…`)."""
    relative = absolute.lstrip("/")
    return bool(relative) and _PLACES.match_file(relative.lower())


def _spec_path(path: PurePosixPath, is_dir: bool) -> str:
    text = path.as_posix()
    return text + "/" if is_dir else text


def parse_rules(data: bytes) -> tuple[list[str], bool]:
    """The lines of an ignore file as git reads them, and whether it was UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text, utf8 = data.decode("utf-8"), True
    except UnicodeDecodeError:
        # File names that are not UTF-8 reach Python the same way: byte for byte.
        text, utf8 = data.decode("utf-8", "surrogateescape"), False
    lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    return lines, utf8


class Rules:
    """The patterns of one ignore file, each as a test of whether it matches a path itself
    (git walks the folders one by one; a folder's pattern does not decide for its content).

    pathspec's regular expressions also match what lies inside a matched folder, and a
    pattern's verdict for the folder is then taken for its content too: a negated folder
    would include what git leaves excluded. Here a pattern counts only for the path itself:
    - `…(?P<ps_d>/)` (folders only) and `…(?:(?P<ps_d>/)|$)`: the whole path;
    - `…/` without that mark (`a/**`, `**/x/**`): something inside the folder, not itself;
    - `.` (`*`, `**`): any path.
    """

    def __init__(self, lines: list[str]) -> None:
        self.patterns: list[tuple[bool, re.Pattern[str]]] = []
        for pattern in GitIgnoreSpec.from_lines(_git_lines(lines)).patterns:
            regex = pattern.regex
            if pattern.include is None or regex is None:
                continue  # a comment, a blank line, a pattern git discards
            text = str(regex.pattern)
            if "ps_d" not in regex.groupindex and text != "." and text.endswith("/"):
                text += "(?s:.+)"
            if not text.startswith("^"):
                text = "(?s:.*)" + text  # pathspec searches: it may start anywhere
            self.patterns.append((bool(pattern.include), re.compile(text)))

    def verdict(self, path: str) -> bool | None:
        """Excluded (True), included again (False), or not matched (None): the last pattern
        that matches decides. `path` ends with "/" for a folder."""
        for include, itself in reversed(self.patterns):
            if itself.fullmatch(path):
                return include
        return None


def _git_lines(lines: list[str]) -> list[str]:
    """`x/**/` means the folders inside x, as `x/**/*/` does; pathspec takes it for x."""
    return [line[:-1] + "*/" if line.rstrip(" ").endswith("/**/") else line for line in lines]


def read_rules_file(path: str, warn: Warn) -> Rules | None:
    """The patterns of one ignore file; None when there is none (or it cannot be used)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno not in (errno.ENOTDIR, errno.ENOENT):
            warn(f"{path} was not read ({_reason(error)}); its patterns do not apply")
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            warn(f"{path} is not a regular file; its patterns do not apply")
            return None
        data = _read_at_most(fd, MAX_RULES_BYTES + 1)
    except OSError as error:
        warn(f"{path} was not read ({_reason(error)}); its patterns do not apply")
        return None
    finally:
        os.close(fd)
    if len(data) > MAX_RULES_BYTES:
        warn(f"{path} is larger than {MAX_RULES_BYTES // 1024} KB; its patterns do not apply")
        return None
    lines, utf8 = parse_rules(data)
    if not utf8:
        warn(f"{path} is not UTF-8; its patterns are matched byte for byte")
    try:
        return Rules(lines)
    except Exception as error:  # pathspec refuses a pattern git would take
        warn(f"{path} has a pattern that cannot be read ({error}); its patterns do not apply")
        return None


def _reason(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "it is a symbolic link, which is not followed"
    return error.strerror or type(error).__name__


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, min(limit - size, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class FolderRules:
    """The `.geminiignore` files of one workspace folder, read as they are needed."""

    def __init__(self, root: str, warn: Warn | None = None) -> None:
        self.root = root
        self._warn = warn or _log_warning
        self._specs: dict[tuple[str, ...], Rules | None] = {}

    def excluded(self, relative: PurePosixPath, is_dir: bool = False) -> bool:
        """Whether a path inside the folder is excluded, by default or by an ignore file.

        Git's walk: each folder on the way is checked first, and an excluded folder
        excludes everything in it.
        """
        parts = relative.parts
        if not parts or parts[0] in ("/", ".."):
            return False
        for depth in range(1, len(parts) + 1):
            if self._matches(parts[:depth], depth < len(parts) or is_dir):
                return True
        return False

    def _matches(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        if default_excluded(PurePosixPath(*parts), is_dir):
            return True
        # The ignore files of the folders above, the deepest first: its match decides.
        for depth in range(len(parts) - 1, -1, -1):
            spec = self._spec(parts[:depth])
            if spec is None:
                continue
            verdict = spec.verdict(_spec_path(PurePosixPath(*parts[depth:]), is_dir))
            if verdict is not None:
                return verdict
        return False

    def _spec(self, folder: tuple[str, ...]) -> Rules | None:
        if folder not in self._specs:
            path = os.path.join(self.root, *folder, IGNORE_FILE)
            self._specs[folder] = read_rules_file(path, self._warn)
        return self._specs[folder]


_warned: set[str] = set()


def _log_warning(message: str) -> None:
    """Each problem once (the same file is read for every request)."""
    if message not in _warned:
        if len(_warned) > 1000:
            _warned.clear()
        _warned.add(message)
        log.warning("%s", message)
