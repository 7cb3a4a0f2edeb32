"""One view of a document for the edit pump: its text, where each tracked region is in it
and where each writer's generated characters are, moved along by every change."""

from __future__ import annotations

from gemini_lsp.engine.anchor import Change, Region, carve
from gemini_lsp.engine.text import Loc, TextBuffer, end_of_insert
from gemini_lsp.engine.writer import Owner, Writer

# Two descriptions of a change further apart than this many lines are never the same.
MATCH_WINDOW_LINES = 64


class Places:
    """One view of a document: its text, the tracked regions and each writer's pieces."""

    def __init__(
        self,
        buffer: TextBuffer,
        regions: dict[Region, Region],
        pieces: dict[Writer, list[Region]],
    ) -> None:
        self.buffer = buffer
        self.regions = regions  # tracked region -> where it is in this view
        self.pieces = pieces  # writer -> where its generated characters are, in order

    def copy(self) -> Places:
        twins = {key: Region(r.start, r.end, r.empty_gravity) for key, r in self.regions.items()}
        pieces = {w: [Region(p.start, p.end) for p in spans] for w, spans in self.pieces.items()}
        return Places(self.buffer.copy(), twins, pieces)

    def anchor(self, owner: Owner) -> tuple[Loc, Loc] | None:
        """Where the owner's next edit belongs: the end of a writer, the whole of a replacement."""
        region = self.regions.get(owner.region)
        if region is None:
            return None
        if isinstance(owner, Writer):
            return region.end, region.end
        return region.start, region.end

    def foreign(self, change: Change, skip: Region | None = None) -> None:
        for key, region in self.regions.items():
            if key is not skip:
                region.map(change)
        for writer, spans in self.pieces.items():
            self.pieces[writer] = [part for span in spans for part in carve(span, change)]

    def place(self, owner: Owner, change: Change) -> None:
        """`change` is the owner's own edit, at its anchor."""
        # A place exactly at a writer's end is after its text, whatever its gravity says
        # about the user's typing: another generation there stays after this one.
        after = [
            r
            for key, r in self.regions.items()
            if isinstance(owner, Writer)
            and key is not owner.region
            and r.start == r.end
            and r.start == change.start
        ]
        self.foreign(change, skip=owner.region)
        for place in after:
            place.start = place.end = change.new_end
        region = self.regions[owner.region]
        region.end = change.new_end
        if isinstance(owner, Writer):
            spans = self.pieces.setdefault(owner, [])
            if spans and spans[-1].end == change.start:
                spans[-1].end = change.new_end
            elif change.text:
                spans.append(Region(change.start, change.new_end))
            return
        for edge in owner.displaced:
            twin = self.regions.get(edge.region)
            if twin is not None:
                setattr(twin, edge.edge, end_of_insert(region.start, owner.text[: edge.offset]))


def same_effect(buffer: TextBuffer, a: Change, b: Change) -> bool:
    """Whether two changes turn the buffer's text into the same text."""
    first = min(a.start.line, b.start.line)
    last = max(a.end.line, b.end.line)
    if last - first > MATCH_WINDOW_LINES:
        return False
    window = buffer.window(first, last)

    def applied(change: Change) -> str:
        start = buffer.offset_in_window(first, change.start)
        end = buffer.offset_in_window(first, change.end)
        return window[:start] + change.text + window[end:]

    return applied(a) == applied(b)
