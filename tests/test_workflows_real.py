"""``ask --batch`` and ``cite --draft`` end to end on the real corpus and model, as a user runs them.

The question list (.xlsx) and the draft (.docx) are built here with openpyxl and
python-docx from the gold set's questions and draft sentences; the commands run
as subprocesses against the session's real index; the outputs are read back:
every row is there, in order, every quote is an exact substring of the lines it
cites, and the bad rows carry their error.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.corpus import Document, load_corpus
from assistant.gold import load_gold
from assistant.messages import format_citation

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run_cli(*args: str, settings: Settings) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHIORI_")}
    env = {
        **base,
        "PYTHONIOENCODING": "utf-8",
        "SHIORI_CORPUS_DIR": str(settings.corpus_dir),
        "SHIORI_INDEX_DIR": str(settings.index_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", "-q", *args, "--no-rebuild", "--json"],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=900,
    )


@pytest.fixture(scope="module")
def docs(real_index: Settings) -> dict[str, Document]:
    return {d.id: d for d in load_corpus(real_index.corpus_dir)}


def _assert_quote_in_lines(docs: dict[str, Document], c: dict) -> None:
    doc = docs[c["doc"]]
    assert 1 <= c["first_line"] <= c["last_line"] <= len(doc.lines)
    assert c["quote"] and c["quote"] in doc.line_slice(c["first_line"], c["last_line"]), c


def _sheet(path: Path) -> list[dict]:
    from openpyxl import load_workbook

    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_question_list_end_to_end(real_index: Settings, docs: dict[str, Document], tmp_path: Path) -> None:
    from openpyxl import Workbook

    gold = [it for it in load_gold(ROOT / "eval" / "gold.jsonl") if it.kind != "cite"]
    picked = gold[::8]  # every kind, a spread of documents
    wb = Workbook()
    ws = wb.active
    ws.append(["番号", "質問", "担当"])
    for i, it in enumerate(picked, start=1):
        ws.append([i, it.question, "企画課"])
    ws.append([len(picked) + 1, None, "総務課"])  # empty
    ws.append([len(picked) + 2, 20240401, "総務課"])  # a number, not a question
    ws.append([len(picked) + 3, "核融合" * 700, "総務課"])  # too long
    src = tmp_path / "想定問答.xlsx"
    wb.save(src)

    proc = run_cli("ask", "--batch", str(src), settings=real_index)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    n = len(picked) + 3
    assert summary["rows"] == n and summary["errors"] == 3
    rows = _sheet(tmp_path / "想定問答.answers.xlsx")
    assert [r["row"] for r in rows] == list(range(2, n + 2))
    assert [r["question"] for r in rows[: len(picked)]] == [it.question for it in picked]
    assert all(r["担当"] for r in rows)
    cited = 0
    for r in rows[: len(picked)]:
        assert r["error"] is None and r["answer"]
        i = 1
        while r.get(f"citation{i}_quote"):
            c = {f: r[f"citation{i}_{f}"] for f in ("doc", "first_line", "last_line", "quote")}
            _assert_quote_in_lines(docs, c)
            assert r[f"citation{i}_title"] == docs[c["doc"]].title
            cited += 1
            i += 1
        if r["citations"]:
            assert r["citations"].startswith("【1】（出典：")
    assert cited >= len(picked) // 2
    bad = rows[len(picked) :]
    assert (
        "empty" in bad[0]["error"] and "number 20240401" in bad[1]["error"] and "too long" in bad[2]["error"]
    )
    assert all(b["answer"] is None for b in bad)

    # The same list as CSV and JSON Lines: the same rows and the same answers.
    for ext in (".csv", ".jsonl"):
        proc = run_cli("ask", "--batch", str(src), "--out", str(tmp_path / f"out{ext}"), settings=real_index)
        assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as f:
        csv_rows = list(csv.DictReader(f))
    records = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(csv_rows) == len(records) == n
    for x, c, rec in zip(rows, csv_rows, records, strict=True):
        assert x["answer"] == (c["answer"] or None) == rec["answer"]
        for cit in rec["citations"]:
            _assert_quote_in_lines(docs, cit)


def test_draft_end_to_end(real_index: Settings, docs: dict[str, Document], tmp_path: Path) -> None:
    import docx

    supported = [
        it.question
        for it in load_gold(ROOT / "eval" / "gold.jsonl")
        if it.kind == "cite" and getattr(it, "expect", "supported") == "supported"
    ][:6]
    d = docx.Document()
    d.add_heading("説明資料（案）", 1)
    d.add_paragraph("お疲れ様です。" + supported[0] + supported[1])
    d.add_heading("1. 取組", 2)
    for s in supported[2:4]:
        d.add_paragraph(s, style="List Bullet")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "項目", "内容"
    t.cell(1, 0).text, t.cell(1, 1).text = "方針", supported[4]
    d.add_paragraph(supported[5])
    d.add_paragraph("よろしくお願いいたします。")
    src = tmp_path / "下書き.docx"
    d.save(str(src))

    proc = run_cli("cite", "--draft", str(src), settings=real_index)
    assert proc.returncode == 0, proc.stderr
    rows = _sheet(tmp_path / "下書き.check.xlsx")
    got = [(r["location"], r["sentence"], r["strength"]) for r in rows]
    expected = [
        ("見出し（段落1）", "説明資料（案）", "no statement"),
        ("段落2 第1文", "お疲れ様です。", "no statement"),
        ("段落2 第2文", supported[0], None),
        ("段落2 第3文", supported[1], None),
        ("見出し（段落3）", "1. 取組", "no statement"),
        ("箇条書き（段落4）", supported[2], None),
        ("箇条書き（段落5）", supported[3], None),
        ("表1 1行1列", "項目", "no statement"),
        ("表1 1行2列", "内容", "no statement"),
        ("表1 2行1列", "方針", "no statement"),
        ("表1 2行2列", supported[4], None),
        ("段落6", supported[5], None),
        ("段落7", "よろしくお願いいたします。", "no statement"),
    ]
    assert [(loc, s) for loc, s, _ in got] == [(loc, s) for loc, s, _ in expected]
    for (_, _, strength), (_, _, want) in zip(got, expected, strict=True):
        if want:
            assert strength == want
        else:
            assert strength in ("strong", "partial", "conflict", "none")
    checked = [r for r in rows if r["strength"] != "no statement"]
    assert any(r["strength"] == "strong" for r in checked)
    for r in checked:
        if r["source_quote"]:
            c = {
                "doc": r["source_doc"],
                "first_line": r["source_first_line"],
                "last_line": r["source_last_line"],
                "quote": r["source_quote"],
            }
            _assert_quote_in_lines(docs, c)
        if r["strength"] in ("strong", "partial"):
            assert (
                r["citation"]
                == format_citation(docs[r["source_doc"]].title, r["source_doc"], r["source_first_line"], r["source_last_line"])
            )

    proc = run_cli("cite", "--draft", str(src), "--out", str(tmp_path / "r.md"), settings=real_index)
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert md.startswith("# 出典確認：下書き.docx") and md.count("\n| ") == len(rows) + 1
