"""Smoke test of the benchmark suite: at tiny sizes it runs end to end and reports every
figure, and repeats fold into a median and a worst run. It asserts nothing about speed;
`make bench` is where the figures are judged."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.report import Figure, merge, table

ROOT = Path(__file__).resolve().parent.parent

EXPECTED = {
    ("startup_ratio", "vscode"),
    ("idle_rss_mb", "vscode"),
    ("first_generation_ratio", "vscode"),
    ("per_chunk_overhead_ms", "vscode"),
    ("per_chunk_overhead_ms", "neovim"),
    ("time_to_first_edit_over_baseline_ms", "vscode"),
    ("time_to_first_edit_over_baseline_ms", "neovim"),
    ("throughput_ratio", "vscode"),
    ("throughput_ratio", "neovim"),
    ("cpu_per_chunk_ratio", "vscode"),
    ("cpu_per_chunk_ratio", "neovim"),
    ("cancel_to_disconnect_p99_ms", "vscode"),
    ("cancel_to_disconnect_p99_ms", "neovim"),
    ("cancel_to_answer_p99_ms", "vscode"),
    ("cancel_to_answer_p99_ms", "neovim"),
    ("concurrency_ratio", "vscode"),
    ("cpu_per_chunk_ratio_concurrent", "vscode"),
    ("many_at_once_ratio", "vscode"),
    ("rss_per_running_generation_kb", "vscode"),
    ("rss_growth_mb", "vscode"),
    ("inline_overhead_ms", "vscode"),
    ("inline_superseded_close_p99_ms", "vscode"),
    ("inline_requests_per_100_keys", "vscode"),
    ("large_document_ratio", "vscode"),
}


def _bench(tmp_path: Path, *flags: str) -> tuple[dict[str, Any], str]:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out), *flags],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text()), done.stdout


@pytest.mark.timeout(300)
def test_quick_suite_reports_every_figure(tmp_path: Path) -> None:
    document, stdout = _bench(tmp_path)
    figures = document["figures"]
    by_key = {(f["key"], f["client"]): f for f in figures}
    assert not EXPECTED - set(by_key), "figures missing from the JSON"
    for key in EXPECTED:
        figure = by_key[key]
        assert figure["value"] is not None and math.isfinite(figure["value"]), key
        assert figure["target"] is not None, key
        assert figure["runs"] == [figure["value"]] == [figure["median"]], key
    assert by_key[("per_chunk_overhead_ms", "vscode")]["details"]["runs"][0]["missing_chunks"] == 0
    for name in ("many_at_once_ratio", "rss_growth_mb", "concurrency_ratio"):
        assert by_key[(name, "vscode")]["details"]["runs"][0]["documents_wrong"] == 0, name
    assert set(document["load_average"]) == {"before", "after"}
    assert "load average before" in stdout
    for label in {f["label"] for f in figures}:
        assert label in stdout


@pytest.mark.timeout(300)  # three quick runs of the suite in a subprocess
def test_repeats_keep_every_run(tmp_path: Path) -> None:
    document, _ = _bench(tmp_path, "--repeats", "3", "--only", "cancellation")
    assert document["repeats"] == 3
    for figure in document["figures"]:
        assert len(figure["runs"]) == len(figure["details"]["runs"]) == 3
        assert figure["median"] == sorted(figure["runs"])[1]
        assert figure["worst"] == max(figure["runs"])


def _figure(value: float, higher_is_better: bool = False, **kwargs: Any) -> Figure:
    return Figure("k", "a figure", "vscode", value, "x", 1.0, server=f"{value}",
                  higher_is_better=higher_is_better, details={"v": value}, **kwargs)  # fmt: skip


def test_merge_takes_the_median_and_the_bad_end() -> None:
    (lower,) = merge([_figure(v) for v in (0.9, 1.2, 0.8)])
    assert (lower.value, lower.worst, lower.runs) == (0.9, 1.2, [0.9, 1.2, 0.8])
    assert lower.server == "0.9"  # the words of the median run
    assert lower.details == {"runs": [{"v": 0.9}, {"v": 1.2}, {"v": 0.8}]}
    assert lower.met is True
    (higher,) = merge([_figure(v, higher_is_better=True) for v in (50.0, 70.0, 60.0)])
    assert (higher.value, higher.worst) == (60.0, 50.0)


def test_a_worst_target_fails_a_good_median() -> None:
    (merged,) = merge([_figure(v, worst_target=1.1) for v in (0.9, 0.95, 1.2)])
    assert merged.value <= merged.target  # type: ignore[operator]
    assert merged.met is False
    assert "MISSED" in table([merged], ([0.5, 0.4, 0.3], [0.6, 0.5, 0.4]), 3)
