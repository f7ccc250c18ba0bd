"""The corpus manifest and the atomic ``add`` operation (assistant/corpus.py).

Every test works on a copy of ``tests/fixtures/corpus/`` in a temporary
directory. A refused file must leave that directory byte-for-byte unchanged.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
from pathlib import Path

import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from assistant.chunking import chunk_document
from assistant.corpus import (
    MANIFEST_NAME,
    DocumentInfo,
    add_document,
    extract,
    load_corpus,
    read_manifest,
    write_manifest,
)
from assistant.errors import CorpusError, DocumentRejectedError, UsageError

FIXTURE_CORPUS_DIR = Path(__file__).resolve().parent / "fixtures" / "corpus"

# ------------------------------------------------------------------ helpers

PDF_PAGES = [
    ["第1章 総則", "国民の理解を深めるための活動を行う。", "２０２４年４月に戦略を策定した。"],
    ["第2章 推進体制", "ITER計画に参加する。", "・人材育成の強化", "・研究開発の加速"],
    ["第3章 予算", "予算は3,604百万円である。"],
]


def make_pdf(pages: list[list[str]] = PDF_PAGES) -> bytes:
    """A Japanese PDF with one text block per page and the page number at the bottom."""
    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiMin-W3"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    width, _ = A4
    for number, lines in enumerate(pages, start=1):
        c.setFont("HeiseiMin-W3", 12)
        y = 780
        for line in lines:
            c.drawString(72, y, line)
            y -= 20
        c.drawCentredString(width / 2, 30, str(number))
        c.showPage()
    c.save()
    return buf.getvalue()


def encrypt(pdf: bytes, user_password: str, owner_password: str = "owner") -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password, owner_password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def dir_state(path: Path) -> str:
    """A hash of every file name and its bytes under ``path`` (hidden files included)."""
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        h.update(str(p.relative_to(path)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def assert_refused(
    corpus: Path, path: Path, match: str, error: type[Exception] = DocumentRejectedError
) -> str:
    """``add`` refuses ``path`` with a message matching ``match`` and changes nothing."""
    before = dir_state(corpus)
    with pytest.raises(error, match=match) as info:
        add_document(corpus, path, title="拒否されるべき文書")
    assert dir_state(corpus) == before, "a refused add must leave the corpus directory unchanged"
    message = str(info.value)
    assert path.name in message or str(path) in message, message
    return message


# ------------------------------------------------------------------ the fixture corpus


def test_fixture_manifest_matches_its_files() -> None:
    """The fixture manifest (written with write_manifest) lists its files with their hashes."""
    infos = read_manifest(FIXTURE_CORPUS_DIR)
    assert len(infos) == 2
    for info in infos:
        data = (FIXTURE_CORPUS_DIR / info.id).read_bytes()
        assert info.sha256 == hashlib.sha256(data).hexdigest()
        assert re.fullmatch(rf"{infos.index(info):03d}_{info.sha256[:16]}\.txt", info.id)
    text = "".join((FIXTURE_CORPUS_DIR / i.id).read_text(encoding="utf-8") for i in infos)
    for needle in ("４", "⺠", "⻑", "・", "\uf06c", "（１）"):
        assert needle in text


def test_write_manifest_round_trip(tmp_path: Path) -> None:
    infos = [
        DocumentInfo(id="000_a.txt", title="文書A", sha256="0" * 64),
        DocumentInfo(
            id="001_b.txt", title="文書B", source_type="pdf", source_file="001_b.pdf", page_starts=(1, 4)
        ),
    ]
    write_manifest(tmp_path / "c", infos)
    assert read_manifest(tmp_path / "c") == infos
    manifest = tmp_path / "c" / MANIFEST_NAME
    assert "文書A" in manifest.read_text(encoding="utf-8")  # UTF-8, not \\u escapes
    assert manifest.stat().st_mode & 0o044, "the manifest must be readable by others like any file"
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [MANIFEST_NAME]


def test_read_manifest_errors(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no corpus manifest"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    with pytest.raises(CorpusError, match="unreadable"):
        read_manifest(tmp_path)


def test_load_corpus_missing_document(tmp_corpus: Path) -> None:
    first = read_manifest(tmp_corpus)[0]
    (tmp_corpus / first.id).unlink()
    with pytest.raises(CorpusError, match=re.escape(first.id)):
        load_corpus(tmp_corpus)


# ------------------------------------------------------------------ add: accepted files


def test_add_txt(tmp_corpus: Path, tmp_path: Path) -> None:
    text = "新しい方針\n\n２０２５年度から⼈材育成を強化する。\n・大学間連携\n・国際連携\n"
    src = tmp_path / "policy.txt"
    src.write_text(text, encoding="utf-8")
    info = add_document(tmp_corpus, src, title="新しい方針", issuer="文部科学省", doc_date="2025-04-01")

    assert re.fullmatch(r"002_[0-9a-f]{16}\.txt", info.id)
    assert (info.title, info.issuer, info.date, info.source_type) == (
        "新しい方針",
        "文部科学省",
        "2025-04-01",
        "text",
    )
    assert info.source_file is None and info.page_starts is None
    stored = (tmp_corpus / info.id).read_bytes()
    assert stored == text.encode("utf-8")
    assert info.sha256 == hashlib.sha256(stored).hexdigest()
    assert read_manifest(tmp_corpus)[-1] == info
    docs = load_corpus(tmp_corpus)
    assert [d.id for d in docs][:2] == [i.id for i in read_manifest(FIXTURE_CORPUS_DIR)]
    assert docs[-1].text == text
    assert info.page_of(3) is None


def test_add_txt_in_shift_jis_with_crlf(tmp_corpus: Path, tmp_path: Path) -> None:
    """A cp932 file with Windows line ends is stored as UTF-8 with "\\n"."""
    src = tmp_path / "sjis.txt"
    src.write_bytes("第一行です。\r\n第二行です。\r\n".encode("cp932"))
    info = add_document(tmp_corpus, src)
    assert (tmp_corpus / info.id).read_text(encoding="utf-8") == "第一行です。\n第二行です。\n"
    assert info.title == "第一行です。"  # guessed from the first line


def test_add_markdown(tmp_corpus: Path, tmp_path: Path) -> None:
    text = "# 核融合の安全規制\n\n- 基本的な考え方を策定する。\n- 国際的な協調を促進する。\n"
    src = tmp_path / "notes.md"
    src.write_text(text, encoding="utf-8")
    info = add_document(tmp_corpus, src)
    assert re.fullmatch(r"002_[0-9a-f]{16}\.md", info.id)
    assert info.source_type == "markdown"
    assert info.title == "核融合の安全規制"
    assert (tmp_corpus / info.id).read_text(encoding="utf-8") == text


def test_add_pdf(tmp_corpus: Path, tmp_path: Path) -> None:
    pdf = make_pdf()
    src = tmp_path / "戦略.pdf"
    src.write_bytes(pdf)
    info = add_document(tmp_corpus, src, title="戦略PDF")

    assert info.source_type == "pdf"
    assert re.fullmatch(r"002_[0-9a-f]{16}\.txt", info.id)
    # The original PDF is kept beside its extracted text, under the same stem.
    assert info.source_file == info.id[:-4] + ".pdf"
    assert (tmp_corpus / info.source_file).read_bytes() == pdf
    stored = (tmp_corpus / info.id).read_text(encoding="utf-8")
    assert info.sha256 == hashlib.sha256(stored.encode("utf-8")).hexdigest()
    assert read_manifest(tmp_corpus)[-1] == info

    lines = stored.split("\n")
    assert info.page_starts is not None and len(info.page_starts) == len(PDF_PAGES)
    assert info.page_starts[0] == 1
    assert list(info.page_starts) == sorted(info.page_starts)
    for page, page_lines in enumerate(PDF_PAGES, start=1):
        # Each page's first line is where page_starts says it is.
        assert lines[info.page_starts[page - 1] - 1] == page_lines[0]
        for expected in page_lines:
            n = lines.index(expected) + 1
            assert info.page_of(n) == page, (expected, n)
        # The page number drawn at the bottom is extracted on its own page too.
        n = max(i for i, line in enumerate(lines, start=1) if line.strip() == str(page))
        assert info.page_of(n) == page

    # The stored text is a normal corpus document: it loads and chunks with pages.
    doc = load_corpus(tmp_corpus)[-1]
    assert doc.text == stored
    chunks = chunk_document(doc, 60, 0)
    assert {c.page for c in chunks} == {1, 2, 3}
    for c in chunks:
        assert c.page == info.page_of(c.first_line)
    # Page numbers are layout: search text has no line holding only a number.
    assert not any(re.fullmatch(r"\d{1,3}", ln) for c in chunks for ln in c.search_text.split("\n"))


def test_add_pdf_with_owner_password_only(tmp_corpus: Path, tmp_path: Path) -> None:
    """A PDF that opens without a password (only editing restricted) can be added."""
    src = tmp_path / "restricted.pdf"
    src.write_bytes(encrypt(make_pdf(), user_password=""))
    info = add_document(tmp_corpus, src)
    assert "国民の理解を深める" in (tmp_corpus / info.id).read_text(encoding="utf-8")


def test_add_then_load_lists_every_document(tmp_corpus: Path, tmp_path: Path) -> None:
    for k, body in enumerate(["一つ目の文書です。", "二つ目の文書です。"]):
        (tmp_path / f"d{k}.txt").write_text(body, encoding="utf-8")
        add_document(tmp_corpus, tmp_path / f"d{k}.txt")
    ids = [d.id for d in load_corpus(tmp_corpus)]
    assert len(ids) == 4 and len(set(ids)) == 4
    assert [i[:3] for i in ids] == ["000", "001", "002", "003"]
    assert not [p for p in tmp_corpus.iterdir() if p.name.startswith(".")], "no temp files left behind"


# ------------------------------------------------------------------ add: refusals


def test_refuse_corrupt_pdf(tmp_corpus: Path, tmp_path: Path) -> None:
    src = tmp_path / "corrupt.pdf"
    src.write_bytes(b"%PDF-1.7\n" + random.Random(7).randbytes(4000))
    msg = assert_refused(tmp_corpus, src, "not a readable PDF|no pages")
    assert isinstance(DocumentRejectedError(msg), UsageError)  # exit code 2 in the CLI


def test_refuse_truncated_pdf(tmp_corpus: Path, tmp_path: Path) -> None:
    src = tmp_path / "truncated.pdf"
    src.write_bytes(make_pdf()[:1500])
    assert_refused(tmp_corpus, src, "not a readable PDF")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600), st.integers(0, 2**32 - 1))
def test_refuse_damaged_pdf_never_crashes(tmp_corpus: Path, tmp_path: Path, noise: bytes, seed: int) -> None:
    """Whatever the damage, pypdf's exception becomes a DocumentRejectedError."""
    pdf = bytearray(make_pdf())
    rng = random.Random(seed)
    for _ in range(rng.randint(1, 30)):
        pdf[rng.randrange(9, len(pdf))] = rng.randrange(256)
    for data, name in ((b"%PDF-1.4\n" + noise, "noise.pdf"), (bytes(pdf), "damaged.pdf")):
        src = tmp_path / name
        src.write_bytes(data)
        before = dir_state(tmp_corpus)
        try:
            info = add_document(tmp_corpus, src)
        except DocumentRejectedError as e:
            assert name in str(e)
            assert dir_state(tmp_corpus) == before
        else:
            # Damage outside the text streams can leave a readable PDF: then it is a normal add.
            assert (tmp_corpus / info.id).read_text(encoding="utf-8").strip()
            assert (tmp_corpus / info.source_file).read_bytes() == data


