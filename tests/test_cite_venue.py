"""The drafting check (cite12): a place qualifying the asserted venue is a value; only one kind against a
list of kinds; finished against under way. Made-up slides; ``cite.judge`` is pure."""

from __future__ import annotations

from assistant.cite import DEFAULT_CITE_POLICY, judge
from tests.test_cite import _claim, _quoted_lines, _slide


def test_a_place_qualifying_the_venue_is_a_value() -> None:
    claim = _claim("乙協議会が5月8日に共催した展示会は、英国マンチェスターの大使公邸で開かれた。")
    assert "マンチェスター" in [v.text for v in claim.values]
    # A place qualifying the topic's name stays the topic's.
    assert "英国" not in [v.text for v in _claim("英国の丙機構は5月8日に展示会を開いた。").values]
    cands = _slide(["乙協議会の活動", "5月8日(木) 業界団体と共催で、英国ロンドンの大使公邸で展示会を開催",
                    "6月1日(日) 会員募集の開始"])
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand)[1] == 2
    assert [(a.text, b.text) for a, b in unit.cmp.differing] == [("マンチェスター", "ロンドン")]


def test_only_one_kind_against_a_list_of_kinds() -> None:
    cands = _slide(["丁機構の研修制度", "対象：高校生、学部、修士・1ヶ月~2年・技術系、管理系・旅費支給",
                    "・丁機構研究員(通年公募、任期3年)"])
    strength, unit, _ = judge(_claim("丁機構の研修制度は、技術系の学生のみを対象としている。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand)[1] == 2
    assert unit.cmp.polarity_conflict is not None and unit.cmp.polarity_conflict.startswith("技術系のみ")
    # "Not only" adds; it restricts nothing.
    strength, _, _ = judge(_claim("丁機構の研修制度は、技術系だけでなく管理系も対象としている。"), cands,
                           DEFAULT_CITE_POLICY)
    assert strength != "conflict"


def test_finished_against_under_way() -> None:
    cands = _slide(["○ 計 画：【開始】2031年4月", "※遅延からの回復を考慮しつつ、現在、乙計画の工程を定める基本文書の改定に向けて、見直し中。",
                    "○ 進 捗：機器の製造が進展。"])
    strength, unit, _ = judge(_claim("乙計画の工程を定める基本文書は、すでに改定が完了している。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand)[1] == 2
    # A claim that it is under way is no conflict.
    strength, _, _ = judge(_claim("乙計画の工程を定める基本文書は、改定に向けて見直し中である。"), cands, DEFAULT_CITE_POLICY)
    assert strength != "conflict"


def test_kept_post_against_left_post() -> None:
    cands = _slide(["●若手人材を海外の大型計画に派遣すること", "人材の流動化が起きるよう、所属機関での身分を維持したまま派遣するなど、配慮する。"])
    strength, unit, _ = judge(_claim("若手人材を大型計画に派遣する際は、所属機関での身分を離れて派遣する。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and _quoted_lines(cands, unit.cand)[1] == 2
