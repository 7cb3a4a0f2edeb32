"""How long to wait after a keystroke before asking the model (pure).

A fixed debounce shorter than the gap between keystrokes asks once per keystroke, each
answer thrown away by the next key. So the wait stretches to twice the user's usual gap
(the median of the recent ones), within a cap: while typing steadily nothing is asked, and
a pause a little longer than usual asks once. The pace is the user's, not a document's: gaps
are measured within each document and pooled, so a newly opened file knows it already.
"""

from __future__ import annotations

import statistics
from collections import deque

# Gaps longer than this are pauses, not typing.
PAUSE_S = 1.0
STRETCH = 2.0
MAX_WAIT_S = 0.5
MIN_GAPS = 1


class TypingPace:
    def __init__(self, remember: int = 16) -> None:
        self._gaps: deque[float] = deque(maxlen=remember)
        self._last: dict[str, float] = {}

    def keystroke(self, where: str, now: float) -> None:
        """A keystroke (an automatic request) in document `where` at time `now` (s)."""
        last = self._last.get(where)
        if last is not None and 0 <= now - last < PAUSE_S:
            self._gaps.append(now - last)
        self._last[where] = now

    def forget(self, where: str) -> None:
        self._last.pop(where, None)

    def wait(self, debounce_s: float) -> float:
        """The wait after the latest keystroke: at least `debounce_s`."""
        if len(self._gaps) < MIN_GAPS:
            return debounce_s
        usual = statistics.median(self._gaps)
        return max(debounce_s, min(STRETCH * usual, MAX_WAIT_S))
