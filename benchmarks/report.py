"""Figures, the table people read and the JSON machines read.

Every figure is measured once per repeat; `merge` folds the repeats of one figure into its
median and its worst run, keeping every run's value and details for the JSON.
"""

from __future__ import annotations

import json
import math
import os
import platform
from pathlib import Path
from typing import Any

import attrs

from .stats import median


@attrs.define
class Figure:
    key: str  # stable name for the JSON, e.g. "per_chunk_overhead_ms"
    label: str
    client: str  # the editor behaviour it was measured with, or "-"
    value: float  # one run's value; after `merge`, the median of the runs
    unit: str
    target: float | None = None  # the median must not exceed it
    server: str = ""  # what the server measured, in words
    baseline: str = ""  # what the baseline measured, in words
    details: dict[str, Any] = attrs.field(factory=dict)
    higher_is_better: bool = False  # which way the worst run lies
    worst_target: float | None = None  # the worst run must not exceed it
    runs: list[float] = attrs.field(factory=list)  # every run's value, once merged

    @property
    def worst(self) -> float:
        values = [v for v in self.runs or [self.value] if not math.isnan(v)]
        if not values:
            return math.nan
        return min(values) if self.higher_is_better else max(values)

    @property
    def met(self) -> bool | None:
        if self.target is None or math.isnan(self.value):
            return None
        if self.worst_target is not None and not self.worst <= self.worst_target:
            return False
        return self.value <= self.target


def merge(figures: list[Figure]) -> list[Figure]:
    """One figure per (key, client), in first-seen order, from one figure per run."""
    grouped: dict[tuple[str, str], list[Figure]] = {}
    for figure in figures:
        grouped.setdefault((figure.key, figure.client), []).append(figure)
    merged = []
    for runs in grouped.values():
        values = [f.value for f in runs]
        middle = median([v for v in values if not math.isnan(v)])
        # The words come from the run nearest the median, so that they read like it.
        typical = min(
            runs, key=lambda f: abs(f.value - middle) if not math.isnan(f.value) else math.inf
        )
        merged.append(
            attrs.evolve(
                typical,
                value=middle,
                runs=values,
                # A later run may leave out what the first measured once (the floors).
                baseline=typical.baseline or next((f.baseline for f in runs if f.baseline), ""),
                details={"runs": [f.details for f in runs]},
            )
        )
    return merged


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
    return f"{text} {unit}".rstrip() if unit != "x" else f"{text}x"


def _target(figure: Figure) -> str:
    if figure.target is None:
        return ""
    text = "≤ " + _number(figure.target, figure.unit)
    if figure.worst_target is not None:
        text += ", worst ≤ " + _number(figure.worst_target, figure.unit)
    return text


def table(figures: list[Figure], load: tuple[list[float], list[float]], repeats: int) -> str:
    before, after = (" ".join(f"{v:.2f}" for v in values) for values in load)
    header = (
        f"{repeats} run(s) per figure; load average before {before}, after {after} "
        f"on {os.cpu_count()} CPUs"
    )
    rows = [("figure", "client", "median", "worst", "target", "", "server", "baseline")]
    for f in figures:
        verdict = {True: "ok", False: "MISSED", None: ""}[f.met]
        rows.append(
            (
                f.label,
                f.client,
                _number(f.value, f.unit),
                _number(f.worst, f.unit),
                _target(f),
                verdict,
                f.server,
                f.baseline,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join([header, "", *lines])


def _clean(value: Any) -> Any:
    # JSON has no NaN or infinity: a figure that could not be measured is null.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def write_json(path: Path, figures: list[Figure], extra: dict[str, Any]) -> None:
    document = {
        "machine": machine(),
        **extra,
        "figures": [
            {**attrs.asdict(f), "median": f.value, "worst": f.worst, "met": f.met} for f in figures
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_clean(document), indent=2) + "\n")
