"""`long_lived`, run in a fresh interpreter each: it freezes what exists, for good."""

from __future__ import annotations

import subprocess
import sys

_MADE_INSIDE = """
import gc
from gemini_lsp.gemini.collector import long_lived

def collections():
    return sum(generation["collections"] for generation in gc.get_stats())

before, frozen = collections(), gc.get_freeze_count()
with long_lived():
    # Like an import: many objects that refer to one another and stay.
    kept = [[] for _ in range(20_000)]
    for a, b in zip(kept, kept[1:]):
        a.append(b)
    inside = collections() - before
# Objects waiting for the next young collection: none left behind by the pause (the first
# collection after it would scan all 20,000 at once).
print(inside, gc.get_count()[0], gc.isenabled(), gc.get_freeze_count() - frozen >= 20_000)
"""

_OFF_STAYS_OFF = """
import gc
from gemini_lsp.gemini.collector import long_lived

gc.disable()
with long_lived():
    pass
off = gc.isenabled()
gc.enable()
try:
    with long_lived():
        raise KeyError
except KeyError:
    pass
print(off, gc.isenabled())
"""


def _run(script: str) -> list[str]:
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return run.stdout.split()


def test_nothing_is_collected_inside_and_what_was_made_is_frozen() -> None:
    # 20,000 allocations would set off about 28 collections; none runs, none is left owed.
    assert _run(_MADE_INSIDE) == ["0", "0", "True", "True"]


def test_the_collector_is_left_as_it_was_even_after_an_error() -> None:
    assert _run(_OFF_STAYS_OFF) == ["False", "True"]
