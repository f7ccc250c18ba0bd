"""English questions: a relative "who" asks nothing, and a body of the kind asked whose name holds the
question's qualifier answers (made-up questions and lines)."""

from __future__ import annotations

import pytest

from assistant.normalize import normalize_query
from assistant.reader.query import typed


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # The relative clause names someone; the question asks its own interrogative's kind.
        ("The member who studies coastal erosion works at which university?", "organization"),
        ("Smith, who visited the harbour office, serves in which post at the agency?", "other"),
        # An interrogative who, also after a preposition, still asks for a person.
        ("Who chairs the review board?", "person"),
        ("To whom did the mayor send the report?", "person"),
        # With nothing else asked, a relative who stays the question's kind (as before).
        ("Which member of the board, who joined in 2023, chairs it?", "person"),
    ],
)
def test_a_relative_who_does_not_type_an_english_question(question: str, expected: str) -> None:
    assert typed(normalize_query(question))[0] == expected


def test_a_body_of_the_kind_asked_holding_the_questions_qualifier_answers() -> None:
    import numpy as np

    from assistant.bm25 import mecab_tokenize
    from assistant.chunking import Chunk
    from assistant.normalize import normalize
    from assistant.reader.candidates import Candidate
    from assistant.reader.policy import DEFAULT_POLICY
    from assistant.reader.query import analyse
    from assistant.reader.select import select_value
    from assistant.spans import extract_spans

    def cand(text: str) -> Candidate:
        body = normalize(text)
        chunk = Chunk("d:1-1", "d.txt", "t", 1, 1, None, "", body, body, 0, len(body))
        return Candidate("sentence", 1, 0, chunk, 0, len(body), body, 0, 0, 0.9, 0.9, 1.0, 0.9,
                         frozenset(mecab_tokenize(body)), tuple(extract_spans(body)))

    idf = {"北海": 3.0, "大学": 0.9, "研究": 0.3}
    q = analyse("Which Hokkai University institute is a member of the council?", mecab_tokenize, lambda t: 1.0)
    q = q.with_search_terms(list(idf), lambda t: idf[t])
    best = cand("(1)庶務は、国立研究開発法人甲機構及び大学共同利用機関法人乙科学研究所が共同して行う。")
    named = cand("⑤国立大学法人北海大学丙科学研究所")
    sel = select_value(q, [best, named], np.array([1.2, 0.7]), DEFAULT_POLICY)
    assert sel.direct is not None and "北海大学" in sel.direct.text
    # Far below the best line, it does not answer.
    far = select_value(q, [best, named], np.array([1.2, -0.5]), DEFAULT_POLICY)
    assert far.direct is not None and "北海" not in far.direct.text
