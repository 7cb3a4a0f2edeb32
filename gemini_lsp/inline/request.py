"""The model call for one inline request: the code around the cursor, within the context
budget, and settings for a short answer that is not worth a retry."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from gemini_lsp.config import Settings
from gemini_lsp.engine.text import Loc
from gemini_lsp.gemini.backend import ModelCall
from gemini_lsp.inline.context import SYSTEM_INSTRUCTION, Around, around, budget, prompt_text

# Output tokens per allowed line, for the model's own limit.
TOKENS_PER_LINE = 40


def model_call(
    lines: Sequence[str], loc: Loc, name: str, language_id: str, settings: Settings
) -> ModelCall:
    """The call for a suggestion at `loc` of the document `name` (its workspace path)."""
    total = settings.inline_context_chars
    wide = around(lines, loc.line, loc.col, total + 1, total)
    before_room, after_room = budget(total, wide.before, wide.after)
    context = Around(wide.before[len(wide.before) - before_room :], wide.after[:after_room])
    text = prompt_text(name, language_id, context, settings.inline_max_lines)
    turn = {"role": "user", "parts": [{"text": text}]}
    call_settings = attrs.evolve(
        settings,
        retries=0,  # a suggestion that needs a retry is late anyway
        thinking_budget=0,
        max_output_tokens=settings.inline_max_lines * TOKENS_PER_LINE,
    )
    return ModelCall(settings.inline_model, [turn], SYSTEM_INSTRUCTION, call_settings)
