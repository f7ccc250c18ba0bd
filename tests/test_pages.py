"""Page numbers of PDF citations: each citation names the page of its own lines.

A passage can run across a page break, so a quote's page is not its passage's:
``page`` is the page of the quote's first line and ``page_last`` that of its last.
The end-to-end tests generate a multi-page Japanese PDF whose every line is known
to be on a given page (the truth comes from the generator, not from the page
starts that ``add`` records), add it to a corpus and index it with the fake
embedder.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from assistant.answer import Citation, make_citation
from assistant.config import Settings
from assistant.corpus import add_document, load_corpus, page_label, page_of_line
from assistant.messages import format_lines
from assistant.pipeline import Pipeline
from assistant.render import _span
from assistant.ui import span_label

# ------------------------------------------------------------------ pure functions

STARTS = (1, 5, 9, 20)


@pytest.mark.parametrize(
    ("starts", "line", "page"),
    [
        (STARTS, 1, 1),
        (STARTS, 4, 1),
        (STARTS, 5, 2),
        (STARTS, 8, 2),
        (STARTS, 9, 3),
        (STARTS, 19, 3),
        (STARTS, 20, 4),
        (STARTS, 500, 4),  # past the last start: the last page
        ((1,), 1, 1),
        ((1,), 99, 1),
        ([1, 3], 2, 1),  # any sequence
        (STARTS, 0, None),  # lines start at 1
        (STARTS, -3, None),
        (None, 7, None),  # not a paged document
        ((), 7, None),
    ],
)
def test_page_of_line(starts, line: int, page: int | None) -> None:
    assert page_of_line(starts, line) == page


@pytest.mark.parametrize(
    ("page", "page_last", "label"),
    [(3, 3, "p.3"), (3, None, "p.3"), (3, 4, "p.3–4"), (None, None, ""), (None, 2, "")],
)
def test_page_label(page: int | None, page_last: int | None, label: str) -> None:
    assert page_label(page, page_last) == label


def _citation(first: int, last: int, page: int | None, page_last: int | None) -> Citation:
    return Citation(1, "doc.txt", "題", first, last, page, "引用", 1.0, page_last=page_last)


def test_labels_in_the_cli_app_and_json() -> None:
    c = _citation(40, 42, 3, 4)
    assert _span(c) == "doc.txt L40–L42 p.3–4"
    assert span_label(c.doc, c.first_line, c.last_line, c.page, c.page_last) == "doc.txt L40–L42 p.3–4"
    assert c.to_json()["page"] == 3 and c.to_json()["page_last"] == 4
    same = _citation(40, 40, 3, 3)
    assert _span(same) == "doc.txt L40 p.3"
    assert span_label(same.doc, 40, 40, same.page, same.page_last) == "doc.txt L40 p.3"
    plain = _citation(2, 3, None, None)
    assert _span(plain) == "doc.txt L2–L3" and plain.to_json()["page_last"] is None


# ------------------------------------------------------------ a generated PDF

#: Four pages of distinct lines: a sentence wrapped over two lines at a page end,
#: a table whose rows continue on the next page, and a page number at the foot.
PAGES: list[list[str]] = [
    [
        "令和6年度 地域交通再編計画",
        "1. 計画の目的",
        "人口減少が進む地域で、通院と通学の足を確保する。",
        "路線バスの運行本数は過去10年で約3割減少した。",
        "このため、デマンド交通と路線バスを組み合わせた",
        "新たな交通網を令和8年度までに整備する。",
        "表1 再編の対象路線",
        "路線名 現行本数 再編後",
    ],
    [
        "北部線 12便 デマンド化",
        "南部線 8便 16便に増便",
        "東部線 6便 廃止・代替運行",
        "2. 推進体制",
        "市と交通事業者で構成する協議会を設置し、",
        "四半期ごとに利用状況を確認する。",
    ],
    [
        "3. 財源",
        "国の補助金を活用し、市の負担は総事業費の",
        "4分の1以内とする。",
        "総事業費は約4億2千万円を見込む。",
    ],
    [
        "4. 今後の予定",
        "令和7年4月に実証運行を開始する。",
        "利用者アンケートを年2回実施し、結果を公表する。",
    ],
]
FOOTER = "- {n} -"


def make_pdf(pages: list[list[str]] = PAGES) -> bytes:
    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiMin-W3"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    width, _ = A4
    for number, lines in enumerate(pages, start=1):
        c.setFont("HeiseiMin-W3", 11)
        y = 780
        for line in lines:
            c.drawString(72, y, line)
            y -= 20
        c.drawCentredString(width / 2, 30, FOOTER.format(n=number))
        c.showPage()
    c.save()
    return buf.getvalue()


def expected_pages(stored_lines: list[str]) -> dict[int, int]:
    """Line number -> page, from what the generator drew on each page (every line is unique)."""
    where = {text: n for n, lines in enumerate(PAGES, start=1) for text in lines}
    where.update({FOOTER.format(n=n): n for n in range(1, len(PAGES) + 1)})
    out = {}
    for no, text in enumerate(stored_lines, start=1):
        if text.strip():
            assert text.strip() in where, f"line {no} {text!r} was not drawn by the generator"
            out[no] = where[text.strip()]
    return out


@pytest.fixture(scope="module")
def paged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Pipeline, str, dict[int, int]]:
    """A corpus holding only the generated PDF, indexed with the fake embedder; (pipeline, doc, truth)."""
    from assistant.corpus import write_manifest

    root = tmp_path_factory.mktemp("paged")
    corpus = root / "corpus"
    write_manifest(corpus, [])
    src = root / "交通再編計画.pdf"
    src.write_bytes(make_pdf())
    info = add_document(corpus, src, title="地域交通再編計画", issuer="市")
    # Small passages, no overlap: many of them run across a page break.
    settings = Settings(embedder="fake", tokenizer="bigram", corpus_dir=corpus, index_dir=root / "index",
                        chunk_chars=80, chunk_overlap=0).validated()
    pipeline = Pipeline(settings, progress=False)
    pipeline.build()
    lines = (corpus / info.id).read_text(encoding="utf-8").split("\n")
    return pipeline, info.id, expected_pages(lines)


def test_passages_cross_page_breaks(paged) -> None:
    """The case the per-line pages are for: some passage starts on one page and ends on the next."""
    pipeline, doc, truth = paged
    chunks = [c for c in pipeline.index().chunks if c.doc == doc]
    assert any(truth.get(c.first_line) != truth.get(c.last_line) for c in chunks if c.last_line in truth)


def test_every_line_cited_alone_reports_its_page(paged) -> None:
    """For EVERY line: a citation of exactly that line carries that line's page."""
    pipeline, doc, truth = paged
    index = pipeline.index()
    text = load_corpus(pipeline.settings.corpus_dir)[0].text
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    chunks = [c for c in index.chunks if c.doc == doc]
    assert len(truth) == sum(len(p) + 1 for p in PAGES)  # every drawn line, footers included
    for no, page in truth.items():
        start, end = starts[no - 1], starts[no] - 1
        host = next((c for c in chunks if c.start <= start and end <= c.end), None)
        if host is None:  # a page-number line: layout, not in any passage
            assert text.split("\n")[no - 1].strip() == FOOTER.format(n=page)
            continue
        cit = make_citation(1, host, start, end, 1.0, index.page_of)
        assert (cit.first_line, cit.last_line) == (no, no)
        assert (cit.page, cit.page_last) == (page, page), (no, text.split("\n")[no - 1])


