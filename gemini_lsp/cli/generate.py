"""`gemini-lsp generate`: a headless LSP client that streams a generation into a file.

It starts the server over stdio like any editor would, applies its edits to the file's text,
shows the code arriving line by line under a progress bar, and saves the file at the end —
atomically, in the file's own line endings. It never writes code from a source the user did
not choose: with no credentials it refuses, unless `--emulator` asks for placeholder code.

Exit codes: 0 done, 1 the generation failed (nothing written), 2 bad usage or an unreadable
file, 3 no credentials, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import difflib
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types

from gemini_lsp.cli import source as sources
from gemini_lsp.cli.display import Display
from gemini_lsp.cli.textfile import FileChangedError, TextFile, count_lines
from gemini_lsp.engine.text import TextBuffer

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_CREDENTIALS = 3
EXIT_INTERRUPTED = 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="the file to write into (saved at the end)")
    parser.add_argument(
        "--prompt", required=True, help="what to ask Gemini for ('-': read it from stdin)"
    )
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
        help="use the built-in emulator (canned code, not a model) instead of Gemini",
    )
    parser.add_argument(
        "--on-cancel",
        choices=("keep", "discard"),
        help="on Ctrl-C, keep the partial text or discard it (default: the server's, keep)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--stdout", action="store_true", help="print the new file on stdout, leave the file"
    )
    output.add_argument(
        "--diff", action="store_true", help="print a unified diff on stdout, leave the file"
    )
    output.add_argument(
        "--dry-run", action="store_true", help="show the generation, leave the file"
    )


@dataclass
class Outcome:
    status: str  # completed, cancelled or failed
    text: str  # the whole document after the generation
    generated: str = ""  # the generation's own text
    message: str = ""
    result: dict[str, Any] = field(default_factory=dict)


class Interrupt:
    """Ctrl-C: the first asks the server to cancel (it answers once the stream has stopped,
    partial text kept or discarded per onCancel); a second gives up at once, saving nothing."""

    def __init__(self) -> None:
        self.count = 0
        self.cancel: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.give_up: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def __call__(self) -> None:
        self.count += 1
        target = self.cancel if self.count == 1 else self.give_up
        if not target.done():
            target.set_result(None)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except KeyboardInterrupt:
        # Before the stream started or while saving: the save is atomic, so the file is
        # either as it was or complete.
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(args: argparse.Namespace) -> int:
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if not prompt.strip():
        print("gemini-lsp generate: the prompt is empty", file=sys.stderr)
        return EXIT_USAGE
    path: Path = args.path.absolute()
    try:
        file = TextFile.read(path)
    except FileNotFoundError:
        print(f"gemini-lsp generate: no such file: {path}", file=sys.stderr)
        return EXIT_USAGE
    except UnicodeDecodeError:
        print(f"gemini-lsp generate: not a UTF-8 text file: {path}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        print(f"gemini-lsp generate: cannot read {path}: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    source = sources.choose(os.environ, args.emulator)
    if source.kind == "none":
        print(source.description, file=sys.stderr)
        return EXIT_NO_CREDENTIALS
    print(f"Generating with {source.description}.", file=sys.stderr)

    writes_stdout = args.stdout or args.diff
    display = Display(sys.stderr if writes_stdout else sys.stdout, show_code=not writes_stdout)
    outcome = asyncio.run(_session(args, prompt, file, source, display))
    if outcome is None:
        display.done("interrupted: nothing written")
        return EXIT_INTERRUPTED
    interrupted = outcome.status == "cancelled"
    if source.kind == "emulator":
        outcome.result["model"] = "the emulator"
    if outcome.status == "failed":
        display.done(f"failed: {outcome.message} (nothing written)")
        return EXIT_FAILED
    return _deliver(args, file, outcome, display, interrupted)


def _deliver(
    args: argparse.Namespace, file: TextFile, outcome: Outcome, display: Display, interrupted: bool
) -> int:
    result = outcome.result
    timings = result.get("timings") or {}
    lines = count_lines(outcome.generated)
    summary = (
        f"{outcome.status}: {lines} line{'' if lines == 1 else 's'} in "
        f"{timings.get('totalMs') or 0:.0f} ms (first token {timings.get('firstTokenMs') or 0:.0f}"
        f" ms, {result.get('model') or 'unknown model'})"
    )
    code = EXIT_INTERRUPTED if interrupted else EXIT_OK
    if args.stdout:
        display.done(summary)
        sys.stdout.buffer.write(file.render(outcome.text).encode("utf-8"))
        sys.stdout.flush()
        return code
    if args.diff:
        display.done(summary)
        sys.stdout.write(_unified_diff(file, outcome.text))
        sys.stdout.flush()
        return code
    if args.dry_run:
        display.done(f"{summary}; not saved (--dry-run)")
        return code
    try:
        saved = file.save(outcome.text)
    except FileChangedError:
        display.done(f"{summary}; NOT saved: {file.path} changed on disk meanwhile")
        return EXIT_FAILED
    except OSError as error:
        display.done(f"{summary}; NOT saved: {error}")
        return EXIT_FAILED
    display.done(f"{summary}, saved {file.path}" if saved else f"{summary}; file unchanged")
    return code


def _unified_diff(file: TextFile, text: str) -> str:
    before = file.render(file.text).splitlines(keepends=True)
    after = file.render(text).splitlines(keepends=True)
    name = str(file.path)
    return "".join(difflib.unified_diff(before, after, f"a/{name}", f"b/{name}"))


def _parse_range(text: str) -> types.Range:
    match = re.fullmatch(r"(\d+):(\d+)-(\d+):(\d+)", text)
    if match is None:
        raise SystemExit(f"--range must look like 3:0-7:0, got {text!r}")
    a, b, c, d = (int(group) for group in match.groups())
    return types.Range(types.Position(a, b), types.Position(c, d))


def _server_environment(source: sources.Source, emulator_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if emulator_url is not None:
        # Only the emulator: no real key travels to it, and Vertex settings do not apply.
        for name in (
            *sources.KEY_VARIABLES,
            *sources.VERTEX_VARIABLES,
            "GOOGLE_VERTEX_BASE_URL",
        ):
            env.pop(name, None)
        env[sources.BASE_URL_VARIABLE] = emulator_url
        # No word of it is one the server should mask (it masks its key wherever it prints).
        env["GEMINI_API_KEY"] = "emu-key-not-secret"
    return env


async def _session(
    args: argparse.Namespace,
    prompt: str,
    file: TextFile,
    source: sources.Source,
    display: Display,
) -> Outcome | None:
    """Streams the generation into a copy of the file's text; None when given up."""
    loop = asyncio.get_running_loop()
    interrupt = Interrupt()
    loop.add_signal_handler(signal.SIGINT, interrupt)
    emulator = None
    try:
        if source.kind == "emulator":
            from gemini_lsp.emulator import Emulator

            emulator = Emulator()
            emulator_url: str | None = await emulator.start()
        else:
            emulator_url = None
        work = asyncio.ensure_future(
            _generate(
                args, prompt, file, _server_environment(source, emulator_url), display, interrupt
            )
        )
        give_up = asyncio.ensure_future(asyncio.shield(interrupt.give_up))
        either: set[asyncio.Future[Any]] = {work, give_up}
        done, _ = await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if work in done:
            give_up.cancel()
            try:
                return work.result()
            except Exception as error:  # the server did not start, or went away
                return Outcome("failed", file.text, message=str(error) or type(error).__name__)
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await work
        return None
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        if emulator is not None:
            await emulator.stop()


