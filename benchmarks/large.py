"""Large documents: per-edit cost on 5 MB over 5 KB, measured by `large_document.py`.

That module is written separately; it is imported only when this figure is measured, and
its absence is reported rather than fatal.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import math
from collections.abc import Mapping
from typing import Any

from .report import Figure

_RATIO_KEYS = ("ratio", "per_edit_ratio", "cost_ratio")


def _as_dict(result: Any) -> dict[str, Any]:
    if isinstance(result, Mapping):
        return dict(result)
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.asdict(result)
    if hasattr(result, "__attrs_attrs__"):
        return {a.name: getattr(result, a.name) for a in result.__attrs_attrs__}
    return {k: v for k, v in vars(result).items() if not k.startswith("_")}


def _unavailable(why: str) -> Figure:
    return Figure(
        "large_document_ratio",
        "Per-edit cost, 5 MB / 5 KB document",
        "vscode",
        math.nan,
        "x",
        1.5,
        server=why,
        details={"status": "not available", "reason": why},
    )


async def large_documents(quick: bool, base_url: str, api_key: str) -> Figure:
    try:
        from .large_document import measure_large_document  # type: ignore[import-not-found,unused-ignore]
    except ImportError as error:
        return _unavailable(f"not available ({error})")
    offered = {"quick": quick, "base_url": base_url, "api_key": api_key}
    accepted = inspect.signature(measure_large_document).parameters
    kwargs = {k: v for k, v in offered.items() if k in accepted}
    if inspect.iscoroutinefunction(measure_large_document):
        result = await measure_large_document(**kwargs)
    else:
        # In a thread: a synchronous measurement may run an event loop of its own.
        result = await asyncio.to_thread(measure_large_document, **kwargs)
    values = _as_dict(result)
    ratio = next((float(values[k]) for k in _RATIO_KEYS if k in values), math.nan)
    return Figure(
        "large_document_ratio",
        "Per-edit cost, 5 MB / 5 KB document",
        str(values.get("client", "vscode")),
        ratio,
        "x",
        1.5,
        server=", ".join(
            f"{k} {v:.3g}"
            for k, v in values.items()
            if isinstance(v, float) and k not in _RATIO_KEYS
        ),
        details={"status": "measured", **values},
    )
