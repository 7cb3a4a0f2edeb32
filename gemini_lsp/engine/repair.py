"""Repairs: an edit that landed off its anchor is undone where it landed, and what it
replaced goes back, without touching what the user typed inside or beside it."""

from __future__ import annotations

import asyncio

import attrs

from gemini_lsp.engine.anchor import Change, Gravity, Region
from gemini_lsp.engine.documents import common_prefix
from gemini_lsp.engine.ledger import PumpState
from gemini_lsp.engine.text import end_of_insert
from gemini_lsp.engine.writer import Displaced, Replacement, Stage


class Repairer(PumpState):
    """The edit pump's repairs; see `ledger.py`."""

    def _undo(self, landed: Change, label: str) -> None:
        """Queue the repair of a stray change: put back what it replaced.

        The repair carries the stray edit's label, so that an editor grouping edits by label
        keeps a generation, repairs included, one undo step.
        """
        buffer = self.document.buffer
        replaced = buffer.slice(landed.start, landed.end)
        # Anchors in or at the edges of the text it replaced collapse onto one place; the
        # repair puts each back where it was in that text. (A stray insertion needs none:
        # removing it maps every anchor back by itself.)
        displaced = [
            Displaced(key, edge, len(buffer.slice(landed.start, loc)))
            for key, region in self._here.regions.items()
            for edge, loc in (("start", region.start), ("end", region.end))
            if landed.start < landed.end and landed.start <= loc <= landed.end
        ]
        self._here.foreign(landed)
        if landed.text:
            region = Region(landed.start, landed.new_end)
            self._queue_repair(Replacement(region, replaced, label, landed.text, displaced))
            return
        # A stray deletion. What the user types at its place before the text is back must
        # not end up inside a region: the text goes back in two pieces, the part before the
        # first region it holds staying before such typing, the rest going after it.
        cut = self._cut(displaced, len(replaced))
        head = [e for e in displaced if e.offset < cut or (e.offset == cut and e.edge == "end")]
        tail = [attrs.evolve(e, offset=e.offset - cut) for e in displaced if e not in head]
        pieces = [(replaced[:cut], Gravity.LEFT, head), (replaced[cut:], Gravity.RIGHT, tail)]
        if not pieces[0][0]:
            pieces = [(replaced, Gravity.RIGHT, displaced)]
        elif not pieces[1][0]:
            pieces = [(replaced, Gravity.LEFT, displaced)]
        for text, gravity, edges in reversed(pieces):  # queued at the front, so in reverse
            region = Region(landed.start, landed.start, gravity)
            self._queue_repair(Replacement(region, text, label, "", edges))

    def _cut(self, displaced: list[Displaced], length: int) -> int:
        """Where put-back text divides: at the first region that starts in it, else after
        the last one that ends in it, else at its end (repairs' own regions aside)."""
        strays = [r.region for r in self._replacements if r.expected is not None]
        kept = [e for e in displaced if not any(e.region is stray for stray in strays)]
        starts = [e.offset for e in kept if e.edge == "start"]
        ends = [e.offset for e in kept if e.edge == "end"]
        return min(starts) if starts else max(ends) if ends else length

    def _queue_repair(self, repair: Replacement) -> None:
        repair.repair = True
        self._own(repair)
        self._replacements.appendleft(repair)
        for writer in self._writers:
            writer.idle.clear()
        self._kick()

    def _salvage(self, repair: Replacement, actual: str) -> None:
        """The user changed the text a repair or removal expected: do it to what is still
        as expected either side of the change.

        What they typed or removed stays as they left it; if nothing of the expected text is
        left at either edge, it is theirs now.
        """
        expected, start = repair.expected or "", repair.region.start
        prefix = common_prefix(actual, expected)
        suffix = common_prefix(actual[prefix:][::-1], expected[prefix:][::-1])
        pieces: list[Replacement] = []
        if suffix:
            tail = Region(end_of_insert(start, actual[: len(actual) - suffix]), repair.region.end)
            pieces.append(Replacement(tail, "", repair.label, expected[len(expected) - suffix :]))
        if prefix:
            head = Region(start, end_of_insert(start, actual[:prefix]))
            pieces.append(Replacement(head, "", repair.label, expected[:prefix]))
        if pieces:
            # What the stray edit replaced goes back at its first piece.
            pieces[-1].text, pieces[-1].displaced = repair.text, repair.displaced
        repair.stage = Stage.DROPPED
        self._disown(repair)
        for piece in pieces:
            piece.repair = repair.repair
            self._own(piece)
            self._replacements.appendleft(piece)
        # The original's caller learns the outcome from the pieces.
        if pieces:
            results = asyncio.gather(*(piece.done for piece in pieces))
            results.add_done_callback(
                lambda done: repair.settle(not done.cancelled() and all(done.result()))
            )
        else:
            repair.settle(False)
