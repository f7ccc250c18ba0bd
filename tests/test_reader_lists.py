"""Lists gathered whole: items above the best line, across passage boundaries and item bodies."""

from __future__ import annotations

from pathlib import Path

from readerkit import hard_checks_pipeline, select_with_best

from assistant.reader.candidates import line_of
from assistant.reader.select import _titled_run, list_block, opens_enumeration

# A long lead paragraph pushes the list over the chunker's passage size, so that a passage starts inside it.
_LEAD = "".join(f"市の施設整備は第{n}期の計画に沿って、地域の要望を聞きながら段階的に進めてきた。\n" for n in range(1, 9))


_BODY1 = ("老朽化した遊具を点検し、危険なものから順に新しいものへ取り替える。\n"
          "点検の結果は市のホームページで公表し、利用者の意見も聞く。\n"
          "取り替えた遊具は、子どもの年齢に合わせて配置を見直すことにする。\n"
          "工事の期間中は、安全のために一部の区域の利用を止めることがある。\n"
          "古い遊具のうち使えるものは、ほかの公園に移して引き続き使うことにする。\n")
_BODY2 = ("車いすでも通りやすいよう、園路の段差をなくして舗装し直す。\n"
          "雨の日にも滑りにくい材料を選び、水たまりができないようにする。\n"
          "案内板を新しくし、出入口からの道順を分かりやすく示すことにする。\n"
          "ベンチを増やして、歩く途中で休めるところを園内の各所に設ける。\n"
          "舗装の工事は利用者の少ない冬の時期に行い、春までに終えることにする。\n")


def test_numbered_items_above_their_bodies_and_a_passage_boundary_join_the_list(tmp_path: Path, one_document) -> None:
    doc = ("公園整備の方針\n\n" + _LEAD + "\n令和8年度の主な取組(案)\n\n"
           "(1) 遊具の更新\n" + _BODY1 + "\n(2) 園路の舗装\n" + _BODY2 + "\n"
           "(3) 照明の設置\n夜間も安心して歩けるよう、園内の暗い場所に照明を設ける。\n\n"
           "(4) 花壇の整備\n地域の団体と協力して、季節の花を植える花壇を整える。\n")
    p = hard_checks_pipeline(one_document, tmp_path, doc, "公園整備")
    _, idx, sel, best = select_with_best(p, "令和8年度の主な取組を全部挙げてください。", "(4)")
    assert best.pos == 0  # the best line opens its passage: the items above it are in the passage before
    assert [c.text[:3] for c in sel.units if c.text[:1] == "("] == ["(1)", "(2)", "(3)", "(4)"]
    assert not any("ホームページ" in c.text or "照明を設ける" in c.text for c in sel.units)  # bodies stay out
    # A what-question keeps the list around its best line as it was.
    assert [line_of(c.chunk, c.start) for c in list_block(idx, best, p.reader_policy)] == [line_of(best.chunk, best.start)]


def test_bulleted_items_above_an_items_detail_lines_join_the_list(tmp_path: Path, one_document) -> None:
    doc = ("留学支援の制度\n\n" + _LEAD + "\n【参考】海外で学ぶための制度\n"
           "• 短期派遣(応募期間:4/1~4/30)\n＜昨年度の例＞\n対象:学部生、修士 ・1か月 ・旅費\n\n"
           "• 長期研究員(不定期公募、任期2年)\n• 共同研究員(随時受付)\n• 招へい研究員(年1回公募)\n")
    p = hard_checks_pipeline(one_document, tmp_path, doc, "留学支援")
    _, idx, sel, best = select_with_best(p, "海外で学ぶための制度を全部教えて。", "•長期")
    assert best.pos == 0
    texts = [c.text for c in sel.units]
    # The first item and its detail lines (kept, as below an item), then the items after it.
    assert texts[0].startswith("•短期派遣") and texts[1] == "<昨年度の例>" and texts[-1].startswith("•招へい")
    assert not any(c.text.startswith("•短期") for c in list_block(idx, best, p.reader_policy))


