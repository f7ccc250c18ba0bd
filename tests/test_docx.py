"""Word documents (.docx) in ``shiori add``: text in body order, tables one line per row.

The documents are built in the test with python-docx. A refused file must leave
the corpus directory byte-for-byte unchanged, as for PDFs.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument

from assistant.chunking import chunk_document
from assistant.config import Settings
from assistant.corpus import CELL_SEPARATOR, add_document, docx_lines, extract, load_corpus, read_manifest
from assistant.errors import DocumentRejectedError
from assistant.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]


def build_docx() -> DocxDocument:
    """Title, headings, a paragraph, bullet and numbered lists, a table with merged cells."""
    d = docx.Document()
    d.core_properties.title = "自治体DX推進計画（概要）"
    d.add_heading("自治体DX推進計画", 0)
    d.add_heading("1. 基本方針", 1)
    d.add_paragraph("住民が行政手続を原則としてオンラインで完結できるようにする。")
    d.add_paragraph("窓口の待ち時間を短縮する", style="List Bullet")
    d.add_paragraph("書かない窓口を全庁に広げる", style="List Bullet")
    d.add_paragraph("")
    d.add_paragraph("")
    d.add_heading("2. 重点指標", 2)
    d.add_paragraph("進め方は次の順とする。")
    d.add_paragraph("業務の棚卸し", style="List Number")
    d.add_paragraph("標準システムへの移行", style="List Number")
    t = d.add_table(rows=5, cols=3)
    rows = [
        ("指標", "現状（令和5年度）", "目標（令和9年度）"),
        ("オンライン申請率", "35%", "80%"),
        ("マイナンバーカード保有率", "74%", "90%"),
        ("", "", ""),
        ("窓口の平均待ち時間", "28分", "10分"),
    ]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            t.cell(r, c).text = value
    # A cell with two paragraphs stays on its row's line.
    t.cell(1, 2).add_paragraph("（全手続）")
    d.add_paragraph("表は毎年度末に更新する。")
    merged = d.add_table(rows=3, cols=3)
    merged.cell(0, 0).merge(merged.cell(0, 2)).text = "区分別の予算"
    merged.cell(1, 0).merge(merged.cell(2, 0)).text = "システム"
    for r, (a, b) in enumerate([("標準化対応", "12億円"), ("クラウド移行", "8億円")], start=1):
        merged.cell(r, 1).text, merged.cell(r, 2).text = a, b
    d.add_heading("3. 推進体制", 1)
    d.add_paragraph("CDO（最高デジタル責任者）を置き、\n四半期ごとに進捗を公表する。")
    return d


EXPECTED_LINES = [
    "# 自治体DX推進計画",
    "",
    "# 1. 基本方針",
    "住民が行政手続を原則としてオンラインで完結できるようにする。",
    "・窓口の待ち時間を短縮する",
    "・書かない窓口を全庁に広げる",
    "",
    "## 2. 重点指標",
    "進め方は次の順とする。",
    "1. 業務の棚卸し",
    "2. 標準システムへの移行",
    "",
    "指標 | 現状（令和5年度） | 目標（令和9年度）",
    "オンライン申請率 | 35% | 80% （全手続）",
    "マイナンバーカード保有率 | 74% | 90%",
    "窓口の平均待ち時間 | 28分 | 10分",
    "",
    "表は毎年度末に更新する。",
    "",
    "区分別の予算",
    "システム | 標準化対応 | 12億円",
    "システム | クラウド移行 | 8億円",
    "",
    "# 3. 推進体制",
    "CDO（最高デジタル責任者）を置き、",
    "四半期ごとに進捗を公表する。",
]


def docx_bytes(d: DocxDocument | None = None) -> bytes:
    buf = io.BytesIO()
    (d or build_docx()).save(buf)
    return buf.getvalue()


def dir_state(path: Path) -> str:
    """A hash of every file name and its bytes under ``path`` (hidden files included)."""
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        h.update(str(p.relative_to(path)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


# ------------------------------------------------------------------ extraction


def test_docx_lines_keep_body_order_headings_lists_and_table_rows() -> None:
    assert docx_lines(build_docx()) == EXPECTED_LINES


def test_extract_docx_text_and_declared_title(tmp_path: Path) -> None:
    src = tmp_path / "計画.docx"
    src.write_bytes(docx_bytes())
    ex = extract(src)
    assert ex.source_type == "docx" and ex.page_starts is None
    assert ex.text == "\n".join(EXPECTED_LINES) + "\n"
    assert ex.title == "自治体DX推進計画（概要）"


def test_numbered_list_levels_and_restart() -> None:
    """Numbers count per list and level; a deeper level restarts under each parent item."""
    d = docx.Document()
    for text, style in [("第一", "List Number"), ("細目A", "List Number 2"), ("細目B", "List Number 2"),
                        ("第二", "List Number"), ("細目C", "List Number 2")]:
        d.add_paragraph(text, style=style)
    lines = docx_lines(d)
    assert [ln.split(" ", 1)[1] for ln in lines] == ["第一", "細目A", "細目B", "第二", "細目C"]
    numbers = [ln.split(" ", 1)[0] for ln in lines]
    assert numbers[0] == "1." and numbers[3] == "2."
    # The default template numbers both styles in separate lists: whatever the pattern,
    # the second item of a list has the next number.
    assert numbers[1] != numbers[2]


def test_add_docx_keeps_the_original_and_chunks_rows_whole(tmp_corpus: Path, tmp_path: Path) -> None:
    data = docx_bytes()
    src = tmp_path / "計画.docx"
    src.write_bytes(data)
    info = add_document(tmp_corpus, src, issuer="某市")
    assert info.source_type == "docx"
    assert re.fullmatch(r"002_[0-9a-f]{16}\.txt", info.id)
    assert info.source_file == info.id[:-4] + ".docx"
    assert (tmp_corpus / info.source_file).read_bytes() == data
    assert info.title == "自治体DX推進計画（概要）"
    assert read_manifest(tmp_corpus)[-1] == info
    doc = load_corpus(tmp_corpus)[-1]
    assert doc.lines[: len(EXPECTED_LINES)] == tuple(EXPECTED_LINES)
    # Every table row is one line, and no passage cuts a row.
    chunks = chunk_document(doc, 80, 0)
    row_lines = {n for n, ln in enumerate(doc.lines, start=1) if CELL_SEPARATOR in ln}
    assert len(row_lines) == 6
    for c in chunks:
        for n in range(c.first_line, c.last_line + 1):
            if n in row_lines:
                assert doc.lines[n - 1] in c.text
    # "#" headings are section headings for the passages under them.
    assert {"自治体DX推進計画", "1.基本方針"} <= {c.heading for c in chunks}


# -------------------------------------------------------------------- refusals


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, content in entries.items():
            z.writestr(name, content)
    return buf.getvalue()


def fake_encrypted_docx() -> bytes:
    """What Word writes for a password-protected .docx: an OLE2 file holding an EncryptedPackage stream."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    directory = "EncryptionInfo".encode("utf-16-le").ljust(64, b"\x00") + \
        "EncryptedPackage".encode("utf-16-le").ljust(64, b"\x00")
    return header.ljust(512, b"\x00") + directory + os.urandom(2048)


