"""The `gemini.*` commands: ids, their one object argument, and what they answer.

Arguments arrive camelCase (`textDocument`) and are parsed strictly into these classes by
`gemini_lsp.lsp.arguments`; results are sent as the camelCase JSON of the result classes.
"""

from __future__ import annotations

from typing import Literal

import attrs
from lsprotocol import types

from gemini_lsp.contract import command_ids


@attrs.define
class DocumentRef:
    uri: str


@attrs.define
class GenerateArgs:
    text_document: DocumentRef
    position: types.Position
    prompt: str | None = None
    attachments: list[str] = attrs.Factory(list)
    model: str | None = None
    # Set by a code action that needs an instruction: the question the editor should ask.
    prompt_request: str | None = None


@attrs.define
class EditArgs:
    text_document: DocumentRef
    range: types.Range
    prompt: str | None = None
    attachments: list[str] = attrs.Factory(list)
    model: str | None = None
    prompt_request: str | None = None


@attrs.define
class CancelArgs:
    id: str | None = None
    text_document: DocumentRef | None = None


@attrs.define
class RevertArgs:
    id: str | None = None
    text_document: DocumentRef | None = None


@attrs.define
class RefineArgs:
    id: str
    prompt: str


@attrs.frozen
class Usage:
    prompt_tokens: int
    output_tokens: int
    total_tokens: int


@attrs.frozen
class Timings:
    first_token_ms: float | None
    total_ms: float | None


@attrs.frozen
class GenerationResult:
    """The answer of a generating command, sent when the generation has ended."""

    id: str
    status: Literal["completed", "cancelled"]
    range: types.Range  # where its text is now
    text: str
    model: str
    usage: Usage
    timings: Timings
    notice: str | None = None  # e.g. why the answer stopped early


@attrs.frozen
class CancelResult:
    cancelled: list[str]  # the ids that were running, answered once they have stopped


@attrs.frozen
class RevertResult:
    id: str
    range: types.Range  # where the original text is back
    text: str


@attrs.frozen
class Command:
    id: str
    name: str  # the key the plugins use for it (`ServerCommand.generate`, `commands.generate`)
    arguments: type
    result: type
    # Answered when the generation ends: the plugins track it as streaming until then.
    generating: bool


GENERATE = Command(command_ids.GENERATE, "generate", GenerateArgs, GenerationResult, True)
EDIT = Command(command_ids.EDIT, "edit", EditArgs, GenerationResult, True)
CANCEL = Command(command_ids.CANCEL, "cancel", CancelArgs, CancelResult, False)
REVERT = Command(command_ids.REVERT, "revert", RevertArgs, RevertResult, False)
REFINE = Command(command_ids.REFINE, "refine", RefineArgs, GenerationResult, True)

# In the order the server lists them in executeCommandProvider.
COMMANDS: tuple[Command, ...] = (GENERATE, EDIT, CANCEL, REVERT, REFINE)

# Every streaming workspace/applyEdit carries this label followed by the generation id.
GENERATION_LABEL_PREFIX = "Gemini generation "
