"""What a workspace, a document and its URI can make the server read and send (issue 14):
each refusal has its own test, through the real server, with the emulator recording what
Gemini would have received."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from gemini_lsp.emulator import Emulator, Reply
from testkit.emulators import API_KEY
from tests.reliability.harness import (
    INVALID_PARAMS,
    REQUEST_FAILED,
    Session,
    generate_args,
    sent_to_gemini,
    session,
)


def attach(s: Session, *uris: str, prompt: str = "use it") -> dict[str, Any]:
    doc = s.open("main.py", "\n")
    argument = generate_args(doc, 0, prompt)
    argument["attachments"] = list(uris)
    return argument


def open_uri(s: Session, uri: str, text: str = "x = 1\n") -> dict[str, Any]:
    """A document the editor opened under any URI (`untitled:`, `git:` …)."""
    s.lsp.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
    )
    return {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}, "prompt": "go"}


# -- 3. attachments and context stay inside the workspace ----------------------------------------


async def test_proc_self_environ_is_not_sent_from_a_root_workspace_folder(
    tmp_path: Path, emulator: Emulator
) -> None:
    canary = f"canary-{secrets.token_hex(8)}"
    env = {"GEMINI_API_KEY": API_KEY, "GEMINI_LSP_CANARY": canary}
    async with session(tmp_path, emulator, env=env, folders=["file:///"]) as s:
        error = await s.fails("gemini.generate", attach(s, "file:///proc/self/environ"))
    assert error.code == INVALID_PARAMS
    assert "outside the workspace folders" in error.message
    assert "filesystem root" in error.message
    assert canary not in sent_to_gemini(emulator)
    assert emulator.requests == []


async def test_a_home_directory_is_not_a_workspace_folder_to_read_from(
    tmp_path: Path, emulator: Emulator
) -> None:
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    (home / ".config" / "tokens.txt").write_text("personal token\n", encoding="utf-8")
    env = {"GEMINI_API_KEY": API_KEY, "HOME": str(home)}
    async with session(tmp_path, emulator, env=env, folders=[home.as_uri()]) as s:
        error = await s.fails("gemini.generate", attach(s, (home / ".config/tokens.txt").as_uri()))
    assert error.code == INVALID_PARAMS and "home directory" in error.message
    assert "personal token" not in sent_to_gemini(emulator)


@contextlib.contextmanager
def unblocked(fifo: Path) -> Iterator[None]:
    """Whatever happens, a reader stuck on `fifo` is let go at the end."""
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


async def test_a_fifo_ignore_file_does_not_freeze_the_server(
    tmp_path: Path, emulator: Emulator
) -> None:
    fifo = tmp_path / ".geminiignore"
    os.mkfifo(fifo)
    async with session(tmp_path, emulator) as s:
        with unblocked(fifo):  # before the session ends, should the server be stuck on it
            doc = s.open("a.py", "\n")
            result = await asyncio.wait_for(s.execute("gemini.generate", generate_args(doc, 0)), 10)
            assert result["status"] == "completed"
            assert (await asyncio.wait_for(s.stats(), 10))["running"] == 0  # still answering
    shown = [m.message for m in s.lsp.messages]
    assert any(".geminiignore is not a regular file" in m for m in shown)


# -- 4. ignore files as git reads them, for every URI scheme -------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "untitled:.env",
        "untitled:Cert.PEM",
        "git:/repo/config/.envrc?%7B%22ref%22%3A%22HEAD%22%7D",
        "vscode-notebook-cell:/repo/secrets/id_rsa#W0",
    ],
)
async def test_a_document_of_another_scheme_named_like_a_secret_is_not_sent(
    uri: str, tmp_path: Path, emulator: Emulator
) -> None:
    async with session(tmp_path, emulator) as s:
        error = await s.fails("gemini.generate", open_uri(s, uri, "TOKEN=very-secret\n"))
    assert error.code == REQUEST_FAILED and "is excluded" in error.message
    assert emulator.requests == []


async def test_a_git_scheme_document_of_an_ignored_file_is_not_sent(
    tmp_path: Path, emulator: Emulator
) -> None:
    (tmp_path / ".geminiignore").write_text("private/\n", encoding="utf-8")
    uri = f"git:{(tmp_path / 'private' / 'plan.py').as_posix()}?%7B%7D"
    async with session(tmp_path, emulator) as s:
        error = await s.fails("gemini.generate", open_uri(s, uri))
    assert error.code == REQUEST_FAILED and "plan.py is excluded" in error.message
    assert emulator.requests == []


async def test_a_document_named_like_a_secret_in_capitals_is_not_sent(
    tmp_path: Path, emulator: Emulator
) -> None:
    async with session(tmp_path, emulator) as s:
        doc = s.open(".ENV", "TOKEN=very-secret\n")
        error = await s.fails("gemini.generate", generate_args(doc, 0))
    assert error.code == REQUEST_FAILED and ".ENV is excluded" in error.message
    assert emulator.requests == []


async def test_a_nested_workspace_folders_own_ignore_file_is_honoured(
    tmp_path: Path, emulator: Emulator
) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / ".geminiignore").write_text("secret.txt\n", encoding="utf-8")
    (sub / "secret.txt").write_text("nested secret\n", encoding="utf-8")
    folders = [tmp_path.as_uri(), sub.as_uri()]
    async with session(tmp_path, emulator, folders=folders) as s:
        error = await s.fails("gemini.generate", attach(s, (sub / "secret.txt").as_uri()))
    assert error.code == INVALID_PARAMS and "secret.txt is excluded" in error.message
    assert "nested secret" not in sent_to_gemini(emulator)


@pytest.mark.parametrize(
    ("rules", "name"),
    [
        ("\ufeffsecret.txt\n", "secret.txt"),  # a byte order mark, as editors on Windows write
        ("a/**/b.txt\n", "a/b.txt"),  # ** matches zero folders too
        ("**/gen/\n", "x/y/gen/out.txt"),
        ("*.txt\n!keep.txt\nkeep.txt/\n", "data.txt"),
    ],
)
async def test_an_ignore_file_excludes_as_git_would(
    rules: str, name: str, tmp_path: Path, emulator: Emulator
) -> None:
    (tmp_path / ".geminiignore").write_text(rules, encoding="utf-8")
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text("ignored content\n", encoding="utf-8")
    async with session(tmp_path, emulator) as s:
        error = await s.fails("gemini.generate", attach(s, (tmp_path / name).as_uri()))
    assert error.code == INVALID_PARAMS and "is excluded" in error.message
    assert "ignored content" not in sent_to_gemini(emulator)


async def test_a_negation_in_an_ignore_file_includes_again(
    tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script(Reply(["ok = 1\n"]))
    (tmp_path / ".geminiignore").write_text("*.txt\n!keep.txt\n", encoding="utf-8")
    (tmp_path / "keep.txt").write_text("kept content\n", encoding="utf-8")
    async with session(tmp_path, emulator) as s:
        result = await s.execute("gemini.generate", attach(s, (tmp_path / "keep.txt").as_uri()))
    assert result["status"] == "completed"
    assert "kept content" in sent_to_gemini(emulator)


# -- 6. malformed input answers InvalidParams naming the field -----------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [("a%00.py", "NUL"), ("%ff%fe.py", "not UTF-8")],
)
async def test_an_unusable_document_uri_answers_invalid_params(
    name: str, reason: str, tmp_path: Path, emulator: Emulator
) -> None:
    async with session(tmp_path, emulator) as s:
        uri = tmp_path.as_uri() + "/" + name
        error = await s.fails("gemini.generate", open_uri(s, uri))
        assert (await s.stats())["running"] == 0
    assert error.code == INVALID_PARAMS
    assert "textDocument.uri" in error.message and reason in error.message
    for trouble in ("Traceback", "-32603", "internal error"):
        assert trouble not in s.everything()


async def test_a_latin1_ignore_file_is_a_warning_not_an_internal_error(
    tmp_path: Path, emulator: Emulator
) -> None:
    (tmp_path / ".geminiignore").write_bytes(b"# r\xe9sum\xe9\nsecret.txt\n")
    (tmp_path / "secret.txt").write_text("secret\n", encoding="utf-8")
    async with session(tmp_path, emulator) as s:
        doc = s.open("a.py", "\n")
        result = await s.execute("gemini.generate", generate_args(doc, 0))
        assert result["status"] == "completed"
        error = await s.fails("gemini.generate", attach(s, (tmp_path / "secret.txt").as_uri()))
    assert error.code == INVALID_PARAMS and "secret.txt is excluded" in error.message
    shown = [m.message for m in s.lsp.messages if m.type == types.MessageType.Warning]
    assert any("is not UTF-8" in m for m in shown)
    assert "-32603" not in s.everything()


@pytest.mark.parametrize("model", ["../../x", "models/../../x", "a/b", "gemini pro", "Gemini-X"])
async def test_a_model_that_is_not_a_model_id_is_refused(
    model: str, tmp_path: Path, emulator: Emulator
) -> None:
    async with session(tmp_path, emulator) as s:
        doc = s.open("a.py", "\n")
        argument = generate_args(doc, 0)
        argument["model"] = model
        error = await s.fails("gemini.generate", argument)
    assert error.code == INVALID_PARAMS and "model" in error.message
    assert emulator.requests == []


async def test_a_model_setting_like_a_path_falls_back_to_the_default(
    tmp_path: Path, emulator: Emulator
) -> None:
    async with session(tmp_path, emulator, model="../../x") as s:
        doc = s.open("a.py", "\n")
        result = await s.execute("gemini.generate", generate_args(doc, 0))
    assert result["model"] == "gemini-2.5-flash"
    assert [r.model for r in emulator.requests] == ["gemini-2.5-flash"]
    assert any("geminiLsp.model" in m.message for m in s.lsp.messages)


async def test_a_workspace_folder_with_an_unusable_uri_is_left_out(
    tmp_path: Path, emulator: Emulator
) -> None:
    folders = [tmp_path.as_uri(), "file:///bad%00folder"]
    async with session(tmp_path, emulator, folders=folders) as s:
        doc = s.open("a.py", "\n")
        result = await s.execute("gemini.generate", generate_args(doc, 0))
    assert result["status"] == "completed"
    assert "-32603" not in s.everything()


# -- 5. what a generation keeps ------------------------------------------------------------------


async def test_a_generation_keeps_no_attachment_bytes_once_it_ends(
    tmp_path: Path, emulator: Emulator
) -> None:
    (tmp_path / "notes.txt").write_text("n" * 100_000, encoding="utf-8")
    async with session(tmp_path, emulator) as s:
        await s.execute("gemini.generate", attach(s, (tmp_path / "notes.txt").as_uri()))
        assert (await s.stats())["attachmentBytes"] == 0


async def test_a_refinement_reads_its_attachments_again(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Reply(["a = 1\n"]), Reply(["a = 2\n"]), Reply(["a = 3\n"]))
    notes = tmp_path / "notes.txt"
    notes.write_text("first version\n", encoding="utf-8")
    async with session(tmp_path, emulator) as s:
        first = await s.execute("gemini.generate", attach(s, notes.as_uri()))
        notes.write_text("second version\n", encoding="utf-8")
        second = await s.execute("gemini.refine", {"id": first["id"], "prompt": "again"})
        assert "second version" in sent_to_gemini(emulator).split("first version", 1)[1]
        notes.unlink()
        await s.execute("gemini.refine", {"id": second["id"], "prompt": "once more"})
        shown = [m.message for m in s.lsp.messages if m.type == types.MessageType.Warning]
    assert any("without these attachments: notes.txt does not exist" in m for m in shown)
    last = next(r for r in emulator.requests if "once more" in str(r.body)).body or {}
    assert all(
        not ({"inlineData", "inline_data"} & set(part)) for part in last["contents"][0]["parts"]
    )
