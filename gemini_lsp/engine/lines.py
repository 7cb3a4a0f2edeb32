"""A large document's lines, stored in blocks so that it stays cheap to edit.

In one flat list, a line inserted in the middle of a 50 MB document moves a million
pointers, and every full collection walks all of them (80 to 90 ms on a busy server, often
enough to stall a stream). In blocks, an edit rebuilds the block or two it touches, and the
collector sees one entry per block: the blocks are tuples of strings, which it stops
tracking. Below `BLOCKS_FROM` lines a plain list is quicker to edit, and stays.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator, Sequence
from typing import overload

# Measured: at 100,000 lines a one-line edit costs a list and blocks about the same (30 to
# 40 µs); at a million, 140 µs against 50 µs, and the list adds 30 ms to every full
# collection.
BLOCKS_FROM = 100_000
# Lines per block at most: rebuilding one costs about a microsecond, and a million-line
# document has a few thousand blocks.
BLOCK_SIZE = 256


class Lines(Sequence[str]):
    """A sequence of lines that `splice` changes in place."""

    __slots__ = ("_block_size", "_blocks", "_counted", "_hit", "_length", "_starts")

    def __init__(self, lines: list[str], block_size: int = BLOCK_SIZE) -> None:
        self._block_size = block_size
        # The index of each block's first line. Only the first `_counted` are sure: an edit
        # that adds or removes lines leaves the later ones to be re-counted when needed,
        # which a stream of edits at one place never needs.
        self._starts: list[int] = []
        self._counted = 0
        self._hit = 0  # the block the last lookup found: the next one is most often there
        self._fill(lines)

    def _fill(self, lines: list[str]) -> None:
        self._blocks = _pieces(lines, self._block_size)
        self._length = len(lines)
        self._recount()

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[str]:
        return itertools.chain.from_iterable(self._blocks)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return self._slice(index)
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("line index out of range")
        block, offset = self._find(index)
        return self._blocks[block][offset]

    def _slice(self, span: slice) -> list[str]:
        start, stop, step = span.indices(self._length)
        if step != 1:
            return list(self)[span]
        taken: list[str] = []
        if start >= stop:
            return taken
        block, offset = self._find(start)
        while len(taken) < stop - start:
            taken.extend(self._blocks[block][offset : offset + stop - start - len(taken)])
            block, offset = block + 1, 0
        return taken

    def _find(self, index: int) -> tuple[int, int]:
        """The block holding line `index` (0 ≤ index ≤ len: the end is in the last block),
        and the line's place in it."""
        blocks, starts, counted, hit = self._blocks, self._starts, self._counted, self._hit
        if hit < counted and starts[hit] <= index < starts[hit] + len(blocks[hit]):
            return hit, index - starts[hit]
        if counted < len(blocks) and (
            not counted or index >= starts[counted - 1] + len(blocks[counted - 1])
        ):
            last = len(blocks) - 1
            last_start = self._length - len(blocks[last])
            if index >= last_start:
                return last, index - last_start
            self._recount()
            starts, counted = self._starts, self._counted
        block = bisect.bisect_right(starts, index, 0, counted) - 1
        self._hit = block
        return block, index - starts[block]

    def _recount(self) -> None:
        lengths = (len(block) for block in self._blocks[:-1])
        self._starts = list(itertools.accumulate(lengths, initial=0)) if self._blocks else []
        self._counted = len(self._blocks)

    def splice(self, start: int, stop: int, new: Sequence[str]) -> None:
        """Replace lines `start` to `stop` (exclusive, 0 ≤ start ≤ stop ≤ len) by `new`."""
        blocks = self._blocks
        if not blocks:
            self._fill(list(new))
            return
        first, head = self._find(start)
        last, tail = self._find(max(stop - 1, start))
        if stop > start:
            tail += 1
        merged = [*blocks[first][:head], *new, *blocks[last][tail:]]
        # A block left small by deletions takes in its neighbour, so that blocks stay few.
        if (
            len(merged) < self._block_size // 2
            and last + 1 < len(blocks)
            and len(merged) + len(blocks[last + 1]) <= self._block_size
        ):
            last += 1
            merged += blocks[last]
        removed = sum(len(block) for block in blocks[first : last + 1])
        pieces = _pieces(merged, self._block_size)
        lengths = (len(piece) for piece in pieces[:-1])
        starts = list(itertools.accumulate(lengths, initial=start - head))
        blocks[first : last + 1] = pieces
        self._starts[first : last + 1] = starts[: len(pieces)]
        self._length += len(merged) - removed
        counted, replaced = self._counted, last + 1 - first
        if len(merged) == removed and counted > last:
            # As many lines as before: the starts after the edit still hold.
            self._counted = counted + len(pieces) - replaced
        elif first <= counted:
            self._counted = first + len(pieces)

    def copy(self) -> Lines:
        """An independent copy; the blocks, never changed in place, are shared."""
        twin = Lines.__new__(Lines)
        twin._block_size = self._block_size
        twin._blocks = list(self._blocks)
        twin._starts = list(self._starts)
        twin._counted = self._counted
        twin._hit = self._hit
        twin._length = self._length
        return twin


def line_store(lines: list[str]) -> list[str] | Lines:
    """Where a document keeps `lines`: the list itself, or blocks once it is large."""
    return Lines(lines) if len(lines) >= BLOCKS_FROM else lines


def splice(lines: list[str] | Lines, start: int, stop: int, new: list[str]) -> None:
    """Replace lines `start` to `stop` (exclusive) of either store by `new`."""
    if isinstance(lines, Lines):
        lines.splice(start, stop, new)
    else:
        lines[start:stop] = new


def _pieces(lines: list[str], block_size: int) -> list[tuple[str, ...]]:
    """`lines` cut into blocks of at most `block_size`, of even sizes (so that a block that
    overflows by one line leaves two half-full blocks with room to grow, not a full one)."""
    if not lines:
        return []
    count = -(-len(lines) // block_size)
    size = -(-len(lines) // count)
    return [tuple(lines[begin : begin + size]) for begin in range(0, len(lines), size)]
