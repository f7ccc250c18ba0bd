"""Sentence splitting and the "no statement" classifier for drafts, table-driven."""

from __future__ import annotations

import pytest

from assistant.sentences import REASONS, core_text, no_statement_reason, split_sentences

SPLITS = [
    # Japanese sentence ends, with the marks kept.
    (
        "JT-60SAは那珂研究所にある。ITERはフランスで建設中である！本当か？",
        ["JT-60SAは那珂研究所にある。", "ITERはフランスで建設中である！", "本当か？"],
    ),
    # A quoted sentence stays inside its sentence; the closing bracket stays with it.
    (
        "彼は「予算は3.5億円である。」と述べた。次の文。",
        ["彼は「予算は3.5億円である。」と述べた。", "次の文。"],
    ),
    ("これは資料の抜粋です。」残り", ["これは資料の抜粋です。」", "残り"]),
    ("本文である（注：速報値である。）。次の文。", ["本文である（注：速報値である。）。", "次の文。"]),
    # Decimal points and full-width decimals are not ends.
    ("約3.5兆円を計上した。", ["約3.5兆円を計上した。"]),
    ("割合は１２．５％である。次。", ["割合は１２．５％である。", "次。"]),
    # Numbering before a heading is not a sentence of its own.
    ("1. 概要", ["1. 概要"]),
    ("１．背景と目的", ["１．背景と目的"]),
    # English: ". " ends a sentence, abbreviations and initials do not.
    (
        "Japan pays 9.1%. The U.S. pays 9.1% too. e.g. this stays",
        ["Japan pays 9.1%.", "The U.S. pays 9.1% too.", "e.g. this stays"],
    ),
    ("Version 1.2 is out. Next", ["Version 1.2 is out.", "Next"]),
    # A line break always ends a sentence; blank pieces are dropped.
    ("一行目\n二行目。三文目\n\n", ["一行目", "二行目。", "三文目"]),
    # An unclosed bracket does not glue the rest of the line together.
    ("「閉じない括弧。次の文。", ["「閉じない括弧。", "次の文。"]),
    # Repeated marks stay together.
    ("本当ですか？！はい。", ["本当ですか？！", "はい。"]),
    ("", []),
    ("　　", []),
]


@pytest.mark.parametrize(("text", "expected"), SPLITS)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_split_keeps_every_character_but_spaces() -> None:
    text = "ITER計画は2007年に発効した。日本は9.1%を分担する！「引用。」とある？ 最後"
    joined = "".join(split_sentences(text))
    assert joined == text.replace(" ", "")


REASON_CASES = [
    # Checkable statements: a predicate, or a figure.
    ("JT-60SAは那珂研究所にある。", None),
    ("ITER is built in France.", None),
    ("研究開発を加速する", None),
    ("・ITER分担金 3,604百万円", None),
    ("原型炉開発に向けた人材育成プログラムを大学と連携して実施", None),
    ("日本は建設期の費用の9.1%を分担する", None),
    # Greetings, requests and letter formulas.
    ("お疲れ様です。", "greeting"),
    ("いつもお世話になっております。", "greeting"),
    ("引き続きよろしくお願いいたします。", "greeting"),
    ("ご確認のほどお願い申し上げます。", "greeting"),
    ("関係各位", "greeting"),
    ("以上", "greeting"),
    ("拝啓", "greeting"),
    ("Best regards", "greeting"),
    # A lead-in that points at the rest of the paper.
    ("標記について、下記のとおり整理しました。", "lead-in"),
    ("主な論点は以下のとおり。", "lead-in"),
    # Questions.
    ("ITERはどこにありますか？", "question"),
    ("Where is ITER?", "question"),
    # A bare date or value.
    ("令和7年3月1日", "date"),
    ("2025年4月", "date"),
    ("令和6年度", "date"),
    ("2025/03/31（月）", "date"),
    ("12.5%", "value"),
    ("約300名", "value"),
    ("3,604百万円", "value"),
    # Short labels and headings without a predicate.
    ("1. 背景", "label"),
    ("【概要】", "label"),
    ("（参考）", "label"),
    ("第3章 原型炉開発の進め方", "label"),
    ("原型炉の早期実現に向けて", "label"),
    ("はじめに", "label"),
    ("Background", "label"),
    ("主な取組：", "label"),
    ("※", "label"),
    ("ITERも同様", "label"),
]


@pytest.mark.parametrize(("sentence", "reason"), REASON_CASES)
def test_no_statement_reason(sentence: str, reason: str | None) -> None:
    assert no_statement_reason(sentence) == reason
    assert reason is None or reason in REASONS


@pytest.mark.parametrize(
    ("sentence", "core"),
    [
        ("・項目", "項目"),
        ("（１）原型炉", "原型炉"),
        ("1. 背景", "背景"),
        ("① 概要", "概要"),
        ("第2章　総論", "総論"),
    ],
)
def test_core_text_drops_list_marks(sentence: str, core: str) -> None:
    assert core_text(sentence) == core
