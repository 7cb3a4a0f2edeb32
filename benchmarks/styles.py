"""The editor behaviours the figures are measured with.

Capabilities are the ones pytest-lsp recorded from the real editors, so the server takes
the same paths it takes for them (versioned edits, position encoding, progress tokens).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Style:
    name: str
    recorded: str  # pytest-lsp's name for the recorded capabilities
    encoding: str
    debounce_s: float = 0.0  # didChange delay after the last change (Neovim's default: 150 ms)
    # No didChange while a command request is pending (Eglot's blocking commands).
    quiet_while_requesting: bool = False

    @property
    def capabilities(self) -> dict[str, Any]:
        return _capabilities(self.recorded)


@functools.cache
def _capabilities(recorded: str) -> dict[str, Any]:
    from lsprotocol.converters import get_converter
    from pytest_lsp import client_capabilities

    # The round trip through JSON turns lsprotocol's enums into plain strings.
    loaded: dict[str, Any] = json.loads(
        json.dumps(get_converter().unstructure(client_capabilities(recorded)))
    )
    return loaded


VSCODE = Style("vscode", "visual-studio-code", "utf-16")
# Neovim 0.11: utf-8 positions, unversioned `changes`; here with didChange sent at once.
NEOVIM = Style("neovim", "neovim", "utf-8")
# The same with Neovim's default 150 ms didChange debounce (editors/nvim keeps it).
NEOVIM_DEBOUNCED = Style("neovim-debounce-150ms", "neovim", "utf-8", debounce_s=0.150)
# Emacs + Eglot: versioned edits, didChange after 0.5 s of idle time and never while its
# blocking command waits, so the server hears nothing until the generation has answered.
EGLOT = Style(
    "eglot-idle-sync", "visual-studio-code", "utf-16", debounce_s=0.5, quiet_while_requesting=True
)
