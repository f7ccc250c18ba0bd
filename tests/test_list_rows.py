"""Lists whose extracted text hides where they start or end: a row whose number the extraction lost,
an enumeration wrapped onto the next line (fixture documents, fake embedder, no ranker involved)."""

from __future__ import annotations

from pathlib import Path

from assistant.reader.candidates import Candidate
from assistant.reader.policy import DEFAULT_POLICY
from assistant.reader.select import list_block, reached_back, row_shape


def _line(index, prefix: str) -> Candidate:  # type: ignore[no-untyped-def]
    """The indexed sentence that starts with ``prefix``, as an unscored candidate."""
    sents = index.sentences
    for row in range(index.size):
        chunk = index.chunks[row]
        for pos, si in enumerate(sents.of_row(row)):
            text = sents.texts[si]
            if text.startswith(prefix):
                start, end = (int(x) for x in sents.spans[si])
                return Candidate("sentence", 1, row, chunk, start, end, text, si, pos, 0.0, 0.0, 0.0, 0.0,
                                 sents.tokens[si], tuple(index.annotations.spans(si, text)))
    raise AssertionError(prefix)


_BUDGET = ("乙事業の概要\n\n"
           "・乙機構における共同事業の推進(補助金)\n"
           "①甲装置の運転・整備 3,000百万円(2,000百万円)\n"
           "②乙施設の設計活動 600百万円(500百万円)\n"
           "③丙センター等 2,100百万円(1,700百万円)\n"
           "・丁の基盤整備(研究開発等) 500百万円(200百万円)\n\n"
           "・なお、戊の取組は別途実施する。\n")


def test_a_last_row_of_the_items_shape_ends_a_numbered_list(tmp_path: Path, one_document) -> None:
    index = one_document(tmp_path, _BUDGET, "乙事業").index()
    first = _line(index, "①")
    assert row_shape(first) == ("money", "money", ")")
    block = list_block(index, first, DEFAULT_POLICY)
    texts = [c.text for c in block]
    assert any(t.startswith("・丁の基盤整備") for t in texts)
    assert not any("戊" in t for t in texts)


def test_a_line_of_another_shape_after_a_numbered_list_stays_out(tmp_path: Path, one_document) -> None:
    doc = _BUDGET.replace("・丁の基盤整備(研究開発等) 500百万円(200百万円)", "・丁の基盤整備も進める")
    index = one_document(tmp_path, doc, "乙事業").index()
    block = list_block(index, _line(index, "①"), DEFAULT_POLICY)
    assert not any("丁" in c.text for c in block)


_WRAPPED = ("甲エネルギーの位置づけ\n\n"
            "・安定供給の確保\n\n"
            "・甲エネルギーの特長(①脱炭素、\n"
            "②豊富な燃料、③固有の安全性、④環境保全性)\n"
            "・技術で勝つための戦略\n")


def test_an_enumeration_wrapped_from_the_line_above_starts_there(tmp_path: Path, one_document) -> None:
    index = one_document(tmp_path, _WRAPPED, "甲エネルギー").index()
    second = _line(index, "②")
    units = reached_back(index, [second])
    assert [u.text for u in units] == ["・甲エネルギーの特長(①脱炭素、", second.text]
    # A list opening on its first item, or under a line that does not run on, stays as it is.
    supply = _line(index, "・安定供給")
    assert reached_back(index, [supply]) == [supply]


_BOARD = ("丙協会の概要\n\n"
          "●役員\n"
          "会長：甲株式会社\n"
          "理事：乙株式会社、丙株式会社、\n\n"
          "丁株式会社、戊株式会社、\n"
          "己株式会社、庚株式会社、\n"
          "辛株式会社 計7社\n\n"
          "●これまでの活動\n"
          "設立総会を開催した。\n")


def test_an_enumeration_runs_on_through_the_lines_of_one_sentence(tmp_path: Path, one_document) -> None:
    from assistant.reader.select import continued, line_units

    index = one_document(tmp_path, _BOARD, "丙協会").index()
    head = _line(index, "理事")
    assert len(line_units(index, _line(index, "丁株式会社"))) == 3  # the splitter ran them together
    units = continued(index, [head], DEFAULT_POLICY)
    texts = [u.text for u in units]
    assert texts[0] == head.text and texts[-1].startswith("辛株式会社")
    assert any(t.startswith("己株式会社") for t in texts)
    assert not any("活動" in t or "設立総会" in t for t in texts)


