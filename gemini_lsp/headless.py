"""`gemini-lsp generate`: a headless LSP client that streams a generation into a file.

It starts the server over stdio like any editor would, applies its edits to the file's text,
shows the code arriving line by line under a progress bar, and saves the file at the end.
Without an API key it runs the built-in Gemini emulator, and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from lsprotocol import types

from .text import TextBuffer

KEY_VARIABLES = ("GEMINI_API_KEY", "GOOGLE_API_KEY")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="the file to write into (saved at the end)")
    parser.add_argument("--prompt", required=True, help="what to ask Gemini for")
    parser.add_argument("--line", type=int, default=0, help="insertion line (0-based)")
    parser.add_argument("--character", type=int, default=0, help="insertion column (0-based)")
    parser.add_argument(
        "--range",
        metavar="L:C-L:C",
        help="rewrite this range instead of inserting (0-based, end exclusive)",
    )
    parser.add_argument("--model", help="the Gemini model (default: the server's setting)")
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="use the built-in emulator even when an API key is set",
    )


def run(args: argparse.Namespace) -> int:
    path: Path = args.path.resolve()
    if not path.is_file():
        print(f"gemini-lsp generate: no such file: {path}", file=sys.stderr)
        return 2
    buffer = TextBuffer(path.read_text(encoding="utf-8"))
    try:
        status = asyncio.run(_generate(args, path, buffer))
    except KeyboardInterrupt:
        return 130
    if status == 0:
        path.write_text(buffer.text, encoding="utf-8")
    return status


def _parse_range(text: str) -> types.Range:
    match = re.fullmatch(r"(\d+):(\d+)-(\d+):(\d+)", text)
    if match is None:
        raise SystemExit(f"--range must look like 3:0-7:0, got {text!r}")
    a, b, c, d = (int(group) for group in match.groups())
    return types.Range(types.Position(a, b), types.Position(c, d))


class Display:
    """The code as it arrives, complete lines above a redrawn progress bar."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.live = out.isatty()
        self.partial = ""
        self.status = "waiting for Gemini…"
        self.started = time.monotonic()
        self.lines = 0

    def code(self, text: str) -> None:
        *complete, self.partial = (self.partial + text).split("\n")
        self.lines += len(complete)
        self._clear()
        for line in complete:
            self.out.write(line + "\n")
        self._draw()

    def progress(self, message: str) -> None:
        self.status = message
        self._clear()
        self._draw()

    def done(self, summary: str) -> None:
        self._clear()
        if self.partial:
            self.out.write(self.partial + "\n")
        self.out.write(f"── {summary}\n")
        self.out.flush()

    def _clear(self) -> None:
        if self.live:
            self.out.write("\r\x1b[K")

    def _draw(self) -> None:
        if self.live:
            width = shutil.get_terminal_size().columns
            elapsed = time.monotonic() - self.started
            filled = min(self.lines, 20)
            bar = "█" * filled + "░" * (20 - filled)
            line = f"▕{bar}▏ {self.lines} lines · {elapsed:.1f} s · {self.status}"
            self.out.write(line[: width - 1])
        self.out.flush()


async def _generate(args: argparse.Namespace, path: Path, buffer: TextBuffer) -> int:
    """Stream the generation into `buffer`; the caller saves it when this returns 0."""
    from pygls.lsp.client import LanguageClient

    uri = path.as_uri()
    display = Display(sys.stdout)
    env = dict(os.environ)
    emulator = None
    if args.emulator or not any(env.get(name) for name in KEY_VARIABLES):
        from .emulator import Emulator

        emulator = Emulator()
        env["GOOGLE_GEMINI_BASE_URL"] = await emulator.start()
        env["GEMINI_API_KEY"] = "emulator"
        print(
            "No GEMINI_API_KEY set: using the built-in Gemini emulator (not a real model).",
            file=sys.stderr,
        )
    else:
        print("Using Gemini (API key from the environment).", file=sys.stderr)

    client = LanguageClient("gemini-lsp-generate", "1")
    version = 0

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        nonlocal version
        edits: list[types.TextEdit] = []
        for document_edit in params.edit.document_changes or []:
            assert isinstance(document_edit, types.TextDocumentEdit)
            if document_edit.text_document.version not in (None, version):
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="stale")
            edits += [e for e in document_edit.edits if isinstance(e, types.TextEdit)]
        edits += (params.edit.changes or {}).get(uri, [])
        changes: list[types.TextDocumentContentChangeEvent] = []
        # Last first, so that each edit's range still means what the server meant.
        for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character))[
            ::-1
        ]:
            start, end = buffer.loc(edit.range.start), buffer.loc(edit.range.end)
            removed = buffer.slice(start, end)
            buffer.replace(start, end, edit.new_text)
            changes.append(types.TextDocumentContentChangePartial(edit.range, edit.new_text))
            if edit.new_text and not removed:
                display.code(edit.new_text)
        version += 1
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=version), changes
            )
        )
        return types.ApplyWorkspaceEditResult(applied=True)

    @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def create_progress(params: types.WorkDoneProgressCreateParams) -> None:
        return None

    @client.feature(types.PROGRESS)
    def progress(params: types.ProgressParams) -> None:
        value: Any = params.value
        message = value.get("message") if isinstance(value, dict) else None
        if message:
            display.progress(message)

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def show_message(params: types.ShowMessageParams) -> None:
        print(f"\n{params.message}", file=sys.stderr)

    await client.start_io(sys.executable, "-m", "gemini_lsp", env=env)
    try:
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    workspace=types.WorkspaceClientCapabilities(
                        apply_edit=True,
                        workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
                    ),
                    window=types.WindowClientCapabilities(work_done_progress=True),
                ),
                root_uri=path.parent.as_uri(),
            )
        )
        client.initialized(types.InitializedParams())
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri, _language_of(path), version, buffer.text)
            )
        )
        argument: dict[str, Any] = {"textDocument": {"uri": uri}, "prompt": args.prompt}
        if args.model:
            argument["model"] = args.model
        if args.range:
            command = "gemini.edit"
            argument["range"] = client.protocol._converter.unstructure(_parse_range(args.range))
        else:
            command = "gemini.generate"
            argument["position"] = {"line": args.line, "character": args.character}
        try:
            result = await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command, [argument])
            )
        except Exception as error:
            display.done(f"failed: {getattr(error, 'message', error)}")
            return 1
        result = result or {}
        timings = result.get("timings", {})
        source = "emulator" if emulator else result.get("model")
        display.done(
            f"{result.get('status')}: {display.lines} lines in {timings.get('totalMs', 0):.0f} ms"
            f" (first token {timings.get('firstTokenMs') or 0:.0f} ms, {source}), saved {path}"
        )
        return 0
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
        if emulator is not None:
            await emulator.stop()


_LANGUAGES = {
    ".py": "python",
    ".js": "javascript",
    ".ts": "typescript",
    ".lua": "lua",
    ".go": "go",
    ".rs": "rust",
    ".c": "c",
    ".cpp": "cpp",
    ".java": "java",
    ".rb": "ruby",
    ".sh": "shellscript",
}


def _language_of(path: Path) -> str:
    return _LANGUAGES.get(path.suffix, "plaintext")