async def _generate(
    args: argparse.Namespace,
    prompt: str,
    file: TextFile,
    env: dict[str, str],
    display: Display,
    interrupt: Interrupt,
) -> Outcome:
    from pygls.lsp.client import LanguageClient

    uri = file.path.as_uri()
    buffer = TextBuffer(file.text)
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
        ordered = sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character))
        for edit in reversed(ordered):
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
        # Failures come back as the command's answer too; only the rest is worth a line.
        if params.type not in (types.MessageType.Error,):
            print(f"\n{params.message}", file=sys.stderr)

    server_args = ["-m", "gemini_lsp", "--log-level", args.log_level]
    if args.log_file:
        server_args += ["--log-file", args.log_file]
    # Its own session: the terminal's Ctrl-C is for this client, which stops the
    # generation through the protocol and then the server.
    await client.start_io(sys.executable, *server_args, env=env, start_new_session=True)
    try:
        options: dict[str, Any] = {}
        if args.on_cancel:
            options["onCancel"] = args.on_cancel
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    workspace=types.WorkspaceClientCapabilities(
                        apply_edit=True,
                        workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
                    ),
                    window=types.WindowClientCapabilities(work_done_progress=True),
                ),
                root_uri=file.path.parent.as_uri(),
                initialization_options={"geminiLsp": options},
            )
        )
        client.initialized(types.InitializedParams())
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri, _language_of(file.path), version, buffer.text)
            )
        )
        argument: dict[str, Any] = {"textDocument": {"uri": uri}, "prompt": prompt}
        if args.model:
            argument["model"] = args.model
        if args.range:
            command = "gemini.edit"
            argument["range"] = client.protocol._converter.unstructure(_parse_range(args.range))
        else:
            command = "gemini.generate"
            argument["position"] = {"line": args.line, "character": args.character}
        request = asyncio.ensure_future(
            client.workspace_execute_command_async(types.ExecuteCommandParams(command, [argument]))
        )
        await asyncio.wait({request, interrupt.cancel}, return_when=asyncio.FIRST_COMPLETED)
        if not request.done():
            display.progress("cancelling…")
            # The answer to the generation itself says how it ended.
            with contextlib.suppress(Exception):
                await client.workspace_execute_command_async(
                    types.ExecuteCommandParams("gemini.cancel", [{"textDocument": {"uri": uri}}])
                )
        try:
            result = await request
        except Exception as error:
            message = str(getattr(error, "message", None) or error)
            return Outcome("failed", buffer.text, message=message)
        result = result or {}
        status = "cancelled" if interrupt.count else str(result.get("status", "completed"))
        return Outcome(status, buffer.text, str(result.get("text") or ""), result=result)
    finally:
        try:
            await asyncio.wait_for(client.shutdown_async(None), 5)
            client.exit(None)
        except Exception:
            # A server that does not answer is stopped, so that stop() does not wait on it.
            server = client._server
            if server is not None and server.returncode is None:
                server.kill()
        await client.stop()


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
