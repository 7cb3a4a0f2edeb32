"""Importing a large library without the garbage collector's pauses.

An import makes tens of thousands of objects that live as long as the process (classes,
functions, typing aliases), yet every 700 allocations set off a collection, and some of
those are full ones that scan everything made so far: about a tenth of google-genai's
import, which the first generation waits for. Paused, that import holds half a megabyte
more once done (measured: 67.2 against 66.7 MB).

The server's own start-up imports (pygls, lsprotocol) are left to the collector: they make
garbage in reference cycles that the collections free as the import goes, and the pages it
piles up in when they are paused stay with the idle server (measured: 48.2 MB against 39.1).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """No collection runs inside, and what exists at the end (the imports) is frozen: out of
    reach of every later collection, whose full scans would otherwise walk it again.

    Frozen before the collector is back on: the first allocation after that would otherwise
    scan all of it at once. One thread at a time: a second pause that overlapped the first
    would turn the collector back on too early, or leave it off.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
