"""Every tuned value of the reader in one place (printed in the eval report).

Weights of the candidate scorer and of the abstention model are learned
(``scorer.py``); the values here are the limits and cut-offs around them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
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
    #: A list item is shown cut to this many characters (a numbered item's title line and the
    #: body sentence the splitter glued to it are one long "sentence").
    max_item_chars: int = 80
    #: Sentences of body a numbered item (①, (1)) may carry before the next number continues the list.
    max_item_body: int = 6
    #: A line this short without a full stop may be a heading: when items follow it, they answer
    #: a what-question it is the best line for.
    max_heading_chars: int = 60
    #: A list question's answer is the list that one of its top candidates heads or belongs to.
    list_heads: int = 3
    #: A candidate of the expected type may replace a better-scored one without it when its
    #: ranking score is within this margin of the best candidate's.
    typed_fallback_margin: float = 1.0
    #: A web address asked for and printed by no close line: the sentences after the best line
    #: searched for one (a list of items prints its address below them).
    url_reach: int = 4
    #: … and a candidate with the unit the question names (何港, 何%) replaces a better-scored one
    #: whose values are in other units when within this margin: the asked unit is the stronger sign.
    unit_fallback_margin: float = 2.0
    #: A ``label：value`` line whose label the question names replaces the best line when that
    #: line's own label is another one, within this many characters of the document (a roster's
    #: rows: 会長：… / 副会長：…) and within ``typed_fallback_margin`` of its score.
    named_label_window: int = 200
    #: Choosing the direct value among several in one sentence: each question bigram in the value's
    #: own clause (from the previous comma or value of its kind to the next) adds this much (a unit
    #: match adds 2.0, each character away from the asked attribute takes 0.01) …
    clause_word_weight: float = 0.05
    #: … and the value a change starts from (10万円から15万円に) loses this much when the question
    #: asks what something becomes (いくらに, 何%まで).
    change_from_penalty: float = 1.0
    #: … and a comparison figure in brackets after a value of its kind (480百万円（310百万円)) gains this
    #: much when the question asks about the previous year, and loses it otherwise.
    bracket_weight: float = 1.5
    #: … and a date that ends a range (3/10~4/25) gains this much when the question asks for an end
    #: (締切日, いつまで), the one that starts it when the question asks for a start (いつから); the
    #: other loses as much.
    range_end_weight: float = 1.0
    #: Added to a figure stated as the part of a total (うち県内40人) when the question asks for a part
    #: (…のうち…は何人), the whole's figure being nearer the question's words.
    part_weight: float = 1.0
    #: Taken from a name whose clause says its help is received (甲省の協力を得て、), when the
    #: question does not ask about that help: the actor is the sentence's other name.
    helper_penalty: float = 1.0
    #: At most this many citations in one answer.
    max_citations: int = 4
    #: Nearest passages shown when abstaining.
    related: int = 3
    #: Abstain when a literal the question is pinned to (令和7年度, 第1回, 何ユーロ, STEP) occurs
    #: in none of the candidate passages: whatever they say is about something else.
    abstain_on_missing_literals: bool = True
    #: … and when the question asks for a value in a unit (いくら of a budget: 円; 何名; 何%) that no
    #: candidate passage states in that unit: their figures are of something else. Of the training
    #: pool's questions, 2 answerable and 10 unanswerable ones met no value in their unit (the 2: a
    #: fraction asked as a share, 数名 as a count); the learned model weighed it too lightly to act.
    abstain_on_missing_unit: bool = True
    #: Off-topic guard, outside what the abstention model learned from (its `none` questions are all
    #: on-topic): below this best-passage similarity nothing in the documents is even close
    #: (calibrated earlier on the gold set's off-topic questions with the same embedder).
    off_topic_dense: float = 0.855
    #: … and most of its words (this IDF-weighted share of them, or more) are words the corpus
    #: never uses. The similarities of off-topic questions (the weather, a recipe, a prize:
    #: 0.80-0.85) and of answerable ones worded apart from the documents (0.82-0.85) overlap; the
    #: words tell them apart: 0.72 or more of an off-topic question's are unknown. A word whose
    #: corpus synonym the retrieved passages use (開く -> 開催) counts only by the share its synonym
    #: leaves (``abstain.unknown_share``): counted whole, four answerable paraphrases of the training
    #: pool under the similarity floor reached 0.71-0.89, now one does.
    off_topic_unknown: float = 0.7
    #: English questions: their own similarity floor, and the share of their content words the
    #: corpus's term table must translate, more than this (sourdough, weather: half at most).
    #: The floor is low: an English question's similarity to Japanese passages says little
    #: about whether it is on topic (off-topic ones reach 0.83, on-topic ones go down to 0.78 on
    #: both corpora), so the translated share decides and the floor only catches the far-off.
    off_topic_dense_en: float = 0.75
    off_topic_translated: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def without_abstention(self) -> ReaderPolicy:
        """This policy with the off-topic guard and the literal and unit checks off (answer whatever is found)."""
        return replace(self, off_topic_dense=-1.0, off_topic_dense_en=-1.0, off_topic_translated=-1.0,
                       abstain_on_missing_literals=False, abstain_on_missing_unit=False)


DEFAULT_POLICY = ReaderPolicy()
