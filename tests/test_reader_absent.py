"""The asked attribute is absent: rules that keep a line about the question's subject, stating
another attribute, from answering it (made-up fixture documents, the fake embedder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from readerkit import hard_checks_pipeline

from assistant.bm25 import mecab_tokenize
from assistant.reader.abstain import qualifier_found
from assistant.reader.query import analyse, answer_type, asked_units
from assistant.spans import extract_spans


def _analyse(q: str):  # type: ignore[no-untyped-def]
    return analyse(q, mecab_tokenize, lambda t: 1.0)


def _counts(text: str) -> list[str]:
    return [s.value for s in extract_spans(text, use_mecab=False) if s.kind == "count"]


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        # Digits glued to a katakana or Latin word and a kanji after the counter: a name and the
        # next word (a phase-3 fund), no count of 基.
        ("甲プラン4基金を活用する。", []),
        ("ステップ2人材の育成", []),
        # A count after a katakana noun and before a particle, or after a kanji word, stays a count.
        ("コイル18個を製作した。", ["18個"]),
        ("実験炉を3基建設する。", ["3基"]),
        ("約3基金額", ["3基"]),  # a qualifier before the digits: a count
    ],
)
def test_a_number_glued_inside_a_word_is_no_count(text: str, counts: list[str]) -> None:
    assert _counts(text) == counts


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("装置は年間約150日運転する。", ["150日間"]),
        ("窓口は月に10日開く。", ["10日間"]),
        ("会議は12月1日に開く。", []),  # a day of a month is a date
    ],
)
def test_days_over_a_period_are_a_count_of_days(text: str, counts: list[str]) -> None:
    assert _counts(text) == counts


@pytest.mark.parametrize(
    ("question", "atype", "units"),
    [
        ("貯水槽の容量は何立方メートルか。", "number", ("m3",)),
        ("委員の平均年齢は何歳か。", "number", ("歳",)),
        ("施設は年間何日開館するか。", "number", ("日間",)),  # days over a period: a count
        ("窓口は月に何日開くか。", "number", ("日間",)),
        ("説明会は何日に開かれるか。", "date", ()),  # a day of a month
        ("納付は毎月何日か。", "date", ()),
        # Funding is money, as 基金 and 資金 are; funds counted are not.
        ("How much funding has the city committed to the harbour?", "number", ("money",)),
        ("How many funds were set up?", "number", ()),
    ],
)
def test_asked_units_of_measure_ages_and_days(question: str, atype: str, units: tuple[str, ...]) -> None:
    q = _analyse(question)
    assert answer_type(q.normalized) == atype
    assert asked_units(q.normalized) == units


@pytest.mark.parametrize(
    ("question", "passage", "found"),
    [
        # The next instance asked with 次の: a passage on an earlier one states none of it.
        ("甲協議会の次の会合はいつか。", "乙会議の会合は2024年4月に開催された。", 0.0),
        ("甲協議会の次の会合はいつか。", "次回の会合は令和8年5月に開催する予定である。", 1.0),
        ("甲協議会の次の会合は何月か。", "会合は5月に開催する予定である。", 1.0),
        # A policy passage aimed at something (に向け) or a future cadence (今後) names no next instance.
        ("甲協議会の次の会合はいつか。", "今後、会合を年2回開催する。", 0.0),
        ("次のうち正しいものはどれか。", "乙会議の会合は2024年4月に開催された。", 1.0),  # no instance asked
        ("甲協議会の次の会合はいつか。", "実証に向けた協調を促進する会合を開催した。", 0.0),
        # Not a value question: what is needed for the next review, not which review.
        ("次の審査に備え、どのような体制が必要か。", "乙会議の会合は2024年4月に開催された。", 1.0),
    ],
)
def test_qualifier_found_for_the_next_instance(question: str, passage: str, found: float) -> None:
    assert qualifier_found(_analyse(question), passage) == found


_fixture_pipeline = hard_checks_pipeline


_DOC = ("みなと市の貯水施設\n\n"
        "貯水施設は、みなと市が整備した市内最大の地下貯水槽である。\n"
        "施設の見学会は2024年6月1日に開催された。\n"
        "貯水槽の点検は年間約40日行う。\n")


def test_an_unstated_unit_of_measure_abstains_on_a_line_about_the_subject(tmp_path: Path, one_document) -> None:
    p = _fixture_pipeline(one_document, tmp_path, _DOC, "貯水施設")
    ans = p.ask("貯水槽の容量は何立方メートルか。")
    assert ans.abstained and ans.notice  # the description states no volume


def test_days_over_a_period_are_not_answered_by_a_date(tmp_path: Path, one_document) -> None:
    dated = _DOC.replace("貯水槽の点検は年間約40日行う。\n", "")
    (tmp_path / "dated").mkdir()
    (tmp_path / "counted").mkdir()
    p = _fixture_pipeline(one_document, tmp_path / "dated", dated, "貯水施設")
    ans = p.ask("貯水施設の見学会は年間何日開かれるか。")
    assert ans.abstained and ans.notice  # only the date of one open day is stated
    p = _fixture_pipeline(one_document, tmp_path / "counted", _DOC, "貯水施設")
    ans = p.ask("貯水槽の点検は年間何日行うか。")
    assert not ans.abstained and "40日" in ans.answer
