"""How much of everything a run measures: the full suite, and a quick one for the smoke test."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    # Paced streams: per-chunk overhead and time to first edit. 20 ms apart, every chunk
    # travels alone, so its own latency is visible.
    paced_chunks: int = 40
    pace_ms: float = 20.0
    paced_pairs: int = 5
    first_edit_pairs: int = 15  # two-chunk streams: time to first edit
    # The emulator as fast as it can go, for throughput.
    fast_chunks: int = 1000
    fast_chunk_chars: int = 100
    fast_pairs: int = 40
    # Cancellation: a stream long enough never to end before the cancel.
    cancel_runs: int = 40
    cancel_pace_ms: float = 10.0
    # Concurrency: generations at once, each a second-long stream of 1,600 chars/s (faster
    # than Gemini Flash writes) in chunks 50 ms apart.
    concurrent: int = 32
    concurrent_chunks: int = 20
    concurrent_chunk_chars: int = 80
    concurrent_pace_ms: float = 50.0
    concurrent_reps: int = 3
    # Start-up: fresh processes, alternated with the framework-import floor.
    startup_reps: int = 5
    startup_warmups: int = 1  # rounds not counted: the first start reads every file from disk
    rss_floors: bool = True  # also measure what the bare imports hold, for comparison
    # Large documents (benchmarks/large_document.py), when it is there.
    large_document: bool = True
    # Inline completions (benchmarks/inline.py): overhead pairs, superseded requests, keys
    # of steady typing, bursts and the suggestion's characters typed after each.
    inline_pairs: int = 24
    inline_supersede_runs: int = 30
    inline_steady_keys: int = 50
    inline_bursts: int = 3
    inline_typed_chars: int = 6


FULL = Sizes()
QUICK = Sizes(
    paced_chunks=5,
    pace_ms=5.0,
    paced_pairs=1,
    first_edit_pairs=1,
    fast_chunks=50,
    fast_pairs=1,
    cancel_runs=3,
    concurrent=3,
    concurrent_chunks=5,
    concurrent_pace_ms=5.0,
    concurrent_reps=1,
    startup_reps=1,
    startup_warmups=0,
    rss_floors=False,
    inline_pairs=2,
    inline_supersede_runs=2,
    inline_steady_keys=5,
    inline_bursts=1,
    inline_typed_chars=2,
)
