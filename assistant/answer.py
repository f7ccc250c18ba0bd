"""What an answer is: text with numbered markers, citations that quote exact lines.

``Answer`` and ``Citation`` are the data the reader stage (``assistant.reader``)
returns to the CLI, the app, the eval and the exports; ``make_citation`` is the
one place a quote is cut from a passage, so every quote is an exact substring of
the cited lines and carries the page of its own first (and last) line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.chunking import Chunk
    from assistant.pipeline import Hit


@dataclass(frozen=True, slots=True)
class Citation:
    """A numbered source: exact quote and its line span."""

    n: int
    doc: str
    title: str
    first_line: int
    last_line: int
    page: int | None
    quote: str
    score: float
    #: The passage the quote comes from (for context in the UI).
    passage_id: str = ""
    passage_first_line: int = 0
    passage_text: str = field(default="", repr=False)
    #: Page of the quote's last line (differs from ``page`` when the quote spans a page break).
    page_last: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "doc": self.doc,
            "title": self.title,
            "first_line": self.first_line,
            "last_line": self.last_line,
            "page": self.page,
            "page_last": self.page_last if self.page_last is not None else self.page,
            "quote": self.quote,
            "score": round(self.score, 6),
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """What ``ask`` returns to the CLI, the app and the eval."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    related: list[Citation]
    retrieved: list[Hit]
    timings_ms: dict[str, float]
    mode: str = "extractive"
    notice: str | None = None
    #: The short answer itself (a value, date, name or place), or None.
    direct: str | None = None
    #: The expected answer type the question was read as.
    answer_type: str = "other"
    #: The reader's confidence in its best candidate (0-1) and the abstention model's score.
    confidence: float = 0.0
    evidence: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "direct": self.direct,
            "answer_type": self.answer_type,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "related": [c.to_json() for c in self.related],
            "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()},
            "answer_mode": self.mode,
            "confidence": round(self.confidence, 4),
        }
        if self.evidence is not None:
            d["evidence"] = self.evidence
        if self.notice:
            d["notice"] = self.notice
        return d


def line_span(chunk: Chunk, start: int, end: int) -> tuple[int, int]:
    """1-based lines of document offsets [start, end) inside ``chunk``."""
    a, b = start - chunk.start, end - chunk.start
    first = chunk.first_line + chunk.text.count("\n", 0, a)
    last = first + chunk.text.count("\n", a, max(a, b - 1))
    return first, last


def make_citation(n: int, chunk: Chunk, start: int, end: int, score: float,
                  page_of: Any = None) -> Citation:
    """A citation of document offsets [start, end), which must lie inside ``chunk``.

    ``page_of(doc, line)`` gives the page of a line (the index's ``page_of``); without
    it the passage's first page is used.
    """
    first, last = line_span(chunk, start, end)
    page = page_of(chunk.doc, first) if page_of else chunk.page
    page_last = page_of(chunk.doc, last) if page_of else chunk.page
    return Citation(
        n=n,
        doc=chunk.doc,
        title=chunk.title,
        first_line=first,
        last_line=last,
        page=page,
        quote=chunk.text[start - chunk.start : end - chunk.start],
        score=float(score),
        passage_id=chunk.id,
        passage_first_line=chunk.first_line,
        passage_text=chunk.text,
        page_last=page_last,
    )
