"""Value questions typed as such, and literals checked as written (abst5): a Japanese question
holding a Latin name, a unit in Latin letters, an ordinal, a fee or a schedule asked as a noun,
a Latin literal inside a longer word, the word URL (made-up fixture documents, the fake embedder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from readerkit import hard_checks_pipeline

from assistant.bm25 import mecab_tokenize
from assistant.glossary import is_english
from assistant.reader.abstain import missing_literals
from assistant.reader.query import analyse, answer_type, asked_units


def _analyse(q: str):  # type: ignore[no-untyped-def]
    return analyse(q, mecab_tokenize, lambda t: 1.0)


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("Harbour Light Academyの参加費を教えて", False),  # Japanese grammar around a Latin name
        ("Harbour Light Academyの開催地を知りたい", False),
        ("How much is the fee of the Harbour Light Academy?", True),
        ("What is XR-7?", True),
    ],
)
def test_a_question_with_hiragana_is_japanese(text: str, english: bool) -> None:
    assert is_english(text) is english


@pytest.mark.parametrize(
    ("question", "atype", "units"),
    [
        ("甲風力発電所の出力は何万kWか。", "number", ("kW",)),  # not yen: 何万 before a Latin unit
        ("甲装置の電流は最大何MAか。", "number", ("MA",)),
        ("蓄電池を何台導入するか。", "number", ("台",)),
        ("甲講座の受講料を教えて", "number", ("money",)),
        ("甲大会の参加費は？", "number", ("money",)),
        ("甲計画の目標は第何号か。", "number", ()),
        ("今年の甲会合の日程は？", "date", ()),
        ("甲社の代表として会長を務める人の名前は？", "person", ()),
        ("甲研究所のトップ（所長）の名前は？", "person", ()),
        ("How many foreign nationals work at the Harbour Agency?", "number", ("名",)),
        ("甲燃料は何か。", "other", ()),  # 料 of a word that is no fee
    ],
)
def test_value_questions_asked_by_unit_ordinal_or_noun(question: str, atype: str, units: tuple[str, ...]) -> None:
    q = _analyse(question)
    assert answer_type(q.normalized) == atype
    assert asked_units(q.normalized) == units


def test_the_secretariat_asked_is_the_focus() -> None:
    q = _analyse("甲協議会の事務局はどこにありますか。")
    assert q.answer_type == "organization"
    assert "".join(q.focus) == "事務局"


@pytest.mark.parametrize(
    ("question", "passages", "missing"),
    [
        # A Latin unit inside a longer Latin word is not stated.
        ("甲装置の電流は最大何MAか。", ["甲装置はplasma実験を行う。"], ("MA",)),
        ("甲装置の電流は最大何MAか。", ["甲装置の電流は最大5.5 MAである。"], ()),
        # An ordinal asked is met by a number with its counter only.
        ("甲計画の目標は第何号か。", ["甲計画は目標の一つである。"], ("第N号",)),
        ("甲計画の目標は第何号か。", ["甲計画は第8号の目標である。"], ()),
        # The word URL is met by a web address.
        ("甲制度の参考URLを教えて", ["甲制度: https://www.example.go.jp/a.html"], ()),
        ("甲制度の参考URLを教えて", ["甲制度の概要を示す。"], ("URL",)),
    ],
)
def test_missing_latin_ordinal_and_url_literals(question: str, passages: list[str], missing: tuple[str, ...]) -> None:
    assert missing_literals(_analyse(question), passages) == missing


_fixture_pipeline = hard_checks_pipeline


_DOC = ("甲実験装置の概要\n\n"
        "甲実験装置は、みなと市の研究所にあるplasma実験装置である。\n"
        "装置の運転は2024年10月に始まった。\n"
        "装置は市の第2次計画に基づき整備された。\n")


def test_an_unstated_latin_unit_or_ordinal_abstains(tmp_path: Path, one_document) -> None:
    p = _fixture_pipeline(one_document, tmp_path, _DOC, "甲実験装置")
    assert p.ask("甲実験装置の電流は最大何MAか。").abstained
    assert p.ask("甲実験装置は第何号の計画に基づくか。").abstained
    assert not p.ask("甲実験装置は第何次の計画に基づき整備されたか。").abstained
