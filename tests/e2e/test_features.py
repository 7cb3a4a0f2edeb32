"""Issue 6 features against the emulator: code actions, context, attachments, model options,
settings from every source. Each asserts the request Gemini received and the document."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from gemini_lsp.emulator import Emulator, Reply
from testkit.document import ClientDocument
from testkit.emulators import API_KEY
from tests.clients import EditorClient, start_editor, stop_editor
from tests.e2e.helpers import INVALID_PARAMS, REQUEST_FAILED, editor, execute, generate_args

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def prompt_of(emulator: Emulator) -> str:
    """The prompt of the test's one request to Gemini."""
    (request,) = emulator.requests
    body = request.body
    assert body is not None
    return str(body["contents"][-1]["parts"][0]["text"])


def read_code_actions_properly(client: EditorClient) -> None:
    """lsprotocol's client-side converter reads every CodeAction as a Command (its `command`
    field stringified); tell a CodeAction by its nested command object."""
    converter = client.lsp.protocol._converter

    def structure(value: Any, _: Any) -> types.Command | types.CodeAction:
        if isinstance(value.get("command"), dict) or "kind" in value:
            return converter.structure(value, types.CodeAction)
        return converter.structure(value, types.Command)

    converter.register_structure_hook(types.Command | types.CodeAction, structure)


async def actions(
    client: EditorClient,
    doc: ClientDocument,
    start: int,
    end: int,
    diagnostics: list[types.Diagnostic] | None = None,
    only: list[str] | None = None,
) -> list[types.CodeAction]:
    read_code_actions_properly(client)
    result = await client.lsp.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(doc.uri),
            range=types.Range(doc.position(start), doc.position(end)),
            context=types.CodeActionContext(diagnostics=diagnostics or [], only=only),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def run(client: EditorClient, action: types.CodeAction) -> Any:
    assert action.command is not None and action.command.arguments
    return await execute(client, action.command.command, action.command.arguments[0])


async def test_quickfix_sends_the_diagnostics(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Reply(["total = sum(values)\n"]))
    source = "values = [1, 2]\ntotal = sum(valuez)\nprint(total)\n"
    async with editor("visual-studio-code", tmp_path, emulator) as client:
        doc = client.open(tmp_path / "fix.py", source)
        line = source.index("total")
        diagnostic = types.Diagnostic(
            range=types.Range(doc.position(line + 12), doc.position(line + 18)),
            message='"valuez" is not defined',
            source="pyright",
        )
        found = await actions(client, doc, line + 13, line + 13, [diagnostic])
        fixes = [a for a in found if a.kind == types.CodeActionKind.QuickFix]
        assert len(fixes) == 1
        assert fixes[0].title == 'Gemini: Fix "valuez" is not defined'
        assert list(fixes[0].diagnostics or []) == [diagnostic]
        await run(client, fixes[0])
        assert doc.text == "values = [1, 2]\ntotal = sum(values)\nprint(total)\n"
        prompt = prompt_of(emulator)
        assert '- line 2: "valuez" is not defined (pyright)' in prompt
        assert "<<<SELECTION>>>total = sum(valuez)" in prompt


SOURCE = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    # TODO: multiply\n"


async def test_document_function(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Reply(['"""Add two numbers."""\n']))
    async with editor("visual-studio-code", tmp_path, emulator) as client:
        doc = client.open(tmp_path / "m.py", SOURCE)
        on_def = await actions(client, doc, 4, 4)
        titles = [a.title for a in on_def]
        assert "Gemini: Document function add" in titles
        assert "Gemini: Generate here…" in titles
        assert not any(a.kind == types.CodeActionKind.QuickFix for a in on_def)
        await run(client, next(a for a in on_def if a.title == "Gemini: Document function add"))
        assert doc.text.startswith('def add(a, b):\n    """Add two numbers."""\n    return a + b\n')
        assert "docstring for the function add" in prompt_of(emulator)


