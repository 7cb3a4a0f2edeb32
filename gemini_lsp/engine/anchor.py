"""Anchors: places in a document that survive edits made around them.

Pure arithmetic on `Loc`s. A replacement of `[start, end)` by text ending at `new_end` moves
every anchor after it; an anchor exactly where text is inserted moves only if it has right
gravity. A generated region is `[start, end)` with a right-gravity start and a left-gravity
end, so text the user types at either edge stays outside the region, and the generation goes
on at its own end.
"""

from __future__ import annotations

import enum

import attrs

from gemini_lsp.engine.text import Loc, end_of_insert


class Gravity(enum.Enum):
    LEFT = "left"  # stays before text inserted exactly here
    RIGHT = "right"  # moves after text inserted exactly here


@attrs.frozen
class Change:
    """A replacement of `[start, end)` by `text`, in the coordinates before it."""

    start: Loc
    end: Loc
    text: str

    @property
    def new_end(self) -> Loc:
        return end_of_insert(self.start, self.text)


def map_loc(loc: Loc, change: Change, gravity: Gravity) -> Loc:
    """Where `loc` is after `change`."""
    start, end = change.start, change.end
    if loc < start:
        return loc
    if loc > end:
        new_end = change.new_end
        if loc.line == end.line:
            return Loc(new_end.line, new_end.col + loc.col - end.col)
        return Loc(loc.line + new_end.line - end.line, loc.col)
    if start == end:  # an insertion exactly here
        return change.new_end if gravity is Gravity.RIGHT else loc
    # Inside or at the edge of replaced text: the start edge stays, anything later
    # lands after the new text (which then counts as inside whatever held the old).
    return start if loc == start else change.new_end


@attrs.define(eq=False)
class Region:
    """A stretch of a document that edits around it cannot misplace.

    Compared by identity: two regions at the same place are still two anchors, and
    untracking one must not untrack the other.
    """

    start: Loc
    end: Loc
    # An empty region is one place, and both edges move together: by default it stays before
    # text inserted exactly there (a generation's insertion point stays before what the user
    # types at it).
    empty_gravity: Gravity = Gravity.LEFT

    def map(self, change: Change) -> None:
        if self.start == self.end:
            self.start = self.end = map_loc(self.end, change, self.empty_gravity)
            return
        self.start = map_loc(self.start, change, Gravity.RIGHT)
        self.end = map_loc(self.end, change, Gravity.LEFT)
        if self.end < self.start:
            self.end = self.start

    def is_empty(self) -> bool:
        return self.start == self.end


def carve(span: Region, change: Change) -> list[Region]:
    """What is left of `span` after `change`, where `span` holds only one author's characters.

    Text the change replaces inside the span is gone from it, and text the change inserts
    strictly inside it is someone else's: the span splits around it. Text inserted at either
    edge stays outside.
    """
    start, end = span.start, span.end
    if change.end < start or (change.end == start and change.start < start):
        return [Region(map_loc(start, change, Gravity.RIGHT), map_loc(end, change, Gravity.LEFT))]
    if change.start >= end or change.end == start:
        if change.start == change.end == start:  # an insertion at the span's start
            new_end = change.new_end
            return [Region(new_end, map_loc(end, change, Gravity.LEFT))]
        return [span]
    parts = []
    if start < change.start:
        parts.append(Region(start, change.start))
    if change.end < end:
        parts.append(Region(change.new_end, map_loc(end, change, Gravity.LEFT)))
    return parts
