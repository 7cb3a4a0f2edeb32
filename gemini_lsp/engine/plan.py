"""Planning the next edit: against the document as the client will have it once it applies
what was sent (the *ahead* view), the queued replacements first, then the writers in turn."""

from __future__ import annotations

from gemini_lsp.engine.anchor import Change, Region
from gemini_lsp.engine.documents import joined
from gemini_lsp.engine.ledger import Planned, PumpState, State
from gemini_lsp.engine.places import Places
from gemini_lsp.engine.text import Loc
from gemini_lsp.engine.writer import Owner, Stage, Writer


class Planner(PumpState):
    """The edit pump's planning; see `ledger.py`."""

    def _view(self) -> Places:
        """The document as the client will have it once it applies what was sent."""
        replay = [e for e in self._log if self._ahead_of_sync(e)]
        if not replay:
            self._ahead = None
            return self._here
        if self._ahead is None:
            self._ahead = self._here.copy()
            for entry in replay:
                self._replay(self._ahead, entry)
        return self._ahead

    @staticmethod
    def _ahead_of_sync(entry: Planned) -> bool:
        # An orphan is most likely where it was sent, unless its version was stale.
        orphan = entry.state is State.ORPHAN and entry.answer is not False and not entry.doomed
        return entry.state is State.OUT or orphan

    def _replay(self, view: Places, entry: Planned) -> None:
        buffer = view.buffer
        raw = Change(buffer.loc(entry.raw.start), buffer.loc(entry.raw.end), entry.text)
        change = joined(buffer, raw)
        if entry.state is State.OUT and (raw.start, raw.end) == view.anchor(entry.owner):
            view.place(entry.owner, change)
        else:
            view.foreign(change)
        buffer.replace(change.start, change.end, change.text)

    def _plan(self) -> Planned | None:
        view = self._view()
        for replacement in list(self._replacements):
            if replacement.stage is not Stage.QUEUED:
                continue
            region = view.regions[replacement.region]
            if replacement.expected is not None:
                actual = view.buffer.slice(region.start, region.end)
                if actual != replacement.expected:
                    if view is not self._here:
                        continue  # the synced document will tell what happened
                    self._salvage(replacement, actual)
                    return self._plan()
                if (
                    replacement.repair
                    and not self.versioned
                    and not self._holds_either_way(view, region, replacement.expected)
                ):
                    # Nothing protects an unversioned removal planned on a guess: it goes only
                    # if the text is right whether or not the client applied what it has not
                    # shown yet; otherwise it waits for a sync.
                    continue
            return self._planned(replacement, region.start, region.end, replacement.text, view)
        for index, writer in enumerate(self._writers):
            if writer.pending:
                # Round-robin: the writer served goes to the back of the line.
                self._writers.append(self._writers.pop(index))
                text = writer.take_pending()
                end = view.regions[writer.region].end
                return self._planned(writer, end, end, text, view)
        self._update_all_idle()
        self._writers = [w for w in self._writers if not (w.closed and w.idle.is_set())]
        return None

    def _holds_either_way(self, view: Places, region: Region, expected: str) -> bool:
        if view is self._here:
            return True
        raw = view.buffer.range(region.start, region.end)
        synced = self.document.buffer
        return synced.slice(synced.loc(raw.start), synced.loc(raw.end)) == expected

    def _planned(self, owner: Owner, start: Loc, end: Loc, text: str, view: Places) -> Planned:
        # Past the synced document, the version is a guess: one more for each edit the
        # client has yet to show. A wrong guess is refused, which is safe.
        ahead = sum(1 for e in self._log if self._ahead_of_sync(e))
        version = self.document.version + ahead
        # Only insertions fall back to unversioned edits: a removal planned on a document
        # the client may since have changed could take the user's text with it.
        fallback = self._unversioned and isinstance(owner, Writer)
        versioned = self.versioned and not fallback and version > 0
        planned = Planned(owner, view.buffer.range(start, end), text, versioned)
        planned.version = version
        return planned
