"""The drafting check's alignment: which unit decides a verdict and is quoted first.

``cite.judge`` is pure: these tests give it the units of a tiny hand-made slide (one
passage, one unit per line, as the index's sentence table would) and a claim
analysed by the reader's ``Query`` with flat IDF, and check the deciding unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest
from readerkit import draft_claim, passage_units

from assistant.bm25 import mecab_tokenize
from assistant.cite import DEFAULT_CITE_POLICY, _with_values, abbreviations, judge, with_abbreviations
from assistant.claims import Claim, compare, make_claim
from assistant.normalize import normalize_query
from assistant.reader.candidates import Candidate
from assistant.reader.query import analyse
from assistant.spans import bare_org_names, extract_spans

_claim = draft_claim
_slide = passage_units


def _quoted_lines(cands: Sequence[Candidate], unit: Candidate) -> tuple[int, int]:
    starts = [c.start for c in cands]
    ends = [c.end for c in cands]
    return starts.index(unit.start) + 1, ends.index(unit.end) + 1


def test_a_statement_wrapped_over_two_lines_is_one_unit() -> None:
    # The slide broke the sentence before its predicate: each line holds one of the two values.
    cands = _slide(["潮流発電の取組", "・令和5年4月、我が国初の国家戦略として「潮流発電戦略」を", "・総合海洋政策本部で決定。",
                    "・実証海域の公募を開始。"])
    strength, unit, _ = judge(_claim("潮流発電戦略は、令和5年4月に総合海洋政策本部で決定された我が国初の国家戦略である。"),
                              cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and _quoted_lines(cands, unit.cand) == (2, 3)
    # (初の, a first occurrence in words, is a value the source states too.)
    assert {v.text for v in unit.cmp.matched} == {"令和5年4月", "総合海洋政策本部", "初の"}


def test_the_statement_is_quoted_not_the_heading_after_it() -> None:
    # 今後の方針 follows the statement: through its lead-in it covers as much of the claim,
    # but the quote must be the line that states it.
    cands = _slide(["・今後、国内外の動向調査や技術の標準化活動を実施する予定。", "・会員企業は随時募集する。", "今後の方針"],
                   dense=[0.88, 0.80, 0.90])
    strength, unit, _ = judge(_claim("今後、国内外の動向調査や技術の標準化活動を実施する方針である。"), cands,
                              DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and _quoted_lines(cands, unit.cand)[0] == 1


def test_two_rows_joined_do_not_contradict_the_claim() -> None:
    # One row states the claim's amount, the row above's year is another budget's, not a different year.
    cands = _slide(["ITER計画等", "令和6年度予算額(案)：14,306百万円", "令和5年度補正予算額",
                    "・実証機構の活動(分担金) 3,604百万円"])
    strength, unit, units = judge(_claim("実証機構の活動に対する分担金として、令和6年度予算案に3,604百万円が計上されている。"),
                                  cands, DEFAULT_CITE_POLICY)
    assert strength != "conflict"
    joined = [u for u in units if u.cand.start == cands[2].start and u.cand.end == cands[3].end]
    assert joined and not joined[0].cmp.differing and joined[0].cmp.matched


def test_a_row_with_a_different_value_still_contradicts() -> None:
    cands = _slide(["ITER計画等", "・実証機構の活動(分担金) 3,604百万円", "※令和6年度予算額(案)"])
    strength, unit, _ = judge(_claim("実証機構の活動に対する分担金は4,800百万円である。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and [s.text for _, s in unit.cmp.differing] == ["3,604百万円"]


def test_another_value_of_the_claim_is_not_a_different_value() -> None:
    claim = _claim("協議会は3月29日に設立され、5月21日に初めての総会を開催した。")
    text = normalize_query("・5月21日、初めての総会を開催。")
    cmp = compare(claim, extract_spans(text), text)
    assert [v.text for v in cmp.matched] == ["5月21日", "初めて"]  # (初めて: the ordinal in words, stated too)
    assert cmp.differing == ()  # 5月21日 is the claim's other date, not a different 設立 date
    text = normalize_query("・6月1日、初めての総会を開催。")
    assert compare(claim, extract_spans(text), text).differing  # a date stated by neither still differs


def test_two_sentences_state_a_claim_together_but_do_not_contradict_it_together() -> None:
    # Two sentences joined may confirm a claim's two values...
    cands = _slide(["協議会の活動", "・3月29日に協議会を設立。", "・5月21日、初めての総会を開催。"])
    strength, unit, _ = judge(_claim("協議会は3月29日に設立され、5月21日に初めての総会を開催した。"), cands,
                              DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and {v.text for v in unit.cmp.matched} == {"3月29日", "5月21日", "初めて"}
    # ...but a date in one sentence does not contradict a claim whose topic the other one covers.
    cands = _slide(["実験装置の進捗", "・実験装置が令和5年10月に初プラズマを生成。", "○本格的な運転に必要な経費を計上。"])
    strength, _, _ = judge(_claim("実験装置は2026年に本格的な運転を開始する予定である。"), cands, DEFAULT_CITE_POLICY)
    assert strength != "conflict"


def test_a_claim_with_most_of_its_values_stated_is_partial() -> None:
    cands = _slide(["実証計画の概要", "・実証計画の建設費は令和6年度に40億円を計上。"])
    strength, unit, _ = judge(_claim("実証計画の建設費は令和6年度に40億円を計上し、参加国は7か国である。"), cands,
                              DEFAULT_CITE_POLICY)
    assert strength == "partial"  # 7か国 is stated nowhere, the rest is
    assert unit is not None and {v.text for v in unit.cmp.matched} == {"令和6年度", "40億円"}
    # One value of two stated is not enough for an ordinary cover.
    strength, _, _ = judge(_claim("実証計画の建設費は令和6年度に計上され、参加国は7か国である。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "none"


def test_stated_values_count_towards_the_cover_of_a_claim() -> None:
    # Both figures of the claim are on the line; its frame words (予算, 前年度, 拡充) are not.
    cands = _slide(["研究開発の推進", "・基盤整備(研究開発・人材育成等) 526百万円(246百万円)"])
    claim = _claim("基盤整備の予算は、前年度の246百万円から526百万円に拡充されている。")
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")  # the figures state the rise (拡充) and what they are (予算)
    # The two figures, and the rise from one to the other (拡充) that they state.
    assert unit is not None and sorted(v.kind for v in unit.cmp.matched) == ["money", "money", "trend"]
    # The stated values raise a unit's cover above that of its topic words alone.
    figure = _claim("基盤整備の補正予算は526百万円である。")
    strength, unit, _ = judge(figure, cands, DEFAULT_CITE_POLICY)
    assert unit is not None and unit.item < 1.0
    assert _with_values(figure, unit, 0.5, figure.values) > _with_values(figure, unit, 0.0, figure.values) == unit.item


def test_a_later_item_does_not_lend_its_words_to_an_earlier_one() -> None:
    # 建設 is in the item after the place: the place is where the project is carried out, not built.
    cands = _slide(["○実施極：日、欧", "○実施地：青森県六ヶ所村、茨城県那珂市", "○進捗：日欧が共同建設した装置が初プラズマを生成。"])
    strength, _, _ = judge(_claim("実証炉の建設地は青森県六ヶ所村に決定している。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "none"
    # The item above is context for the one below it: the two together contradict the claim.
    cands = _slide(["ITER計画・BA活動等の推進", "○協定：2007年6月発効", "○実施極：日、欧", "○実施地：青森県六ヶ所村、茨城県那珂市"])
    strength, unit, _ = judge(_claim("BA活動の実施地は、青森県六ヶ所村と茨城県東海村である。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand)[1] == 4
    assert [(v.text, s.text) for v, s in unit.cmp.differing] == [("茨城県東海村", "茨城県那珂市")]


def test_two_rows_of_one_column_are_not_one_statement() -> None:
    cands = _slide(["ITER計画等", "令和5年度補正予算額：3,800百万円", "・ITER機構の活動(分担金) 3,604百万円"])
    strength, unit, _ = judge(_claim("ITER機構の活動に係る分担金は、令和6年度予算案で5,604百万円である。"), cands,
                              DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (3, 3)
    assert [(v.text, s.text) for v, s in unit.cmp.differing] == [("5,604百万円", "3,604百万円")]


def test_a_heading_joined_above_a_line_does_not_outweigh_a_line_confirming_the_claim() -> None:
    # The second 協定 line is another project's; the heading above it names both projects.
    cands = _slide(["○協定：2007年10月発効", "○参加極：日、欧、米", "", "ITER計画・BA活動等の推進", "○協定：2007年6月発効"])
    strength, unit, _ = judge(_claim("ITER協定は2007年10月に発効した。"), cands, DEFAULT_CITE_POLICY)
    assert strength != "conflict"


def test_strong_needs_the_content_words_not_only_most_of_them() -> None:
    # As in a corpus, the rarer words weigh more than 実験, 装置 or 経費.
    idf = {"補助": 2.0, "運営": 2.0, "交付": 2.0}
    cands = _slide(["予算の概要", "・実験装置の運転経費は運営費交付金に計上。"])
    strength, _, _ = judge(_claim("実験装置の運転経費は補助金に計上されている。", idf), cands, DEFAULT_CITE_POLICY)
    # 補助金 is not what the line says: not strong, and (another kind of funding, ``_funding_swapped``) a conflict.
    assert strength == "conflict"
    strength, _, _ = judge(_claim("実験装置の運転経費は運営費交付金に計上されている。", idf), cands, DEFAULT_CITE_POLICY)
    assert strength == "strong"


def test_a_figure_under_the_claims_label_contradicts_it_without_the_heading() -> None:
    # The row names what the figure is of (運転・整備) but not the budget it belongs to, which is
    # far above: it still states the claim's figure differently.
    cands = _slide(["令和6年度予算額(案) 213億円", "背景と概要", "担当：研究開発戦略官付", "・推進事業(補助金)",
                    "①実験装置「JT-60SA」の運転・整備 3,293百万円", "②材料照射施設の工学設計活動 657百万円"])
    claim = _claim("令和6年度の政府案で、JT-60SAの運転・整備には2,293百万円が充てられている。")
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (5, 5)
    assert [(v.text, s.text) for v, s in unit.cmp.differing] == [("2,293百万円", "3,293百万円")]
    # Without the label the row is not enough about the item to contradict it.
    assert judge(claim, cands, replace(DEFAULT_CITE_POLICY, label=1.01))[0] != "conflict"


def test_a_bare_subject_is_not_a_figures_label() -> None:
    claim = _claim("JT-60SAは2026年に本格的な実験運転を開始する予定である。")
    cands = _slide(["JT-60SA 2023年10月 初プラズマ"])
    strength, _, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength != "conflict"


def test_of_look_alike_rows_the_one_nearer_its_missing_words_is_quoted() -> None:
    # Two columns flattened: each 補正予算額 row belongs to the programme named nearest to it.
    cands = _slide(["BA活動等", "令和5年度補正予算額：1,138百万円", "令和6年度予算額(案)：14,306百万円",
                    "令和5年度補正予算額：3,800百万円", "・ITER機構の活動(分担金) 3,604百万円", "ITER計画"])
    # The programme's name is a light term next to 補正 (IDF as in the corpus).
    idf = {"補正": 3.2, "予算": 2.2, "計画": 1.0, "額": 1.0, "iter": 0.9}
    strength, unit, _ = judge(_claim("ITER計画の令和5年度補正予算額は4,800百万円となっている。", idf), cands,
                              DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (4, 4)
    assert [s.text for _, s in unit.cmp.differing] == ["3,800百万円"]


def test_a_trend_is_checked_against_a_figure_and_its_previous_value() -> None:
    cands = _slide(["甲事業等", "令和6年度予算額(案)：40百万円(55百万円)", "令和5年度補正予算額：12百万円"])
    strength, unit, _ = judge(_claim("甲事業等の令和6年度予算額(案)は、前年度より増加している。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand)[1] == 2
    assert [(v.text, s.value) for v, s in unit.cmp.differing] == [("増加", "down")]
    strength, unit, _ = judge(_claim("甲事業等の令和6年度予算額(案)は、前年度より減っている。"), cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and _quoted_lines(cands, unit.cand)[1] == 2


def test_a_trend_no_figure_states_does_not_keep_a_claim_from_being_stated() -> None:
    cands = _slide(["・各国で甲分野への民間投資が増加している。", "・乙分野の議論を開始。"])
    strength, _, _ = judge(_claim("各国で甲分野への民間投資が増加している。"), cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")


def test_a_sentence_run_over_two_labelled_rows_is_split_into_its_rows() -> None:
    # Two rows of two columns extracted as one run of text (no 。 between them): each states a value in
    # the place of the claim's amount, so the run is no statement confirming the second's amount.
    lines = ["乙活動等", "令和6年度予算額(案)：65百万円(45百万円)", "", "令和5年度補正予算額：11百万円",
             "令和6年度予算額(案)：143百万円(167百万円)", "", "丙計画の機器(補助金) 107百万円", "丙計画"]
    cands = _slide(lines)
    run = replace(cands[3], end=cands[4].end, text=cands[3].text + cands[4].text,
                  tokens=cands[3].tokens | cands[4].tokens,
                  spans=cands[3].spans + tuple(s.shifted(len(cands[3].text)) for s in cands[4].spans))
    claim = _claim("乙活動等の令和6年度予算額(案)は143百万円である。")
    _, _, units = judge(claim, [*cands, run], DEFAULT_CITE_POLICY)
    assert not [u for u in units if u.cand is run]
    # Its lines are units of their own: the row stating the claim's amount, quoted by its own line.
    lines_of_run = [u for u in units if u.cand.kind == "line"]
    assert [u.cand.text for u in lines_of_run] == [cands[3].text, cands[4].text]
    assert [(u.cand.start, u.cand.end) for u in lines_of_run] == [(cands[3].start, cands[3].end),
                                                                  (cands[4].start, cands[4].end)]
    assert [v.text for v in lines_of_run[1].cmp.matched] == ["令和6年度", "143百万円"]


#: Two 協定 rows of one slide, the second joined under a title naming both programmes.
_LOOK_ALIKE_ROWS = ["○協定：2001年9月発効", "※丙計画の機器は各極が調達", "丙計画・乙活動の推進", "○協定：2001年4月発効",
                    "○実施地：甲県乙市"]
_LOOK_ALIKE_IDF = {"協定": 3.2, "発効": 3.5, "丙": 0.9, "計画": 1.0}


def test_a_title_naming_two_programmes_does_not_make_a_line_nearer_either() -> None:
    # 丙計画・乙活動 coordinates the two: it says nothing about which 協定 row is whose.
    cands = _slide(_LOOK_ALIKE_ROWS)
    idf = dict(_LOOK_ALIKE_IDF)
    strength, unit, _ = judge(_claim("丙計画の協定は2001年9月に発効した。", idf), cands, DEFAULT_CITE_POLICY)
    assert strength != "conflict"
    strength, unit, _ = judge(_claim("丙計画の協定は2001年4月に発効した。", idf), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (1, 1)


def test_a_polarity_word_stated_the_other_way_counts_as_covered() -> None:
    # 十分 / 足り are the slot the unit fills with 不足: without counting them, a unit saying the
    # opposite could never cover enough of the claim to contradict it.
    cands = _slide(["・少子化により甲分野の人材が不足している我が国において、人材の母数を増やす。", "・乙施設の整備を進める。"])
    idf = {"十分": 5.0, "足りる": 5.0, "人材": 0.8, "甲": 1.5, "分野": 1.5}
    strength, unit, _ = judge(_claim("我が国では甲分野の人材が十分に足りている。", idf), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (1, 1)


def test_an_opposite_word_alone_does_not_make_a_unit_about_the_item() -> None:
    # 運転開始 of another facility, with the claim's year: the slot must not make it the claim's item.
    cands = _slide(["○計画：【運転開始】2025年12月", "○丙装置の整備を実施。"])
    idf = {"終了": 5.0, "運転": 2.5, "丁装置": 3.0, "丁": 3.0, "装置": 1.0}
    strength, _, _ = judge(_claim("丁装置は2025年度で運転を終了する。", idf), cands, DEFAULT_CITE_POLICY)
    assert strength != "conflict"


def test_a_budget_line_states_its_amount_words_by_its_figure() -> None:
    # The claim names the amount (経費, 予算); the list's line states it by its figure and previous value.
    cands = _slide(["・甲機構における、乙活動の推進(補助金)", "①丙実験装置の運転・整備 329百万円(194百万円)",
                    "②丁研究センター等 211百万円(172百万円)"])
    idf = {"丙": 1.5, "運転": 2.5, "整備": 1.3, "経費": 3.2, "予算": 2.2, "案": 1.0}
    claim = _claim("丙実験装置の運転・整備の経費は、令和6年度予算案で前年度から減額されている。", idf)
    strength, unit, units = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (2, 2)
    assert [u for u in units if u.cand is cands[1]][0].own > 0.9
    # A claimed figure too: a budget line states 経費 and 予算 by its figure...
    units = judge(_claim("丙実験装置の運転・整備の経費は、令和6年度予算案で300百万円である。", idf), cands,
                  DEFAULT_CITE_POLICY)[2]
    assert [u for u in units if u.cand is cands[1]][0].own > 0.9
    # ...but not the words that tell one kind of funding from another (補正, 補助金): they stay the
    # topic's, as any other (they tell look-alike rows apart).
    units = judge(_claim("丙実験装置の運転・整備の補正予算は、令和6年度に300百万円である。", {**idf, "補正": 3.2}), cands,
                  DEFAULT_CITE_POLICY)[2]
    assert [u for u in units if u.cand is cands[1]][0].own < 0.8


def test_only_lines_without_figures_name_the_rows_near_them() -> None:
    # 活動 in the next programme's data row is that row's word, not a heading of the row above it.
    cands = _slide(["乙活動等", "令和6年度予算額(案)：65百万円", "令和5年度補正予算額：11百万円",
                    "令和5年度補正予算額：38百万円", "・丙機構の活動(分担金) 36百万円", "丙計画"])
    idf = {"乙": 1.4, "活動": 0.8, "補正": 3.2, "予算": 2.2, "措置": 4.0}
    claim = _claim("乙活動等には、令和5年度補正予算で11百万円が措置されている。", idf)
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength != "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (3, 3)
    claim = _claim("乙活動等には、令和5年度補正予算で38百万円が措置されている。", idf)
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (3, 3)


def test_a_value_differing_from_both_look_alike_rows_is_located_at_the_claims_row() -> None:
    # Both 協定 rows state another date; the one joined under the two-programme title is not the claim's.
    cands = _slide(_LOOK_ALIKE_ROWS)
    idf = dict(_LOOK_ALIKE_IDF)
    strength, unit, _ = judge(_claim("丙計画の協定は2000年1月に発効した。", idf), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (1, 1)


def test_a_row_sharing_only_the_year_does_not_outweigh_the_claims_own_row() -> None:
    # The programme total states the claim's year and a rise; the claim's own row states the rise
    # but not the year (the slide's header does). The row about the claim's item is quoted.
    cands = _slide(["乙活動等", "令和6年度予算額(案)：659百万円(455百万円)", "", "・甲機構における、乙活動の推進(補助金)",
                    "①丙実験装置の運転・整備 329百万円(194百万円)", "②丁研究センター等 211百万円(172百万円)"])
    idf = {"丙": 1.5, "運転": 2.5, "整備": 1.3, "経費": 3.2, "予算": 2.2, "案": 1.0}
    claim = _claim("丙実験装置の運転・整備の経費は、令和6年度予算案で前年度から増額されている。", idf)
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and _quoted_lines(cands, unit.cand)[1] == 5  # (under its lead-in line)
    # Even without the margins (``value_choice_margin``, ``source_margin``) the total, stating the rise and
    # the year, is not quoted: a year alone frames a statement and does not choose its line (``_stating``).
    unit = judge(claim, cands, replace(DEFAULT_CITE_POLICY, value_choice_margin=1.0, source_margin=1.0))[1]
    assert unit is not None and _quoted_lines(cands, unit.cand)[1] == 5


def test_a_unit_naming_the_role_only_inside_another_does_not_cover_it() -> None:
    # 副会長 is not the claim's 会長: its line is no more about the item than the 会長 line.
    cands = _slide(["●役員", "会長：甲株式会社", "副会長：乙株式会社、丙株式会社"])
    idf = {"会長": 4.0, "務める": 4.0, "協議": 2.0}
    units = judge(_claim("協議会の会長は乙株式会社が務めている。", idf), cands, DEFAULT_CITE_POLICY)[2]
    own = {_quoted_lines(cands, u.cand): u.own for u in units}
    assert own[(3, 3)] < own[(2, 2)]


def test_a_labelled_row_named_by_the_claim_contradicts_it_under_the_items_heading() -> None:
    # The heading names the item; the row names the claim's word (会場) and states another venue.
    cands = _slide(["【参考】前回の甲国際スクールの概要", "日程：2008年7月22日", "会場：乙山大学 ・参加学生：136人",
                    "講師：15人"])
    idf = {"会場": 5.1, "開く": 5.1, "国際": 1.3, "スクール": 2.6, "前回": 4.0}
    strength, unit, _ = judge(_claim("前回の甲国際スクールの会場は丙川大学だった。", idf), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand)[1] == 3
    assert [(v.text, s.text) for v, s in unit.cmp.differing] == [("丙川大学", "乙山大学")]
    # A row whose label the claim does not name is not enough about the item in its own words.
    strength, _, _ = judge(_claim("前回の甲国際スクールは丙川大学で開かれた。", idf), cands, DEFAULT_CITE_POLICY)
    assert strength != "conflict"


def test_a_negated_claim_against_a_unit_affirming_it_in_its_own_verb_conflicts() -> None:
    # 許されない against …をできるようにする: the verb the claim denies is the unit's slot, not a word it lacks.
    cands = _slide(["乙施設の運用", "乙施設の規程を改め、乙施設の夜間の利用や団体での予約をできるようにする。",
                    "利用者の声を集める窓口を設ける。"])
    strength, unit, _ = judge(_claim("乙施設の夜間の利用は、規程の改正後も引き続き許されない。"), cands,
                              DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (2, 2)
    assert unit.cmp.polarity_conflict == "negation"


def test_a_decision_not_to_hold_it_against_a_decision_to_hold_it_conflicts() -> None:
    # …を開催しないことが決まった against …を開催することを…で決定: the decided clause is negated in the claim.
    cands = _slide(["乙部会の設置", "甲計画を踏まえ、丙会議の下に、乙部会を開催することを、5月1日の丙会議で決定。",
                    "部会の構成員は別紙のとおり。"])
    strength, unit, _ = judge(_claim("5月1日の丙会議では、乙部会を開催しないことが決まった。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (2, 2)
    assert unit.cmp.polarity_conflict == "negation"


@pytest.fixture(scope="module")
def table_pipeline(tmp_path_factory: pytest.TempPathFactory, one_document):  # type: ignore[no-untyped-def]
    """A memo whose table has no sentence ends: its rows come out as one run of text."""
    return one_document(
        tmp_path_factory.mktemp("table"),
        "試験施設の建設予定\n"
        "施設名 規模 開始年度\n"
        "甲浜センター 大型 令和8年度\n"
        "乙川センター 大型 令和9年度\n"
        "丙山センター 小型 令和10年度\n",
        "試験施設の建設予定",
    )


@pytest.mark.parametrize(
    ("sentence", "strength", "line", "mismatch"),
    [
        # The run states 令和8年度 (the row above's): the claim's row, 乙川センター, states 令和9年度.
        ("乙川センターの大型施設は、令和8年度に建設を開始する予定である。", {"conflict"}, 4, ("令和8年度", "令和9年度")),
        ("甲浜センターの大型施設は、2026年度に建設を開始する予定である。", {"strong", "partial"}, 3, None),
    ],
)
def test_a_value_in_a_table_run_counts_for_the_row_that_states_it(  # type: ignore[no-untyped-def]
        table_pipeline, sentence: str, strength: set[str], line: int, mismatch: tuple[str, str] | None) -> None:
    (r,) = table_pipeline.cite([sentence])
    assert r.strength in strength, (r.strength, r.mismatches, r.sources[0].quote if r.sources else None)
    assert r.sources[0].first_line <= line <= r.sources[0].last_line
    if mismatch:
        assert (r.mismatches[0].claim, r.mismatches[0].source) == mismatch


def test_a_deputy_named_where_the_source_names_the_office_conflicts() -> None:
    cands = _slide(["第4章 実施体制", "知事を議長とする「丙連絡会議」を設置し、事業の進捗を点検する。",
                    "各課に連絡員を置く。"])
    strength, unit, _ = judge(_claim("丙連絡会議は、副知事を議長として事業の進捗を点検する。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (2, 2)
    assert [(v.text, s.text) for v, s in unit.cmp.differing] == [("副知事", "知事")]
    strength, _, _ = judge(_claim("丙連絡会議は、知事を議長として事業の進捗を点検する。"), cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")


def test_a_figure_under_its_sections_heading_contradicts_the_claim() -> None:
    # The paragraph names its item only in the heading above it (2.潮流発電の補助): its figure, of the
    # claim's kind, is the total the claim states otherwise.
    lines = ["2.潮流発電の補助", "設備の導入費と維持費の一部を、5年間にわたり補填する制度を設けた。",
             "補助の総額は40億円程度とし、2028年度までに着工する案件を対象とする。"]
    idf = {"潮流": 3.0, "発電": 2.0, "補助": 0.6, "程度": 1.3}
    claim = _claim("潮流発電の補助は、総額55億円程度で行われる。", idf)
    cands = _slide(lines)
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (3, 3)
    assert [(v.text, s.text) for v, s in unit.cmp.differing] == [("総額55億円程度", "40億円程度")]
    # Under the heading of another item, the same paragraph says nothing against it.
    strength, _, _ = judge(claim, _slide(["4.洋上風力の整備", *lines[1:]]), DEFAULT_CITE_POLICY)
    assert strength != "conflict"
    # A bare number under the heading (a table's cell, a page number) is too weak a slot to tie to the claim.
    bare = _slide(["2.潮流発電の補助", lines[1], "補助の程度(9)"])
    strength, _, _ = judge(_claim("潮流発電の補助は、年2回の程度で公募される。", idf), bare, DEFAULT_CITE_POLICY)
    assert strength != "conflict"


def test_a_range_with_one_end_moved_conflicts_at_its_row() -> None:
    # The row repeats none of the claim's words but its label; the shared start ties it to the claim.
    cands = _slide(["【参考】第1回甲スクールの概要", "主催：乙機構、丙大学", "日程：2031年6月2日~13日(2週間)",
                    "参加者：各10名"])
    strength, unit, _ = judge(_claim("第1回甲スクールは2031年6月2日から20日までの日程で開かれた。"), cands,
                              DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (3, 3)
    assert [(v.text, s.text) for v, s in unit.cmp.differing] == [("20日", "13日")]


def test_a_range_of_durations_with_its_end_moved_conflicts() -> None:
    cands = _slide(["・インターン制度(2030年応募期間：4/1~4/30)", "<2029年の例>",
                    "対象：高校生、学部生・3ヶ月未満~2年・理工系"])
    strength, unit, _ = judge(_claim("丙機構のインターン制度は、3ヶ月未満から5年までの期間で受け入れている。"), cands,
                              DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand)[1] == 3


def test_a_claim_placed_before_the_date_the_source_starts_from_conflicts() -> None:
    cands = _slide(["②丁国際スクールの開催", "・「丁国際スクール」は、2011年以降、各国の学生を対象に計9回を開催。",
                    "・2030年は我が国が主催。"])
    strength, unit, _ = judge(_claim("丁国際スクールは、2011年より前から各国の学生を対象に開かれてきた。"), cands,
                              DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (2, 2)


def _claim_with_bare_names(sentence: str, cands: Sequence[Candidate], idf: dict[str, float]) -> Claim:
    """As ``cite.analyse_claim`` reads a draft: names the passages state with 株式会社 are names without it."""
    q = analyse(sentence, mecab_tokenize, lambda t: idf.get(t, 1.0))
    spans = extract_spans(q.normalized)
    bare = bare_org_names(q.normalized, (x for c in cands for x in c.spans))
    return make_claim(q, sorted([*spans, *bare], key=lambda s: (s.start, -s.end, s.kind)), mecab_tokenize)


_OFFICERS = ["一般社団法人北陸エネルギー協議会(通称:H-Energy)", "●目的", "地域の発展に寄与すること", "●役員",
             "会長:東西重工業株式会社",
             "副会長:南北商事株式会社、株式会社Alpha Energy", "理事:西部化学株式会社、株式会社Gamma Energy、",
             "中央電機株式会社、東邦建設株式会社 計6社"]
#: The drafter's verbs are rare in slides: heavy by IDF.
_OFFICER_IDF = {"務める": 4.0, "連ねる": 5.0, "energy": 3.0, "理事": 3.0, "会長": 4.0}


def test_a_row_labelled_by_the_claims_role_states_the_name_otherwise() -> None:
    # 会長：… names the role, not the body (in the slide's title): the role ties the row to the claim,
    # and 副会長：… (会長 only inside another role) is not that row.
    cands = _slide(_OFFICERS)
    strength, unit, _ = judge(_claim_with_bare_names("H-Energyの会長は中央電機が務めている。", cands, _OFFICER_IDF),
                              cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (5, 5)


def test_a_list_of_names_running_on_past_its_line_does_not_contradict_a_name() -> None:
    # 理事：… ends with 、: the list goes on below, where the claim's names are.
    cands = _slide(_OFFICERS)
    strength, unit, _ = judge(_claim_with_bare_names("H-Energyの理事には東邦建設や中央電機が名を連ねている。", cands,
                                                     _OFFICER_IDF), cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and _quoted_lines(cands, unit.cand)[1] == 8


def test_the_drafters_rare_verb_does_not_hide_the_item_stated_otherwise() -> None:
    # 取りまとめる is the draft's wording; the reference line names the report, its date and its body.
    cands = _slide(["(参考)推進体制の概要", "【参考】北陸核融合研究の推進に向けて(平成29年12月18日中央科学技術委員会)",
                    "6.3.広報活動", "広報活動は重要である。"])
    claim = _claim("「北陸核融合研究の推進に向けて」は、平成28年12月18日に中央科学技術委員会で取りまとめられた。",
                   {"取りまとめる": 5.0})
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (2, 2)


def test_a_row_stating_several_of_the_claims_figures_under_a_distant_title_supports_it() -> None:
    # The school is named four lines up; the record (its date line and its row, 日本 on both) gives the
    # figures: several specific values stated together are the item, and a country on both lines is context.
    cands = _slide(["②甲国際スクール(KIS)の開催", "・「甲国際スクール」は、2010年以降、各国の学生を対象に計9回を開催。",
                    "【参考】応募制度", "・研究員(任期2年)", "【参考】前回の日本開催時(2012年8月1日~3日)の概要",
                    "・開催場所:北陸大学・参加学生:8ヶ国から120人(うち日本70人)", "・講師:4ヶ国から12人"])
    claim = _claim("2012年に日本で開かれた甲国際スクールの会場は北陸大学で、8ヶ国から120人の学生が参加した。",
                   {"開く": 5.0, "会場": 5.0})
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and _quoted_lines(cands, unit.cand)[1] == 6


def test_a_list_of_one_character_country_names_states_the_claims_countries() -> None:
    # 日、欧、米、露 is 日本, 欧州, 米国, ロシア; the line naming the members is quoted, not a line naming
    # the programme's members and one of the countries in passing.
    cands = _slide(["甲計画", "○協定：2011年4月発効", "○参加極：日、欧、米、露", "○計画：2030年運転開始",
                    "甲計画の参加4極の学生が日本に集結し、合宿形式で学ぶ。"])
    strength, unit, _ = judge(_claim("甲計画の参加極は、日本、欧州、米国、ロシアである。"), cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and _quoted_lines(cands, unit.cand)[0] == 3


def test_a_note_under_a_members_row_is_part_of_its_record() -> None:
    # The member's body and role on one line, the name on the note below it (※ another body's member):
    # one record, joined, though the note names another body.
    cands = _slide(["甲検討会構成員一覧", "専門分野肩書氏名", "産業界(事業者)北陸電力協会理事", "※有識者会議構成員山田太郎",
                    "エネルギー政策東西大学教授佐藤花子"])
    claim = _claim("北陸電力協会理事の山田太郎氏は、産業界（事業者）の立場から検討会に参加している。")
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and _quoted_lines(cands, unit.cand) == (3, 4)


def test_a_list_of_member_bodies_does_not_state_another_secretariat() -> None:
    # Any two bodies differ: a light verb must not make a list of members the claim's 事務局 stated otherwise.
    cands = _slide(["6.漁業との共生", "区域ごとに国、都道府県、市町村、漁業者などからなる協議会を設置し、影響調査を協議する。",
                    "選定事業者は、収入の一部を基金として拠出する。"])
    claim = _claim("区域ごとの協議会の事務局は、各都道府県の水産部局が務める。", {"務める": 4.0, "協議": 3.0, "事務": 2.0})
    strength, _, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength != "conflict"


def test_the_record_agreeing_with_the_claims_other_values_is_where_it_is_contradicted() -> None:
    # The record (its year and country on the line above) gives 8ヶ国 where the claim says 11: it is the
    # claim's record, not the line about another school that shares more of its words but not its year.
    cands = _slide(["②甲国際スクール(KIS)の開催", "・2023年9月、各国の学生が参加する乙国際スクールの第1回を開催。",
                    "【参考】応募制度", "・研究員(任期2年)", "【参考】前回の日本開催時(2012年8月1日~3日)の概要",
                    "・開催場所:北陸大学・参加学生:8ヶ国から120人(うち日本70人)", "・講師:4ヶ国から12人"])
    claim = _claim("2012年に日本で開かれた甲国際スクールには、11ヶ国から学生が参加した。", {"開く": 2.0})
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand)[1] == 6
    assert [(v.text, s.text) for v, s in unit.cmp.differing] == [("11ヶ国", "8ヶ国")]


def test_an_abbreviation_the_corpus_defines_stands_for_its_name() -> None:
    assert abbreviations(["・量子科学技術研究開発機構(QST)を中心に、体制を構築。", "JT-60SAは、QSTの那珂研究所にある。"]) == {
        "qst": "量子科学技術研究開発機構"}
    # The draft writes QST, the members' list spells the body out: with the abbreviation, the row is
    # about the claim's member enough to state the laboratory otherwise.
    cands = _slide(["甲検討会構成員一覧", "専門分野肩書氏名", "原子力安全北陸大学教授山田太郎", "放射線影響東西大学教授佐藤花子",
                    "核融合安全性量子科学技術研究開発機構六ヶ所研究所次長中村博文"])
    claim = _claim("中村博文氏は、QSTの那珂核融合研究所に所属している。", {"所属": 3.0, "中村": 4.0, "博文": 4.0, "qst": 1.5})
    cands = with_abbreviations(claim, cands, {"qst": "量子科学技術研究開発機構"})
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (5, 5)


def test_the_line_stating_the_claim_is_quoted_not_the_title_giving_its_year() -> None:
    # The title confirms 令和9年度; the row states the rest of the claim in its own words.
    cands = _slide(["・令和9年度に優先的に実施すべき研究開発項目(案)", "アクションプラン項目研究開発項目", "0.炉設計概念設計",
                    "1.超伝導コイル試作・試験◎", "9.安全性安全規制法令に関する予備検討◎", "10.稼働率と保守保守計画の検討◎"])
    claim = _claim("令和9年度の原型炉研究開発では、安全性の項目として安全規制法令に関する予備検討を優先的に実施する。",
                   {"原型": 0.4, "炉": 0.3, "研究": 0.3, "開発": 0.3, "的": 0.3, "実施": 0.9, "安全": 1.3, "項目": 2.7,
                    "規制": 2.0, "法令": 4.0, "予備": 4.0, "検討": 1.5, "優先": 3.2})
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and _quoted_lines(cands, unit.cand)[0] <= 5 <= _quoted_lines(cands, unit.cand)[1]


@pytest.fixture(scope="module")
def dated_section_pipeline(tmp_path_factory: pytest.TempPathFactory, one_document):  # type: ignore[no-untyped-def]
    """A memo whose rows are dated only by their section's heading."""
    return one_document(
        tmp_path_factory.mktemp("dated"),
        "甲会議の記録\n"
        "\n"
        "【参考】前回の甲会議(2019年5月13日～17日)の概要\n"
        "・開催場所：乙山大学 ・参加者：12ヶ国から150人（うち日本40人）\n"
        "・講師：4ヶ国と1国際機関から20人 ・テーマ：「丙の科学」\n"
        "※丁学会の夏の学校との合同開催\n",
        "甲会議の記録",
    )


