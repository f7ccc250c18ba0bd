"""Every tuned value of the reader in one place (printed in the eval report).

Weights of the candidate scorer and of the abstention model are learned
(``scorer.py``); the values here are the limits and cut-offs around them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ReaderPolicy:
    """Limits and cut-offs of the reader stage."""

    #: Passages whose sentences and cells are candidates.
    passages: int = 5
    #: A ``direct`` answer longer than this is not a direct answer.
    max_direct_chars: int = 80
    #: A quote shown in the answer text is cut to a window of this many characters around the value.
    snippet_chars: int = 70
    #: Items of a list answer, and characters in all.
    max_list_items: int = 8
    max_list_chars: int = 400
    #: A list question's answer is the list that one of its top candidates heads or belongs to.
    list_heads: int = 3
    #: A candidate of the expected type may replace a better-scored one without it when its
    #: ranking score is within this margin of the best candidate's.
    typed_fallback_margin: float = 1.0
    #: At most this many citations in one answer.
    max_citations: int = 4
    #: Nearest passages shown when abstaining.
    related: int = 3
    #: Abstain when a literal the question is pinned to (令和7年度, 第1回, 何ユーロ, STEP) occurs
    #: in none of the candidate passages: whatever they say is about something else.
    abstain_on_missing_literals: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_POLICY = ReaderPolicy()
