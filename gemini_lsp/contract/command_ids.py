"""The `gemini.*` command ids alone: the server registers them at start-up, and code actions
offer them, without loading the argument and result classes (`commands.py`)."""

from __future__ import annotations

GENERATE = "gemini.generate"
EDIT = "gemini.edit"
CANCEL = "gemini.cancel"
REVERT = "gemini.revert"
REFINE = "gemini.refine"
