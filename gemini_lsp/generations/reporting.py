"""What a generation tells the user while it runs, as the orchestration sees it.

The LSP side implements it (`lsp/progress.Progress`: work-done progress) and hands the
registry a factory for it (`ClientLink.progress`), so that orchestration never imports the
LSP layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from lsprotocol import types


class Reporting(Protocol):
    """Begin → reports → end for one generation."""

    @property
    def token(self) -> types.ProgressToken | None:
        """The progress token a cancel of the generation names, once known."""

    def begin(self, title: str, message: str) -> None: ...

    def due(self) -> bool:
        """Whether a report now would be sent: callers skip building one that would not."""

    def report(self, message: str, force: bool = False) -> None: ...

    def end(self, message: str) -> None: ...

    async def delivered(self) -> None:
        """Until what was reported has gone out: a request's answer comes after its end."""


# Builds a generation's reporting, given the client's token for it if it sent one.
ReportingFactory = Callable[[types.ProgressToken | None], Reporting]
