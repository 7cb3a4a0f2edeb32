"""Large documents: per-edit cost on a large document over a 5 KB one (`large_document`)."""

from __future__ import annotations

from .large_document import measure_large_document
from .report import Figure
from .sizes import Sizes


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g} MB"


async def large_documents(sizes: Sizes, repeat: int) -> Figure:
    # Odd repeats measure the large document first: neither size always runs warmer.
    values = await measure_large_document(
        sizes.large_document_bytes, sizes.large_document_chunks, large_first=bool(repeat % 2)
    )
    return Figure(
        "large_document_ratio",
        f"Per-edit cost, {_megabytes(sizes.large_document_bytes)} / 5 KB document",
        "vscode",
        values["ratio"],
        "x",
        1.5,
        server=f"{values['large_ms']:.2f} ms/edit over {values['large_edits']:.0f} edits; "
        f"command → first edit {values['large_first_edit_ms']:.1f} ms",
        baseline=f"5 KB: {values['small_ms']:.2f} ms/edit over {values['small_edits']:.0f} edits; "
        f"command → first edit {values['small_first_edit_ms']:.1f} ms",
        details=values,
    )
