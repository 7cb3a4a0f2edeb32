"""The `gemini.*` commands of `workspace/executeCommand`, registered at start-up. What they do
(`lsp/handlers.py`) is loaded at the first command: a server that is never asked for code
neither starts slower nor holds the generation machinery."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from gemini_lsp.contract import command_ids

if TYPE_CHECKING:
    from gemini_lsp.lsp.handlers import Commands
    from gemini_lsp.lsp.server import GeminiLanguageServer

Handler = Callable[[types.ExecuteCommandParams], Awaitable[dict[str, Any]]]
# Each command id and the `Commands` method that carries it out.
METHODS: dict[str, Callable[[Commands], Handler]] = {
    command_ids.GENERATE: lambda commands: commands.generate,
    command_ids.EDIT: lambda commands: commands.edit,
    command_ids.REFINE: lambda commands: commands.refine,
    command_ids.CANCEL: lambda commands: commands.cancel,
    command_ids.REVERT: lambda commands: commands.revert,
}


def setup(server: GeminiLanguageServer) -> None:
    @functools.cache
    def commands() -> Commands:
        from gemini_lsp.lsp.handlers import Commands

        return Commands(server)

    for command, method in METHODS.items():
        server.command(command)(_handler(commands, method))


def _handler(commands: Callable[[], Commands], method: Callable[[Commands], Handler]) -> Handler:
    """A plain function calling the method: pygls marks what it registers with attributes,
    which a bound method cannot take."""

    async def handle(params: types.ExecuteCommandParams) -> dict[str, Any]:
        return await method(commands())(params)

    return handle
