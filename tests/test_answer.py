"""Pure answer rules: question types and the literals a question is pinned to."""

from __future__ import annotations

import pytest

from assistant.answer import missing_literals, question_literals, question_types


@pytest.mark.parametrize(
    ("question", "types"),
    [
        ("令和6年度予算額（案）はいくらか。", {"number"}),
        ("ITER協定が発効したのはいつか。", {"date"}),
        ("安全確保検討タスクフォースの主査を務めるのは誰か。", {"who"}),
        ("原型炉の研究開発を急ぐのはなぜか。", {"why"}),
        ("What share of ITER construction-phase costs does Japan bear?", {"number"}),
    ],
)
def test_question_types(question: str, types: set[str]) -> None:
    assert types <= question_types(question)


@pytest.mark.parametrize(
    ("question", "literals"),
    [
        ("令和7年度のITER計画関連予算額はいくらか。", ["令和7年度", "ITER"]),
        ("ITERの総建設費は何ユーロと見積もられているか。", ["ユーロ", "ITER"]),
        ("安全確保検討タスクフォースの第1回会合はいつ開催されたか。", ["1回"]),
        ("3月22日にワシントンDCで開いたイベント", ["3月", "22日", "DC"]),
        ("JT-60SAの最大プラズマ電流は何メガアンペアか。", ["60", "メガアンペア", "JT-60SA"]),
        ("原型炉の建設予定地はどこか。", []),
        ("何をするのか。", []),  # 何 followed by kana, not a unit
    ],
)
def test_question_literals(question: str, literals: list[str]) -> None:
    assert question_literals(question) == literals


@pytest.mark.parametrize(
    ("question", "passages", "missing"),
    [
        ("令和7年度の予算額はいくらか。", ["令和6年度予算額(案) 213億円"], ("令和7年度",)),
        ("令和6年度の予算額はいくらか。", ["令和6年度予算額(案) 213億円"], ()),
        # The slides abbreviate 令和 as R, both ways round.
        ("令和5年度に設立を目指す協議会は。", ["R5年度の設立を目指す核融合産業協議会"], ()),
        ("R5年度に設立を目指す協議会は。", ["令和5年度設立を目指す。"], ()),
        # Case, spaces and digit-group commas do not matter; a unit asked for does.
        ("iterの予算は何ユーロか。", ["ITER 機器の製造 10,702百万円"], ("ユーロ",)),
        ("10702百万円の内訳は。", ["ITER機器の製造等 10,702 百万円"], ()),
        ("STEPの建設地はどこか。", ["ITERはフランスに建設中", "JT-60SA"], ("STEP",)),
        ("原型炉の建設地はどこか。", ["原型炉の建設に向けて"], ()),
    ],
)
def test_missing_literals(question: str, passages: list[str], missing: tuple[str, ...]) -> None:
    assert missing_literals(question, passages) == missing
