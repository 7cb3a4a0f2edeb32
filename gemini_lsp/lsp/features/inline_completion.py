"""Inline completions: `textDocument/inlineCompletion` (LSP 3.18), see `gemini_lsp.inline`.

The service, and the modules it needs, are loaded at the first request: a server that is
never asked for one neither starts slower nor holds them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from gemini_lsp.engine.documents import Document

if TYPE_CHECKING:
    from gemini_lsp.inline.service import InlineCompletions
    from gemini_lsp.lsp.server import GeminiLanguageServer

INLINE_STATS = "gemini/inlineStats"


class Inline:
    """The server's inline completion service, created when first needed."""

    def __init__(self, server: GeminiLanguageServer) -> None:
        self.server = server
        self.service: InlineCompletions | None = None

    def get(self) -> InlineCompletions:
        if self.service is None:
            from gemini_lsp.inline.service import InlineCompletions

            server = self.server
            self.service = InlineCompletions(
                server.backend,
                lambda: server.settings,
                server.folders,
                lambda message: server.show(message, types.MessageType.Warning),
            )
        return self.service

    def forget(self, uri: str) -> None:
        if self.service is not None:  # none yet: it knows nothing of the document
            self.service.forget(uri)


def setup(server: GeminiLanguageServer) -> Inline:
    inline = Inline(server)
    closed = server.documents.on_close

    def on_close(document: Document) -> None:
        inline.forget(document.uri)
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
        items = await inline.get().complete(document, params.position, invoked)
        return types.InlineCompletionList(items=items)

    @server.feature(INLINE_STATS)
    def inline_stats(params: Any) -> dict[str, Any]:
        """Hidden: counters for tests and the benchmarks (requests, cache hits, calls)."""
        return inline.get().debug()

    return inline
