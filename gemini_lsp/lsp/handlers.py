"""What each `gemini.*` command does (`features/commands.py` registers them). Loaded at the
first command, with the generation machinery and the attachment reading it needs."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from gemini_lsp.engine.anchor import Region
from gemini_lsp.engine.documents import Document
from gemini_lsp.engine.pump import REFINE_WAIT_SECONDS
from gemini_lsp.gemini.attachments import (
    Attachment,
    AttachmentError,
    BusyError,
    PrivateDocumentError,
    UriError,
    attached_uris,
    check_document,
    load_async,
    release,
    reload_async,
)
from gemini_lsp.gemini.errors import GenerationFailedError
from gemini_lsp.generations.generation import Generation
from gemini_lsp.generations.registry import RegistryError, Target
from gemini_lsp.lsp import arguments
from gemini_lsp.lsp.arguments import CancelArgs, EditArgs, GenerateArgs, RefineArgs, RevertArgs

if TYPE_CHECKING:
    from gemini_lsp.lsp.server import GeminiLanguageServer

log = logging.getLogger(__name__)


class RequestFailedError(JsonRpcException):
    """LSP's RequestFailed: the request was valid but could not be carried out."""

    CODE = -32803


class Commands:
    """The command handlers, and what they share: the server, its registry, the warnings
    already shown."""

    def __init__(self, server: GeminiLanguageServer) -> None:
        self.server = server
        self.registry = server.registry
        self.warned: set[str] = set()

    # -- the commands -----------------------------------------------------------------------

    async def generate(self, params: types.ExecuteCommandParams) -> dict[str, Any]:
        args = arguments.parse(params.command, params.arguments, GenerateArgs)
        span = types.Range(args.position, args.position)
        return await self.write(params, args, span, "position")

    async def edit(self, params: types.ExecuteCommandParams) -> dict[str, Any]:
        args = arguments.parse(params.command, params.arguments, EditArgs)
        return await self.write(params, args, args.range, "range.start")

    async def refine(self, params: types.ExecuteCommandParams) -> dict[str, Any]:
        args = arguments.parse(params.command, params.arguments, RefineArgs)
        token = params.work_done_token
        previous = self.registry.get(args.id)
        # The revised text replaces the earlier one where the editor shows it.
        if previous is not None and not await previous.pump.confirmed(
            previous.writer, REFINE_WAIT_SECONDS
        ):
            raise RequestFailedError(
                f"{params.command}: the editor has not shown the server generation "
                f"{args.id}'s text yet — try again in a moment"
            )
        files = await self.refreshed_files(params.command, previous)
        begin = functools.partial(self.registry.refine, args.id, args.prompt, token, files)
        return await self.finish(self.start(params.command, begin, files))

    async def cancel(self, params: types.ExecuteCommandParams) -> dict[str, Any]:
        args = arguments.parse(params.command, params.arguments, CancelArgs)
        uri = args.text_document.uri if args.text_document else None
        cancelled = self.registry.cancel(args.id, uri)
        # Answer only once they have stopped: nothing is edited after this reply.
        for generation in cancelled:
            with contextlib.suppress(Exception):
                await asyncio.shield(generation.outcome)
        return {"cancelled": [generation.id for generation in cancelled]}

    async def revert(self, params: types.ExecuteCommandParams) -> dict[str, Any]:
        args = arguments.parse(params.command, params.arguments, RevertArgs)
        if args.id is not None:
            generation = self.registry.get(args.id)
            missing = f"no generation {args.id!r} to revert"
        else:
            uri = args.text_document.uri if args.text_document else None
            generation = self.registry.latest(uri)
            missing = "no generation to revert" + (" in this document" if uri else "")
        if generation is None:
            raise RequestFailedError(f"{params.command}: {missing}")
        try:
            return await self.registry.revert(generation)
        except RegistryError as error:
            raise RequestFailedError(f"{params.command}: {error}") from None

    # -- what they share --------------------------------------------------------------------

    def document(self, command: str, uri: str) -> Document:
        found = self.server.documents.get(uri)
        if found is None:
            raise JsonRpcInvalidParams(
                f"{command}: textDocument.uri {uri} is not open — open the file in the editor "
                "(the server only sees documents the editor has opened)"
            )
        return found

    async def write(
        self,
        params: types.ExecuteCommandParams,
        args: GenerateArgs | EditArgs,
        span: types.Range,
        field: str,
    ) -> dict[str, Any]:
        """Run a generation into `span` of the argument's document (empty: an insertion)."""
        command, uri = params.command, args.text_document.uri
        doc = self.document(command, uri)
        lines = len(doc.buffer.lines)
        if span.start.line >= lines:
            raise JsonRpcInvalidParams(
                f"{command}: {field} line {span.start.line} is past the end of the "
                f"document ({lines} lines)"
            )
        # `span` is where the editor saw it when it sent the command: the changes that arrive
        # while the attachments are read (the user typing on) move it with the text.
        where = doc.hold(Region(doc.buffer.loc(span.start), doc.buffer.loc(span.end)))
        try:
            name, files = await self.files_for(command, uri, args.attachments)
        finally:
            doc.release(where)
        if self.server.documents.get(uri) is not doc:  # closed (and perhaps opened again)
            release(files)
            raise JsonRpcInvalidParams(
                f"{command}: textDocument.uri {uri} was closed while the request was read — "
                "open the file in the editor and ask again"
            )
        target = Target(doc, where.start, where.end)
        prompt = args.prompt or ""  # `parse` has made sure there is one
        begin = functools.partial(
            self.registry.generate, target, name, prompt, args.model, files, params.work_done_token
        )
        return await self.finish(self.start(command, begin, files))

    def start(
        self, command: str, begin: Callable[[], Generation], files: Sequence[Attachment] = ()
    ) -> Generation:
        """Start a generation; the attachments it read are held until it ends."""
        try:
            generation = begin()
        except BaseException as error:
            release(files)
            if isinstance(error, RegistryError):
                self.server.show(f"Gemini: {error}")
                raise RequestFailedError(f"{command}: {error}") from None
            if isinstance(error, GenerationFailedError):
                self.server.show(str(error))
                raise RequestFailedError(str(error)) from None
            raise
        if files:
            generation.outcome.add_done_callback(lambda _: release(files))
        return generation

    async def finish(self, generation: Generation) -> dict[str, Any]:
        """Wait for the generation; if this request is cancelled, stop it cleanly first."""
        try:
            await asyncio.shield(generation.outcome)
        except asyncio.CancelledError:
            self.registry.cancel(generation.id, None)
            with contextlib.suppress(Exception):
                await asyncio.shield(generation.outcome)
            raise  # pygls answers RequestCancelled
        except GenerationFailedError as error:
            await generation.progress.delivered()
            self.server.show(str(error))
            raise RequestFailedError(str(error)) from None
        await generation.progress.delivered()
        return generation.result()

    def warner(self) -> Callable[[str], None]:
        """Tells the user about an ignore file that could not be read as it is (once each);
        callable from the worker threads that read files."""
        loop = asyncio.get_running_loop()

        def warn(message: str) -> None:
            log.warning("%s", message)
            if message not in self.warned and len(self.warned) < 1000:
                self.warned.add(message)
                loop.call_soon_threadsafe(self.server.show, message, types.MessageType.Warning)

        return warn

    async def files_for(
        self, command: str, uri: str, attachments: Sequence[str]
    ) -> tuple[str, list[Attachment]]:
        """Check that the document may be sent and read its attachments, off the event loop:
        what the prompt calls the document, and the files. InvalidParams for a URI or an
        attachment that cannot be used, RequestFailed for a document that must not be sent."""
        folders = self.server.folders()
        warn = self.warner()
        try:
            name = await check_document(uri, folders, warn)
            return name, await load_async(attachments, folders, warn)
        except UriError as error:
            raise JsonRpcInvalidParams(f"{command}: textDocument.uri {error}") from None
        except AttachmentError as error:
            raise JsonRpcInvalidParams(f"{command}: {error}") from None
        except PrivateDocumentError as error:
            message = f"Gemini: {error}: its content is never sent to Gemini"
            self.server.show(message)
            raise RequestFailedError(f"{command}: {message}") from None
        except BusyError as error:
            self.server.show(f"Gemini: {error}")
            raise RequestFailedError(f"{command}: {error}") from None

    async def refreshed_files(self, command: str, previous: Generation | None) -> list[Attachment]:
        """A refinement's attachments: the files of the generation it continues, read again
        (their bytes were dropped when it ended); one that can no longer be sent is left out,
        and the user told why."""
        if previous is None or previous.document.closed:
            return []  # the registry says what is wrong
        folders = self.server.folders()
        warn = self.warner()
        try:
            await check_document(previous.document.uri, folders, warn)
        except (UriError, PrivateDocumentError) as error:
            message = f"Gemini: {error}: its content is never sent to Gemini"
            self.server.show(message)
            raise RequestFailedError(f"{command}: {message}") from None
        uris = attached_uris(previous.call.contents)
        files, dropped = await reload_async(uris, folders, warn)
        if dropped:
            self.server.show(
                "Gemini: the refinement is sent without these attachments: " + "; ".join(dropped),
                types.MessageType.Warning,
            )
        return files
