"""Answer/retrieval quality on the gold set, scored the same way for every system.

Definitions follow INTERFACE.md: recall@k counts answerable items whose gold span
(or an alternative) overlaps one of the top k retrieved passages; answer accuracy
counts items with answers (not ``cite``/``none``) whose answer text contains them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.gold import GoldItem, answer_matches, citation_matches

Span = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What a system returned for one gold item."""

    item: GoldItem
    answer: str
    abstained: bool
    citation: Span | None
    retrieved: tuple[Span, ...] = field(default=())
    latency_ms: float = 0.0

    def rank(self) -> int | None:
        """1-based rank of the first retrieved passage on a gold span."""
        return next((i + 1 for i, s in enumerate(self.retrieved) if citation_matches(*s, self.item)), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.item.id,
            "kind": self.item.kind,
            "abstained": self.abstained,
            "answer_chars": len(self.answer),
            "answer_correct": answer_matches(self.answer, self.item) and not self.abstained,
            "citation": list(self.citation) if self.citation else None,
            "rank": self.rank(),
            "latency_ms": round(self.latency_ms, 3),
        }


def _mean(xs: Sequence[float]) -> float | None:
    return float(np.mean(xs)) if len(xs) else None


def score(outcomes: Sequence[ItemOutcome]) -> dict[str, float | None]:
    """The shared metrics (names as in INTERFACE.md) over ``outcomes``."""
    answerable = [o for o in outcomes if o.item.kind != "none"]
    with_answers = [o for o in answerable if o.item.answers and o.item.kind != "cite"]
    none_items = [o for o in outcomes if o.item.kind == "none"]
    answered = [o for o in outcomes if not o.abstained and o.item.kind != "cite"]
    ranks = [o.rank() for o in answerable]
    lat = [o.latency_ms for o in outcomes]
    spans = [o.citation[2] - o.citation[1] + 1 for o in outcomes if o.citation and not o.abstained]
    return {
        "items": len(outcomes),
        "answer_accuracy": _mean(
            [float(not o.abstained and answer_matches(o.answer, o.item)) for o in with_answers]
        ),
        "citation_accuracy": _mean(
            [
                float(bool(o.citation) and not o.abstained and citation_matches(*o.citation, o.item))
                for o in answerable
            ]
        ),
        "recall_at_1": _mean([float(r == 1) for r in ranks]),
        "recall_at_5": _mean([float(r is not None and r <= 5) for r in ranks]),
        "abstention_recall": _mean([float(o.abstained) for o in none_items]),
        "latency_ms_p50": float(np.percentile(lat, 50)) if lat else None,
        "latency_ms_p95": float(np.percentile(lat, 95)) if lat else None,
        "answer_chars_mean": _mean([len(o.answer) for o in answered]),
        "cited_lines_mean": _mean(spans),
    }


def shiori_outcome(pipeline, item: GoldItem) -> ItemOutcome:  # type: ignore[no-untyped-def]
    """Ask shiori one gold question (the same ``Pipeline.ask`` the CLI uses)."""
    import time

    t0 = time.perf_counter()
    ans = pipeline.ask(item.question)
    latency = (time.perf_counter() - t0) * 1000
    cit = ans.citations[0] if ans.citations else None
    return ItemOutcome(
        item=item,
        answer=ans.answer,
        abstained=ans.abstained,
        citation=(cit.doc, cit.first_line, cit.last_line) if cit else None,
        retrieved=tuple((h.chunk.doc, h.chunk.first_line, h.chunk.last_line) for h in ans.retrieved),
        latency_ms=latency,
    )
