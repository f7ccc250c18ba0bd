"""The drafting check on rows of a slide whose subject is named only in a title above (fixture slides, no index,
no embedder): ``cite._placed``."""

from __future__ import annotations

from collections.abc import Sequence

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
