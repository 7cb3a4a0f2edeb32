"""Code actions: Gemini where the user already looks (the light bulb, `vim.lsp.buf.code_action`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from gemini_lsp.engine.text import TextBuffer, position_json, range_json
from gemini_lsp.lsp.actions import QUICKFIX, Action, Problem, actions_at

if TYPE_CHECKING:
    from gemini_lsp.lsp.server import GeminiLanguageServer

KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]


def setup(server: GeminiLanguageServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=False),
    )
    def code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
        document = server.documents.get(params.text_document.uri)
        if document is None:
            return []
        buffer = document.buffer
        start, end = buffer.loc(params.range.start), buffer.loc(params.range.end)
        problems = [
            Problem(
                buffer.loc(d.range.start).line,
                d.message,
                d.source if isinstance(d.source, str) else None,
            )
            for d in params.context.diagnostics
        ]
        actions = actions_at(buffer.lines, start, end, problems, document.language_id)
        only = params.context.only
        return [
            _code_action(action, document.uri, buffer, params.context.diagnostics)
            for action in actions
            if not only or any(_within(action.kind, wanted) for wanted in only)
        ]


def _within(kind: str, wanted: str) -> bool:
    """LSP kinds are hierarchical: asking for `refactor` includes `refactor.rewrite`."""
    return kind == wanted or kind.startswith(wanted + ".")


def _code_action(
    action: Action,
    uri: str,
    buffer: TextBuffer,
    diagnostics: Sequence[types.Diagnostic],
) -> types.CodeAction:
    argument: dict[str, Any] = {"textDocument": {"uri": uri}}
    start = buffer.position(action.start)
    if action.end is None:
        argument["position"] = position_json(start)
    else:
        argument["range"] = range_json(types.Range(start, buffer.position(action.end)))
    if action.prompt is not None:
        argument["prompt"] = action.prompt
    if action.prompt_request is not None:
        argument["promptRequest"] = action.prompt_request
    return types.CodeAction(
        title=action.title,
        kind=action.kind,
        diagnostics=list(diagnostics) if action.kind == QUICKFIX else None,
        is_preferred=action.kind == QUICKFIX or None,
        command=types.Command(title=action.title, command=action.command, arguments=[argument]),
    )