def test_refuse_empty_file(tmp_corpus: Path, tmp_path: Path) -> None:
    src = tmp_path / "empty.txt"
    src.write_bytes(b"")
    assert_refused(tmp_corpus, src, "is empty")


@pytest.mark.parametrize("content", [b"   \n\t\r\n\n", "\u3000\u3000\n \n".encode()])
def test_refuse_whitespace_only_file(tmp_corpus: Path, tmp_path: Path, content: bytes) -> None:
    src = tmp_path / "blank.md"
    src.write_bytes(content)
    assert_refused(tmp_corpus, src, "no text")


def test_refuse_pdf_without_text(tmp_corpus: Path, tmp_path: Path) -> None:
    src = tmp_path / "scan.pdf"
    src.write_bytes(make_pdf([[], []]))
    assert_refused(tmp_corpus, src, "no text layer")


def test_refuse_encrypted_pdf(tmp_corpus: Path, tmp_path: Path) -> None:
    src = tmp_path / "secret.pdf"
    src.write_bytes(encrypt(make_pdf(), user_password="himitsu"))
    msg = assert_refused(tmp_corpus, src, "encrypted")
    assert "password" in msg


@pytest.mark.parametrize("name", ["slides.pptx", "table.csv", "README"])
def test_refuse_unsupported_suffix(tmp_corpus: Path, tmp_path: Path, name: str) -> None:
    src = tmp_path / name
    src.write_text("本文です。", encoding="utf-8")
    msg = assert_refused(tmp_corpus, src, "unsupported file type")
    assert ".txt" in msg and ".pdf" in msg and ".docx" in msg  # says what is supported


