"""The `gemini.*` commands of `workspace/executeCommand`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from .. import arguments
from ..arguments import CancelArgs, EditArgs, GenerateArgs, RefineArgs, RevertArgs
from ..attachments import AttachmentError
from ..backend import GenerationFailedError
from ..documents import Document
from ..generation import Generation
from ..registry import RegistryError, Target

if TYPE_CHECKING:
    from ..server import GeminiLanguageServer

log = logging.getLogger(__name__)


class RequestFailedError(JsonRpcException):
    """LSP's RequestFailed: the request was valid but could not be carried out."""

    CODE = -32803


def setup(server: GeminiLanguageServer) -> None:
    registry = server.registry

    def document(command: str, uri: str) -> Document:
        found = server.documents.get(uri)
        if found is None:
            raise JsonRpcInvalidParams(
                f"{command}: textDocument.uri {uri} is not open — open the file in the editor "
                "(the server only sees documents the editor has opened)"
            )
        return found

    async def finish(generation: Generation) -> dict[str, Any]:
        """Wait for the generation; if this request is cancelled, stop it cleanly first."""
        try:
            await asyncio.shield(generation.outcome)
        except asyncio.CancelledError:
            registry.cancel(generation.id, None)
            with contextlib.suppress(Exception):
                await asyncio.shield(generation.outcome)
            raise  # pygls answers RequestCancelled
        except GenerationFailedError as error:
            await generation.progress.delivered()
            server.show(str(error))
            raise RequestFailedError(str(error)) from None
        await generation.progress.delivered()
        return generation.result()

    def start(command: str, begin: Callable[[], Generation]) -> Generation:
        try:
            return begin()
        except AttachmentError as error:
            raise JsonRpcInvalidParams(f"{command}: {error}") from None
        except RegistryError as error:
            server.show(f"Gemini: {error}")
            raise RequestFailedError(f"{command}: {error}") from None
        except GenerationFailedError as error:
            server.show(str(error))
            raise RequestFailedError(str(error)) from None

    async def write(
        params: types.ExecuteCommandParams,
        args: GenerateArgs | EditArgs,
        span: types.Range,
        field: str,
    ) -> dict[str, Any]:
        """Run a generation into `span` of the argument's document (empty: an insertion)."""
        doc = document(params.command, args.text_document.uri)
        lines = len(doc.buffer.lines)
        if span.start.line >= lines:
            raise JsonRpcInvalidParams(
                f"{params.command}: {field} line {span.start.line} is past the end of the "
                f"document ({lines} lines)"
            )
        target = Target(doc, doc.buffer.loc(span.start), doc.buffer.loc(span.end))
        prompt = args.prompt or ""  # `parse` has made sure there is one
        return await finish(
            start(
                params.command,
                lambda: registry.generate(
                    target, prompt, args.model, args.attachments, params.work_done_token
                ),
            )
        )

    @server.command(arguments.GENERATE)
    async def generate(params: types.ExecuteCommandParams) -> dict[str, Any]:
        args = arguments.parse(params.command, params.arguments, GenerateArgs)
        return await write(params, args, types.Range(args.position, args.position), "position")

    @server.command(arguments.EDIT)
    async def edit(params: types.ExecuteCommandParams) -> dict[str, Any]:
        args = arguments.parse(params.command, params.arguments, EditArgs)
        return await write(params, args, args.range, "range.start")

    @server.command(arguments.REFINE)
    async def refine(params: types.ExecuteCommandParams) -> dict[str, Any]:
        args = arguments.parse(params.command, params.arguments, RefineArgs)
        token = params.work_done_token
        return await finish(
            start(params.command, lambda: registry.refine(args.id, args.prompt, token))
        )

    @server.command(arguments.CANCEL)
    async def cancel(params: types.ExecuteCommandParams) -> dict[str, Any]:
        args = arguments.parse(params.command, params.arguments, CancelArgs)
        uri = args.text_document.uri if args.text_document else None
        cancelled = registry.cancel(args.id, uri)
        # Answer only once they have stopped: nothing is edited after this reply.
        for generation in cancelled:
            with contextlib.suppress(Exception):
                await asyncio.shield(generation.outcome)
        return {"cancelled": [generation.id for generation in cancelled]}

    @server.command(arguments.REVERT)
    async def revert(params: types.ExecuteCommandParams) -> dict[str, Any]:
        args = arguments.parse(params.command, params.arguments, RevertArgs)
        if args.id is not None:
            generation = registry.get(args.id)
            missing = f"no generation {args.id!r} to revert"
        else:
            uri = args.text_document.uri if args.text_document else None
            generation = registry.latest(uri)
            missing = "no generation to revert" + (" in this document" if uri else "")
        if generation is None:
            raise RequestFailedError(f"{params.command}: {missing}")
        try:
            return await registry.revert(generation)
        except RegistryError as error:
            raise RequestFailedError(f"{params.command}: {error}") from None