async def test_implement_todo(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Reply(["return a * b\n"]))
    async with editor("visual-studio-code", tmp_path, emulator) as client:
        doc = client.open(tmp_path / "m.py", SOURCE)
        todo = doc.text.index("# TODO")
        on_todo = await actions(client, doc, todo, todo)
        implement = next(a for a in on_todo if a.title.startswith("Gemini: Implement TODO"))
        assert implement.kind == types.CodeActionKind.RefactorRewrite
        await run(client, implement)
        assert doc.text.endswith("def mul(a, b):\n    return a * b\n")
        assert "multiply" in prompt_of(emulator)


async def test_rewrite_selection_asks_for_its_instruction(
    tmp_path: Path, emulator: Emulator
) -> None:
    async with editor("visual-studio-code", tmp_path, emulator) as client:
        doc = client.open(tmp_path / "m.py", SOURCE)
        selected = await actions(client, doc, 0, 14, only=[types.CodeActionKind.Refactor])
        rewrite = next(a for a in selected if a.title == "Gemini: Rewrite selection…")
        assert rewrite.command is not None and rewrite.command.arguments
        argument = rewrite.command.arguments[0]
        assert "prompt" not in argument
        assert argument["promptRequest"] == "How should Gemini rewrite the selection?"
        # A client that runs it without asking gets told what is missing.
        with pytest.raises(JsonRpcException) as raised:
            await run(client, rewrite)
        assert raised.value.code == INVALID_PARAMS
        assert "prompt is required" in raised.value.message
        only_fixes = await actions(client, doc, 0, 14, only=[types.CodeActionKind.QuickFix])
        assert only_fixes == []


