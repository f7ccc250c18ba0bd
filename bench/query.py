"""Warm query path: ``search`` per mode and ``ask``, beside the query-encoding floor.

For every query the five operations (floor, dense, bm25, hybrid, ask) run back to
back in a rotating order, so a burst of load from other processes hits all of
them alike; the ratios compare medians and the per-query paired overhead.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bench import GOLD_PATH
from bench.util import summarize

logger = logging.getLogger(__name__)

OPS: tuple[str, ...] = ("floor", "dense", "bm25", "hybrid", "ask", "cite")
#: Draft sentences checked together (a pasted paragraph), for the per-sentence cost of a batch.
PARAGRAPH = 5


def query_set(n: int) -> list[str]:
    """The gold questions, repeated until there are ``n`` of them."""
    from assistant.gold import load_gold

    questions = [it.question for it in load_gold(GOLD_PATH)]
    return list(itertools.islice(itertools.cycle(questions), n))


def _ops(pipeline) -> dict[str, Callable[[str], Any]]:  # type: ignore[no-untyped-def]
    from assistant.normalize import normalize_query

    emb = pipeline.embedder
    return {
        # What the pipeline itself encodes: the normalised query, one at a time.
        "floor": lambda q: emb.embed_queries([normalize_query(q)]),
        "dense": lambda q: pipeline.search(q, mode="dense"),
        "bm25": lambda q: pipeline.search(q, mode="bm25"),
        "hybrid": lambda q: pipeline.search(q, mode="hybrid"),
        "ask": lambda q: pipeline.ask(q),
        # The drafting check of one sentence (the question's text stands in for a draft sentence).
        "cite": lambda q: pipeline.cite([q])[0],
    }


def run_query_path(pipeline, questions: Sequence[str], warmup: int = 5) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Time every op on every question (after ``warmup`` rounds); p50/p95 and ratios to the floor."""
    ops = _ops(pipeline)
    pipeline.index()
    for q in questions[:warmup]:
        for f in ops.values():
            f(q)
    samples: dict[str, list[float]] = {name: [] for name in OPS}
    # Wall time of the call minus the query encoding timed inside that same call:
    # what the pipeline adds, immune to how long this particular encoding took.
    beyond: dict[str, list[float]] = {name: [] for name in OPS}
    stages: dict[str, dict[str, list[float]]] = {name: {} for name in OPS if name != "floor"}
    for i, q in enumerate(questions):
        order = OPS[i % len(OPS) :] + OPS[: i % len(OPS)]
        for name in order:
            t0 = time.perf_counter()
            out = ops[name](q)
            wall = (time.perf_counter() - t0) * 1000
            samples[name].append(wall)
            if name == "floor":
                beyond[name].append(0.0)
            else:
                beyond[name].append(wall - out.timings_ms.get("embed", 0.0))
                for key, v in out.timings_ms.items():
                    stages[name].setdefault(key, []).append(v)
        if (i + 1) % 50 == 0:
            logger.info("query path: %d/%d", i + 1, len(questions))
    floor = np.asarray(samples["floor"])
    result: dict[str, Any] = {"queries": len(questions), "warmup": warmup, "ops": {}}
    # A pasted paragraph: PARAGRAPH sentences in one call (one batched encoding), per sentence.
    per_sentence = []
    for i in range(0, len(questions) - PARAGRAPH + 1, PARAGRAPH):
        t0 = time.perf_counter()
        pipeline.cite(list(questions[i : i + PARAGRAPH]))
        per_sentence.append((time.perf_counter() - t0) * 1000 / PARAGRAPH)
    if per_sentence:
        result["cite_paragraph"] = {
            "sentences": PARAGRAPH,
            "per_sentence_ms_p50": float(np.median(per_sentence)),
            "per_sentence_over_floor": float(np.median(per_sentence)) / float(np.percentile(floor, 50)),
        }
    for name in OPS:
        s = summarize(samples[name])
        a = np.asarray(samples[name])
        s["p50_over_floor"] = s["p50"] / float(np.percentile(floor, 50))
        s["p95_over_floor"] = s["p95"] / float(np.percentile(floor, 95))
        # Paired: this op minus the floor encoding of the same query, same moment.
        s["overhead_ms_p50"] = float(np.median(a - floor))
        s["beyond_encoding_ms_p50"] = float(np.median(beyond[name]))
        s["beyond_encoding_ms_p95"] = float(np.percentile(beyond[name], 95))
        # Noise-robust ratio: (floor p50 + what the call adds beyond encoding) / floor p50.
        s["robust_over_floor"] = 1.0 + s["beyond_encoding_ms_p50"] / float(np.percentile(floor, 50))
        s["samples_ms"] = [round(x, 3) for x in samples[name]]
        if name != "floor":
            s["stages_ms_p50"] = {k: float(np.median(v)) for k, v in stages[name].items()}
        result["ops"][name] = s
    return result
