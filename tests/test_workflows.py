"""Question lists and drafts: readers, writers, atomic output and the runs, on the fixture corpus.

Files are built in the test with the libraries staff files come from (openpyxl,
python-docx, csv); the pipeline uses the fake embedder. The end-to-end runs on
the real corpus and model are in ``test_workflows_real.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import batch, draft
from assistant.config import Settings
from assistant.errors import UsageError
from assistant.export import Column, answer_markdown, atomic_path, md_escape, write_table
from assistant.pipeline import Pipeline

FIXTURE_CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"


@pytest.fixture(scope="module")
def fake_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    root = tmp_path_factory.mktemp("wf_fake")
    settings = Settings(embedder="fake", corpus_dir=FIXTURE_CORPUS, index_dir=root / "index").validated()
    p = Pipeline(settings, progress=False)
    p.index()
    return p


def _xlsx(path: Path, rows: list[list[object]], title: str = "Sheet") -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _read_xlsx(path: Path) -> list[dict[str, object]]:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    rows = list(wb.active.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


# ------------------------------------------------------------ question lists


def test_txt_list_skips_blank_lines_and_keeps_line_numbers(tmp_path: Path) -> None:
    f = tmp_path / "q.txt"
    f.write_bytes("\ufeff最初の質問\r\n\r\n  \n二つ目の質問\n".encode())
    lst = batch.read_questions(f)
    assert [(r.row, r.question) for r in lst.rows] == [(1, "最初の質問"), (4, "二つ目の質問")]
    assert not lst.header


def test_utf16_text_from_windows_is_read(tmp_path: Path) -> None:
    f = tmp_path / "q.txt"
    f.write_bytes("予算額はいくらか。\r\n原型炉とは何か。\r\n".encode("utf-16"))
    assert [r.question for r in batch.read_questions(f).rows] == ["予算額はいくらか。", "原型炉とは何か。"]


def test_csv_list_with_header_extra_columns_and_shift_jis(tmp_path: Path) -> None:
    f = tmp_path / "q.csv"
    with open(f, "w", encoding="cp932", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["番号", "質問", "担当"])
        w.writerow(["1", "予算額はいくらか。", "企画課"])
        w.writerow(["2", "", "総務課"])
        w.writerow(["", "", ""])
        w.writerow(["3", "産業協議会はいつ設立されたか。"])
    lst = batch.read_questions(f)
    assert lst.header and lst.before == ["番号"] and lst.after == ["担当"]
    assert [(r.row, r.question, r.extra) for r in lst.rows] == [
        (2, "予算額はいくらか。", {"番号": "1", "担当": "企画課"}),
        (3, "", {"番号": "2", "担当": "総務課"}),
        (5, "産業協議会はいつ設立されたか。", {"番号": "3", "担当": ""}),
    ]


def test_csv_without_header_uses_the_first_column(tmp_path: Path) -> None:
    f = tmp_path / "q.csv"
    f.write_text("予算額はいくらか。,メモ\n原型炉とは何か。,\n", encoding="utf-8")
    lst = batch.read_questions(f)
    assert not lst.header and lst.after == ["B"]
    assert [r.question for r in lst.rows] == ["予算額はいくらか。", "原型炉とは何か。"]


def test_a_long_cell_mentioning_the_header_word_is_data(tmp_path: Path) -> None:
    f = tmp_path / "q.csv"
    f.write_text("この質問に関連する予算額はいくらか。\n二問目\n", encoding="utf-8")
    assert [r.question for r in batch.read_questions(f).rows] == [
        "この質問に関連する予算額はいくらか。",
        "二問目",
    ]


def test_xlsx_list_reports_unreadable_cells_in_place(tmp_path: Path) -> None:
    f = _xlsx(
        tmp_path / "q.xlsx",
        [
            ["No.", "Question", "due"],
            [1, "予算額はいくらか。", dt.date(2025, 3, 31)],
            [2, 12345, None],
            [3, "#N/A", None],
            [4, dt.datetime(2025, 1, 2), None],
            [5, None, "memo"],
            [None, None, None],
        ],
    )
    lst = batch.read_questions(f)
    assert lst.header and lst.before == ["No."] and lst.after == ["due"]
    by_row = {r.row: r for r in lst.rows}
    assert sorted(by_row) == [2, 3, 4, 5, 6]
    assert by_row[2].error is None and by_row[2].extra == {"No.": "1", "due": "2025-03-31"}
    assert "number 12345" in (by_row[3].error or "")
    assert "#N/A" in (by_row[4].error or "")
    assert "date" in (by_row[5].error or "")
    assert by_row[6].question == "" and by_row[6].error is None  # empty: refused when asked


def test_xlsx_picks_the_sheet_with_a_question_column(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["表紙"])
    ws = wb.create_sheet("一覧")
    ws.append(["質問"])
    ws.append(["予算額はいくらか。"])
    wb.save(tmp_path / "q.xlsx")
    assert [r.question for r in batch.read_questions(tmp_path / "q.xlsx").rows] == ["予算額はいくらか。"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("q.xls", b"\xd0\xcf\x11\xe0", "save it as .xlsx"),
        ("q.pdf", b"%PDF-1.4", "must be one of"),
        ("q.xlsx", b"not a zip file", "not a readable .xlsx"),
        ("q.txt", b"\x00\x01\x02binary", "binary"),
    ],
)
def test_unreadable_lists_are_refused(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        batch.read_questions(f)


def test_empty_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "q.txt").write_text("\n  \n", encoding="utf-8")
    with pytest.raises(UsageError, match="no questions"):
        batch.read_questions(tmp_path / "q.txt")
    _xlsx(tmp_path / "q.xlsx", [["質問"]])
    with pytest.raises(UsageError, match="no questions"):
        batch.read_questions(tmp_path / "q.xlsx")
    import docx

    docx.Document().save(str(tmp_path / "d.docx"))
    with pytest.raises(UsageError, match="no text"):
        draft.read_blocks(tmp_path / "d.docx")


def test_missing_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        batch.read_questions(tmp_path / "nothing.csv")
    with pytest.raises(UsageError, match="directory"):
        batch.read_questions(_dir_named(tmp_path, "d.txt"))


def _dir_named(root: Path, name: str) -> Path:
    (root / name).mkdir()
    return root / name


def test_answer_questions_loads_once_and_reports_bad_rows(fake_pipeline: Pipeline, tmp_path: Path) -> None:
    f = tmp_path / "q.csv"
    f.write_text(
        "質問,担当\n予算額はいくらか。,企画課\n,総務課\n"
        + "長" * 3000
        + ",x\n産業協議会はいつ設立されたか。,y\n",
        encoding="utf-8",
    )
    progress: list[tuple[int, int]] = []
    result = batch.answer_questions(
        fake_pipeline, batch.read_questions(f), on_progress=lambda d, t: progress.append((d, t))
    )
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]
    rows = result.rows
    assert [r.source.row for r in rows] == [2, 3, 4, 5]
    assert rows[0].answer is not None and rows[0].error is None
    assert rows[1].answer is None and "empty" in (rows[1].error or "")
    assert rows[2].answer is None and "too long" in (rows[2].error or "")
    assert rows[3].answer is not None
    assert result.summary()["errors"] == 2

    for ext in (".csv", ".xlsx", ".jsonl"):
        out = tmp_path / f"out{ext}"
        batch.write_answers(out, result)
        assert out.is_file()
    recs = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in recs] == [2, 3, 4, 5]
    assert recs[0]["input"] == {"担当": "企画課"} and recs[1]["error"]
    assert set(recs[0]) >= {"question", "direct", "answer", "abstained", "citations", "error"}
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as fh:
        csv_rows = list(csv.DictReader(fh))
    xlsx_rows = _read_xlsx(tmp_path / "out.xlsx")
    assert len(csv_rows) == len(xlsx_rows) == 4
    for c, x, r in zip(csv_rows, xlsx_rows, recs, strict=True):
        assert c["question"] == (x["question"] or "") == r["question"]
        assert c["担当"] == (x["担当"] or "")
        assert c["answer"] == (x["answer"] or "") == (r["answer"] or "")
        for i, cit in enumerate(r["citations"], start=1):
            assert x[f"citation{i}_quote"] == c[f"citation{i}_quote"] == cit["quote"]
            assert x[f"citation{i}_first_line"] == int(c[f"citation{i}_first_line"]) == cit["first_line"]


def test_batch_encodes_a_chunk_at_a_time_and_answers_like_ask(tmp_path: Path) -> None:
    from assistant.embedding import FakeEmbedder

    class Counting(FakeEmbedder):
        """The fake model, counting how many texts each query-encoding call gets."""

        calls: list[int]

        def embed_queries(self, texts):  # type: ignore[no-untyped-def]
            self.calls.append(len(texts))
            return super().embed_queries(texts)

    model = Counting()
    model.calls = []
    settings = Settings(embedder="fake", corpus_dir=FIXTURE_CORPUS, index_dir=tmp_path / "index").validated()
    pipeline = Pipeline(settings, embedder=model, progress=False)
    questions = [
        "予算額はいくらか。",
        "産業協議会はいつ設立されたか。",
        "",
        "原型炉開発で何を加速するか。",
    ] * 5
    lst = batch.QuestionList([batch.QuestionRow(i + 1, q) for i, q in enumerate(questions)], [], [])
    pipeline.index()
    model.calls.clear()
    result = batch.answer_questions(pipeline, lst)
    # One call per chunk of rows (16 + 4) with its distinct non-empty questions; none per question.
    assert model.calls == [3, 3]
    for r in result.rows:
        if r.source.question:
            assert r.answer == {
                **pipeline.ask(r.source.question).to_json(),
                "timings_ms": r.answer["timings_ms"],
            }
        else:
            assert r.error and r.answer is None


def test_an_undecodable_line_is_a_bad_row(fake_pipeline: Pipeline, tmp_path: Path) -> None:
    f = tmp_path / "q.txt"
    f.write_bytes("予算額はいくらか。\n".encode() + b"bad \x80\xff line\n" + "原型炉とは何か。\n".encode())
    result = batch.answer_questions(fake_pipeline, batch.read_questions(f))
    assert [r.source.row for r in result.rows] == [1, 2, 3]
    assert result.rows[0].answer and result.rows[2].answer
    assert result.rows[1].answer is None and "undecodable" in (result.rows[1].error or "")


def test_input_columns_named_like_ours_are_kept_apart(fake_pipeline: Pipeline, tmp_path: Path) -> None:
    f = tmp_path / "q.csv"
    f.write_text("質問,answer\n予算額はいくらか。,（記入欄）\n", encoding="utf-8")
    columns, rows = batch.answer_table(batch.answer_questions(fake_pipeline, batch.read_questions(f)))
    keys = [c.key for c in columns]
    assert keys[:3] == ["row", "question", "answer (input)"] and "answer" in keys
    assert rows[0]["answer (input)"] == "（記入欄）" and rows[0]["answer"] != "（記入欄）"


def test_default_outputs() -> None:
    assert batch.default_output(Path("a/list.xlsx")) == Path("a/list.answers.xlsx")
    assert batch.default_output(Path("list.csv")) == Path("list.answers.csv")
    assert batch.default_output(Path("list.txt")) == Path("list.answers.xlsx")
    assert draft.default_output(Path("d/案.docx")) == Path("d/案.check.xlsx")


# -------------------------------------------------------------------- drafts


def _docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.add_heading("説明資料（案）", 1)
    d.add_paragraph("お疲れ様です。予算額は１２億円である。国家戦略を策定した。")
    d.add_paragraph("人材育成を強化する。", style="List Bullet")
    t = d.add_table(rows=3, cols=3)
    t.cell(0, 0).text, t.cell(0, 1).text, t.cell(0, 2).text = "項目", "金額", "備考"
    t.cell(1, 0).text, t.cell(1, 1).text = "研究開発", "12億円"
    t.cell(2, 0).text = "人材育成"
    merged = t.cell(2, 1).merge(t.cell(2, 2))
    merged.text = "大学間連携で人材育成を強化する。"
    d.add_paragraph("")
    d.add_paragraph("以上")
    d.save(str(path))
    return path


def test_docx_blocks_in_document_order(tmp_path: Path) -> None:
    blocks = draft.read_blocks(_docx(tmp_path / "d.docx"))
    got = [(b.kind, b.place(), b.text) for b in blocks]
    assert got == [
        ("heading", "見出し（段落1）", "説明資料（案）"),
        ("paragraph", "段落2", "お疲れ様です。予算額は１２億円である。国家戦略を策定した。"),
        ("bullet", "箇条書き（段落3）", "人材育成を強化する。"),
        ("table", "表1 1行1列", "項目"),
        ("table", "表1 1行2列", "金額"),
        ("table", "表1 1行3列", "備考"),
        ("table", "表1 2行1列", "研究開発"),
        ("table", "表1 2行2列", "12億円"),
        ("table", "表1 3行1列", "人材育成"),
        ("table", "表1 3行2列", "大学間連携で人材育成を強化する。"),  # merged: listed once
        ("paragraph", "段落4", "以上"),
    ]


def test_draft_sentences_mark_what_is_not_checked(tmp_path: Path) -> None:
    sents = draft.draft_sentences(draft.read_blocks(_docx(tmp_path / "d.docx")))
    got = [(s.n, s.location(), s.text, s.reason, s.query) for s in sents]
    assert got == [
        (1, "見出し（段落1）", "説明資料（案）", "heading", None),
        (2, "段落2 第1文", "お疲れ様です。", "greeting", None),
        (3, "段落2 第2文", "予算額は１２億円である。", None, None),
        (4, "段落2 第3文", "国家戦略を策定した。", None, None),
        (5, "箇条書き（段落3）", "人材育成を強化する。", None, None),
        (6, "表1 1行1列", "項目", "heading", None),
        (7, "表1 1行2列", "金額", "heading", None),
        (8, "表1 1行3列", "備考", "heading", None),
        (9, "表1 2行1列", "研究開発", "label", None),
        # A bare value is checked with its row and column names.
        (10, "表1 2行2列", "12億円", None, "研究開発（金額） 12億円"),
        (11, "表1 3行1列", "人材育成", "label", None),
        (12, "表1 3行2列", "大学間連携で人材育成を強化する。", None, None),
        (13, "段落4", "以上", "greeting", None),
    ]


def test_markdown_and_text_drafts(tmp_path: Path) -> None:
    md = tmp_path / "d.md"
    md.write_text(
        "# 見出し\n\n予算額は１２億円である。国家戦略を\n策定した。\n\n- 人材育成を強化する。\n"
        "\n| 項目 | 金額 |\n|---|---|\n| 研究開発 | 12億円 |\n\n```\nコードは読まない。\n```\n",
        encoding="utf-8",
    )
    got = [(b.kind, b.place(), b.text) for b in draft.read_blocks(md)]
    assert got == [
        ("heading", "見出し（1行目）", "見出し"),
        ("paragraph", "3行目", "予算額は１２億円である。国家戦略を策定した。"),
        ("bullet", "箇条書き（6行目）", "人材育成を強化する。"),
        ("table", "表1 1行1列（8行目）", "項目"),
        ("table", "表1 1行2列（8行目）", "金額"),
        ("table", "表1 2行1列（10行目）", "研究開発"),
        ("table", "表1 2行2列（10行目）", "12億円"),
    ]
    txt = tmp_path / "d.txt"
    txt.write_text("予算額は１２億円である。\n\n・人材育成を強化する。\n", encoding="utf-8")
    assert [(b.kind, b.place()) for b in draft.read_blocks(txt)] == [
        ("paragraph", "1行目"),
        ("bullet", "箇条書き（3行目）"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("d.doc", b"\xd0\xcf\x11\xe0", "save it as .docx"),
        ("d.docx", b"PK\x03\x04broken", "not a readable .docx"),
        ("d.pdf", b"%PDF", "must be one of"),
    ],
)
def test_unreadable_drafts_are_refused(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        draft.read_blocks(f)


def test_check_draft_reports_every_sentence(fake_pipeline: Pipeline, tmp_path: Path) -> None:
    calls: list[int] = []
    real_cite = fake_pipeline.cite

    class Counting:
        """The real pipeline, counting how many cite calls the draft takes."""

        def __init__(self) -> None:
            self.settings = fake_pipeline.settings

        def index(self):  # type: ignore[no-untyped-def]
            return fake_pipeline.index()

        def cite(self, sentences, k=None):  # type: ignore[no-untyped-def]
            calls.append(len(sentences))
            return real_cite(sentences, k=k)

    report = draft.check_draft(Counting(), _docx(tmp_path / "d.docx"))  # type: ignore[arg-type]
    assert calls == [5]  # every checkable sentence (3, 4, 5, 10, 12) in one call
    assert len(report.rows) == 13 and report.source == "d.docx"
    for r in report.rows:
        if r.sentence.reason:
            assert r.verdict == draft.NO_STATEMENT and r.result is None
        else:
            assert r.verdict in ("strong", "partial", "conflict", "none") and r.result is not None
    for ext in (".xlsx", ".md", ".jsonl"):
        draft.write_report(tmp_path / f"r{ext}", report)
    rows = _read_xlsx(tmp_path / "r.xlsx")
    assert [r["n"] for r in rows] == list(range(1, 14))
    assert rows[0]["strength"] == "no statement" and rows[0]["reason"] == "見出し"
    recs = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()]
    assert recs[9]["checked_as"] == "研究開発（金額） 12億円" and recs[9]["location"]["table"] == 1
    md = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "# 出典確認：d.docx" in md and md.count("\n| ") == 14  # header + 13 rows


def test_a_sentence_too_long_is_reported_in_its_row(fake_pipeline: Pipeline) -> None:
    blocks = [
        draft.Block("paragraph", "予算額は１２億円である。", paragraph=1),
        draft.Block("paragraph", "長" * 2500 + "である。", paragraph=2),
    ]
    report = draft.check_sentences(fake_pipeline, draft.draft_sentences(blocks))
    assert report.rows[0].result is not None and report.rows[0].error is None
    assert report.rows[1].result is None and "too long" in (report.rows[1].error or "")
    assert report.counts() == {report.rows[0].verdict: 1, "error": 1}


# ------------------------------------------------------------------- writers


def test_xlsx_layout_and_text_stays_text(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "t.xlsx"
    rows = [{"a": "=1+1", "b": "改行\nあり\x0c", "c": True}, {"a": None, "b": 3, "c": False}]
    write_table(out, [Column("a", 30), Column("b", 50), Column("c", 8)], rows, rows)
    ws = load_workbook(out).active
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.bold and ws["A2"].alignment.wrap_text
    assert ws.column_dimensions["A"].width == 30 and ws.column_dimensions["B"].width == 50
    assert ws["A2"].value == "=1+1" and ws["A2"].data_type == "s"  # never a formula
    assert ws["B2"].value == "改行\nあり\ufffd"  # a control character XML cannot hold
    assert ws["C2"].value is True and ws["B3"].value == 3


def test_writes_are_atomic(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    out.write_text("old", encoding="utf-8")

    class Boom(Exception):
        pass

    with pytest.raises(Boom), atomic_path(out) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise Boom
    assert out.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]

    class Unprintable:
        def __str__(self) -> str:
            raise Boom

    with pytest.raises(Boom):
        write_table(out, [Column("a")], [{"a": "ok"}, {"a": Unprintable()}], [])
    assert out.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]
    write_table(out, [Column("a")], [{"a": "新しい"}], [])
    assert out.read_bytes().decode("utf-8-sig") == "a\r\n新しい\r\n"
    assert oct(out.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_unknown_output_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="must end in one of"):
        write_table(tmp_path / "r.pdf", [Column("a")], [], [])


def test_answer_markdown_has_copy_ready_citations() -> None:
    ans = {
        "question": "予算は？ <b>",
        "answer": "予算額は１２億円である。【1】",
        "abstained": False,
        "direct": "１２億円",
        "citations": [
            {
                "n": 1,
                "doc": "000_abc.txt",
                "title": "戦略*概要",
                "first_line": 12,
                "last_line": 13,
                "page": None,
                "quote": "予算額は\n１２億円である。",
                "score": 1.0,
            }
        ],
    }
    md = answer_markdown(ans)
    assert "# 質問\n\n予算は？ \\<b\\>" in md
    assert "【1】（出典：戦略\\*概要、000_abc.txt L12–L13）" in md
    assert "> 予算額は\n> １２億円である。" in md
    assert "**１２億円**" in md
    abst = answer_markdown({**ans, "abstained": True, "citations": [], "related": ans["citations"]})
    assert "関連する箇所" in abst and "関連1" in abst and "【1】（" not in abst


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("000_e93.txt", "000_e93.txt"),
        ("_x_ *b*", "\\_x\\_ \\*b\\*"),
        ("- a", "\\- a"),
        ("12. x", "12\\. x"),
        ("# h", "\\# h"),
        ("[l](javascript:x)", "\\[l\\](javascript:x)"),
        ("<img>", "\\<img\\>"),
    ],
)
def test_md_escape(text: str, escaped: str) -> None:
    assert md_escape(text) == escaped


# ----------------------------------------------------------------------- CLI


def run_python(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``python ARGS`` in a new process, without the caller's SHIORI_* settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHIORI_")}
    return subprocess.run(
        [sys.executable, *args],
        env={**base, "PYTHONIOENCODING": "utf-8", **env},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_python("-m", "assistant.cli", *args, env=env)


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    import shutil

    root = tmp_path_factory.mktemp("wf_cli")
    shutil.copytree(FIXTURE_CORPUS, root / "corpus")
    env = {
        "SHIORI_CORPUS_DIR": str(root / "corpus"),
        "SHIORI_INDEX_DIR": str(root / "index"),
        "SHIORI_EMBEDDER": "fake",
        "SHIORI_TOKENIZER": "bigram",
    }
    assert run_cli("-q", "index", env=env).returncode == 0
    return env


def _tree_hash(d: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(d.rglob("*")):
        h.update(str(p.relative_to(d)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def test_cli_batch_and_draft(cli_env: dict[str, str], tmp_path: Path) -> None:
    corpus = Path(cli_env["SHIORI_CORPUS_DIR"])
    before = _tree_hash(corpus)
    q = _xlsx(
        tmp_path / "q.xlsx",
        [
            ["質問", "担当"],
            ["予算額はいくらか。", "a"],
            [None, "b"],
            [42, "c"],
            ["原型炉とは何か。", "d"],
            [None, None],
        ],
    )
    proc = run_cli("-q", "ask", "--batch", str(q), "--json", env=cli_env)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["rows"] == 4 and summary["errors"] == 2
    assert summary["out"] == str(tmp_path / "q.answers.xlsx")
    rows = _read_xlsx(tmp_path / "q.answers.xlsx")
    assert [r["row"] for r in rows] == [2, 3, 4, 5]
    assert rows[1]["error"] and rows[2]["error"] and not rows[0]["error"]

    d = _docx(tmp_path / "d.docx")
    proc = run_cli("cite", "--draft", str(d), "--out", str(tmp_path / "r.md"), env=cli_env)
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stderr and "sentences" in proc.stderr
    assert (tmp_path / "r.md").read_text(encoding="utf-8").startswith("# 出典確認：d.docx")
    assert _tree_hash(corpus) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "--batch", "{tmp}/nothing.xlsx"], "no such file"),
        (["ask", "--batch", "{tmp}/bad.xlsx"], "not a readable .xlsx"),
        (["ask", "--batch", "{tmp}/q.txt", "--out", "{tmp}/out.pdf"], "must end in one of"),
        (["ask", "--batch", "{tmp}/q.txt", "--out", "{tmp}/no/dir/out.csv"], "does not exist"),
        (["ask", "--batch", "{tmp}/q.txt", "--out", "{tmp}/q.txt"], "must end in one of"),
        (["ask", "--batch", "{tmp}/q.csv", "--out", "{tmp}/q.csv"], "is the input file"),
        (["ask", "質問", "--batch", "{tmp}/q.txt"], "not both"),
        (["ask"], "a QUESTION is required"),
        (["ask", "質問", "--out", "{tmp}/o.csv"], "--out goes with --batch"),
        (["cite", "--draft", "{tmp}/bad.docx"], "not a readable .docx"),
        (["cite", "--draft", "{tmp}/q.csv"], "must be one of"),
        (["cite", "--draft", "{tmp}/d.md", "--out", "{tmp}/r.csv"], "must end in one of"),
        (["cite", "文。", "--draft", "{tmp}/d.md"], "not both"),
        (["cite"], "a SENTENCE is required"),
    ],
)
def test_cli_refuses_bad_files_with_exit_2(
    cli_env: dict[str, str], tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "bad.xlsx").write_bytes(b"not an xlsx")
    (tmp_path / "bad.docx").write_bytes(b"PK\x03\x04 broken")
    (tmp_path / "q.txt").write_text("予算額はいくらか。\n", encoding="utf-8")
    (tmp_path / "q.csv").write_text("質問\n予算額はいくらか。\n", encoding="utf-8")
    (tmp_path / "d.md").write_text("予算額は１２億円である。\n", encoding="utf-8")
    corpus = Path(cli_env["SHIORI_CORPUS_DIR"])
    before = _tree_hash(corpus)
    proc = run_cli("-q", *[a.format(tmp=tmp_path) for a in args], env=cli_env)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert _tree_hash(corpus) == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_one_question_process_runs_without_the_collector_a_caller_keeps_it(cli_env: dict[str, str]) -> None:
    """``shiori ask "…"`` as its own process turns the cyclic collector off (it exits right after);
    ``main(argv)`` called by a program (as here first) leaves the caller's collector on. Same answer."""
    code = (
        "import gc, json, sys\nfrom assistant.cli import main\n"
        "rc1 = main(['-q', 'ask', '--json', '予算額はいくらか。'])\n"
        "caller = gc.isenabled()\n"
        "sys.argv = ['shiori', '-q', 'ask', '--json', '予算額はいくらか。']\n"
        "rc2 = main()\n"
        "print(json.dumps([rc1, rc2, caller, gc.isenabled()]))\n"
    )
    proc = run_python("-c", code, env=cli_env)
    assert proc.returncode == 0, proc.stderr
    decoder, text, docs = json.JSONDecoder(), proc.stdout, []
    pos = 0
    while text[pos:].strip():
        doc, pos = decoder.raw_decode(text, len(text) - len(text[pos:].lstrip()))
        docs.append(doc)
    first, second, flags = docs
    assert flags == [0, 0, True, False]
    assert first.pop("timings_ms") and second.pop("timings_ms")
    assert first == second and first["answer"]


def test_ask_imports_no_office_library(cli_env: dict[str, str]) -> None:
    code = (
        "import sys\nfrom assistant.cli import main\n"
        "rc = main(['-q', 'ask', '--json', '予算額はいくらか。'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'openpyxl', 'docx', 'markdown_it', 'lxml'}))\n"
    )
    proc = run_python("-c", code, env=cli_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