async def test_the_prompt_names_the_document_by_its_place_in_the_workspace(
    tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script(Reply(["x = 1\n"]), Reply(["y = 2\n"]))
    (tmp_path / "src" / "app").mkdir(parents=True)
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    outside.mkdir()
    async with editor("neovim", tmp_path, emulator) as client:
        inside = client.open(tmp_path / "src" / "app" / "main.py", "\n")
        await execute(client, "gemini.generate", generate_args(inside, 0))
        beyond = client.open(outside / "loose.py", "\n")
        await execute(client, "gemini.generate", generate_args(beyond, 0))
    texts = [str(r.body["contents"][-1]["parts"][0]["text"]) for r in emulator.requests if r.body]
    assert "File: src/app/main.py\n" in texts[0]
    assert "File: loose.py\n" in texts[1]


async def test_attachments_are_sent_as_parts(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Reply(["x = 1\n"]))
    (tmp_path / "shot.png").write_bytes(PNG)
    (tmp_path / "spec.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    (tmp_path / "notes.md").write_text("use snake_case\n", encoding="utf-8")
    async with editor("neovim", tmp_path, emulator) as client:
        doc = client.open(tmp_path / "a.py", "\n")
        argument = generate_args(doc, 0)
        argument["attachments"] = [
            (tmp_path / name).as_uri() for name in ("shot.png", "spec.pdf", "notes.md")
        ]
        await execute(client, "gemini.generate", argument)
        (request,) = emulator.requests
        body = request.body
        assert body is not None
        parts = body["contents"][0]["parts"]
        assert "Attached files, in order: shot.png, spec.pdf, notes.md" in parts[0]["text"]
        inline = [part["inlineData"] for part in parts[1:]]
        # The SDK writes the nested field in snake_case, which the API accepts too.
        mime_types = [p.get("mimeType", p.get("mime_type")) for p in inline]
        assert mime_types == ["image/png", "application/pdf", "text/plain"]
        assert base64.urlsafe_b64decode(inline[0]["data"]) == PNG
        assert base64.urlsafe_b64decode(inline[2]["data"]) == b"use snake_case\n"


def _hostile_workspace(tmp_path: Path) -> Path:
    """A workspace next to a secret, with links, excluded files and a file too big."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (tmp_path / "secret.txt").write_text("secret outside", encoding="utf-8")
    (workspace / "link.txt").symlink_to(tmp_path / "secret.txt")
    (workspace / ".env").write_text("KEY=1", encoding="utf-8")
    (workspace / ".envrc").write_text("export KEY=1", encoding="utf-8")
    (workspace / "Cert.PEM").write_text("-----BEGIN PRIVATE KEY-----", encoding="utf-8")
    (workspace / ".geminiignore").write_text("# private\nprivate/\n*.key\n", encoding="utf-8")
    (workspace / "private").mkdir()
    (workspace / "private" / "plan.txt").write_text("plan", encoding="utf-8")
    (workspace / "id.key").write_text("k", encoding="utf-8")
    (workspace / "big.txt").write_bytes(b"a" * (11 * 1024 * 1024))
    os.mkfifo(workspace / "pipe.txt")
    return workspace


# One case each: a refusal that regresses fails on its own, not hidden behind the first.
REFUSED = {
    "outside": ("../secret.txt", "outside the workspace"),
    "dot-dot": ("sub/../../secret.txt", "outside the workspace"),
    "link-outside": ("link.txt", "outside the workspace"),
    "env": (".env", "excluded"),
    "envrc": (".envrc", "excluded"),
    "certificate-any-case": ("Cert.PEM", "excluded"),
    "ignored-folder": ("private/plan.txt", "excluded"),
    "ignored-pattern": ("id.key", "excluded"),
    "too-big": ("big.txt", "the limit is 10 MB"),
    "fifo": ("pipe.txt", "not a regular file"),
    "missing": ("missing.txt", "does not exist"),
    "not-a-file-uri": ("https://example.invalid/x.txt", "not a file URI"),
    "nul": ("a%00.txt", "NUL"),
}


@pytest.mark.parametrize("case", list(REFUSED))
async def test_an_attachment_is_refused(case: str, tmp_path: Path, emulator: Emulator) -> None:
    workspace = _hostile_workspace(tmp_path)
    name, reason = REFUSED[case]
    uri = name if ":" in name else workspace.as_uri() + "/" + name
    async with editor("visual-studio-code", workspace, emulator) as client:
        doc = client.open(workspace / "a.py", "\n")
        argument = generate_args(doc, 0)
        argument["attachments"] = [uri]
        with pytest.raises(JsonRpcException) as raised:
            await execute(client, "gemini.generate", argument)
        assert raised.value.code == INVALID_PARAMS
        assert reason in raised.value.message and "attachments[0]" in raised.value.message
        assert emulator.requests == []


async def test_an_ignored_documents_own_content_is_never_sent(
    tmp_path: Path, emulator: Emulator
) -> None:
    workspace = _hostile_workspace(tmp_path)
    async with editor("visual-studio-code", workspace, emulator) as client:
        ignored = client.open(workspace / "private" / "draft.py", "password = 'x'\n")
        with pytest.raises(JsonRpcException) as raised:
            await execute(client, "gemini.generate", generate_args(ignored, 0))
        assert raised.value.code == REQUEST_FAILED
        assert ".geminiignore" in raised.value.message
        assert emulator.requests == []


async def test_model_options_reach_gemini(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Reply(["a = 1\n"]), Reply(["b = 2\n"]))
    settings = {
        "temperature": 0.3,
        "maxOutputTokens": 512,
        "thinkingBudget": 128,
        "systemInstruction": "Prefer pure functions.",
        "model": "gemini-2.5-pro",
    }
    async with editor("visual-studio-code", tmp_path, emulator, **settings) as client:
        doc = client.open(tmp_path / "o.py", "\n")
        first = await execute(client, "gemini.generate", generate_args(doc, 0))
        assert first["model"] == "gemini-2.5-pro"
        argument = generate_args(doc, 0)
        argument["model"] = "gemini-2.5-flash-lite"
        second = await execute(client, "gemini.generate", argument)
        assert second["model"] == "gemini-2.5-flash-lite"
        assert [r.model for r in emulator.requests] == ["gemini-2.5-pro", "gemini-2.5-flash-lite"]
        body = next(r for r in emulator.requests if r.model == "gemini-2.5-pro").body
        assert body is not None
        config = body["generationConfig"]
        assert config["temperature"] == 0.3
        assert config["maxOutputTokens"] == 512
        thinking = config["thinkingConfig"]
        assert thinking.get("thinkingBudget", thinking.get("thinking_budget")) == 128
        system = body["systemInstruction"]["parts"][0]["text"]
        assert system.endswith("Prefer pure functions.") and "code only" not in system
        (token, *_), _ = zip(*client.lsp.progress_reports.items(), strict=False)
        end = client.lsp.progress_reports[token][-1]
        assert "tokens" in (end.message or "")


async def test_an_invalid_setting_is_reported(tmp_path: Path, emulator: Emulator) -> None:
    async with editor("visual-studio-code", tmp_path, emulator, contextLines=-5) as client:
        assert any("contextLines" in m.message for m in client.lsp.messages)


async def test_initialization_options_choose_the_model(tmp_path: Path, emulator: Emulator) -> None:
    emulator.script(Reply(["a\n"]))
    async with editor("visual-studio-code", tmp_path, emulator, model="gemini-init") as client:
        doc = client.open(tmp_path / "s.py", "\n")
        await execute(client, "gemini.generate", generate_args(doc, 0))
    (request,) = emulator.requests
    assert request.model == "gemini-init"


async def test_a_pulled_configuration_overrides_initialization_options(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.script(Reply(["b\n"]))
    async with editor("visual-studio-code", tmp_path, emulator, model="gemini-init") as client:
        doc = client.open(tmp_path / "s.py", "\n")
        client.lsp.set_configuration({"model": "gemini-pulled"}, section="geminiLsp")
        await pull_configuration(client, doc, monkeypatch)
        await execute(client, "gemini.generate", generate_args(doc, 0))
    # The base url still comes from initializationOptions: the emulator got the request.
    (request,) = emulator.requests
    assert request.model == "gemini-pulled"


async def test_pushed_settings_override_a_pulled_configuration(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.script(Reply(["c\n"]))
    async with editor("visual-studio-code", tmp_path, emulator, model="gemini-init") as client:
        doc = client.open(tmp_path / "s.py", "\n")
        client.lsp.set_configuration({"model": "gemini-pulled"}, section="geminiLsp")
        await pull_configuration(client, doc, monkeypatch)
        # No wait: the server handles messages in order, so the next request sees it.
        client.lsp.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"geminiLsp": {"model": "gemini-pushed"}})
        )
        await execute(client, "gemini.generate", generate_args(doc, 0))
    (request,) = emulator.requests
    assert request.model == "gemini-pushed"


async def pull_configuration(
    client: EditorClient, doc: ClientDocument, monkeypatch: pytest.MonkeyPatch
) -> None:
    """didChangeConfiguration without settings, until the server has applied what it
    pulled: the client answers its workspace/configuration, then a request's round trip (a
    cancel with nothing running) shows the server past that answer, as it reads in order."""
    answered = asyncio.Event()
    answer = client.lsp.get_configuration

    def get_configuration(**kwargs: Any) -> Any:
        answered.set()  # the answer goes out as this returns, before the waiter wakes
        return answer(**kwargs)

    monkeypatch.setattr(client.lsp, "get_configuration", get_configuration)
    client.lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(None))
    await asyncio.wait_for(answered.wait(), 10)
    nothing = await execute(client, "gemini.cancel", {"textDocument": {"uri": doc.uri}})
    assert nothing == {"cancelled": []}


@pytest.mark.parametrize("source", ["settings", "environment"])
async def test_vertex_ai_through_settings_or_the_sdk_environment(
    source: str, tmp_path: Path, emulator: Emulator
) -> None:
    emulator.script(Reply(["v = 1\n"]))
    if source == "settings":
        settings: dict[str, Any] = {"vertexai": True, "apiKey": API_KEY}
        env = {"GEMINI_API_KEY": API_KEY}
    else:
        settings = {}
        env = {"GOOGLE_GENAI_USE_VERTEXAI": "true", "GOOGLE_API_KEY": API_KEY}
    client = await start_editor(
        "visual-studio-code", tmp_path, {"baseUrl": emulator.base_url, **settings}, env=env
    )
    try:
        doc = client.open(tmp_path / "v.py", "\n")
        result = await execute(client, "gemini.generate", generate_args(doc, 0))
        assert result["status"] == "completed"
        assert doc.text == "v = 1\n"
        # Vertex AI's publisher path (express mode, with an API key), not the Gemini API's.
        (request,) = emulator.requests
        assert request.path == (
            "/v1beta1/publishers/google/models/gemini-2.5-flash:streamGenerateContent"
        )
    finally:
        await stop_editor(client)
