"""The `gemini.*` commands of `workspace/executeCommand`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from .. import arguments
from ..arguments import CancelArgs, EditArgs, GenerateArgs, RefineArgs, RevertArgs
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
            server.show(str(error))
            raise RequestFailedError(str(error)) from None
        return generation.result()

    def start(command: str, start: Any) -> Generation:
        try:
            return start()  # type: ignore[no-any-return]
        except RegistryError as error:
            raise RequestFailedError(f"{command}: {error}") from None
        except GenerationFailedError as error:
            server.show(str(error))
            raise RequestFailedError(str(error)) from None

    @server.command(arguments.GENERATE)
    async def generate(params: types.ExecuteCommandParams) -> dict[str, Any]:
        args = arguments.parse(params.command, params.arguments, GenerateArgs)
        doc = document(params.command, args.text_document.uri)
        if args.position.line >= len(doc.buffer.lines):
            raise JsonRpcInvalidParams(
                f"{params.command}: position.line {args.position.line} is past the end of the "
                f"document ({len(doc.buffer.lines)} lines)"
            )
        at = doc.buffer.loc(args.position)
        target = Target(doc, at, at)
        token = params.work_done_token
        return await finish(
            start(params.command, lambda: registry.generate(target, args.prompt, args.model, token))
        )

    @server.command(arguments.EDIT)
    async def edit(params: types.ExecuteCommandParams) -> dict[str, Any]:
        args = arguments.parse(params.command, params.arguments, EditArgs)
        doc = document(params.command, args.text_document.uri)
        if args.range.start.line >= len(doc.buffer.lines):
            raise JsonRpcInvalidParams(
                f"{params.command}: range.start.line {args.range.start.line} is past the end "
                f"of the document ({len(doc.buffer.lines)} lines)"
            )
        target = Target(doc, doc.buffer.loc(args.range.start), doc.buffer.loc(args.range.end))
        token = params.work_done_token
        return await finish(
            start(params.command, lambda: registry.generate(target, args.prompt, args.model, token))
        )

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
