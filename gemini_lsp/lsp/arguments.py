"""Command arguments: one camelCase object each, checked strictly, errors naming the field.

The argument classes are defined in `gemini_lsp.contract.commands`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any, TypeVar, cast

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override
from lsprotocol import converters
from pygls.exceptions import JsonRpcInvalidParams

from gemini_lsp.config import is_model_name
from gemini_lsp.contract import commands
from gemini_lsp.contract.command_ids import CANCEL, EDIT, GENERATE, REFINE, REVERT
from gemini_lsp.contract.commands import (
    CancelArgs,
    DocumentRef,
    EditArgs,
    GenerateArgs,
    RefineArgs,
    RevertArgs,
)
from gemini_lsp.contract.settings import MODEL_EXPECTED

# The argument classes are the contract's; the command handlers import them from here.
__all__ = [
    "CANCEL",
    "COMMANDS",
    "EDIT",
    "GENERATE",
    "MAX_PROMPT_CHARS",
    "REFINE",
    "REVERT",
    "CancelArgs",
    "EditArgs",
    "GenerateArgs",
    "RefineArgs",
    "RevertArgs",
    "parse",
]

COMMANDS = tuple(command.id for command in commands.COMMANDS)

MAX_PROMPT_CHARS = 100_000

Args = TypeVar("Args")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# Built at the first command rather than at import: it costs start-up time (about 12 ms).
@functools.cache
def _converter() -> cattrs.Converter:
    converter = converters.get_converter(cattrs.Converter(forbid_extra_keys=True))
    # Strings must be strings: cattrs would otherwise turn 42 into "42".
    converter.register_structure_hook(str, _strict_str)
    for cls in (DocumentRef, GenerateArgs, EditArgs, CancelArgs, RevertArgs, RefineArgs):
        renames = {a.name: override(rename=_camel(a.name)) for a in attrs.fields(cls)}
        converter.register_structure_hook(
            cls,
            make_dict_structure_fn(
                cls, converter, _cattrs_forbid_extra_keys=True, **cast(dict[str, Any], renames)
            ),
        )
    return converter


def _strict_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def parse(command: str, arguments: Sequence[Any] | None, cls: type[Args]) -> Args:
    """The one object argument of `command` as `cls`, or InvalidParams saying what is wrong."""
    if not arguments:
        if all(a.default is not attrs.NOTHING for a in attrs.fields(cls)):  # type: ignore[arg-type]
            return cls()
        raise JsonRpcInvalidParams(f"{command} takes one object argument; none was given")
    if len(arguments) != 1 or not isinstance(arguments[0], dict):
        raise JsonRpcInvalidParams(f"{command} takes exactly one object argument")
    try:
        value = _converter().structure(arguments[0], cls)
    except Exception as error:
        raise JsonRpcInvalidParams(f"{command}: {_describe(error)}") from None
    _check(command, value)
    return value


def _describe(error: Exception) -> str:
    if isinstance(error, (cattrs.ClassValidationError, cattrs.IterableValidationError)):
        messages = cattrs.transform_error(error, path="")
        return "; ".join(_camel_path(message) for message in messages)
    if isinstance(error, cattrs.ForbiddenExtraKeysError):
        return f"unknown field(s): {', '.join(sorted(error.extra_fields))}"
    return str(error)


def _camel_path(message: str) -> str:
    # cattrs names fields by their Python names: give them back as the client wrote them.
    text, _, path = message.rpartition(" @ ")
    if not text:
        return message
    field = re.sub(r"[A-Za-z_]+", lambda m: _camel(m.group(0)), path.lstrip("$."))
    return f"{field}: {text}" if field else text


def _check(command: str, value: object) -> None:
    prompt = getattr(value, "prompt", None)
    if prompt is None and hasattr(value, "prompt"):
        question = getattr(value, "prompt_request", None)
        asked = f" (ask the user: {question!r})" if question else ""
        raise JsonRpcInvalidParams(f"{command}: prompt is required{asked}")
    if prompt is not None:
        try:
            prompt.encode("utf-8")
        except UnicodeEncodeError:
            raise JsonRpcInvalidParams(f"{command}: prompt is not valid Unicode") from None
    if prompt is not None and not prompt.strip():
        raise JsonRpcInvalidParams(f"{command}: prompt must not be empty")
    if prompt is not None and len(prompt) > MAX_PROMPT_CHARS:
        raise JsonRpcInvalidParams(
            f"{command}: prompt is {len(prompt):,} characters; the limit is {MAX_PROMPT_CHARS:,}"
        )
    model = getattr(value, "model", None)
    if model is not None and not is_model_name(model):
        shown = model if len(model) <= 60 else model[:57] + "..."
        raise JsonRpcInvalidParams(f"{command}: model {shown!r} is not {MODEL_EXPECTED}")
    position = getattr(value, "position", None)
    if position is not None and (position.line < 0 or position.character < 0):
        raise JsonRpcInvalidParams(f"{command}: position must not be negative")
    span = getattr(value, "range", None)
    if span is not None:
        start, end = span.start, span.end
        if min(start.line, start.character, end.line, end.character) < 0:
            raise JsonRpcInvalidParams(f"{command}: range must not be negative")
        if (end.line, end.character) < (start.line, start.character):
            raise JsonRpcInvalidParams(f"{command}: range end comes before range start")