_COMMITMENTS = ("◆約束\n"
                "i.協力を強化するため、甲分野に関する作業部会を設立し、\n\n"
                "好事例を共有するとともに、相互に協力できる分野を探求。\n"
                "ii.規制に対する一貫した方針を推進する。\n")


def test_a_line_stopping_on_a_comma_takes_the_rest_of_its_sentence(tmp_path: Path, one_document) -> None:
    from assistant.reader.select import run_on

    index = one_document(tmp_path, _COMMITMENTS, "約束").index()
    head = _line(index, "i.協力")
    whole = run_on(index, head)
    assert whole.text.endswith("分野を探求。") and whole.start == head.start and whole.end > head.end
    # A closed sentence, or one whose next line opens an item, stays as it is.
    closed = _line(index, "好事例")
    assert run_on(index, closed) == closed


_SCHEMES = ("研修制度の案内\n\n"
            "【参考】海外で学ぶための制度\n"
            "• 短期派遣（募集期間：5/1～5/31）\n"
            "＜昨年度の例＞\n"
            "対象：学部、修士 ・1か月以内\n\n"
            "• 長期研究員（不定期公募、任期2年）\n"
            "• 客員研究員（任期1年）\n"
            "• 交流職員（任期3年）\n\n"
            "今後の方針は別途定める。\n")


def test_a_sub_title_under_the_first_item_is_its_detail_not_a_new_list(tmp_path: Path, one_document) -> None:
    # The first bullet carries a sub-title and a labelled detail (＜…の例＞, 対象：…) before the next bullet:
    # the list goes on past them; it is not a list of the sub-title's lines.
    index = one_document(tmp_path, _SCHEMES, "研修制度").index()
    block = list_block(index, _line(index, "•短期派遣"), DEFAULT_POLICY)
    assert [c.text[:5] for c in block if c.text.startswith("•")] == ["•短期派遣", "•長期研究", "•客員研究", "•交流職員"]
    assert not any("方針" in c.text for c in block)
    # Under a heading, a bracketed sub-title still opens the items under it (【概要】 / ・…).
    titled = _SCHEMES.replace("【参考】海外で学ぶための制度\n", "海外で学ぶための制度\n【概要】\n")
    (tmp_path / "b").mkdir()
    index = one_document(tmp_path / "b", titled, "研修制度").index()
    block = list_block(index, _line(index, "海外で学ぶ"), DEFAULT_POLICY)
    assert [c.text[:5] for c in block][:3] == ["海外で学ぶ", "【概要】", "•短期派遣"]


def test_an_items_detail_lines_are_indented_in_the_answer(tmp_path: Path, one_document) -> None:
    from assistant.reader.shape import _list_answer

    index = one_document(tmp_path, _SCHEMES, "研修制度").index()
    block = list_block(index, _line(index, "•短期派遣"), DEFAULT_POLICY)
    text, citations = _list_answer(block, index)
    lines = text.split("\n")
    assert lines[0].startswith("・短期派遣") and lines[-1].startswith("・交流職員")
    # The sub-title and the labelled line under the first item are its detail, each still cited.
    assert lines[1].startswith("\u3000<昨年度の例>") and lines[2].startswith("\u3000対象:")
    assert len(citations) == len(lines)


def test_a_bullet_over_items_of_another_bullet_heads_them_though_its_bullet_comes_back(
        tmp_path: Path, one_document) -> None:
    doc = ("支援策の整理\n\n"
           "●主な支援策\n"
           "・設備の導入補助\n"
           "・専門家の派遣\n"
           "・研修の実施\n"
           "●今後の課題\n"
           "・財源の確保\n")
    index = one_document(tmp_path, doc, "支援策").index()
    block = list_block(index, _line(index, "●主な支援策"), DEFAULT_POLICY)
    # The next heading of the head's kind (●今後の課題) ends the list: its items are another section's.
    assert [c.text[:4] for c in block] == ["●主な支", "・設備の", "・専門家", "・研修の"]
