"""What the client's answers and syncs prove about the edits sent: confirmed, lost, orphaned.

An edit answered `applied: true` counts as placed at once, and is confirmed when a synced
document shows it. Changes are recognised as ours by their effect on the text, not by how the
client describes them (clients that diff buffers may report an insertion shifted). A synced
document proves an edit wrong in three ways, and only then is anything sent again:

- a client applies edits in the order they were sent, so an edit that shows up proves that
  every earlier one that has not shown up never applied;
- a client applies an edit before it answers, so a sync that comes after an `applied: true`
  answer shows the edit if it was applied at all (Neovim skips a stale versioned edit and
  answers `applied: true`);
- a versioned edit applies on the version it names or not at all, so if a change the
  server did not make comes before it in the sync, it never applied.

A lost edit's text goes again, with the text of its writer's later edits: those are orphans,
undone wherever they turn up. An edit that lands off its anchor is lost too, and undone where
it landed (`repair.py`). A refused edit's text waits to go again (`pump.py` decides when).
"""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types

from gemini_lsp.engine.anchor import Change
from gemini_lsp.engine.documents import joined
from gemini_lsp.engine.ledger import Planned, PumpState, State
from gemini_lsp.engine.places import same_effect
from gemini_lsp.engine.writer import Owner, Replacement, Stage, Writer

log = logging.getLogger(__name__)

# A refused unversioned edit is remembered only from this length on: the client most likely
# told the truth, and a user could type the same few characters at the same place.
GHOST_MIN_CHARS = 4


