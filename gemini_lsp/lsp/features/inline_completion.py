"""Inline completions: `textDocument/inlineCompletion` (LSP 3.18), see `gemini_lsp.inline`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from gemini_lsp.engine.documents import Document
from gemini_lsp.inline.service import InlineCompletions

if TYPE_CHECKING:
    from gemini_lsp.lsp.server import GeminiLanguageServer

INLINE_STATS = "gemini/inlineStats"


def setup(server: GeminiLanguageServer) -> InlineCompletions:
    service = InlineCompletions(
        server.backend,
        lambda: server.settings,
        server.folders,
        lambda message: server.show(message, types.MessageType.Warning),
    )
    closed = server.documents.on_close

    def on_close(document: Document) -> None:
        service.forget(document.uri)
        if closed is not None:
            closed(document)

    server.documents.on_close = on_close

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        params: types.InlineCompletionParams,
    ) -> types.InlineCompletionList | None:
        document = server.documents.get(params.text_document.uri)
        if document is None:
            return None
        invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        items = await service.complete(document, params.position, invoked)
        return types.InlineCompletionList(items=items)

    @server.feature(INLINE_STATS)
    def inline_stats(params: Any) -> dict[str, Any]:
        """Hidden: counters for tests and the benchmarks (requests, cache hits, calls)."""
        return service.debug()

    return service
