"""Why-questions: a line that states a reason answers over a close note restating the question, a
sentence cut at a blank line gets its start back, and a long sentence is quoted around its reason
(fixture documents and candidates, fake embedder, no ranker)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from readerkit import sentence_candidate

from assistant.reader.candidates import Candidate
from assistant.reader.policy import DEFAULT_POLICY
from assistant.reader.select import reason_before, stated_reason
from assistant.reader.shape import reason_cue, snippet

_cand = sentence_candidate


def test_a_close_line_stating_a_reason_answers_over_a_restating_note() -> None:
    note = _cand("・検討課題(他地域から職員を集めること)")
    reason = _cand("人口減少により職員が不足しているため、他地域から職員を集める。")
    result = _cand("これにより、窓口の待ち時間が短くなる。")
    cands = [note, result, reason]
    assert stated_reason(cands, np.array([2.0, 1.9, 1.8]), 0, DEFAULT_POLICY) == 2
    # Far below the best, it does not; and a best line stating a reason stands.
    assert stated_reason(cands, np.array([2.0, 1.9, 0.5]), 0, DEFAULT_POLICY) == 0
    assert stated_reason(cands, np.array([1.0, 1.9, 2.0]), 2, DEFAULT_POLICY) == 2
    # A sentence stands: it may give its reason in other words (…と考えており、…).
    said = _cand("甲市との連携を強化していく必要があると考えており、協定を結んだ。")
    assert stated_reason([said, reason], np.array([2.0, 1.9]), 0, DEFAULT_POLICY) == 0


_CUT = ("甲市の広報の強化\n\n"
        "(5)ホームページの改訂等による発信の強化\n"
        "広報に使う資料が不足していることが、活動の遅れにつながることがないよう、観光\n\n"
        "情報に関するコンテンツを整理し、ホームページの改訂を行う。\n"
        "・資料の一覧【市】\n\n"
        "説明会を年に2回開く。\n")


def _line(index, prefix: str) -> Candidate:  # type: ignore[no-untyped-def]
    sents = index.sentences
    for row in range(index.size):
        for pos, si in enumerate(sents.of_row(row)):
            text = sents.texts[si]
            if prefix in text:
                start, end = (int(x) for x in sents.spans[si])
                return Candidate("sentence", 1, row, index.chunks[row], start, end, text, si, pos, 0.0, 0.0, 0.0,
                                 0.0, sents.tokens[si], tuple(index.annotations.spans(si, text)))
    raise AssertionError(prefix)


def test_a_sentence_cut_at_a_blank_line_gets_its_start_back(tmp_path: Path, one_document) -> None:
    index = one_document(tmp_path, _CUT, "甲市").index()
    tail = _line(index, "情報に関するコンテンツ")
    before = reason_before(index, tail)
    assert before is not None and "資料が不足" in before.text
    # A line above that closes (a bracketed note) is another point.
    assert reason_before(index, _line(index, "説明会を年に2回")) is None


def test_a_long_sentence_is_quoted_around_its_last_reason() -> None:
    text = ("背景として甲の理解を深めることが重要である。このため、「乙の推進に向けて」(令和2年3月1日丙委員会)に基づき、"
            "戦略的な広報活動を立案し、迅速に実施するため、丁本部を開催する。")
    around = reason_cue(text)
    assert around is not None and text[around[0] : around[1]] == "ため"
    assert "迅速に実施するため" in snippet(text, around, 60)
    assert "迅速に実施するため" not in snippet(text, None, 60)
