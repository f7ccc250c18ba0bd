"""List questions: a question asking for several things of a kind, the rows of a roster a question
narrows to, and enumerations that run on over lines (fixture documents, fake embedder)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from readerkit import sentence_candidate

from assistant.bm25 import mecab_tokenize
from assistant.reader.policy import DEFAULT_POLICY
from assistant.reader.query import analyse, typed
from assistant.reader.scorer import load_model
from assistant.reader.select import Selection, kind_listed


def _analyse(q: str):  # type: ignore[no-untyped-def]
    return analyse(q, mecab_tokenize, lambda t: 1.0)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # Two interrogatives joined: several of that kind.
        ("甲会議を主催したのはどことどこ?", ("list", "place")),
        ("式典で挨拶したのは誰と誰か。", ("list", "person")),
        # The asked noun of each of several.
        ("式典に参加した各国の代表機関はどこか。", ("list", "place")),
        # An exhaustive cue after the interrogative, or in place of one.
        ("乙事業はどこで実施されていますか?全部教えて。", ("list", "place")),
        ("丙協会の理事を務める会社を全部教えて", ("list", "")),
        ("丁委員会の委員を務めるのは誰か、すべて挙げてください。", ("list", "person")),
        # A total (全部で) asks for a number; a cue before the interrogative's clause does not list it.
        ("参加国は全部でいくつか。", ("number", "")),
        ("すべての会員が集まる総会はどこで開かれるか。", ("place", "")),
        ("式典で挨拶したのは誰か。", ("person", "")),
    ],
)
def test_plural_cues_ask_for_a_list_of_the_interrogatives_kind(question: str, expected: tuple[str, str]) -> None:
    from assistant.normalize import normalize_query

    assert typed(normalize_query(question)) == expected


def test_a_list_of_bodies_asked_with_where_keeps_the_organisation_kind() -> None:
    q = _analyse("役員のうち、常任理事を務めている会社はどことどこ?")
    assert (q.answer_type, q.item_type) == ("list", "organization")


def _pipeline(one_document, tmp_path: Path, text: str, title: str):  # type: ignore[no-untyped-def]
    p = one_document(tmp_path, text, title)
    p = p.with_reader_model(replace(load_model(), abstain_threshold=0.0))
    p.reader_policy = replace(p.reader_policy, off_topic_dense=-1.0, off_topic_dense_en=-1.0, off_topic_translated=-1.0)
    return p


_ROSTER = ("甲検討会の構成員\n"
           "専門分野 所属 氏名\n\n"
           "材料工学 北方大学 名誉教授 山田 太郎\n"
           "経済学 南海大学 教授 佐藤 花子\n"
           "情報工学 東山大学 准教授 鈴木 一郎\n"
           "電気工学 西川大学 名誉教授 田中 次郎\n"
           "化学 中央大学 教授 高橋 三郎\n")


def test_a_narrowed_roster_quotes_each_matching_row(tmp_path: Path, one_document) -> None:
    p = _pipeline(one_document, tmp_path, _ROSTER, "甲検討会")
    ans = p.ask("甲検討会の構成員のうち、名誉教授の肩書を持つのは誰か。")
    assert "山田" in ans.answer and "田中" in ans.answer
    assert "佐藤" not in ans.answer and "鈴木" not in ans.answer and "高橋" not in ans.answer
    assert sorted(c.first_line for c in ans.citations) == [4, 7]
    assert all(c.first_line == c.last_line for c in ans.citations)
    for c in ans.citations:
        assert c.quote in (p.settings.corpus_dir / c.doc).read_text(encoding="utf-8")


def test_a_narrowing_that_picks_one_row_stays_a_value_answer(tmp_path: Path, one_document) -> None:
    p = _pipeline(one_document, tmp_path, _ROSTER, "甲検討会")
    ans = p.ask("甲検討会の構成員のうち、経済学の専門家は誰か。")
    assert ans.direct is not None and "佐藤" in ans.direct and not ans.answer.startswith("・")


def test_an_enumeration_broken_over_lines_is_quoted_to_its_end(tmp_path: Path, one_document) -> None:
    doc = ("丙協会の概要\n\n"
           "●役員\n"
           "会長：甲株式会社\n"
           "理事：乙株式会社、丙株式会社、\n\n"
           "丁株式会社、戊株式会社、\n\n"
           "己株式会社 計5社\n\n"
           "●これまでの活動\n"
           "設立総会を開催した。\n")
    p = _pipeline(one_document, tmp_path, doc, "丙協会")
    ans = p.ask("丙協会の理事を務める会社をすべて挙げてください。")
    for name in ("乙株式会社", "丁株式会社", "己株式会社"):
        assert name in ans.answer
    assert "設立総会" not in ans.answer
    lines = {c.first_line for c in ans.citations} | {c.last_line for c in ans.citations}
    assert {5, 7, 9} <= lines


_cand = sentence_candidate


def test_a_list_of_places_takes_the_close_line_naming_them() -> None:
    q = _analyse("乙事業はどこで実施されていますか?全部教えて。")
    assert q.item_type == "place"
    heading, item, places = _cand("乙事業の推進(補助金)"), _cand("①装置の運転 300百万円"), _cand("○実施地:青森県甲村、茨城県乙市")
    cands, scores = [heading, item, places], np.array([1.5, 0.9, 0.8])
    sel = kind_listed(q, cands, scores, Selection([heading, item], None, None, 1.5), DEFAULT_POLICY)
    assert sel.units == [places]
    # Far below the best, it does not answer; and a list that names the places itself stands.
    far = kind_listed(q, cands, np.array([1.5, 0.9, 0.2]), Selection([heading, item], None, None, 1.5), DEFAULT_POLICY)
    assert far.units == [heading, item]
    own = Selection([places, item], None, None, 1.5)
    assert kind_listed(q, cands, scores, own, DEFAULT_POLICY) is own
