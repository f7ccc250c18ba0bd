"""The drafting check on values said in words: frequency (定期 / 不定期), rough quantities (数回 / 数十回),
first occurrences (初めて / 2回目), a deputy's role (主査代理), a roster giving the claim's role to another
person, and a list index that is no figure. Made-up slides; ``cite.judge`` is pure."""

from __future__ import annotations

from assistant.cite import DEFAULT_CITE_POLICY, judge
from assistant.claims import compare_values, first_spans, is_ordinal, role_spans, vague_spans
from assistant.spans import TypedSpan
from tests.test_cite import _claim, _quoted_lines, _slide


def test_a_scheduled_call_against_one_held_when_needed() -> None:
    cands = _slide(["甲機構の募集制度", "・甲研究員(不定期公募、任期3年、5名程度)", "・乙職員(通年募集、任期2年)"])
    strength, unit, _ = judge(_claim("甲研究員は定期的に公募されている。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (2, 2)
    assert unit.cmp.polarity_conflict == "定期 ≠ 不定期"


def test_rough_quantities_compare_by_magnitude() -> None:
    (a,) = vague_spans("数十回程度開催する")
    (b,) = vague_spans("(数回程度)")
    assert (a.value, b.value) == ("10回", "1回")
    assert compare_values(a, b) == "differ"
    assert compare_values(a, vague_spans("年に数十回")[0]) == "equal"
    assert compare_values(a, vague_spans("数十人")[0]) == "unknown"  # another counter
    assert vague_spans("複数回の会合、人数の把握") == []


def test_a_rough_quantity_stated_otherwise_is_a_conflict() -> None:
    cands = _slide(["令和8年度の活動内容(案)", "(1)丙センター主催の見学会の開催(数回程度)",
                    "市民に周知を図るため、丙センター主催により見学会を行う。"])
    claim = _claim("丙センター主催の見学会を数十回程度開催する計画である。")
    kinds = [v.kind for v in claim.values]
    assert "vague" in kinds and "count" not in kinds  # not the count 十回 inside it
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (2, 2)


def test_a_first_occurrence_in_words_is_an_ordinal() -> None:
    (f,) = first_spans("6月3日、初めての総会を開催。")
    assert f.value == "1回" and is_ordinal("6月3日、初めての総会を開催。", f)
    assert is_ordinal("2回目の総会", TypedSpan("count", 0, 2, "2回", "2回"))
    assert not is_ordinal("年2回の総会", TypedSpan("count", 1, 3, "2回", "2回"))
    cands = _slide(["乙協議会の活動", "・4月1日に設立。", "・6月3日、初めての総会を開催。", "・会員募集を開始。"])
    strength, unit, _ = judge(_claim("乙協議会は6月3日に2回目の総会を開催した。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (3, 3)
    # The same sentence with the right ordinal is stated.
    strength, _, _ = judge(_claim("乙協議会は6月3日に初めての総会を開催した。"), cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")


def test_a_deputy_is_another_role() -> None:
    (r,) = role_spans("甲山太郎主査代理")
    assert r.value == "主査代理"
    assert compare_values(r, role_spans("主査")[0]) == "unknown"


def test_a_roster_giving_the_claims_role_to_another_person() -> None:
    cands = _slide(["丙検討会構成員一覧", "専門分野 肩書 氏名",
                    "材料科学 丁大学 教授 甲山 太郎 主査",
                    "放射線 戊大学 名誉教授 乙川 次郎 主査代理",
                    "化学 己大学 研究センター 副センター長 丙野 三郎"])
    claim = _claim("丙検討会の主査代理は、己大学の丙野三郎氏が務めている。")
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (4, 4)
    # The role given to the person the roster gives it to is no conflict.
    strength, _, _ = judge(_claim("丙検討会の主査代理は、戊大学の乙川次郎氏が務めている。"), cands, DEFAULT_CITE_POLICY)
    assert strength != "conflict"


def test_a_list_index_is_no_figure() -> None:
    cands = _slide(["丁本部の運営", "(2)本部における検討状況は適宜委員会へ報告する。"])
    strength, _, _ = judge(_claim("丁本部は年に2回、活動報告書を公表している。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "none"


def test_the_claims_subject_and_assertion_split_at_its_topic_marker() -> None:
    claim = _claim("乙装置の運転開始は2030年代前半が目標とされている。")
    assert set(claim.subject) >= {"装置", "運転", "開始"}
    assert "目標" in claim.assertion and "運転" not in claim.assertion
    assert _claim("2030年代前半を目標に運転を開始する。").subject == {}


def test_a_unit_sharing_only_a_year_and_a_frame_word_does_not_support_the_claim() -> None:
    # The unit states the claim's year and its frame word (目標) about something else: nothing of its subject.
    cands = _slide(["丙国の取組", "・2030年の排出削減の目標を掲げて、様々な取組を進めている。"])
    strength, _, _ = judge(_claim("乙装置の運転開始は2030年代前半が目標とされている。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "none"


def test_a_unit_stating_the_subject_and_date_but_not_the_assertion_does_not_support_it() -> None:
    cands = _slide(["今後の方針", "第5回丙会議資料一部改訂(2031年2月3日)"])
    claim = _claim("丙会議は2031年2月3日に丁施設の建設を正式に決定した。")
    strength, _, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength == "none"


def test_a_row_under_its_title_states_the_claim_with_its_subject_above() -> None:
    # (The title is more lines above the row than its lead-in reaches.)
    cands = _slide(["〇丁スクールを実施", "【実施内容】", "・合宿形式で実施。", "・講義と実習を組み合わせる。",
                    "・研究発表と交流の場を設ける。", "・受講対象者(約20名):若手研究者、企業従事者、大学院生"])
    claim = _claim("丁スクールは、若手研究者や企業従事者、大学院生など約20名を受講対象としている。")
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and _quoted_lines(cands, unit.cand)[1] == 6


def test_a_unit_stating_several_of_the_claims_names_needs_no_subject_nearby() -> None:
    # (No line names the 丁検討会 the claim speaks of: the list of its members is its record all the same.)
    cands = _slide(["構成員一覧", "・甲山太郎(座長)", "・乙川次郎", "・丙野三郎", "<オブザーバー>総務省、法務省、消防庁が参加"])
    claim = _claim("丁検討会には、総務省、法務省、消防庁がオブザーバーとして参加している。")
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and _quoted_lines(cands, unit.cand)[1] == 5


def test_the_claims_day_with_another_ordinal_is_its_occurrence_numbered_otherwise() -> None:
    # The claim's heavy verbs (先立つ, 開く) are not the line's words; the day and the occurrence are.
    cands = _slide(["乙協議会の活動", "・4月1日に設立。", "・6月3日、初めての大会を開催。", "・会員募集を開始。"])
    claim = _claim("6月3日には、乙協議会の記念式典に先立ち、3回目の大会が開かれた。",
                   {"先立つ": 3.0, "開く": 3.0})
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand) == (3, 3)
