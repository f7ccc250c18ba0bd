"""Selection: from scored candidates to the units of an answer and its direct value.

- Value questions (number, date, person, organisation, place): the best candidate
  that holds a value of the expected type (a better-scored candidate without one
  yields to it when close enough), and the value itself: the span of that type
  nearest the question's focus and terms (a cell's value is its own).
- Lists: the run of items around the best candidate, or the items following it
  when the best is the list's heading, in document order across passages.
- Reasons and everything else: the best candidate alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.normalize import starts_item
from assistant.reader.candidates import Candidate, following, preceding
from assistant.reader.policy import ReaderPolicy
from assistant.reader.query import VALUE_TYPES, Query
from assistant.spans import TYPE_KINDS, TypedSpan
from assistant.store import LoadedIndex


@dataclass(frozen=True, slots=True)
class Selection:
    """What the answer is made of: the candidates quoted, best first, and the direct value."""

    units: list[Candidate]
    direct: TypedSpan | None
    direct_unit: Candidate | None
    score: float


def _span_score(query: Query, cand: Candidate, span: TypedSpan) -> float:
    """How well a span answers: matching unit first, then closeness to the question's words."""
    from assistant.reader.features import unit_matches

    score = 2.0 if unit_matches(query, span) else 0.0
    text = cand.text
    anchors = [text.find(t) for t in (*query.focus, *query.terms) if t and text.find(t) >= 0]
    if anchors:
        score -= min(abs(span.start - a) for a in anchors) / 100
    if cand.cell is not None and span.start >= len(cand.cell.label):
        score += 1.0  # a cell's value, not a number in its label
    return score


def direct_span(query: Query, cand: Candidate, policy: ReaderPolicy) -> TypedSpan | None:
    """The value of the expected type in ``cand`` that best answers ``query``."""
    kinds = TYPE_KINDS.get(query.answer_type)
    if not kinds:
        return None
    spans = [s for s in cand.spans if s.kind in kinds and len(s.text) <= policy.max_direct_chars]
    if cand.cell is not None:
        label_end = len(cand.cell.label) + 1
        in_value = [s for s in spans if s.start >= label_end]
        spans = in_value or spans
    if not spans:
        return None
    return max(spans, key=lambda s: (_span_score(query, cand, s), -s.start))


def select_value(query: Query, cands: Sequence[Candidate], scores: np.ndarray, policy: ReaderPolicy) -> Selection:
    order = np.argsort(-scores, kind="stable")
    best = int(order[0])
    best_prob = float(scores[best])
    direct = direct_span(query, cands[best], policy)
    if direct is not None:
        return Selection([cands[best]], direct, cands[best], best_prob)
    for i in order[1:]:
        i = int(i)
        if scores[i] < best_prob - policy.typed_fallback_margin:
            break
        d = direct_span(query, cands[i], policy)
        if d is not None:
            return Selection([cands[i]], d, cands[i], float(scores[i]))
    return Selection([cands[best]], None, None, best_prob)


def select_list(query: Query, index: LoadedIndex, cands: Sequence[Candidate], scores: np.ndarray,
                policy: ReaderPolicy) -> Selection:
    """The run of list items around the best candidate (or after it, when it heads the list)."""
    best = cands[int(np.argmax(scores))]
    prob = float(scores.max())
    if best.kind == "cell":
        return Selection([best], None, None, prob)
    before: list[Candidate] = []
    if starts_item(best.text):
        for c in preceding(index, best, policy.max_list_items):
            if not starts_item(c.text):
                break
            before.insert(0, c)
    block = [*before, best]
    total = sum(len(c.text) for c in block)
    items = sum(starts_item(c.text) for c in block)
    for c in following(index, best, policy.max_list_items):
        is_item = starts_item(c.text)
        if items >= 2 and not is_item:
            break  # the list has ended
        if not is_item and items == 0 and len(block) >= 2:
            break  # neither a list nor its lead-in
        if total + len(c.text) > policy.max_list_chars or len(block) >= policy.max_list_items:
            break
        block.append(c)
        total += len(c.text)
        items += is_item
    if items < 2:
        return Selection([best], None, None, prob)
    return Selection(block, None, None, prob)


def select(query: Query, index: LoadedIndex, cands: Sequence[Candidate], scores: np.ndarray,
           policy: ReaderPolicy) -> Selection:
    """The answer's units for ``query`` given the candidates' probabilities."""
    if query.answer_type in VALUE_TYPES:
        return select_value(query, cands, scores, policy)
    if query.answer_type == "list":
        return select_list(query, index, cands, scores, policy)
    best = int(np.argmax(scores))
    return Selection([cands[best]], None, None, float(scores[best]))
