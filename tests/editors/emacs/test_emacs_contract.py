"""The Emacs package names the server's commands as the server does (no Emacs needed)."""

from __future__ import annotations

import re
from pathlib import Path

from gemini_lsp.lsp.arguments import COMMANDS, EDIT, GENERATE, REFINE

PACKAGE = Path(__file__).resolve().parents[3] / "editors" / "emacs" / "gemini-lsp.el"


def constant(name: str) -> list[str]:
    """The strings of a `(defconst NAME '(...))` form in the package."""
    source = PACKAGE.read_text(encoding="utf-8")
    form = source[source.index(f"(defconst {name}") :].split(")", 1)[0]
    return re.findall(r'"(gemini\.\w+)"', form)


def test_emacs_package_knows_the_server_commands() -> None:
    assert constant("gemini-lsp--server-commands") == list(COMMANDS)


def test_emacs_package_knows_which_commands_stream() -> None:
    assert constant("gemini-lsp--generating-commands") == [GENERATE, EDIT, REFINE]