@pytest.mark.parametrize(
    ("sentence", "strength", "mismatch"),
    [
        # The row gives the figures, its heading the year: together they state the claim.
        ("2019年に開かれた甲会議では、4ヶ国と1国際機関から集まった20人が講師を務めた。", {"strong", "partial"}, None),
        # The year from the heading ties the row to the claim's occasion: its other count is a conflict.
        ("2019年の甲会議では、6ヶ国と1国際機関から20人が講師を務めた。", {"conflict"}, ("6ヶ国", "4ヶ国")),
    ],
)
def test_a_sections_heading_dates_its_rows(  # type: ignore[no-untyped-def]
        dated_section_pipeline, sentence: str, strength: set[str], mismatch: tuple[str, str] | None) -> None:
    (r,) = dated_section_pipeline.cite([sentence])
    assert r.strength in strength, (r.strength, r.mismatches, r.sources[0].quote if r.sources else None)
    assert r.sources[0].first_line <= 5 <= r.sources[0].last_line
    if mismatch:
        assert (r.mismatches[0].claim, r.mismatches[0].source) == mismatch


@pytest.fixture(scope="module")
def hosts_pipeline(tmp_path_factory: pytest.TempPathFactory, one_document):  # type: ignore[no-untyped-def]
    """A memo naming a school's hosts by their abbreviations."""
    return one_document(
        tmp_path_factory.mktemp("hosts"),
        "甲スクールの記録\n"
        "\n"
        "【参考】第2回甲スクールの概要\n"
        "主催：KLMN、PQRSfusion\n"
        "日程：2022年8月1日～5日（1週間）\n"
        "内容：丙工学に関する講義や実習等を実施\n",
        "甲スクールの記録",
    )


