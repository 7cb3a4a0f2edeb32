"""What passes between the LSP connection and the registry: how edits and progress reach
the client, and why the connection stops generations. Kept apart from the registry so that
the server can describe its client at `initialize`, and stop at `shutdown`, without loading
the generation machinery, which waits for the first command."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from gemini_lsp.engine.ledger import SendEdit
    from gemini_lsp.generations.reporting import ReportingFactory


@attrs.define
class ClientLink:
    """How edits and progress reach the client, and which edits it takes."""

    send_edit: SendEdit
    progress: ReportingFactory  # a generation's progress, given the client's token
    versioned_edits: bool


class Stop(enum.Enum):
    """Why a running generation was stopped from outside."""

    CANCELLED = "cancelled"
    CLOSED = "closed"  # the document was closed
    DISCONNECTED = "disconnected"  # the client went away, or the session ended
