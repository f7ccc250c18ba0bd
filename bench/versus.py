"""shiori against the usual llama-index pipeline on the gold set, queries interleaved."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.gold import GoldItem
from bench.baseline_llamaindex import LlamaIndexBaseline, summarize_baseline
from bench.quality import ItemOutcome, score, shiori_outcome

logger = logging.getLogger(__name__)


def run_versus(
    pipeline, corpus_dir: Path, items: Sequence[GoldItem], shiori_build_s: float
) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Both systems answer every item; the order alternates per item so load hits both alike."""
    base = LlamaIndexBaseline(Path(corpus_dir), pipeline.embedder)
    for it in items[:3]:  # warm-up, as for the query path
        base.ask(it)
        shiori_outcome(pipeline, it)
    ours: list[ItemOutcome] = []
    theirs: list[ItemOutcome] = []
    for i, it in enumerate(items):
        if i % 2:
            theirs.append(base.ask(it))
            ours.append(shiori_outcome(pipeline, it))
        else:
            ours.append(shiori_outcome(pipeline, it))
            theirs.append(base.ask(it))
    index = pipeline.index()
    return {
        "shiori": {
            "system": "shiori (hybrid, extractive)",
            "build_seconds": shiori_build_s,
            "passages": index.size,
            **score(ours),
            "per_item": [o.to_json() for o in ours],
        },
        "llamaindex": summarize_baseline(base, theirs),
    }