def test_abbreviations_a_unit_states_are_confirmed_values(hosts_pipeline) -> None:  # type: ignore[no-untyped-def]
    # The draft's verb (開かれた) and wording (共催) are not the slide's: the hosts it names, stated by the
    # row, are what supports it.
    (r,) = hosts_pipeline.cite(["第2回甲スクールは、KLMNとPQRSfusionの共催で開かれた。"])
    assert r.strength in ("strong", "partial"), (r.strength, r.sources[0].quote if r.sources else None)
    assert r.sources[0].first_line <= 4 <= r.sources[0].last_line


@pytest.fixture(scope="module")
def observers_pipeline(tmp_path_factory: pytest.TempPathFactory, one_document):  # type: ignore[no-untyped-def]
    """A memo listing a meeting's observers on a note line."""
    return one_document(
        tmp_path_factory.mktemp("observers"),
        "甲会議の構成\n"
        "\n"
        "構成員：山田太郎、鈴木花子\n"
        "※肩書は2030年4月1日時点＜オブザーバー＞ 甲省、乙省、丙省、丁庁\n"
        "\n"
        "甲会議の運営\n"
        "・甲会議の庶務は、乙省の協力を得て甲会議事務局が行う。\n",
        "甲会議の構成",
    )


@pytest.mark.parametrize(
    ("sentence", "strength", "mismatch"),
    [
        ("甲会議のオブザーバーには、甲省、乙省、丙省、丁庁が入っている。", {"strong", "partial"}, None),
        # The list is the claim's (three of its names), one member changed: a conflict at that list.
        ("甲会議のオブザーバーには、甲省、乙省、丙省、戊省が入っている。", {"conflict"}, ("戊省", "丁庁")),
    ],
)
def test_a_list_of_names_with_one_member_changed(  # type: ignore[no-untyped-def]
        observers_pipeline, sentence: str, strength: set[str], mismatch: tuple[str, str] | None) -> None:
    (r,) = observers_pipeline.cite([sentence])
    assert r.strength in strength, (r.strength, r.mismatches, r.sources[0].quote if r.sources else None)
    assert r.sources[0].first_line <= 4 <= r.sources[0].last_line
    if mismatch:
        assert (r.mismatches[0].claim, r.mismatches[0].source) == mismatch