def test_an_item_out_of_sequence_above_a_body_is_another_list(tmp_path: Path, one_document) -> None:
    doc = ("公園整備の方針\n\n" + _LEAD + "\n参考資料\n(1) 前年度の実績\n遊具を10基更新した。\n\n"
           "今年度の取組\n(1) 園路の舗装\n段差をなくして舗装し直す。\n(2) 照明の設置\n暗い場所に照明を設ける。\n")
    p = hard_checks_pipeline(one_document, tmp_path, doc, "公園整備")
    _, _, sel, _ = select_with_best(p, "今年度の取組を挙げてください。", "(2)")
    assert any(c.text.startswith("(1)園路") for c in sel.units)
    assert not any("前年度" in c.text for c in sel.units)


def test_a_line_opening_an_enumeration_that_runs_on_is_its_own_list() -> None:
    assert opens_enumeration("・甲の特長(①低コスト、")
    assert opens_enumeration("・主な機能は(1)検索、")
    assert not opens_enumeration("(1)甲の整備、")  # a numbered item, not an enumeration inside a line
    assert not opens_enumeration("・甲の特長(①低コスト、②高効率)")  # ends: the whole of it is one line


_SECTIONS = ("緑化推進の基本方針\n"
             "【植える】\n・街路樹を計画的に植え替える\n・公園に花壇を設ける\n"
             "【守る】\n・古い樹木を診断して\n保全する\n"
             "【広める】\n・市民の植樹祭を開く\n\n"
             "緑化推進の予算\n・植樹の費用は市が負担する。\n")


def test_a_count_asked_of_titled_sections_gets_their_titles(tmp_path: Path, one_document) -> None:
    from assistant.reader.shape import _list_answer

    p = hard_checks_pipeline(one_document, tmp_path, _SECTIONS, "緑化")
    _, idx, sel, _ = select_with_best(p, "緑化推進の基本方針の3つの柱は何か。", "・公園に花壇")
    assert [c.text for c in sel.units] == ["【植える】", "【守る】", "【広める】"]
    text, _ = _list_answer(sel.units, idx)
    assert text.splitlines() == ["・【植える】【1】", "・【守る】【2】", "・【広める】【3】"]  # each title an item
    # Another count than the sections': the titles alone are not the list asked for.
    _, _, sel, _ = select_with_best(p, "緑化推進の基本方針の2つの柱は何か。", "・公園に花壇")
    assert [c.text for c in sel.units] != ["【植える】", "【守る】", "【広める】"]
    # Titles in a row are a list of their own, no sections.
    root = tmp_path / "row"
    root.mkdir()
    p = hard_checks_pipeline(one_document, root, "緑化推進の基本方針\n【植える】\n【守る】\n【広める】\n", "緑化")
    _, idx, _, best = select_with_best(p, "緑化推進の基本方針の3つの柱は何か。", "【守る】")
    assert _titled_run(idx, best, p.reader_policy) == []


def test_a_sub_title_alone_above_the_items_heads_them(tmp_path: Path, one_document) -> None:
    doc = ("安全検討の進め方\n\n・方針を定めることを目指す。\n・関係者と協力して検討する。\n"
           "＜主な検討事項＞\n・国内の状況\n・海外の状況\n・設備の特徴\n")
    p = hard_checks_pipeline(one_document, tmp_path, doc, "安全検討")
    _, _, sel, _ = select_with_best(p, "検討事項を全部挙げてください。", "・海外")
    texts = [c.text for c in sel.units]
    assert "・国内の状況" in texts and "・設備の特徴" in texts
    assert not any("関係者" in t for t in texts)  # the bullets above the sub-title are another section's


def test_items_above_join_only_as_far_as_the_lists_limits_leave_the_best_lines_items(tmp_path: Path, one_document) -> None:
    rows = "".join(f"({n}) 第{n}地区の整備\n第{n}地区では道路と公園を順に整える。\n" for n in range(1, 11))
    p = hard_checks_pipeline(one_document, tmp_path, "地区整備の計画\n\n" + rows, "地区整備")
    _, _, sel, _ = select_with_best(p, "整備する地区を全部挙げてください。", "(9)")
    numbered = [c.text.split(")")[0] + ")" for c in sel.units if c.text[:1] == "("]
    assert numbered[-2:] == ["(9)", "(10)"] and len(sel.units) <= p.reader_policy.max_list_items
