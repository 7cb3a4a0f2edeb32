"""Figures, the table people read and the JSON machines read."""

from __future__ import annotations

import json
import math
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    key: str  # stable name for the JSON, e.g. "per_chunk_overhead_ms"
    label: str
    client: str  # the editor behaviour it was measured with, or "-"
    value: float
    unit: str
    target: float | None = None  # the figure must not exceed it
    server: str = ""  # what the server measured, in words
    baseline: str = ""  # what the baseline measured, in words
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        if self.target is None or math.isnan(self.value):
            return None
        return self.value <= self.target


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in cpuinfo
                    if line.startswith("model name")
                ),
                "",
            )
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model or platform.processor(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _number(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "never"
    text = f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return f"{text} {unit}" if unit != "x" else f"{text}x"


def table(figures: list[Figure]) -> str:
    rows = [("figure", "client", "result", "target", "", "server", "baseline")]
    for f in figures:
        verdict = {True: "ok", False: "MISSED", None: ""}[f.met]
        target = "" if f.target is None else "≤ " + _number(f.target, f.unit)
        rows.append(
            (f.label, f.client, _number(f.value, f.unit), target, verdict, f.server, f.baseline)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def write_json(path: Path, figures: list[Figure], extra: dict[str, Any]) -> None:
    def clean(value: Any) -> Any:
        # JSON has no NaN or infinity: a figure that could not be measured is null.
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    document = {
        "machine": machine(),
        **extra,
        "figures": [{**asdict(f), "met": f.met} for f in figures],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(clean(document), indent=2) + "\n")