def test_refuse_binary_txt(tmp_corpus: Path, tmp_path: Path) -> None:
    src = tmp_path / "image.txt"
    src.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert_refused(tmp_corpus, src, "binary")


def test_refuse_duplicate_of_existing_document(tmp_corpus: Path, tmp_path: Path) -> None:
    existing = read_manifest(tmp_corpus)[1]
    src = tmp_path / "copy.txt"
    src.write_bytes((tmp_corpus / existing.id).read_bytes())
    msg = assert_refused(tmp_corpus, src, "already in the corpus")
    assert existing.id in msg


def test_refuse_duplicate_in_another_encoding(tmp_corpus: Path, tmp_path: Path) -> None:
    """The same text saved as UTF-8 with a BOM and CRLF line ends is still a duplicate."""
    existing = read_manifest(tmp_corpus)[0]
    text = (tmp_corpus / existing.id).read_text(encoding="utf-8")
    src = tmp_path / "copy_bom.txt"
    src.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    assert_refused(tmp_corpus, src, "already in the corpus")


def test_refuse_same_pdf_twice(tmp_corpus: Path, tmp_path: Path) -> None:
    src = tmp_path / "a.pdf"
    src.write_bytes(make_pdf())
    first = add_document(tmp_corpus, src)
    msg = assert_refused(tmp_corpus, src, "already in the corpus")
    assert first.id in msg


