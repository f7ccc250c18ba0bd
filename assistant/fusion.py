"""Fusion of ranked lists: pure functions over (chunk id, score) runs.

Inputs are never modified; ties are broken by id so results are deterministic.
Each id's contributions are added with ``math.fsum`` (exactly rounded), so its score
does not depend on the order of the runs: with a plain running sum, reordering
three runs could change the last bit of two tied scores and swap their ranks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from assistant.errors import UsageError

Run = Sequence[tuple[str, float]]


def rrf(runs: Sequence[Run], k: int = 60, weights: Sequence[float] | None = None) -> list[tuple[str, float]]:
    """Reciprocal-rank fusion: sum of ``w / (k + rank)`` over the runs (rank from 1)."""
    weights = weights or [1.0] * len(runs)
    parts: dict[str, list[float]] = {}
    for run, w in zip(runs, weights, strict=True):
        for rank, (cid, _score) in enumerate(run, start=1):
            parts.setdefault(cid, []).append(w / (k + rank))
    return _ranked(parts)


def weighted(runs: Sequence[Run], weights: Sequence[float] | None = None) -> list[tuple[str, float]]:
    """Convex combination of min-max normalised scores (absent from a run = 0)."""
    if not runs:
        return []
    weights = weights or [1.0 / len(runs)] * len(runs)
    parts: dict[str, list[float]] = {}
    for run, w in zip(runs, weights, strict=True):
        if not run:
            continue
        vals = [s for _, s in run]
        lo, hi = min(vals), max(vals)
        span = hi - lo
        for cid, s in run:
            norm = (s - lo) / span if span > 0 else 1.0
            parts.setdefault(cid, []).append(w * norm)
    return _ranked(parts)


def _ranked(parts: dict[str, list[float]]) -> list[tuple[str, float]]:
    """Sum each id's contributions order-independently; best first, ties by id."""
    scores = {cid: math.fsum(vals) for cid, vals in parts.items()}
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


FUSERS: dict[str, Callable[..., list[tuple[str, float]]]] = {"rrf": rrf, "weighted": weighted}


def get_fuser(name: str) -> Callable[..., list[tuple[str, float]]]:
    """The fusion function registered under ``name``."""
    try:
        return FUSERS[name]
    except KeyError:
        raise UsageError(f"unknown fusion {name!r}; choose one of {sorted(FUSERS)}") from None
