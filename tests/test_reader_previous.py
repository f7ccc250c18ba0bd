"""A question asking the previous year's figure: a budget row's bracketed figure states it as the word
前年度 does (fixture candidates, no ranker)."""

from __future__ import annotations

from readerkit import sentence_candidate

from assistant.bm25 import mecab_tokenize
from assistant.reader.features import F, featurize, previous_terms, states_previous
from assistant.reader.query import analyse

_cand = sentence_candidate


def test_a_bracketed_previous_figure_states_the_previous_year() -> None:
    q = analyse("甲装置の運転にかかる補助金の前年度額は？", mecab_tokenize, lambda t: 1.0)
    assert set(previous_terms(q)) >= {"前"}
    summary = _cand("令和6年度予算額(案)200億円(前年度予算額190億円)")
    row = _cand("①甲装置の運転・整備 3,000百万円(2,000百万円)")
    other = _cand("②乙施設の運転 600百万円")
    assert states_previous(row) and not states_previous(other)
    X = featurize(q, [summary, row, other])
    # The row names the question's subject and, by its bracket, the previous year: it covers more.
    assert X[1, F["lex"]] > X[0, F["lex"]]
    assert X[1, F["rare"]] >= X[2, F["rare"]]
    # A question that does not ask the previous year is unchanged.
    plain = analyse("甲装置の運転にかかる補助金の額は？", mecab_tokenize, lambda t: 1.0)
    assert previous_terms(plain) == []


def test_a_number_inside_a_fraction_answers_as_the_fraction() -> None:
    from assistant.reader.policy import DEFAULT_POLICY
    from assistant.reader.select import direct_span

    q = analyse("甲講座では研究者の受講者を全体のどれくらい含める？", mecab_tokenize, lambda t: 1.0)
    assert q.answer_type == "number"
    c = _cand("(交流を図るため研究者の受講者を全体の2/5~3/5程度含む)")
    span = direct_span(q, c, DEFAULT_POLICY)
    assert span is not None and span.text == "2/5~3/5"
    # A plain count stays itself.
    count = direct_span(q, _cand("受講者は約20名を想定"), DEFAULT_POLICY)
    assert count is not None and count.text == "約20名"


def test_a_fraction_answers_a_question_asking_a_share() -> None:
    from assistant.reader.features import unit_matches
    from assistant.reader.policy import DEFAULT_POLICY
    from assistant.reader.select import direct_span

    q = analyse("甲講座では研究者の受講者をどのくらいの割合含める？", mecab_tokenize, lambda t: 1.0)
    assert "percent" in q.units
    c = _cand("(交流を図るため研究者の受講者を全体の2/5~3/5程度含む)")
    # The fraction is a share: it holds the asked unit, and the range of fractions is the answer.
    assert any(unit_matches(q, s) for s in c.spans)
    span = direct_span(q, c, DEFAULT_POLICY)
    assert span is not None and span.text == "2/5~3/5"