def _truncated() -> bytes:
    data = docx_bytes()
    return data[: len(data) // 2]


def _document_xml_damaged() -> bytes:
    src = zipfile.ZipFile(io.BytesIO(docx_bytes()))
    entries = {n: src.read(n) for n in src.namelist()}
    entries["word/document.xml"] = entries["word/document.xml"][:300]
    return _zip(entries)


REFUSALS = {
    "random bytes": (lambda: os.urandom(4096), "not a readable .docx"),
    "text renamed": (lambda: "ただのテキストです。".encode(), "not a readable .docx"),
    "truncated": (_truncated, "not a readable .docx"),
    "zip without a document": (lambda: _zip({"hello.txt": b"hi"}), "not a readable .docx"),
    "damaged document.xml": (_document_xml_damaged, "not a readable .docx"),
    "password-protected": (fake_encrypted_docx, "encrypted"),
    "old .doc renamed": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000, "Word 97-2003"),
    "no text": (lambda: docx_bytes(docx.Document()), "has no text"),
    "only blank paragraphs and an empty table": (
        lambda: docx_bytes(_blank_document()), "has no text"),
    "empty file": (lambda: b"", "empty"),
}


def _blank_document() -> DocxDocument:
    d = docx.Document()
    d.add_paragraph("   ")
    d.add_table(rows=2, cols=2)
    d.add_paragraph("")
    return d


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refused_docx_leaves_the_corpus_unchanged(case: str, tmp_corpus: Path, tmp_path: Path) -> None:
    make, match = REFUSALS[case]
    src = tmp_path / "申請書.docx"
    src.write_bytes(make())
    before = dir_state(tmp_corpus)
    with pytest.raises(DocumentRejectedError, match=match) as info:
        add_document(tmp_corpus, src)
    assert dir_state(tmp_corpus) == before
    assert "申請書.docx" in str(info.value)
    assert "Traceback" not in str(info.value)


def test_same_docx_twice_is_a_duplicate(tmp_corpus: Path, tmp_path: Path) -> None:
    src = tmp_path / "a.docx"
    src.write_bytes(docx_bytes())
    add_document(tmp_corpus, src)
    before = dir_state(tmp_corpus)
    with pytest.raises(DocumentRejectedError, match="already in the corpus"):
        add_document(tmp_corpus, src)
    assert dir_state(tmp_corpus) == before


# ------------------------------------------------------------ CLI: add, then ask


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHIORI_")}
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], env={**base, "PYTHONIOENCODING": "utf-8", **env},
                          cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=180)


