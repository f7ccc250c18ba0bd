"""Structure recovery on synthetic documents: space-separated tables, page breaks, and prose that is no table.

Table-driven: each case is a small document and the cells it must (or must not) yield, as
(label, value, first_line, last_line) with 1-based inclusive lines of the document.
"""

from __future__ import annotations

import pytest

from assistant.structure import page_furniture, recover_cells

BUDGET = """\
1. 予算の概要
表1 事項別の予算額（単位：億円）
事業名 令和6年度 令和7年度 増減
水素供給網整備 120 150 30
洋上風力導入支援 80 75 -5
合計 200 225 25
2. 重点事項
"""

#: The unit in the header row itself, a column with its own unit, and text columns.
HEADER_UNIT = """\
事業名 予算額（百万円） 担当 開始（単位：百万円）
"""

CASES: list[tuple[str, str, set[tuple[str, str, int, int]], set[tuple[str, str, int, int]]]] = [
    (
        "budget table under a unit caption: row x column cells with the caption's unit",
        BUDGET,
        {
            ("水素供給網整備 令和7年度", "150億円", 2, 4),  # caption, header and row quoted together
            ("洋上風力導入支援 増減", "-5億円", 2, 5),
            ("洋上風力導入支援 増減", "-5億円", 5, 5),  # below the first row: the row alone too
            ("合計 令和6年度", "200億円", 2, 6),
        },
        set(),
    ),
    (
        "unit caption on the header row, and a column naming its own unit",
        "候補 予算額(百万円) 件数 区分 （単位：億円）\n甲事業 1,200 3件 新規\n乙事業 800 5件 継続\n",
        {("甲事業 予算額(百万円)", "1,200百万円", 1, 2), ("乙事業 件数", "5件", 1, 3), ("乙事業 区分", "継続", 1, 3)},
        {("甲事業 件数", "3件億円", 1, 2)},
    ),
    (
        "cells with their units already, text columns, a dash for an empty cell",
        "地域 整備済み 整備中 目標\n北部 9か所 2か所 18か所\n南部 62か所 - 90か所\n",
        {("北部 整備中", "2か所", 1, 2), ("南部 目標", "90か所", 1, 3)},
        {("南部 整備中", "-", 1, 3)},
    ),
    (
        "two cells glued together by the extraction are split where a figure meets text",
        "事業名 予算案 概要\n甲事業 8,500 設備の導入支援\n乙事業 3,200 施設への導入\n丙事業 12,000住宅の改修補助\n",
        {("丙事業 予算案", "12,000", 1, 4), ("丙事業 概要", "住宅の改修補助", 1, 4)},
        set(),
    ),
    (
        "a table across a page break that repeats its header row",
        "候補地 区分 開始予定\n東地区 大規模 令和8年度\n西地区 大規模 令和9年度\n- 1 -\n候補地 区分 開始予定\n"
        "北地区 中規模 令和10年度\n南地区 中規模 令和11年度\n",
        {("北地区 開始予定", "令和10年度", 5, 6), ("南地区 区分", "中規模", 5, 7), ("東地区 区分", "大規模", 1, 2)},
        set(),
    ),
]

#: Documents that hold figures but no table: no row cells at all.
NOT_TABLES: list[tuple[str, str]] = [
    ("prose with several numbers a line", "導入量を2030年に300万トン、2040年に1,200万トンとする。\n"
     "供給コストを2030年に30円、2050年に20円以下とする。\n"),
    ("spaced prose lines with figures, sentence-ended", "導入量は 2030年に 300万トン とする。\n"
     "コストは 2030年に 30円 とする。\n価格は 2050年に 20円 とする。\n"),
    ("a heading and a dated byline are no header row", "令和6年12月 地域環境庁 会計課\n1. 予算の全体像\n総額は3,842億円である。\n"),
    ("rows of words without a figure", "方針 内容 担当\n窓口 書かない窓口 市民課\n研修 全職員 人事課\n"),
    ("a single row under a header", "事業名 令和6年度 令和7年度\n甲事業 120 150\n以上の通りである。\n"),
    ("a lone unit caption is not a label: value line", "表1 予算額（単位：億円）\n本文の文章である。\n"),
]


@pytest.mark.parametrize(("name", "doc", "present", "absent"), CASES, ids=[c[0] for c in CASES])
def test_spaced_tables(name: str, doc: str, present: set[tuple[str, str, int, int]],
                       absent: set[tuple[str, str, int, int]]) -> None:
    cells = {(c.label, c.value, c.first_line, c.last_line) for c in recover_cells("d.txt", doc) if c.kind == "row"}
    assert present <= cells, name
    assert not absent & cells, name


@pytest.mark.parametrize(("name", "doc"), NOT_TABLES, ids=[c[0] for c in NOT_TABLES])
def test_not_tables(name: str, doc: str) -> None:
    cells = recover_cells("d.txt", doc)
    assert not [c for c in cells if c.kind in ("row", "table")], name
    assert not [c for c in cells if "単位" in c.label], name


def test_cells_quote_exact_lines_and_value_line() -> None:
    lines = BUDGET.split("\n")
    for c in recover_cells("d.txt", BUDGET):
        if c.kind != "row":
            continue
        quoted = "\n".join(lines[c.first_line - 1 : c.last_line])
        row_key, column = c.label.split(" ")
        assert row_key in lines[c.value_line - 1]
        # The quote holds the column's header, except the row-alone copy of a lower row.
        assert column in quoted or c.first_line == c.last_line == c.value_line
        assert c.value.removesuffix("億円") in lines[c.value_line - 1].split()


def test_cell_value_has_a_typed_span_with_its_unit() -> None:
    from assistant.spans import extract_spans

    cell = next(c for c in recover_cells("d.txt", BUDGET) if c.label == "水素供給網整備 令和7年度" and c.kind == "row")
    assert [(s.kind, s.text) for s in extract_spans(cell.value, use_mecab=False)] == [("money", "150億円")]


def test_one_cell_a_line_table_across_a_page_break() -> None:
    head = ["表2 港湾の一覧", "港湾名", "指定年", "耐荷重", "対象区域"]
    rows = [["甲港", "2020年", "35トン", "甲沖"], ["乙港", "2021年", "30トン", "乙沖"], ["丙港", "2023年", "40トン", "丙沖"]]
    doc_lines = ["港湾の取組について", *head, *rows[0], *rows[1], "1", "港湾の取組について", *rows[2], "次の章の本文である。"]
    doc = "\n".join(doc_lines) + "\n"
    cells = {(c.label, c.value, c.first_line, c.last_line) for c in recover_cells("d.txt", doc) if c.kind == "row"}
    third = doc_lines.index("丙港") + 1
    assert ("丙港 耐荷重", "40トン", third, third + 3) in cells
    assert ("甲港 指定年", "2020年", 7, 10) in cells


@pytest.mark.parametrize(("doc", "furniture"), [
    ("本文\n- 1 -\n本文の続き\n", {1}),
    ("題名の資料\n本文\n表の値\n2\n題名の資料\n続き\n3\n", {3, 4, 6}),
    ("甲沖\n48万kW\n乙沖\n3\n甲沖\n本文である。\n", set()),  # a table cell repeats: not a running header
])
def test_page_furniture(doc: str, furniture: set[int]) -> None:
    assert page_furniture(doc.split("\n")) == furniture
