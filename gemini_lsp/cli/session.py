"""The LSP session of `gemini-lsp generate`: the server started over stdio, one generation
asked for, and its edits applied to a copy of the file's text as an editor would."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
from typing import TYPE_CHECKING, Any

import attrs
from lsprotocol import converters, types

from gemini_lsp.cli.display import Display
from gemini_lsp.cli.textfile import TextFile
from gemini_lsp.contract.commands import CANCEL, EDIT, GENERATE
from gemini_lsp.engine.text import TextBuffer

if TYPE_CHECKING:
    from pygls.lsp.client import LanguageClient

CLIENT_NAME = "gemini-lsp-generate"
CLIENT_VERSION = "1"
# A server that has not shut down by then is killed.
SHUTDOWN_SECONDS = 5
# How a generation ended (the server's own words, and "failed" for no answer).
COMPLETED = "completed"
CANCELLED = "cancelled"
FAILED = "failed"
# Command arguments and results are camelCase JSON, as the server's converter reads them.
_CONVERTER = converters.get_converter()
_RANGE = re.compile(r"(\d+):(\d+)-(\d+):(\d+)")
LANGUAGES = {
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


@attrs.define
class Outcome:
    status: str  # COMPLETED, CANCELLED or FAILED
    text: str  # the whole document after the generation
    generated: str = ""  # the generation's own text
    message: str = ""
    result: dict[str, Any] = attrs.field(factory=dict)


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


@attrs.define
class EditedDocument:
    """The file's text as the session edits it, at the version the server was last told."""

    uri: str
    buffer: TextBuffer
    display: Display
    version: int = 0

    def apply(self, edit: types.WorkspaceEdit) -> types.DidChangeTextDocumentParams | None:
        """Apply the server's edit; the change to sync back, or None when it is stale."""
        edits: list[types.TextEdit] = []
        for document_edit in edit.document_changes or []:
            assert isinstance(document_edit, types.TextDocumentEdit)
            if document_edit.text_document.version not in (None, self.version):
                return None
            edits += [e for e in document_edit.edits if isinstance(e, types.TextEdit)]
        edits += (edit.changes or {}).get(self.uri, [])
        changes: list[types.TextDocumentContentChangeEvent] = []
        # Last first, so that each edit's range still means what the server meant.
        ordered = sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character))
        for text_edit in reversed(ordered):
            self._replace(text_edit)
            changes.append(
                types.TextDocumentContentChangePartial(text_edit.range, text_edit.new_text)
            )
        self.version += 1
        identifier = types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version)
        return types.DidChangeTextDocumentParams(identifier, changes)

    def _replace(self, edit: types.TextEdit) -> None:
        start, end = self.buffer.loc(edit.range.start), self.buffer.loc(edit.range.end)
        removed = self.buffer.slice(start, end)
        self.buffer.replace(start, end, edit.new_text)
        if edit.new_text and not removed:  # an insertion: new code to show
            self.display.code(edit.new_text)


async def generate(
    args: argparse.Namespace,
    prompt: str,
    file: TextFile,
    env: dict[str, str],
    display: Display,
    interrupt: Interrupt,
) -> Outcome:
    """Run the server, stream one generation into a copy of the file's text, stop it."""
    document = EditedDocument(file.path.as_uri(), TextBuffer(file.text), display)
    client = _client(document, display)
    server_args = ["-m", "gemini_lsp", "--log-level", args.log_level]
    if args.log_file:
        server_args += ["--log-file", args.log_file]
    # Its own session: the terminal's Ctrl-C is for this client, which stops the
    # generation through the protocol and then the server.
    await client.start_io(sys.executable, *server_args, env=env, start_new_session=True)
    try:
        await _open(client, file, document, args.on_cancel)
        command, argument = _command(args, document.uri, prompt)
        return await _execute(client, command, argument, document, interrupt)
    finally:
        await _shutdown(client)


def _client(document: EditedDocument, display: Display) -> LanguageClient:
    """A client that applies the server's edits to `document` and shows its progress."""
    from pygls.lsp.client import LanguageClient

    client = LanguageClient(CLIENT_NAME, CLIENT_VERSION)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        change = document.apply(params.edit)
        if change is None:
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason="stale")
        client.text_document_did_change(change)
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
        if params.type != types.MessageType.Error:
            print(f"\n{params.message}", file=sys.stderr)

    return client


async def _open(
    client: LanguageClient, file: TextFile, document: EditedDocument, on_cancel: str | None
) -> None:
    """Initialize the server and open the document."""
    options: dict[str, Any] = {}
    if on_cancel:
        options["onCancel"] = on_cancel
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
    language = LANGUAGES.get(file.path.suffix, "plaintext")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(document.uri, language, document.version, document.buffer.text)
        )
    )


def _command(args: argparse.Namespace, uri: str, prompt: str) -> tuple[str, dict[str, Any]]:
    """The command to run and its argument: a rewrite of `--range`, else an insertion."""
    argument: dict[str, Any] = {"textDocument": {"uri": uri}, "prompt": prompt}
    if args.model:
        argument["model"] = args.model
    if args.range:
        argument["range"] = _CONVERTER.unstructure(parse_range(args.range))
        return EDIT.id, argument
    position = types.Position(args.line, args.character)
    argument["position"] = _CONVERTER.unstructure(position)
    return GENERATE.id, argument


def parse_range(text: str) -> types.Range:
    """`3:0-7:0` as a range (0-based, end exclusive); SystemExit when it is not one."""
    match = _RANGE.fullmatch(text)
    if match is None:
        raise SystemExit(f"--range must look like 3:0-7:0, got {text!r}")
    a, b, c, d = (int(group) for group in match.groups())
    return types.Range(types.Position(a, b), types.Position(c, d))


async def _execute(
    client: LanguageClient,
    command: str,
    argument: dict[str, Any],
    document: EditedDocument,
    interrupt: Interrupt,
) -> Outcome:
    """Run the command, cancelling it on the first Ctrl-C; how it ended."""
    request = asyncio.ensure_future(
        client.workspace_execute_command_async(types.ExecuteCommandParams(command, [argument]))
    )
    await asyncio.wait({request, interrupt.cancel}, return_when=asyncio.FIRST_COMPLETED)
    if not request.done():
        document.display.progress("cancelling…")
        # The answer to the generation itself says how it ended.
        with contextlib.suppress(Exception):
            cancel = {"textDocument": {"uri": document.uri}}
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(CANCEL.id, [cancel])
            )
    try:
        result = await request
    except Exception as error:
        message = str(getattr(error, "message", None) or error)
        return Outcome(FAILED, document.buffer.text, message=message)
    result = result or {}
    status = CANCELLED if interrupt.count else str(result.get("status", COMPLETED))
    return Outcome(status, document.buffer.text, str(result.get("text") or ""), result=result)


async def _shutdown(client: LanguageClient) -> None:
    """Shut the server down, killing it when it does not answer."""
    try:
        await asyncio.wait_for(client.shutdown_async(None), SHUTDOWN_SECONDS)
        client.exit(None)
    except Exception:
        # A server that does not answer is stopped, so that stop() does not wait on it.
        server = client._server
        if server is not None and server.returncode is None:
            server.kill()
    await client.stop()