@pytest.fixture
def cli_env(tmp_corpus: Path, tmp_path: Path) -> dict[str, str]:
    # The fake embedder's similarities are far below the real model's, so its
    # answers would all abstain: the similarity cut-offs are off for these tests.
    return {"SHIORI_CORPUS_DIR": str(tmp_corpus), "SHIORI_INDEX_DIR": str(tmp_path / "index"),
            "SHIORI_EMBEDDER": "fake", "SHIORI_TOKENIZER": "bigram",
            "SHIORI_ABSTAIN_THRESHOLD": "0"}


def test_cli_refuses_a_corrupt_docx_with_exit_2(cli_env: dict[str, str], tmp_path: Path) -> None:
    corpus = Path(cli_env["SHIORI_CORPUS_DIR"])
    for name, data in [("壊れた.docx", _truncated()), ("保護.docx", fake_encrypted_docx())]:
        src = tmp_path / name
        src.write_bytes(data)
        before = dir_state(corpus)
        proc = run_cli("add", str(src), env=cli_env)
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == "" and name in proc.stderr and "Traceback" not in proc.stderr
        assert dir_state(corpus) == before


def test_cli_add_docx_then_ask_about_a_table_cell_cites_its_row(cli_env: dict[str, str], tmp_path: Path) -> None:
    src = tmp_path / "計画.docx"
    src.write_bytes(docx_bytes())
    proc = run_cli("add", str(src), "--json", env=cli_env)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["source_type"] == "docx" and info["source_file"].endswith(".docx")
    lines = (Path(cli_env["SHIORI_CORPUS_DIR"]) / info["id"]).read_text(encoding="utf-8").split("\n")
    row = lines.index("マイナンバーカード保有率 | 74% | 90%") + 1
    proc = run_cli("ask", "マイナンバーカード保有率の目標は何%か", "--json", env=cli_env)
    assert proc.returncode == 0, proc.stderr
    ans = json.loads(proc.stdout)
    assert not ans["abstained"] and "90%" in ans["answer"]
    first = ans["citations"][0]
    assert first["doc"] == info["id"] and first["first_line"] <= row <= first["last_line"]
    assert "90%" in first["quote"] and first["page"] is None


def test_ask_cites_each_table_row_by_its_own_line(tmp_corpus: Path, tmp_path: Path) -> None:
    """The answer to a question about a row's cell cites that row's line (fake embedder)."""
    src = tmp_path / "計画.docx"
    src.write_bytes(docx_bytes())
    info = add_document(tmp_corpus, src)
    settings = Settings(embedder="fake", tokenizer="bigram", corpus_dir=tmp_corpus, index_dir=tmp_path / "index",
                        abstain_threshold=0.0).validated()
    pipeline = Pipeline(settings, progress=False)
    lines = load_corpus(tmp_corpus)[-1].lines
    for label, question, value in [
        ("オンライン申請率", "オンライン申請率の目標は何%か", "80%"),
        ("窓口の平均待ち時間", "窓口の平均待ち時間の目標は何分か", "10分"),
        ("クラウド移行", "クラウド移行の予算はいくらか", "8億円"),
    ]:
        row = next(n for n, ln in enumerate(lines, start=1) if ln.startswith(label) or f"| {label} |" in ln)
        ans = pipeline.ask(question)
        assert not ans.abstained, label
        hit = [c for c in ans.citations if c.doc == info.id and c.first_line <= row <= c.last_line]
        assert hit and value in hit[0].quote, (label, [(c.first_line, c.quote) for c in ans.citations])


def test_docx_in_a_copied_corpus_loads_without_warnings(tmp_corpus: Path, tmp_path: Path, caplog) -> None:
    """The kept original is listed in the manifest, so loading does not call it an unlisted file."""
    src = tmp_path / "計画.docx"
    src.write_bytes(docx_bytes())
    add_document(tmp_corpus, src)
    copy = tmp_path / "copy"
    shutil.copytree(tmp_corpus, copy)
    with caplog.at_level("WARNING"):
        docs = load_corpus(copy)
    assert len(docs) == 3 and "not in the manifest" not in caplog.text


@pytest.mark.slow
def test_real_model_answers_a_table_cell_from_its_row(tmp_path: Path) -> None:
    """With the bundled model and default settings (abstention on), a cell question cites its row."""
    from assistant.corpus import write_manifest

    corpus = tmp_path / "corpus"
    write_manifest(corpus, [])
    src = tmp_path / "計画.docx"
    src.write_bytes(docx_bytes())
    info = add_document(corpus, src)
    settings = Settings.from_env(environ={}, corpus_dir=corpus, index_dir=tmp_path / "index")
    pipeline = Pipeline(settings, progress=False)
    lines = load_corpus(corpus)[0].lines
    for question, row_text, value in [
        ("マイナンバーカード保有率の目標は何%ですか。", "マイナンバーカード保有率 | 74% | 90%", "90%"),
        ("窓口の平均待ち時間は現状で何分か。", "窓口の平均待ち時間 | 28分 | 10分", "28分"),
    ]:
        row = lines.index(row_text) + 1
        ans = pipeline.ask(question)
        assert not ans.abstained and value in ans.answer, (question, ans.answer)
        first = ans.citations[0]
        assert first.doc == info.id and first.first_line <= row <= first.last_line, (question, first)
