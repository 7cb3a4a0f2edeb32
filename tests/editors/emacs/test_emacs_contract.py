"""The Emacs package names the server's commands as the contract does (no Emacs needed)."""

from __future__ import annotations

import re
from pathlib import Path

from gemini_lsp.contract.commands import COMMANDS

PACKAGE = Path(__file__).resolve().parents[3] / "editors" / "emacs" / "gemini-lsp.el"
COMMAND = re.compile(r'"(gemini\.\w+)"')


def constant(name: str) -> list[str]:
    """The strings of a `(defconst NAME '(...))` form in the package."""
    source = PACKAGE.read_text(encoding="utf-8")
    form = source[source.index(f"(defconst {name}") :].split(")", 1)[0]
    return COMMAND.findall(form)


def test_emacs_package_knows_the_server_commands() -> None:
    assert constant("gemini-lsp--server-commands") == [command.id for command in COMMANDS]


def test_emacs_package_knows_which_commands_stream() -> None:
    generating = [command.id for command in COMMANDS if command.generating]
    assert constant("gemini-lsp--generating-commands") == generating


def test_emacs_package_sends_only_contract_commands() -> None:
    sent = set(COMMAND.findall(PACKAGE.read_text(encoding="utf-8")))
    assert sent <= {command.id for command in COMMANDS}
