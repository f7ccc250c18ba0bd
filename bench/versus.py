"""shiori against the usual llama-index pipeline on the gold set, queries interleaved.

The baseline is ``assistant.baseline.LlamaIndexDefaults`` and every item is run and
scored by ``assistant.evaluate.run_item`` / ``compute_metrics``: the same code as
``shiori eval --compare``. Only the order differs: here the two systems alternate
per item so that the machine's load hits both alike (their latencies are compared).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.baseline import LlamaIndexDefaults
from assistant.evaluate import ItemRecord, System, compute_metrics, run_item
from assistant.gold import GoldItem

logger = logging.getLogger(__name__)

WARMUP_ITEMS = 3


def interleave(systems: Sequence[System], items: Sequence[GoldItem]) -> list[list[ItemRecord]]:
    """Run every item on every system; the order of the systems rotates from item to item."""
    records: list[list[ItemRecord]] = [[] for _ in systems]
    n = len(systems)
    for i, item in enumerate(items):
        for j in range(n):
            s = (i + j) % n
            records[s].append(run_item(systems[s], item))
    return records


def summarize(
    system: str, build_seconds: float, passages: int, records: Sequence[ItemRecord]
) -> dict[str, Any]:
    """One system's column: build, size, the interface metrics and the per-item records."""
    return {
        "system": system,
        "build_seconds": build_seconds,
        "passages": passages,
        "items": len(records),
        **compute_metrics(records),
        "per_item": [r.to_json() for r in records],
    }


def run_versus(
    pipeline, corpus_dir: Path, items: Sequence[GoldItem], shiori_build_s: float
) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Both systems answer every item, interleaved, after a short warm-up on each."""
    base = LlamaIndexDefaults(Path(corpus_dir), pipeline.embedder)
    interleave([pipeline, base], items[:WARMUP_ITEMS])  # warm-up, as for the query path
    ours, theirs = interleave([pipeline, base], items)
    return {
        "shiori": summarize("shiori (hybrid, extractive)", shiori_build_s, pipeline.index().size, ours),
        "llamaindex": {
            **summarize(base.name, base.build_seconds, base.passages, theirs),
            "config": base.config,
        },
    }
