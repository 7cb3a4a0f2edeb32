"""How much one run of each figure measures: the default run, `--full` and `--quick`.

A figure is measured once per repeat (`--repeats`); these are the sizes of one such run.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Sizes:
    # Paced streams: per-chunk overhead and time to first edit. 20 ms apart, every chunk
    # travels alone, so its own latency is visible.
    paced_chunks: int = 20
    pace_ms: float = 20.0
    paced_pairs: int = 1
    first_edit_pairs: int = 5  # two-chunk streams: time to first edit
    # The emulator as fast as it can go, for throughput.
    fast_chunks: int = 1000
    fast_chunk_chars: int = 100
    fast_pairs: int = 2
    # Cancellation: a stream long enough never to end before the cancel.
    cancel_runs: int = 10
    cancel_pace_ms: float = 10.0
    # Concurrency: generations at once, each a second-long stream of 1,600 chars/s (faster
    # than Gemini Flash writes) in chunks 50 ms apart. The same stream is the first
    # generation's, against a later one.
    concurrent: int = 32
    many_at_once: int = 100
    concurrent_chunks: int = 20
    concurrent_chunk_chars: int = 80
    concurrent_pace_ms: float = 50.0
    # Start-up: fresh processes, alternated with the framework-import floor.
    startup_reps: int = 1
    startup_warmups: int = 1  # in the first repeat only: it reads every file from disk
    rss_floors: bool = True  # also measure what the bare imports hold (first repeat only)
    # Memory growth: generations run by one fresh server.
    memory_generations: int = 200
    # Large documents (large_document.py): the large one's size, lines streamed into each.
    large_document_bytes: int = 50_000_000
    large_document_chunks: int = 600
    # Inline completions (inline.py): overhead pairs, superseded requests, keys of steady
    # typing, bursts and the suggestion's characters typed after each.
    inline_pairs: int = 8
    inline_supersede_runs: int = 10
    inline_steady_keys: int = 25
    inline_bursts: int = 2
    inline_typed_chars: int = 6


DEFAULT = Sizes()
# The size the memory target is stated for; the default run measures less to stay short.
FULL = attrs.evolve(DEFAULT, memory_generations=1000)
QUICK = Sizes(
    paced_chunks=5,
    pace_ms=5.0,
    paced_pairs=1,
    first_edit_pairs=1,
    fast_chunks=50,
    fast_pairs=1,
    cancel_runs=3,
    concurrent=3,
    many_at_once=5,
    concurrent_chunks=5,
    concurrent_pace_ms=5.0,
    startup_reps=1,
    startup_warmups=0,
    rss_floors=False,
    memory_generations=20,
    large_document_bytes=200_000,
    large_document_chunks=100,
    inline_pairs=2,
    inline_supersede_runs=2,
    inline_steady_keys=5,
    inline_bursts=1,
    inline_typed_chars=2,
)
