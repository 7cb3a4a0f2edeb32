"""How editors treat the server: their recorded capabilities, how they sync and how they
take the server's edits, as measured in the real editors (see docs/architecture.md, "What
clients do"). The tests run the server against each style and the benchmarks measure with
some of them; one set serves both.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Literal

import attrs
from lsprotocol import types
from lsprotocol.converters import get_converter
from pytest_lsp import client_capabilities

# Position encodings the editor model can count in, with their codecs.
ENCODINGS = {"utf-8": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}


@attrs.frozen
class Style:
    """One editor's habits. A plain name given where a style is wanted means immediate
    incremental sync and a stale versioned edit answered `applied: false`."""

    name: str
    editor: str  # pytest-lsp's name for the recorded capabilities sent at `initialize`
    document_changes: bool | None = None  # overrides the recorded capability
    # A stale versioned edit: "reject" (applied:false, VS Code), "skip" (skipped but answered
    # applied:true, Neovim) or "error" (a JSON-RPC error, Eglot).
    stale_versioned: Literal["reject", "skip", "error"] = "reject"
    check_version_zero: bool = True  # Neovim applies a version-0 edit unchecked
    race_s: float = 0.0  # an unversioned edit this soon after typing is refused (VS Code)
    debounce_s: float = 0.0  # didChange delayed, the timer restarted by every change
    full_sync: bool = False  # the whole text in each didChange
    first_version: int = 0
    # No didChange while a request the user made is pending: Eglot runs commands as
    # blocking requests and syncs only when Emacs is idle.
    quiet_while_requesting: bool = False
    # Held changes go out before a request (Neovim, VS Code); Eglot sends them only when idle.
    flush_before_request: bool = True

    @classmethod
    def plain(cls, editor: str) -> Style:
        """An editor's recorded capabilities with plain behaviour."""
        return cls(editor, editor, first_version=1 if editor == VSCODE.editor else 0)

    @property
    def capabilities(self) -> types.ClientCapabilities:
        """The recorded capabilities, with `documentChanges` as this style says."""
        return _capabilities(self.editor, self.document_changes)

    @property
    def capabilities_json(self) -> dict[str, Any]:
        """The capabilities as plain JSON, for a client that skips lsprotocol."""
        return _as_json(self.editor, self.document_changes)

    @property
    def encoding(self) -> str:
        """The position encoding the server picks: the first one offered that it knows."""
        caps = self.capabilities
        offered = (caps.general.position_encodings if caps.general else None) or ["utf-16"]
        return next((str(e) for e in offered if e in ENCODINGS), "utf-16")

    @property
    def versioned(self) -> bool:
        """Whether the server's edits come as versioned `documentChanges`."""
        caps = self.capabilities
        edit = caps.workspace.workspace_edit if caps.workspace else None
        return bool(edit and edit.document_changes)


@functools.cache
def _capabilities(editor: str, document_changes: bool | None) -> types.ClientCapabilities:
    caps = client_capabilities(editor)
    if document_changes is None:
        return caps
    workspace = caps.workspace or types.WorkspaceClientCapabilities()
    edit = workspace.workspace_edit or types.WorkspaceEditClientCapabilities()
    return attrs.evolve(
        caps,
        workspace=attrs.evolve(
            workspace, workspace_edit=attrs.evolve(edit, document_changes=document_changes)
        ),
    )


@functools.cache
def _as_json(editor: str, document_changes: bool | None) -> dict[str, Any]:
    # The round trip through JSON turns lsprotocol's enums into plain strings.
    unstructured = get_converter().unstructure(_capabilities(editor, document_changes))
    loaded: dict[str, Any] = json.loads(json.dumps(unstructured))
    return loaded


VSCODE = Style("vscode", "visual-studio-code", race_s=0.02, first_version=1)
VSCODE_UNVERSIONED = attrs.evolve(VSCODE, name="vscode-unversioned", document_changes=False)
# Neovim 0.11: UTF-8 positions, unversioned edits, didChange sent at once.
NEOVIM = Style("neovim", "neovim", stale_versioned="skip", check_version_zero=False)
# The same with Neovim's default 150 ms didChange debounce (editors/nvim keeps it).
NEOVIM_DEBOUNCED = attrs.evolve(NEOVIM, name="neovim-debounced", debounce_s=0.15)
NEOVIM_VERSIONED = attrs.evolve(NEOVIM_DEBOUNCED, name="neovim-versioned", document_changes=True)
FULL_SYNC = Style("full-sync", "neovim", full_sync=True)
# Emacs + Eglot: versioned edits (UTF-16: Eglot 1.9 names no encoding), a stale one answered
# with an error, changes sent after 0.5 s of idle time and never during a blocking command,
# so the server hears nothing until the generation has answered.
EGLOT = Style(
    "eglot",
    "visual-studio-code",
    stale_versioned="error",
    debounce_s=0.5,
    quiet_while_requesting=True,
    flush_before_request=False,
)
# A client that holds every change until the request has been answered.
SYNC_AFTER_ANSWER = Style(
    "sync-after-answer", "neovim", quiet_while_requesting=True, flush_before_request=False
)
# Versioned edits, and many changes at a time in one didChange after a 150 ms debounce.
BATCHING = Style("batching", "visual-studio-code", race_s=0.02, debounce_s=0.15)
STYLES = {
    s.name: s
    for s in (
        VSCODE,
        VSCODE_UNVERSIONED,
        NEOVIM,
        NEOVIM_DEBOUNCED,
        NEOVIM_VERSIONED,
        FULL_SYNC,
        EGLOT,
        SYNC_AFTER_ANSWER,
        BATCHING,
    )
}


def style_named(name: str | Style) -> Style:
    """A style by its name; an unknown name is an editor's recorded capabilities with plain
    behaviour."""
    if isinstance(name, Style):
        return name
    return STYLES.get(name) or Style.plain(name)
