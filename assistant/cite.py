"""Citation lookup for drafting: find the passage that supports a draft sentence.

Each sentence is retrieved like a question; the best-matching sentence of the top
passages is its source. Strength comes from the same support measure as answer
abstention, with two cut-offs calibrated on the eval set's ``cite`` and ``none``
items: ``strong`` (the draft restates the source), ``partial`` (related, check
it), ``none`` (no support in the documents).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from assistant.answer import Citation, _dedupe, passage_citations, score_candidates, support_of
from assistant.messages import format_citation as _format_citation
from assistant.validate import clean_query

if TYPE_CHECKING:
    from assistant.pipeline import Hit, Pipeline

Strength = Literal["strong", "partial", "none"]
MAX_SOURCES = 3
#: In bm25-only mode there is no similarity: strength comes from the share of the
#: draft's (IDF-weighted) words found in the best sentence.
LEXICAL_STRONG = 0.7
LEXICAL_PARTIAL = 0.4


@dataclass(frozen=True, slots=True)
class CiteResult:
    """The lookup result for one draft sentence."""

    sentence: str
    strength: Strength
    citation: str
    sources: list[Citation]
    support: float
    retrieved: list[Hit]

    def to_json(self) -> dict[str, Any]:
        return {
            "sentence": self.sentence,
            "strength": self.strength,
            "citation": self.citation,
            "sources": [s.to_json() for s in self.sources],
            "support": round(self.support, 4),
        }


def format_citation(c: Citation) -> str:
    """The ready-to-paste citation string of a source."""
    return _format_citation(c.title, c.doc, c.first_line, c.last_line)


def strength_of(support: float, strong: float, partial: float) -> Strength:
    """Map a support value to a strength label with the calibrated cut-offs."""
    if support >= strong:
        return "strong"
    if support >= partial:
        return "partial"
    return "none"


def lookup_one(pipeline: Pipeline, sentence: str, k: int | None = None) -> CiteResult:
    """Sources, strength and citation string for one draft sentence."""
    s = pipeline.settings
    text = clean_query(sentence, "sentence")
    result = pipeline.search(text, k=max(k or s.top_k, 5))
    cands = _dedupe(score_candidates(pipeline, result, set()))
    support = support_of(cands)
    sources = passage_citations(cands, MAX_SOURCES)
    if result.query_vector is None:
        support = cands[0].lexical if cands else 0.0
        strength = strength_of(support, LEXICAL_STRONG, LEXICAL_PARTIAL)
    else:
        strength = strength_of(support, s.cite_strong, s.cite_partial)
    citation = format_citation(sources[0]) if sources and strength != "none" else ""
    return CiteResult(text, strength, citation, sources, support, result.hits)


def lookup(pipeline: Pipeline, sentences: Sequence[str], k: int | None = None) -> list[CiteResult]:
    """Look up several draft sentences, in order (blank lines are skipped)."""
    items = [x for x in sentences if x.strip()]
    if not items:
        clean_query("", "sentence")  # raises the standard "empty" message
    return [lookup_one(pipeline, x, k) for x in items]