def test_a_restriction_against_the_line_stating_the_claims_own_count_conflicts_there() -> None:
    # The line gives the claim's 約30名 and lists more kinds than the claim's only one; it repeats few of the
    # drafter's words (the school is named in the slide's title far above), yet the count makes it the record.
    cands = _slide(["海洋技術スクールの概要", "・各地の研究施設を巡り、講義と実習を行う。", "・実習は夏季に集中して行う。",
                    "・講義資料は事前に配布する。", "・対象(約30名)：国内外の若手技術者、企業従事者、大学院生",
                    "・修了者には証明書を交付する。"])
    claim = _claim("海洋技術スクールの受講対象者は約30名で、国内の大学院生に限られている。")
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (5, 5)


_BUDGET = ["甲分野の推進", "・乙機構における戊分野の装置開発の推進(補助金) 1,200百万円(1,100百万円)",
           "※その他、丙研究所の大型装置(XYZ)計画に係る経費を丁法人運営費交付金に別途計上",
           "・人材育成の推進 120百万円(100百万円)"]


def test_another_kind_of_funding_for_the_item_is_a_conflict_at_the_line_naming_it() -> None:
    # The claim books the programme's costs under a 補助金; the slide books them under a 交付金.
    cands = _slide(_BUDGET)
    strength, unit, _ = judge(_claim("丙研究所のXYZ計画に係る経費は、甲補助金の中に計上されている。"), cands,
                              DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (3, 3)
    assert [(a.text, b.text) for a, b in unit.cmp.differing] == [("補助金", "交付金")]


def test_the_same_kind_of_funding_or_another_items_line_is_no_funding_conflict() -> None:
    cands = _slide(_BUDGET)
    strength, _, _ = judge(_claim("丙研究所のXYZ計画に係る経費は、丁法人運営費交付金に別途計上されている。"), cands,
                           DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    # A line naming another kind but not the claim's item (己計画) does not state the item otherwise.
    strength, _, _ = judge(_claim("己計画に係る経費は、分担金として計上されている。"), cands, DEFAULT_CITE_POLICY)
    assert strength != "conflict"


def test_the_claims_words_no_passage_uses_are_marked_unused(table_pipeline) -> None:  # type: ignore[no-untyped-def]
    # A drafter's own word (式典, 竣工: the memo never uses them) cannot be asked of any unit; the memo's words can.
    from assistant.bm25 import get_tokenizer
    from assistant.cite import analyse_claim

    p = table_pipeline
    sentence = "乙川センターの竣工式典は令和9年度に行う。"
    res = p.search_many([sentence], k=8)[0]
    index = p.index()
    q = p.analyse(sentence).with_search_terms(res.query_tokens, index.idf)
    claim, _ = analyse_claim(q, res, index, get_tokenizer(p.settings.tokenizer), True, 8)
    assert claim.unused == {t for t in claim.topic if index.df(t) == 0}
    assert any("式典" in t or "竣工" in t for t in claim.unused)
    assert not any("センター" in t for t in claim.unused)
