"""Per-chunk overhead, time to first edit and throughput: the same stream through the
raw SDK and through the server, alternately.

Latencies are counted from the moment the emulator received each request: it schedules
every chunk from that moment, so chunk i leaves at the same offset in both runs and the
difference of the two offsets is what the server adds on its way to the editor.
"""

from __future__ import annotations

from typing import Any

from testkit.styles import Style

from .harness import DOCUMENT, BaselineRun, Harness, ServerRun, chunk_texts, reply
from .report import Figure
from .sizes import Sizes
from .stats import median, ms, percentile


async def _pairs(
    harness: Harness, style: Style, scripted: dict[str, Any], count: int
) -> list[tuple[BaselineRun, ServerRun]]:
    client = await harness.server(style)
    pairs = []
    for k in range(count):
        # Alternate who goes first, so that a drifting machine favours neither.
        if k % 2 == 0:
            base = await harness.baseline_run(scripted)
            run = await harness.server_run(client, scripted)
        else:
            run = await harness.server_run(client, scripted)
            base = await harness.baseline_run(scripted)
        pairs.append((base, run))
    return pairs


async def per_chunk(harness: Harness, style: Style, sizes: Sizes, floor: float) -> Figure:
    """`floor`: `pipe_floor_ms` for the same chunks and pace."""
    chunks = chunk_texts(sizes.paced_chunks)
    pairs = await _pairs(harness, style, reply(chunks, sizes.pace_ms), sizes.paced_pairs)
    overheads: list[float] = []
    missing = 0
    for base, run in pairs:
        at_sdk, at_editor = base.chunk_times(), run.chunk_times()
        for i in range(len(chunks)):
            if i not in at_sdk or i not in at_editor:
                missing += 1
                continue
            overheads.append(ms((at_editor[i] - run.received_at) - (at_sdk[i] - base.received_at)))
    edits = [len(run.document.edits) for _, run in pairs]
    return Figure(
        "per_chunk_overhead_ms",
        "Per-chunk overhead, median",
        style.name,
        median(overheads),
        "ms",
        0.25 if style.debounce_s == 0 else None,
        server=f"p95 {percentile(overheads, 95):.2f} ms; {median(edits):.0f} edits/run; "
        f"{median(overheads) - floor:.2f} ms over the floor",
        baseline=f"{len(chunks)} chunks {sizes.pace_ms:g} ms apart; "
        f"floor {floor:.2f} ms: a message piped to this client",
        details={
            "pipe_floor_ms": floor,
            "p95_ms": percentile(overheads, 95),
            "p5_ms": percentile(overheads, 5),
            "samples": len(overheads),
            "missing_chunks": missing,
            "edits_per_run": edits,
        },
    )


async def first_edit(harness: Harness, style: Style, sizes: Sizes) -> Figure:
    """Command sent → first edit, against call made → first chunk; short streams, many pairs."""
    scripted = reply(chunk_texts(2), sizes.pace_ms)
    pairs = await _pairs(harness, style, scripted, sizes.first_edit_pairs)
    first_edit = [ms(run.first_edit_at - run.sent_at) for _, run in pairs]
    first_chunk = [ms(base.stream.chunk_times[0] - base.stream.started_at) for base, _ in pairs]
    return Figure(
        "time_to_first_edit_over_baseline_ms",
        "Time to first edit - baseline's first chunk",
        style.name,
        median([e - c for e, c in zip(first_edit, first_chunk, strict=True)]),
        "ms",
        5.0 if style.debounce_s == 0 else None,
        server=f"first edit {median(first_edit):.1f} ms",
        baseline=f"first chunk {median(first_chunk):.1f} ms (sent after {sizes.pace_ms:g} ms)",
        details={"first_edit_ms": first_edit, "first_chunk_ms": first_chunk},
    )


async def throughput(harness: Harness, style: Style, sizes: Sizes) -> list[Figure]:
    chunks = chunk_texts(sizes.fast_chunks, sizes.fast_chunk_chars)
    chars = sum(len(c) for c in chunks)
    # The generated text loses its final newline: a line break already follows the cursor.
    expected = DOCUMENT.replace("\n\n", "\n" + "".join(chunks)[:-1] + "\n")
    pairs = await _pairs(harness, style, reply(chunks, 0, 0), sizes.fast_pairs)
    server_s = [run.last_edit_at - run.sent_at for _, run in pairs]
    base_s = [base.stream.ended_at - base.stream.started_at for base, _ in pairs]
    ratios = [s / b for s, b in zip(server_s, base_s, strict=True)]
    wrong = sum(run.document.text != expected for _, run in pairs)
    edits = [len(run.document.edits) for _, run in pairs]
    server_cpu = ms(median([run.cpu_seconds for _, run in pairs])) / len(chunks)
    sdk_cpu = ms(median([base.cpu_seconds for base, _ in pairs])) / len(chunks)
    # An editor that syncs nothing during the request is streamed to ahead of its sync.
    quiet = style.quiet_while_requesting
    throughput_figure = Figure(
        "throughput_ratio",
        "Throughput: time to last edit / SDK stream",
        style.name,
        median(ratios),
        "x",
        1.10 if quiet else 1.02,
        worst_target=None if quiet else 1.04,
        server=f"{ms(median(server_s)):.0f} ms, {median(edits):.0f} edits; "
        f"CPU {server_cpu:.2f} ms/chunk",
        baseline=f"{ms(median(base_s)):.0f} ms, {chars / median(base_s) / 1000:.0f}k chars/s; "
        f"CPU {sdk_cpu:.2f} ms/chunk",
        details={
            "chars": chars,
            "chunks": len(chunks),
            "server_ms": [ms(s) for s in server_s],
            "baseline_ms": [ms(b) for b in base_s],
            "baseline_chars_per_s": chars / median(base_s),
            "documents_wrong": wrong,
            "server_cpu_ms_per_chunk": server_cpu,
            "sdk_cpu_ms_per_chunk": sdk_cpu,
        },
    )
    cpu_figure = Figure(
        "cpu_per_chunk_ratio",
        "CPU per chunk / SDK's, one generation",
        style.name,
        server_cpu / sdk_cpu,
        "x",
        1.15,
        server=f"{server_cpu:.3f} ms/chunk",
        baseline=f"SDK {sdk_cpu:.3f} ms/chunk",
        details={"server_cpu_ms_per_chunk": server_cpu, "sdk_cpu_ms_per_chunk": sdk_cpu},
    )
    return [throughput_figure, cpu_figure]
