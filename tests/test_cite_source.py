"""Which unit a stated or contradicted claim is quoted at: the line holding the values the verdict rests on.

Tiny made-up slides (one passage, one unit per line, as ``test_cite``); the claim analysed by the
reader's ``Query`` with the IDF given.
"""

from __future__ import annotations

from assistant.cite import DEFAULT_CITE_POLICY, judge
from tests.test_cite import _claim, _quoted_lines, _slide

BUDGET = ["甲計画の推進", "・甲装置の運転に必要な経費を計上するとともに、乙研究に向けた基盤整備を実施。令和12年度予算額(案)80億円",
          "・乙研究に向けた基盤整備(研究開発・人材育成等) 312百万円(210百万円)", "", "丙事業の方向性",
          "令和12年度予算額312百万円の内数(案)"]
BUDGET_IDF = {"予算": 2.2, "計上": 3.5, "基盤": 1.4, "整備": 1.3, "乙": 1.0, "研究": 0.3}
SITES = ["丙活動の概要", "・共同研究の調整(共同研究テーマの調整等を実施)(1)大学との共同研究(2)丙活動による研究の実施",
         "・参加極：日、欧", "○実施地：青森県東通村、茨城県東海村"]


def test_a_year_alone_does_not_choose_the_line_stating_the_claim() -> None:
    # Every line of the budget states the fiscal year; the claim's figure is in one row. Neither the
    # programme total (more of the claim's words, only the year) nor another programme's line giving
    # the figure with the year (…の内数) is quoted: the row with the figure and the claim's words is.
    cands = _slide(BUDGET)
    claim = _claim("令和12年度予算案では、乙研究に向けた基盤整備に3億1,200万円が計上されている。", BUDGET_IDF)
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and _quoted_lines(cands, unit.cand) == (3, 3)
    assert [v.text for v in unit.cmp.matched] == ["3億1,200万円"]


def test_a_line_with_more_of_the_claims_words_does_not_replace_the_line_with_its_names() -> None:
    # Line 2 repeats the claim's words (丙活動, 実施) and states neither place; line 4 states both.
    cands = _slide(SITES)
    claim = _claim("丙活動は青森県東通村と茨城県東海村で実施されている。", {"丙": 1.4, "活動": 0.8, "実施": 0.9})
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and _quoted_lines(cands, unit.cand) == (4, 4)
    assert {v.text for v in unit.cmp.matched} == {"青森県東通村", "茨城県東海村"}


#: A slide: the programme named in its title lines, its rows below under a caption that does not name it.
SEMINAR = ["乙セミナーの開催", "・乙セミナーは、若手技術者を対象に毎年開催。", "・講義と実習を行う。", "【参考】過去の実施例",
           "・開催場所：北辰大学・参加者：80人"]
#: The drafter's words (会場, 務める) are rare in the slide.
SEMINAR_IDF = {"乙": 3.0, "セミナー": 2.5, "会場": 5.0, "丙": 3.0, "フォーラム": 2.5, "務める": 5.0}


def test_a_row_under_a_title_naming_the_subject_supports_the_value_it_states() -> None:
    # The row states the name the claim asserts of its subject (after は), and the subject stands above it.
    strength, unit, _ = judge(_claim("乙セミナーは、北辰大学が会場を務めた。", SEMINAR_IDF), _slide(SEMINAR),
                              DEFAULT_CITE_POLICY)
    assert strength == "partial" and unit is not None and "北辰大学" in unit.cand.text
    # ...but not a subject no line above names (another programme's venue is not stated).
    strength, _, _ = judge(_claim("丙フォーラムは、北辰大学が会場を務めた。", SEMINAR_IDF), _slide(SEMINAR),
                           DEFAULT_CITE_POLICY)
    assert strength == "none"
