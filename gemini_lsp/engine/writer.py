"""What the edit pump writes for: generated text flowing into a region (a `Writer`), and
one-off replacements of a region's text (a `Replacement`: a removal, a revert, a repair)."""

from __future__ import annotations

import asyncio
import enum

import attrs

from gemini_lsp.engine.anchor import Region


class Writer:
    """Generated text flowing into the end of one region of a document.

    Its text is kept in pieces, joined only when read: growing one string chunk by chunk
    would copy all of it at every chunk.
    """

    def __init__(self, region: Region, label: str) -> None:
        self.region = region
        self.label = label
        self.pending: list[str] = []  # produced but not sent yet, in order
        self._placed: list[str] = []  # sent and applied (or confirmed), in order
        # Counts of `placed`, kept as it grows: progress reads them while text streams.
        self.placed_length = 0
        self._placed_breaks = 0
        self.closed = False  # no more text will be accepted (cancelled or finished)
        self.idle = asyncio.Event()  # nothing of this writer's is pending, unanswered or astray
        self.idle.set()

    @property
    def placed(self) -> str:
        if len(self._placed) > 1:
            self._placed[:] = ["".join(self._placed)]
        return self._placed[0] if self._placed else ""

    @placed.setter
    def placed(self, text: str) -> None:
        self._placed = [text] if text else []
        self.placed_length = len(text)
        self._placed_breaks = text.count("\n")

    @property
    def placed_lines(self) -> int:
        """Lines in `placed`, a last one without a line break included."""
        open_end = bool(self._placed) and not self._placed[-1].endswith("\n")
        return self._placed_breaks + open_end

    def add_placed(self, text: str) -> None:
        if text:
            self._placed.append(text)
            self.placed_length += len(text)
            self._placed_breaks += text.count("\n")

    def take_pending(self) -> str:
        """All of the pending text, which is no longer pending."""
        text = "".join(self.pending)
        self.pending.clear()
        return text

    def requeue(self, text: str) -> None:
        """Text that must go again, ahead of what is pending."""
        if text:
            self.pending.insert(0, text)


@attrs.frozen
class Displaced:
    """An anchor edge a stray edit swallowed: `offset` characters into the text restored."""

    region: Region
    edge: str  # "start" or "end"
    offset: int


class Stage(enum.Enum):
    QUEUED = "queued"  # to be planned
    SENT = "sent"  # in flight
    APPLIED = "applied"  # answered applied, not yet shown by a sync
    CONFIRMED = "confirmed"  # shown by a sync
    DROPPED = "dropped"  # given up


class Replacement:
    """A one-off replacement of a region's text, settled through `done` once applied."""

    def __init__(
        self,
        region: Region,
        text: str,
        label: str,
        expected: str | None = None,
        displaced: list[Displaced] | None = None,
    ) -> None:
        self.region = region
        self.text = text
        self.label = label
        # The replacement only goes ahead while the region still holds this text, since a
        # repair or a removal must never remove what the user wrote.
        self.expected = expected
        self.displaced = displaced or []
        self.stage = Stage.QUEUED
        self.repair = False  # undoes a stray edit (queued by the pump itself)
        self.done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def settle(self, applied: bool) -> None:
        if not self.done.done():
            self.done.set_result(applied)


Owner = Writer | Replacement