def test_a_quote_across_a_page_break_reports_both_pages(paged) -> None:
    pipeline, doc, truth = paged
    index = pipeline.index()
    text = load_corpus(pipeline.settings.corpus_dir)[0].text
    for c in (c for c in index.chunks if c.doc == doc):
        pages = {truth[n] for n in range(c.first_line, c.last_line + 1) if n in truth}
        if len(pages) > 1:
            cit = make_citation(1, c, c.start, c.end, 1.0, index.page_of)
            assert cit.quote == text[c.start : c.end]
            assert (cit.page, cit.page_last) == (truth[cit.first_line], truth[cit.last_line])
            assert cit.page_last > cit.page
            assert _span(cit).endswith(f"p.{cit.page}–{cit.page_last}")
            return
    pytest.fail("no passage crosses a page break")


def test_ask_and_cite_citations_report_their_lines_pages(paged) -> None:
    """Through the real ask/cite path: every citation returned, for a question on every line."""
    pipeline, doc, truth = paged
    lines = load_corpus(pipeline.settings.corpus_dir)[0].lines
    cited_alone = set()
    for no in truth:
        sentence = lines[no - 1].strip()
        if sentence.startswith("- "):
            continue
        results = pipeline.cite([sentence])
        answer = pipeline.ask(sentence)
        cits = [*results[0].sources, *answer.citations, *answer.related]
        assert cits, sentence
        for c in cits:
            assert c.doc == doc
            assert c.page == truth.get(c.first_line), (sentence, c.first_line)
            assert c.page_last == truth.get(c.last_line), (sentence, c.last_line)
            assert c.quote in "\n".join(lines[c.first_line - 1 : c.last_line])
        cited_alone |= {c.first_line for c in results[0].sources if c.first_line == c.last_line == no}
    # The lookup finds most lines by their own text (the rest within a wider span).
    assert len(cited_alone) >= len(truth) // 2


def test_cli_json_carries_page_and_page_last(paged) -> None:
    pipeline, doc, truth = paged
    s = pipeline.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIORI_")}
    env.update({"SHIORI_CORPUS_DIR": str(s.corpus_dir), "SHIORI_INDEX_DIR": str(s.index_dir),
                "SHIORI_EMBEDDER": "fake", "SHIORI_TOKENIZER": "bigram", "SHIORI_CHUNK_CHARS": "80",
                "SHIORI_CHUNK_OVERLAP": "0", "PYTHONIOENCODING": "utf-8"})
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "総事業費はいくらか", "--json", "--no-rebuild"],
                          env=env, cwd=root, capture_output=True, text=True, encoding="utf-8", timeout=180)
    assert proc.returncode == 0, proc.stderr
    ans = json.loads(proc.stdout)
    cits = ans["citations"] or ans["related"]
    assert cits
    for c in cits:
        assert c["page"] == truth.get(c["first_line"]) and c["page_last"] == truth.get(c["last_line"])
    plain = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", "総事業費はいくらか", "--no-rebuild"],
                           env=env, cwd=root, capture_output=True, text=True, encoding="utf-8", timeout=180)
    assert plain.returncode == 0, plain.stderr
    first = cits[0]
    lines = format_lines(first["first_line"], first["last_line"])
    assert f"{lines} {page_label(first['page'], first['page_last'])}" in plain.stdout