def test_refuse_missing_file(tmp_corpus: Path, tmp_path: Path) -> None:
    assert_refused(tmp_corpus, tmp_path / "nowhere.txt", "no such file")


def test_refuse_directory(tmp_corpus: Path, tmp_path: Path) -> None:
    (tmp_path / "folder.txt").mkdir()
    assert_refused(tmp_corpus, tmp_path / "folder.txt", "no such file")


def test_refuse_when_target_name_is_taken(tmp_corpus: Path, tmp_path: Path) -> None:
    """An unlisted file already holding the new document's name: nothing is overwritten."""
    text = "名前が衝突する文書です。\n"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    squatter = tmp_corpus / f"002_{digest[:16]}.txt"
    squatter.write_text("手で置かれた別のファイル\n", encoding="utf-8")
    src = tmp_path / "clash.txt"
    src.write_text(text, encoding="utf-8")
    before = dir_state(tmp_corpus)
    with pytest.raises(CorpusError, match="already exists"):
        add_document(tmp_corpus, src)
    assert dir_state(tmp_corpus) == before
    assert squatter.read_text(encoding="utf-8") == "手で置かれた別のファイル\n"


def test_refuse_without_manifest(tmp_path: Path) -> None:
    corpus = tmp_path / "no_corpus"
    corpus.mkdir()
    src = tmp_path / "a.txt"
    src.write_text("本文です。", encoding="utf-8")
    with pytest.raises(CorpusError, match="no corpus manifest"):
        add_document(corpus, src)
    assert list(corpus.iterdir()) == []


def test_extract_does_not_touch_the_corpus(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_bytes("行1\r\n行2\r".encode())
    got = extract(src)
    assert (got.text, got.page_starts, got.source_type) == ("行1\n行2\n", None, "text")


def test_manifest_is_valid_json_after_add(tmp_corpus: Path, tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("追加の文書です。", encoding="utf-8")
    add_document(tmp_corpus, src)
    raw = json.loads((tmp_corpus / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert raw["schema"] == 1 and len(raw["documents"]) == 3