class Reconciler(PumpState):
    """The edit pump's reading of answers and syncs; see `ledger.py`."""

    # -- what the client answers -----------------------------------------------------------

    def _answered(
        self, planned: Planned, future: asyncio.Future[types.ApplyWorkspaceEditResult]
    ) -> None:
        applied = False
        if future.cancelled():
            pass
        elif (error := future.exception()) is not None:
            log.info("the client failed an edit: %s", error)
        else:
            applied = future.result().applied
        # This runs a little after the answer arrived, so a sync counted here may have come
        # after it: that only makes the wait for the sync that shows the edit longer.
        planned.answer = applied
        planned.answer_sync = self._syncs
        if planned.watchdog is not None:
            planned.watchdog.cancel()
        if self._inflight is planned:
            self._inflight = None
        if self._stuck:  # the client answers again
            self._stuck = False
            self.failure = None
        if planned.state is State.OUT:
            if applied:
                self._refused_since = None
                self._count(planned)
                owner = planned.owner
                if isinstance(owner, Replacement) and owner.stage is Stage.SENT:
                    owner.stage = Stage.APPLIED
                    owner.settle(True)
            else:
                self._refuse(planned)
        elif planned.state is State.ORPHAN and not applied:
            self._settle_entry(planned)
        planned.answered.set()
        self._update_all_idle()
        if self._task is None:  # else the loop sent it, and goes on
            self._next_after(planned)

    def _refuse(self, planned: Planned) -> None:
        planned.state = State.REFUSED
        if planned.versioned or len(planned.text) < GHOST_MIN_CHARS:
            self._settle_entry(planned)
        self._ahead = None
        owner = planned.owner
        if isinstance(owner, Writer):
            if not owner.closed:
                owner.requeue(planned.text)
        elif owner.stage is Stage.SENT:
            owner.stage = Stage.QUEUED  # planned again on the new text
        if self._refused_since is None:
            self._refused_since = asyncio.get_running_loop().time()

    def _count(self, planned: Planned) -> None:
        if not planned.counted and isinstance(planned.owner, Writer):
            planned.counted = True
            planned.owner.add_placed(planned.text)

    def _lose(self, planned: Planned, may_land: bool = False) -> None:
        """`planned` never applied, or applied off its anchor: its text goes again, and so
        does that of its writer's later edits, which must then not stay where they land.
        With `may_land` it is not certain yet: if it turns up, it is undone there."""
        owner = planned.owner
        later = [
            e
            for e in self._log
            if e.owner is owner and e.state is State.OUT and e.seq > planned.seq
        ]
        if may_land:
            planned.state = State.ORPHAN
        else:
            planned.state = State.LOST
            self._settle_entry(planned)
        self._ahead = None
        if isinstance(owner, Writer):
            chain = [planned, *later]
            counted = sum(len(e.text) for e in chain if e.counted)
            if counted:
                owner.placed = owner.placed[: owner.placed_length - counted]
            for entry in chain:
                entry.counted = False
            for entry in later:
                entry.state = State.ORPHAN
            if not owner.closed:
                owner.requeue("".join(e.text for e in chain))
                owner.idle.clear()
        elif owner.stage in (Stage.SENT, Stage.APPLIED):
            owner.stage = Stage.QUEUED
        self._kick()

    def _settle_entry(self, planned: Planned) -> None:
        if planned in self._log:
            self._log.remove(planned)
        if planned.watchdog is not None:
            planned.watchdog.cancel()

    # -- what the client syncs back --------------------------------------------------------

    def _synced(self) -> None:
        self._syncs += 1
        self._last_sync = asyncio.get_running_loop().time()
        self._unversioned = False
        for entry in list(self._log):
            if entry.answer is None or entry.answer_sync >= self._syncs:
                continue  # this sync may have been sent before the client had it
            if entry.state is State.OUT and entry.answer:
                log.info("edit %s was answered applied but never applied", entry.seq)
                self._lose(entry)
            else:
                self._settle_entry(entry)  # past the last sync that could show it
        self._ahead = None
        self._sync.set()
        self._update_all_idle()
        self._kick()

    def _observe(self, change: Change) -> None:
        self._ahead = None
        # An edit the client said it applied is likelier than one it refused or one whose
        # text already went again: they are tried first.
        order = sorted(range(len(self._log)), key=lambda i: self._log[i].state is not State.OUT)
        for index in order:
            entry = self._log[index]
            landed = self._landed(entry, change)
            if landed is None:
                continue
            if entry.state is State.OUT:
                # An orphan sent earlier with the same effect landed first, if both did
                # (edits apply in order); taking it for the later edit would leave the
                # second copy to pass for the user's. Undoing the orphan is always right:
                # its text went again.
                index, entry, landed = self._earliest_orphan(index, change) or (
                    index,
                    entry,
                    landed,
                )
            # Edits apply in the order they were sent: the ones before it never will.
            for earlier in self._log[:index]:
                if earlier.state is State.OUT:
                    self._lose(earlier)
                else:
                    self._settle_entry(earlier)
            self._arrive(entry, landed)
            return
        for entry in self._log:
            if entry.state is State.OUT and entry.versioned and not entry.doomed:
                # It could apply only on the version it named, which this change ended.
                entry.doomed = True
                if entry.answer is not False:
                    # Its text goes again now: the answer, whatever it says, changes nothing.
                    # (A guessed version may have met the user's own change: if the edit
                    # turns up all the same, it is undone.)
                    self._lose(entry, may_land=True)
                    if self._inflight is entry:
                        self._inflight = None
                        entry.answered.set()
        self._here.foreign(change)

    def _earliest_orphan(self, index: int, change: Change) -> tuple[int, Planned, Change] | None:
        for earlier, entry in enumerate(self._log[:index]):
            if entry.state is State.ORPHAN and (landed := self._landed(entry, change)):
                return earlier, entry, landed
        return None

    def _landed(self, planned: Planned, change: Change) -> Change | None:
        """`planned` as the change it makes to the synced document, if `change` is it."""
        buffer = self.document.buffer
        raw = Change(buffer.loc(planned.raw.start), buffer.loc(planned.raw.end), planned.text)
        ours = joined(buffer, raw)
        return ours if same_effect(buffer, ours, change) else None

    def _arrive(self, planned: Planned, ours: Change) -> None:
        buffer = self.document.buffer
        raw_at = (buffer.loc(planned.raw.start), buffer.loc(planned.raw.end))
        owner = planned.owner
        at_anchor = raw_at == self._here.anchor(owner)
        if planned.state is State.OUT:
            if at_anchor:  # a client that ignored a stale version applied it all the same
                planned.state = State.CONFIRMED
                self._settle_entry(planned)
                self._count(planned)
                self._accept(owner, ours)
                return
            log.info("edit landed off its anchor at %s, repairing", ours.start)
            self._lose(planned)
        else:
            self._settle_entry(planned)
            if isinstance(owner, Replacement) and owner.stage is Stage.QUEUED and at_anchor:
                self._accept(owner, ours)  # refused, yet applied: it is done
                return
        self._undo(ours, owner.label)

    def _accept(self, owner: Owner, ours: Change) -> None:
        self._here.place(owner, ours)
        if isinstance(owner, Replacement):
            owner.stage = Stage.CONFIRMED
            owner.settle(True)
            self._disown(owner)
