"""The drafting check on rows of a slide whose subject is named only in a title above (fixture slides, no index,
no embedder): ``cite._placed``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from readerkit import draft_claim, passage_units

from assistant.cite import DEFAULT_CITE_POLICY, judge
from assistant.reader.candidates import Candidate

_claim = draft_claim
_passage = passage_units


#: A slide: a line naming the centre, a budget line, then its record as a table of rows.
_SLIDE = ["各機関の広報活動を集約するため、潮流発電推進センターを設置した。", "令和9年度予算額 120百万円の内数(案)",
          "※補助金「海洋発電基盤整備」の内数", "項目 内容", "設立 2031年4月", "目的 各機関の広報活動を集約すること"]
#: Another passage naming the centre in its own words, with another date (a rule's enactment, not its founding).
_RULE = ["【参考】潮流発電推進センターの開催について(2031年5月10日制定)", "1.趣旨"]


def _cands(slide: Sequence[str] = _SLIDE) -> list[Candidate]:
    return _passage(slide, "", 10, "a") + _passage(_RULE, "", 40, "b")


def test_a_row_under_a_title_naming_the_subject_is_the_record_stated_otherwise() -> None:
    strength, unit, _ = judge(_claim("潮流発電推進センターは2030年4月に設立された。"), _cands(), DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and unit.cand.text.startswith("設立")
    assert [(a.text, b.text) for a, b in unit.cmp.differing] == [("2030年4月", "2031年4月")]


def test_a_row_under_a_title_naming_the_subject_is_the_source_of_a_stated_claim() -> None:
    strength, unit, _ = judge(_claim("潮流発電推進センターは2031年4月に設立された。"), _cands(), DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and unit.cand.text.startswith("設立")


def test_a_row_is_not_placed_without_the_subject_above_it() -> None:
    # The line naming the centre left out: the row is a founding date of something the slide does not name.
    _, _, units = judge(_claim("潮流発電推進センターは2030年4月に設立された。"), _cands(_SLIDE[1:]), DEFAULT_CITE_POLICY)
    row = next(u for u in units if u.cand.text.startswith("設立"))
    assert row.placed == 0.0


def test_a_line_above_stating_a_figure_is_another_record_not_the_rows_title() -> None:
    # The centre named only in a dated line above (its record of another event): no title over the row.
    slide = ["潮流発電推進センター 2031年5月10日制定", *_SLIDE[1:]]
    _, _, units = judge(_claim("潮流発電推進センターは2030年4月に設立された。"), _cands(slide), DEFAULT_CITE_POLICY)
    row = next(u for u in units if u.cand.text.startswith("設立"))
    assert row.placed == 0.0


def test_a_row_not_stating_what_the_claim_asserts_is_not_placed() -> None:
    # ``目的`` states no founding: the title above does not make it the claim's record.
    _, _, units = judge(_claim("潮流発電推進センターは2030年4月に設立された。"), _cands(), DEFAULT_CITE_POLICY)
    assert all(u.placed == 0.0 for u in units if "設立" not in u.cand.text)
    assert any(u.placed > 0.0 for u in units if u.cand.text.startswith("設立"))


#: A seminar's slide: its title, then a reference block on the previous session (a dated heading over a row of its
#: record, the venue labelled 開催場所).
_SEMINAR = ["(3)潮流発電国際セミナー", "各国の学生を対象に計8回を開催。", "今回の開催について", "・期間:10日間",
            "【参考】前回の国内開催時(2019年5月20日~23日)の概要", "・開催場所:北斗大学 ・参加学生:12ヶ国から80人(うち国内50人)"]


def _seminar(slide: Sequence[str] = _SEMINAR) -> list[Candidate]:
    return _passage(slide, "", 10, "s")


def test_a_venue_row_under_the_title_is_the_claims_venue_stated_otherwise() -> None:
    # The draft's 会場 and the row's 開催場所 name one slot: the row is the claim's venue, another university.
    for sentence in ("前回国内で開かれた潮流発電国際セミナーの会場は南海大学だった。",
                     "2019年に国内で潮流発電国際セミナーが開かれた際は、南海大学が会場となった。"):
        strength, unit, _ = judge(_claim(sentence), _seminar(), DEFAULT_CITE_POLICY)
        assert strength == "conflict", sentence
        assert unit is not None and "開催場所" in unit.cand.text
        assert [(a.text, b.text) for a, b in unit.cmp.differing] == [("南海大学", "北斗大学")]


def test_a_venue_row_under_the_title_is_the_source_of_a_stated_venue() -> None:
    strength, unit, _ = judge(_claim("2019年に国内で開催された潮流発電国際セミナーの会場は北斗大学だった。"), _seminar(),
                              DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and "開催場所" in unit.cand.text


def test_a_name_in_a_row_labelled_otherwise_is_no_venue() -> None:
    # The claim names the host, not the venue: the venue row is not the claim's slot.
    slide = [*_SEMINAR[:-1], "・主催:北斗大学 ・参加学生:12ヶ国から80人(うち国内50人)"]
    for sentence, rows in (("前回国内で開かれた潮流発電国際セミナーの主催は南海大学だった。", _SEMINAR),
                           ("前回国内で開かれた潮流発電国際セミナーの会場は南海大学だった。", slide)):
        strength, _, units = judge(_claim(sentence), _seminar(rows), DEFAULT_CITE_POLICY)
        assert strength != "conflict", sentence
        assert all(u.placed == 0.0 for u in units)


def test_a_row_under_a_heading_dating_another_session_is_not_placed() -> None:
    # The draft speaks of the 2031 session; the row is the record of the 2019 one (its heading's date).
    claim = _claim("2031年の潮流発電国際セミナーには、約150人の学生が参加する見込みである。")
    strength, _, units = judge(claim, _seminar(), DEFAULT_CITE_POLICY)
    assert strength != "conflict"
    assert all(u.placed == 0.0 for u in units if u.cand.text.startswith("・開催場所"))
    # Undated, the same row is the session's record, its count stated otherwise.
    slide = [*_SEMINAR[:4], "【参考】前回の国内開催時の概要", _SEMINAR[5]]
    _, _, units = judge(claim, _seminar(slide), DEFAULT_CITE_POLICY)
    assert any(u.placed > 0.0 for u in units if u.cand.text.startswith("・開催場所"))


def test_a_claim_of_this_years_session_is_not_placed_under_a_dated_heading() -> None:
    # 今年 (a period relative to the time of writing) is not the heading's 2019: the row is the last session's record.
    for sentence in ("今年の潮流発電国際セミナーの会場は南海大学に決まった。",
                     "来年度の潮流発電国際セミナーには、約150人の学生が参加する予定である。"):
        strength, _, units = judge(_claim(sentence), _seminar(), DEFAULT_CITE_POLICY)
        assert strength != "conflict", sentence
        assert all(u.placed == 0.0 for u in units), sentence


def test_words_no_document_uses_are_not_asked_of_a_placed_row() -> None:
    # The drafter's 1回あたり (weighty, as a word the documents never use is) is in no row; of what the claim asserts,
    # the row states the rest (受講対象者), and the count there is the claim's stated otherwise.
    slide = ["(2)潮流発電スクールの実施", "・若手研究者を対象に講義を行う。", "・研究発表や交流も行う。",
             "・受講対象者(約20名):国内外の若手研究者、大学院生"]
    sentence = "潮流発電スクールは、1回あたり約50名の受講者を対象とする計画である。"
    claim = _claim(sentence, {"あたり": 2.0})
    assert judge(claim, _passage(slide, "", 10, "f"), DEFAULT_CITE_POLICY)[0] != "conflict"
    strength, unit, _ = judge(replace(claim, unused=frozenset({"あたり"})), _passage(slide, "", 10, "f"),
                              DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and unit.cand.text.startswith("・受講対象者")


def _table_cell(caption: str, key: str, value: str) -> Candidate:
    """A cell of a flattened table (its caption, its column's key, its value), as the reader recovers it."""
    from assistant.bm25 import mecab_tokenize
    from assistant.chunking import Chunk
    from assistant.spans import extract_spans
    from assistant.structure import Cell

    label = f"{caption} {key}"
    body = f"{label}：{value}"
    chunk = Chunk("t.txt:1-3", "t.txt", "t", 1, 3, None, "", body, body, 0, len(body))
    spans = tuple(s.shifted(len(label) + 1) for s in extract_spans(value))
    return Candidate("cell", 1, 0, chunk, 0, len(body), body, 0, 0, 0.9, 0.9, 1.0, 0.9,
                     frozenset(mecab_tokenize(body)), spans, Cell("t.txt", "table", label, value, 1, 3, 3))


def test_a_table_cell_of_the_claims_column_need_not_state_the_drafters_own_words() -> None:
    # The draft calls the caption's 経費分担 its 拠出比率 (words no document uses): the cell of the column it names,
    # whose caption states every other weighty word of the claim, is the claim's share stated otherwise.
    cells = [_table_cell("甲計画の経費分担(整備期)", k, v) for k, v in (("乙国", "12.5%"), ("丙国", "87.5%"))]
    idf = {"拠出": 4.0, "比率": 4.0, "整備": 2.0, "経費": 2.0, "分担": 2.0, "乙国": 1.5, "運用": 2.0}
    claim = _claim("整備期の甲計画の経費分担において、乙国の拠出比率は40%である。", idf)
    assert judge(claim, cells, DEFAULT_CITE_POLICY)[0] != "conflict"
    strength, unit, _ = judge(replace(claim, unused=frozenset({"拠出", "比率"})), cells, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and unit.cand.cell is not None and unit.cand.cell.label.endswith("乙国")
    assert [(a.text, b.text) for a, b in unit.cmp.differing] == [("40%", "12.5%")]
    # Another period (運用期, a weighty word the caption does not state): the cell is no statement of the claim's share.
    claim = _claim("運用期の甲計画の経費分担において、乙国の拠出比率は40%である。", idf)
    assert judge(replace(claim, unused=frozenset({"拠出", "比率"})), cells, DEFAULT_CITE_POLICY)[0] != "conflict"
