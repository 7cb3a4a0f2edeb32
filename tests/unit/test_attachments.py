"""Reading attachments: only regular files inside a usable workspace folder, opened without
following a link and checked again once open, never more than the limits."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gemini_lsp.gemini import attachments, reading
from gemini_lsp.gemini.attachments import (
    HELD,
    MAX_FILE_BYTES,
    AttachmentError,
    BusyError,
    PrivateDocumentError,
    UriError,
    Workspace,
    check_document,
    load,
    load_async,
)

# -- a hook at the moment a file is opened -------------------------------------------------------
# Python raises the "open" audit event for `open()`, `Path.read_bytes()` and `os.open()` alike,
# just before the system call: the place where a link swapped in after the check would win.
_before_open: list[Callable[[str], None]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _before_open and isinstance(args[0], str):
        _before_open[0](args[0])


sys.addaudithook(_audit)


@pytest.fixture
def before_open() -> Iterator[list[Callable[[str], None]]]:
    yield _before_open
    _before_open.clear()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    (tmp_path / "secret.txt").write_text("the secret outside\n", encoding="utf-8")
    return folder


def test_load_reads_text_and_refuses_binary(workspace: Path) -> None:
    (workspace / "a.py").write_text("print(1)\n", encoding="utf-8")
    (workspace / "blob.bin").write_bytes(b"\xff\xfe\x00\x01")
    (attachment,) = load([(workspace / "a.py").as_uri()], [workspace])
    assert (attachment.relative, attachment.mime_type) == ("a.py", "text/plain")
    assert attachment.data == b"print(1)\n"
    attachment.release()
    with pytest.raises(AttachmentError, match="neither text nor"):
        load([(workspace / "blob.bin").as_uri()], [workspace])


def test_a_link_swapped_in_after_the_check_is_not_followed(
    workspace: Path, before_open: list[Callable[[str], None]]
) -> None:
    """The time-of-check/time-of-use race: the file is replaced by a link to a file outside
    the workspace between the containment check and the open."""
    target = workspace / "notes.txt"
    target.write_text("an ordinary note\n", encoding="utf-8")
    outside = workspace.parent / "secret.txt"

    def swap(path: str) -> None:
        if path == str(target) and not target.is_symlink():
            target.unlink()
            target.symlink_to(outside)

    before_open.append(swap)
    with pytest.raises(AttachmentError, match="symbolic link"):
        load([target.as_uri()], [workspace])  # not: the secret, read through the link
    assert target.is_symlink()  # the swap did happen


def test_a_folder_link_swapped_in_is_caught_by_the_real_path(
    workspace: Path, before_open: list[Callable[[str], None]]
) -> None:
    """A link higher up the path is followed by the open; the opened file's real path (from
    /proc/self/fd) shows that it lies outside."""
    (workspace / "docs").mkdir()
    target = workspace / "docs" / "secret.txt"
    target.write_text("inside\n", encoding="utf-8")

    def swap(path: str) -> None:
        docs = workspace / "docs"
        if path == str(target) and not docs.is_symlink():
            target.unlink()
            docs.rmdir()
            docs.symlink_to(workspace.parent)

    before_open.append(swap)
    with pytest.raises(AttachmentError, match="outside the workspace"):
        load([target.as_uri()], [workspace])


def test_a_link_to_a_file_outside_is_refused(workspace: Path) -> None:
    (workspace / "link.txt").symlink_to(workspace.parent / "secret.txt")
    with pytest.raises(AttachmentError, match=r"attachments\[0\]: .* is outside the workspace"):
        load([(workspace / "link.txt").as_uri()], [workspace])


def test_a_link_inside_the_workspace_is_refused(workspace: Path) -> None:
    (workspace / "a.txt").write_text("a\n", encoding="utf-8")
    (workspace / "link.txt").symlink_to(workspace / "a.txt")
    with pytest.raises(AttachmentError, match="symbolic link"):
        load([(workspace / "link.txt").as_uri()], [workspace])


def test_a_link_to_an_excluded_file_is_refused(workspace: Path) -> None:
    (workspace / ".env").write_text("KEY=1\n", encoding="utf-8")
    (workspace / "cfg").mkdir()
    (workspace / "alias").symlink_to(workspace / "cfg")
    (workspace / "cfg" / "id_rsa").write_text("key\n", encoding="utf-8")
    with pytest.raises(AttachmentError, match="is excluded"):
        load([(workspace / "alias" / "id_rsa").as_uri()], [workspace])


def test_dot_dot_cannot_leave_the_workspace(workspace: Path) -> None:
    uri = workspace.as_uri() + "/../secret.txt"
    with pytest.raises(AttachmentError, match="outside the workspace"):
        load([uri], [workspace])


def test_a_fifo_is_refused_without_waiting(workspace: Path) -> None:
    fifo = workspace / "pipe.txt"
    os.mkfifo(fifo)
    error = _load_fifo(fifo, workspace)
    assert isinstance(error, AttachmentError)
    assert "not a regular file" in str(error)


def _load_fifo(fifo: Path, workspace: Path) -> BaseException:
    """What loading `fifo` raises, within 5 s: a read that blocks fails the test."""
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            load([fifo.as_uri()], [workspace])
        except BaseException as error:
            outcome.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():
        with open(fifo, "w"):  # unblock the reader before failing
            pass
        raise AssertionError("reading a FIFO blocked")
    return outcome[0]


def test_a_fifo_swapped_in_after_the_check_is_refused_without_waiting(
    workspace: Path, before_open: list[Callable[[str], None]]
) -> None:
    target = workspace / "notes.txt"
    target.write_text("note\n", encoding="utf-8")

    def swap(path: str) -> None:
        if path == str(target) and target.is_file():
            target.unlink()
            os.mkfifo(target)

    before_open.append(swap)
    assert "not a regular file" in str(_load_fifo(target, workspace))


def test_a_folder_is_not_a_file(workspace: Path) -> None:
    (workspace / "src").mkdir()
    with pytest.raises(AttachmentError, match="is a folder"):
        load([(workspace / "src").as_uri()], [workspace])


def test_a_missing_file_says_so(workspace: Path) -> None:
    with pytest.raises(AttachmentError, match="does not exist"):
        load([(workspace / "missing.txt").as_uri()], [workspace])


def test_the_filesystem_root_is_not_a_workspace_folder() -> None:
    with pytest.raises(AttachmentError, match="filesystem root"):
        load(["file:///proc/self/environ"], [Path("/")])
    assert Workspace([Path("/")]).roots == []


def test_a_home_directory_is_not_a_workspace_folder(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(workspace))
    (workspace / "notes.txt").write_text("note\n", encoding="utf-8")
    with pytest.raises(AttachmentError, match="home directory"):
        load([(workspace / "notes.txt").as_uri()], [workspace])


def test_a_folder_holding_home_directories_is_not_a_workspace_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home" / "someone"
    home.mkdir(parents=True)
    (home / "notes.txt").write_text("note\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(AttachmentError, match="holds home directories"):
        load([(home / "notes.txt").as_uri()], [tmp_path / "home"])


def test_system_folders_are_not_workspace_folders() -> None:
    assert Workspace([Path("/proc"), Path("/proc/self"), Path("/sys")]).roots == []


def test_a_folder_inside_home_is_a_workspace_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    project = tmp_path / "project"
    project.mkdir()
    (project / "a.txt").write_text("a\n", encoding="utf-8")
    (file,) = load([(project / "a.txt").as_uri()], [project])
    file.release()


def test_a_file_over_the_limit_is_refused(workspace: Path) -> None:
    (workspace / "big.txt").write_bytes(b"a" * (MAX_FILE_BYTES + 1))
    with pytest.raises(AttachmentError, match="the limit is 10 MB per file"):
        load([(workspace / "big.txt").as_uri()], [workspace])


def test_attachments_together_over_the_limit_are_refused(workspace: Path) -> None:
    for name in ("a.txt", "b.txt"):
        (workspace / name).write_bytes(b"a" * (8 * 1024 * 1024))
    uris = [(workspace / name).as_uri() for name in ("a.txt", "b.txt")]
    with pytest.raises(AttachmentError, match=r"attachments\[1\]: .*add up to more than 15 MB"):
        load(uris, [workspace])
    assert HELD.bytes == 0


def test_what_generations_hold_together_is_bounded(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(HELD, "limit", 3 * 1024 * 1024)
    (workspace / "a.txt").write_bytes(b"a" * (2 * 1024 * 1024))
    uri = (workspace / "a.txt").as_uri()
    first = load([uri], [workspace])
    assert HELD.bytes == 2 * 1024 * 1024
    with pytest.raises(BusyError, match="wait for them to finish"):
        load([uri], [workspace])
    attachments.release(first)
    assert HELD.bytes == 0 and first[0].data == b""
    attachments.release(load([uri], [workspace]))


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("file:///ws/a%00.txt", "NUL"),
        ("file:///ws/%ff.txt", "not UTF-8"),
        ("file://server/share/a.txt", "names a host"),
        ("file:relative.txt", "not an absolute path"),
        ("https://example.invalid/x.txt", "not a file URI"),
        ("untitled:Untitled-1", "not a file URI"),
    ],
)
def test_unusable_uris_are_refused_by_name(uri: str, reason: str) -> None:
    with pytest.raises(AttachmentError, match=rf"attachments\[0\]: .*{reason}"):
        load([uri], [Path("/tmp")])


async def _private(uri: str, folders: list[Path]) -> bool:
    try:
        await check_document(uri, folders)
    except PrivateDocumentError:
        return True
    return False


async def test_private_documents(workspace: Path) -> None:
    (workspace / ".geminiignore").write_text("drafts/\n", encoding="utf-8")
    assert await _private((workspace / "drafts" / "x.py").as_uri(), [workspace])
    assert await _private((workspace / ".env").as_uri(), [workspace])
    assert not await _private((workspace / "src" / "x.py").as_uri(), [workspace])


@pytest.mark.parametrize(
    "uri",
    [
        "untitled:.env",
        "untitled:/home/someone/.ENVRC",
        "git:/ws/config/.env.production?%7B%22ref%22%3A%22HEAD%22%7D",
        "vscode-notebook-cell:/ws/keys/server.PEM#cell1",
        "vscode-remote://ssh-remote+host/home/u/.aws/credentials",
    ],
)
async def test_documents_of_any_scheme_are_matched_by_their_path(uri: str) -> None:
    assert await _private(uri, [Path("/ws")])


async def test_an_ordinary_untitled_document_is_not_private() -> None:
    assert not await _private("untitled:Untitled-1", [Path("/ws")])


async def test_a_document_linked_to_an_excluded_file_is_private(workspace: Path) -> None:
    (workspace / ".env").write_text("KEY=1\n", encoding="utf-8")
    (workspace / "settings.txt").symlink_to(workspace / ".env")
    assert await _private((workspace / "settings.txt").as_uri(), [workspace])


async def test_attachments_are_read_off_the_event_loop(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace / "a.txt").write_text("a\n", encoding="utf-8")
    readers: list[threading.Thread] = []
    read = reading.read_attachment

    def spy(*args: Any, **kwargs: Any) -> Any:
        readers.append(threading.current_thread())
        return read(*args, **kwargs)

    monkeypatch.setattr(reading, "read_attachment", spy)
    files = await load_async([(workspace / "a.txt").as_uri()], [workspace])
    attachments.release(files)
    assert readers and threading.current_thread() not in readers


async def test_a_document_uri_naming_no_local_file_is_refused() -> None:
    with pytest.raises(UriError, match="NUL"):
        await check_document("file:///ws/a%00.py", [Path("/ws")])


async def test_documents_are_checked_off_the_event_loop(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkers: list[threading.Thread] = []
    check = Workspace.document_problem

    def spy(self: Workspace, uri: str) -> str | None:
        checkers.append(threading.current_thread())
        return check(self, uri)

    monkeypatch.setattr(Workspace, "document_problem", spy)
    await check_document((workspace / "a.py").as_uri(), [workspace])
    assert checkers and threading.current_thread() not in checkers


async def test_a_checked_document_is_named_by_its_place_in_the_workspace(workspace: Path) -> None:
    (workspace / "pkg").mkdir()
    nested = (workspace / "pkg" / "mod.py").as_uri()
    assert await check_document(nested, [workspace]) == "pkg/mod.py"
    outside = workspace.parent / "elsewhere.py"
    assert await check_document(outside.as_uri(), [workspace]) == "elsewhere.py"
    assert await check_document("untitled:Untitled-1", [workspace]) == "untitled:Untitled-1"
