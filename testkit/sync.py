"""How a style takes the server's edits and when it syncs changes back: written once, for the
editor model and for the benchmarks' lean client, whatever their documents look like."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Generic, Literal, TypeVar

from testkit.styles import Style

Change = TypeVar("Change")
# How one document's edits are taken: applied, skipped yet answered applied:true, refused
# with applied:false, or answered with a JSON-RPC error.
Verdict = Literal["apply", "skip", "reject", "error"]


def verdict(
    style: Style, held: int | None, version: int | None, typed_ago: float | None = None
) -> Verdict:
    """How `style` takes edits for a document it holds at version `held` (None: not open)
    that name `version` (None: unversioned), `typed_ago` seconds after the user typed."""
    if held is None:
        return "reject"
    if version is None:
        racing = typed_ago is not None and typed_ago < style.race_s
        return "reject" if racing else "apply"
    if version == held or (version == 0 and not style.check_version_zero):
        return "apply"
    return style.stale_versioned


def answer(verdicts: Iterable[Verdict]) -> Literal["apply", "reject", "error"]:
    """One workspace edit's fate: any error or refusal is the whole edit's."""
    found = set(verdicts)
    return "error" if "error" in found else "reject" if "reject" in found else "apply"


class SyncQueue(Generic[Change]):
    """The changes a style holds before a didChange, per document, and when they go:
    at once, after a debounce that every change restarts, or (`manual_flush`) when told;
    never while a request is pending for a style quiet while requesting."""

    def __init__(self, style: Style, send: Callable[[str, list[Change]], None]) -> None:
        self.style = style
        self.manual_flush = False
        self.requesting = 0  # requests pending that hold back a quiet-while-requesting sync
        self._send = send
        self._pending: dict[str, list[Change]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}

    @property
    def holding(self) -> bool:
        """Whether some change has not been synced yet."""
        return any(self._pending.values())

    @property
    def held_back(self) -> bool:
        """Whether syncing waits for a pending request to be answered."""
        return self.style.quiet_while_requesting and self.requesting > 0

    def changed(self, uri: str, changes: list[Change]) -> None:
        delay = self.style.debounce_s
        if not delay and not self.held_back:
            self._send(uri, changes)
            return
        self._pending.setdefault(uri, []).extend(changes)
        if not self.manual_flush and not self.held_back:
            self._restart(uri)

    def flush(self, uri: str | None = None) -> None:
        """Send what is held (for one document, or all)."""
        for each in [uri] if uri is not None else list(self._pending):
            timer = self._timers.pop(each, None)
            if timer is not None:
                timer.cancel()
            changes = self._pending.pop(each, [])
            if changes:
                self._send(each, changes)

    def drop(self, uri: str) -> None:
        """Forget a closed document's held changes."""
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        self._pending.pop(uri, None)

    def request_sent(self) -> None:
        self.requesting += 1

    def request_answered(self) -> None:
        """A request the user made has been answered: a held-back sync may go."""
        self.requesting -= 1
        if self.held_back:
            return
        if not self.style.debounce_s or self.manual_flush:
            self.flush()
            return
        for uri in list(self._pending):
            self._restart(uri)

    def _restart(self, uri: str) -> None:
        # Neovim's timer restarts on every change: a steady stream of edits is synced late.
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self._timers[uri] = loop.call_later(self.style.debounce_s, self._idle, uri)

    def _idle(self, uri: str) -> None:
        self._timers.pop(uri, None)
        if not self.held_back:
            self.flush(uri)
