"""Values aligned to their records: abbreviations of bodies, label words a unit states, lines of records.

Tiny made-up slides (one passage, one unit per line, as ``test_cite``), the claim analysed by the
reader's ``Query`` with flat IDF.
"""

from __future__ import annotations

from dataclasses import replace

from assistant.bm25 import mecab_tokenize
from assistant.cite import (
    DEFAULT_CITE_POLICY,
    _as_body,
    abbreviations,
    body_abbreviations,
    day_pairs,
    judge,
    whole_places,
    with_body_abbreviations,
)
from assistant.claims import Claim, compare_values, make_claim
from assistant.normalize import normalize_query
from assistant.reader.query import analyse
from assistant.spans import TypedSpan, extract_spans
from tests.test_cite import _claim, _slide

HQ = ["●乙本部の概要", "北辰海洋研究機構(KST)と西海潮流研究所(WTI)が連携し、潮流計画(TPX)を進める。", "●運営",
      "・KST及びWTIが共同で運営の庶務を担う。"]


def _bodies() -> dict[str, str]:
    return body_abbreviations(abbreviations(HQ))


def _claim_with_bodies(sentence: str) -> Claim:
    """As ``cite.analyse_claim`` reads a draft: an abbreviation the documents define for a body is that body."""
    q = analyse(sentence, mecab_tokenize, lambda t: 1.0)
    spans = [_as_body(s, _bodies()) for s in extract_spans(q.normalized)]
    return make_claim(q, spans, mecab_tokenize)


def test_only_abbreviations_of_bodies_are_read_as_bodies() -> None:
    bodies = _bodies()
    assert bodies == {"kst": "北辰海洋研究機構", "wti": "西海潮流研究所"}  # TPX is a programme's


def test_a_body_swapped_for_an_abbreviation_the_documents_define_is_a_conflict() -> None:
    cands = with_body_abbreviations(_slide(HQ), _bodies())
    strength, unit, _ = judge(_claim_with_bodies("運営の庶務は、WTIと南都大学が共同で担っている。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and unit.cand.text.startswith("・KST")
    assert ("南都大学", "KST") in [(v.text, s.text) for v, s in unit.cmp.differing]


def test_an_abbreviation_written_out_compares_with_bodies_only() -> None:
    kst = TypedSpan("org", 0, 3, "KST", "北辰海洋研究機構")
    # The body written out states it; another body is another; a name that is no body (a tagger's 会議室) is
    # not in its place; an abbreviation the documents do not define may be any body (unknown), but two
    # abbreviations are two bodies.
    assert compare_values(TypedSpan("org", 0, 8, "北辰海洋研究機構", "北辰海洋研究機構"), kst) == "equal"
    assert compare_values(TypedSpan("org", 0, 4, "南都大学", "南都大学"), kst) == "differ"
    assert compare_values(TypedSpan("org", 0, 3, "会議室", "会議室"), kst) == "unknown"
    assert compare_values(TypedSpan("org", 0, 4, "南都大学", "南都大学"), TypedSpan("org", 0, 3, "KST", "kst")) == "unknown"
    assert compare_values(TypedSpan("org", 0, 3, "ABC", "abc"), kst) == "differ"


EVENTS = ["●人材育成", "乙計画を活用した人材育成 乙機構長の知事面会(2031年11月30日) 丙棟 竣工記念式典(2031年12月1日)"]


def test_the_claims_date_under_another_record_of_the_line_is_its_item_stated_otherwise() -> None:
    # The draft's verb (面談) is on no line: of the label words the line states (機構長, 知事), all stand before
    # 11月30日 and none before 12月1日, the date of another record.
    cands = _slide(EVENTS)
    strength, unit, _ = judge(_claim("乙機構長が知事と面談したのは2031年12月1日のことだった。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and [(v.text, s.text) for v, s in unit.cmp.differing] == [("2031年12月1日", "2031年11月30日")]


def test_a_line_of_records_does_not_contradict_a_date_through_words_of_several_records() -> None:
    # Line 3 has 乙, 計画 and 竣工, but in two records (乙計画… / 丙棟 竣工記念式典): neither states the plan's
    # completion otherwise. Line 2 states it.
    cands = _slide(["乙計画の概要", "○計画：【竣工】2041年12月、【本格稼働】2051年12月", EVENTS[1]])
    strength, unit, _ = judge(_claim("乙計画の竣工は2041年12月に予定されている。"), cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and "○計画" in unit.cand.text


ROW = ["●概要", "・2~3週間×1~2回/年程度、集中講座形式で実施。"]


def test_a_record_stating_one_quantity_of_the_claim_states_its_second_otherwise() -> None:
    # The row repeats few of the draft's words (its subject is not on it), but it states the claim's 3週間 and,
    # in the place of 4回, 1~2回: the claim's record, its frequency stated otherwise.
    cands = _slide(ROW)
    strength, unit, _ = judge(_claim("甲講座は2～3週間の大学院生向けの集中講座で、年に4回程度実施する案となっている。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and ("4回程度", "2回") in [(v.text, s.text) for v, s in unit.cmp.differing]


def test_a_lone_quantity_is_not_contradicted_by_a_row_about_little_of_the_claim() -> None:
    cands = _slide(ROW)
    strength, _, _ = judge(_claim("甲講座は大学院生向けに、年に4回程度実施する案となっている。"), cands, DEFAULT_CITE_POLICY)
    assert strength != "conflict"


def test_a_municipality_in_kana_is_one_place_with_its_prefecture() -> None:
    text = normalize_query("甲山県かほく市と甲山県乙村で実施する。")
    assert [(s.kind, s.text) for s in whole_places(text, extract_spans(text)) if s.kind == "place"] == [
        ("place", "甲山県かほく市"), ("place", "甲山県乙村")]


def test_another_municipality_in_kana_of_the_same_prefecture_is_a_conflict() -> None:
    lines = ["●乙活動の概要", "○実施地：丙川県丁村、甲山県乙市"]
    cands = [replace(c, spans=tuple(whole_places(c.text, c.spans))) for c in _slide(lines)]
    q = analyse("乙活動の実施地は丙川県丁村と甲山県かほく市である。", mecab_tokenize, lambda t: 1.0)
    claim = make_claim(q, whole_places(q.normalized, extract_spans(q.normalized)), mecab_tokenize)
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and ("甲山県かほく市", "甲山県乙市") in [(v.text, s.text) for v, s in unit.cmp.differing]


def test_two_days_of_one_month_are_two_dates() -> None:
    text = normalize_query("甲協会の総会(5月20/21日)、乙の会合(2031年6月3・4日)")
    assert [(s.text, s.value) for s in day_pairs(text, extract_spans(text)) if s.kind == "date"] == [
        ("5月20", "--05-20"), ("21日", "--05-21"), ("2031年6月3", "2031-06-03"), ("4日", "2031-06-04")]


def test_a_draft_moving_two_days_of_one_month_is_a_conflict() -> None:
    lines = ["●甲協会の活動", "＜参考＞乙会議の年次総会の参加(5月20/21日)"]
    cands = [replace(c, spans=tuple(day_pairs(c.text, c.spans))) for c in _slide(lines)]
    strength, unit, _ = judge(_claim("甲協会は、5月22日から23日にかけて開かれた乙会議の年次総会に参加した。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and "年次総会" in unit.cand.text
