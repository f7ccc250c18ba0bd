"""Build the second evaluation corpus: ``python -m eval.extra.build [--check]``.

Six short Japanese policy documents written for this project (the organisations,
places and figures are invented; see eval/extra/README.md) are rendered in the
formats staff use, then added with shiori's own ``add`` path, so the corpus is
exactly what a user would get:

- three multi-page PDFs (reportlab, a CID font), each with a table that runs
  across a page break; one of them draws every table cell as its own text
  object (each cell comes out as its own line, as in many real PDFs) and
  repeats a running header on every page;
- a Word .docx (python-docx) with headings, lists and two tables;
- a Markdown file with a Markdown table;
- a plain-text meeting summary saved as Shift_JIS with CRLF line ends.

The gold questions (``sources/questions.py``) locate their spans by quoting the
text (``at``/``to`` anchors), so ``gold.jsonl`` gets exact line numbers for the
stored text; every answer is checked to occur in its span. Running the build
twice gives byte-identical files (fixed PDF/ZIP timestamps); ``--check`` builds
into a temp directory and fails when the committed files differ.

Source markup (``sources/*.txt`` for the PDFs and the .docx): ``# `` title,
``## ``/``### `` headings, ``- `` bullet, ``1. `` numbered item, ``| a | b |``
table row, ``@pagebreak`` (PDFs), ``※`` small print, a blank line between
blocks, anything else a paragraph.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import sys
import tempfile
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
CORPUS = HERE / "corpus"
GOLD = HERE / "gold.jsonl"
#: Every generated file carries this date (PDF metadata, ZIP entries, .docx properties).
FIXED_DATE = (2025, 4, 1, 0, 0, 0)


@dataclass(frozen=True)
class Doc:
    key: str  # how questions.py names the document
    source: str  # file in sources/
    fmt: str  # pdf | docx | md | txt
    filename: str  # the name the file is added under (as a user would have it)
    title: str
    issuer: str
    date: str
    #: PDFs: "row" draws a table row as one text object (one extracted line),
    #: "cell" draws each cell on its own (one line per cell).
    table: str = "row"
    running_header: str = ""
    footer: str = "- {n} -"
    #: PDFs: a table that runs onto the next page repeats its header row there.
    repeat_header: bool = True


ISSUER_NOTE = "（架空・評価用）"

DOCS: tuple[Doc, ...] = (
    Doc("hydrogen", "hydrogen.txt", "pdf", "水素社会の実現に向けた取組の概要.pdf",
        "水素社会の実現に向けた取組の概要", "エネルギー政策室" + ISSUER_NOTE, "2025-02"),
    Doc("wind", "offshore_wind.txt", "pdf", "洋上風力発電の導入拡大.pdf",
        "洋上風力発電の導入拡大に向けた取組", "再生可能エネルギー推進室" + ISSUER_NOTE, "2025-03",
        table="cell", running_header="洋上風力発電の導入拡大に向けた取組", footer="{n}", repeat_header=False),
    Doc("budget", "budget.txt", "pdf", "R7予算案の概要.pdf",
        "令和7年度 地域環境庁予算案の概要", "地域環境庁" + ISSUER_NOTE, "2024-12"),
    Doc("digital", "digital.txt", "docx", "デジタル行政推進計画.docx",
        "みなと市デジタル行政推進計画（令和7年度～令和9年度）", "みなと市" + ISSUER_NOTE, "2025-04"),
    Doc("disaster", "disaster.md", "md", "地域防災計画見直し概要.md",
        "地域防災計画の見直しの概要（令和7年度修正）", "みなと市防災会議" + ISSUER_NOTE, "2025-04"),
    Doc("minutes", "minutes.txt", "txt", "地域脱炭素推進会議_第3回議事要旨.txt",
        "地域脱炭素推進会議（第3回）議事要旨", "みなと市" + ISSUER_NOTE, "2025-01"),
)


# ----------------------------------------------------------------------- markup


@dataclass(frozen=True)
class Block:
    kind: str  # title | h2 | h3 | bullet | number | row | pagebreak | small | para | blank
    text: str = ""
    cells: tuple[str, ...] = ()


def parse_markup(text: str) -> list[Block]:
    blocks: list[Block] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line:
            blocks.append(Block("blank"))
        elif line == "@pagebreak":
            blocks.append(Block("pagebreak"))
        elif line.startswith("### "):
            blocks.append(Block("h3", line[4:]))
        elif line.startswith("## "):
            blocks.append(Block("h2", line[3:]))
        elif line.startswith("# "):
            blocks.append(Block("title", line[2:]))
        elif line.startswith("- "):
            blocks.append(Block("bullet", line[2:]))
        elif re.match(r"^\d+\. ", line):
            blocks.append(Block("number", line))
        elif line.startswith("|"):
            blocks.append(Block("row", cells=tuple(c.strip() for c in line.strip("|").split("|"))))
        elif line.startswith("※"):
            blocks.append(Block("small", line))
        else:
            blocks.append(Block("para", line))
    return blocks


# -------------------------------------------------------------------------- PDF

PAGE_W, PAGE_H = 595.27, 841.89
LEFT, RIGHT, TOP, BOTTOM = 60.0, 60.0, 785.0, 70.0
MINCHO, GOTHIC = "HeiseiMin-W3", "HeiseiKakuGo-W5"
STYLES = {  # kind -> (font, size, leading)
    "title": (GOTHIC, 15.0, 28.0),
    "h2": (GOTHIC, 12.0, 22.0),
    "h3": (GOTHIC, 10.8, 18.0),
    "para": (MINCHO, 10.5, 16.5),
    "bullet": (MINCHO, 10.5, 16.5),
    "number": (MINCHO, 10.5, 16.5),
    "small": (MINCHO, 9.0, 14.0),
    "row": (MINCHO, 9.5, 18.0),
}
_NO_LINE_START = set("、。，．）」』】%％")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9,.%/\-]*|.", re.S)


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy line filling; numbers and Latin words stay whole, closing punctuation hangs."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines, cur = [], ""
    for tok in _TOKEN.findall(text):
        if cur and stringWidth(cur + tok, font, size) > width and tok not in _NO_LINE_START:
            lines.append(cur)
            cur = tok
        else:
            cur += tok
    if cur:
        lines.append(cur)
    return lines


class _Pdf:
    def __init__(self, doc: Doc) -> None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.pdfgen import canvas

        for f in (MINCHO, GOTHIC):
            pdfmetrics.registerFont(UnicodeCIDFont(f))
        self.doc = doc
        self.buf = io.BytesIO()
        # invariant=1: no creation date or random id, so the bytes are reproducible.
        self.c = canvas.Canvas(self.buf, pagesize=(PAGE_W, PAGE_H), invariant=1)
        self.c.setTitle(doc.title)
        self.c.setAuthor(doc.issuer)
        self.page = 1
        self.flowed: list[int] = []
        self._start_page()

    def _start_page(self) -> None:
        self.y = TOP
        if self.doc.running_header:
            self.c.setFont(GOTHIC, 8.0)
            self.c.drawRightString(PAGE_W - RIGHT, PAGE_H - 35, self.doc.running_header)

    def new_page(self) -> None:
        self.c.setFont(MINCHO, 9.0)
        self.c.drawCentredString(PAGE_W / 2, 35, self.doc.footer.format(n=self.page))
        self.c.showPage()
        self.page += 1
        self._start_page()

    def _room(self, leading: float) -> None:
        if self.y - leading < BOTTOM:
            self.flowed.append(self.page)
            self.new_page()

    def text(self, kind: str, text: str) -> None:
        font, size, leading = STYLES[kind]
        indent = 0.0
        if kind == "bullet":
            text, indent = "・" + text, size
        elif kind == "number":
            indent = size * 1.5
        for k, line in enumerate(wrap(text, font, size, PAGE_W - LEFT - RIGHT - indent)):
            self._room(leading)
            self.y -= leading
            self.c.setFont(font, size)
            self.c.drawString(LEFT + (indent if k else 0.0), self.y, line)

    def table(self, rows: list[tuple[str, ...]]) -> None:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        font, size, leading = STYLES["row"]
        n = max(len(r) for r in rows)
        widths = [max(stringWidth(r[i] if i < len(r) else "", font, size) for r in rows) + 12 for i in range(n)]
        scale = min(1.0, (PAGE_W - LEFT - RIGHT) / sum(widths))
        widths = [w * scale for w in widths]
        self.y -= 4
        for k, row in enumerate(rows):
            page = self.page
            self._room(leading)
            if self.page != page and k > 0 and self.doc.repeat_header:
                self._row(rows[0], widths, font, size, leading)
            self._row(row, widths, font, size, leading)
        self.y -= 6

    def _row(self, row: tuple[str, ...], widths: list[float], font: str, size: float, leading: float) -> None:
        self.y -= leading
        x = LEFT
        t = self.c.beginText()
        t.setFont(font, size)
        for i, w in enumerate(widths):
            self.c.rect(x, self.y - 5, w, leading, stroke=1, fill=0)
            cell = row[i] if i < len(row) else ""
            if self.doc.table == "row":  # one text object: the row is extracted as one line
                t.setTextOrigin(x + 5, self.y)
                t.textOut(cell)
            else:  # a text object per cell: each cell is extracted as its own line
                self.c.setFont(font, size)
                self.c.drawString(x + 5, self.y, cell)
            x += w
        if self.doc.table == "row":
            self.c.drawText(t)

    def finish(self) -> bytes:
        self.c.setFont(MINCHO, 9.0)
        self.c.drawCentredString(PAGE_W / 2, 35, self.doc.footer.format(n=self.page))
        self.c.showPage()
        self.c.save()
        return self.buf.getvalue()


def render_pdf(doc: Doc, blocks: list[Block]) -> bytes:
    pdf = _Pdf(doc)
    i = 0
    while i < len(blocks):
        b = blocks[i]
        if b.kind == "row":
            rows = []
            while i < len(blocks) and blocks[i].kind == "row":
                rows.append(blocks[i].cells)
                i += 1
            pdf.table(rows)
            continue
        if b.kind == "pagebreak":
            pdf.new_page()
        elif b.kind == "blank":
            pdf.y -= 5
        else:
            pdf.text(b.kind, b.text)
        i += 1
    data = pdf.finish()
    if pdf.flowed:
        print(f"  {doc.source}: page(s) {pdf.flowed} full, text flowed onto the next", file=sys.stderr)
    return data


# ------------------------------------------------------------------------- .docx


def _fixed_zip(data: bytes) -> bytes:
    """The same ZIP with fixed entry timestamps (python-docx stamps the current time)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            z.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def render_docx(doc: Doc, blocks: list[Block]) -> bytes:
    from datetime import datetime, timezone

    import docx

    d = docx.Document()
    props = d.core_properties
    props.title = doc.title
    props.author = props.last_modified_by = doc.issuer
    props.created = props.modified = datetime(*FIXED_DATE, tzinfo=timezone.utc)
    i = 0
    while i < len(blocks):
        b = blocks[i]
        if b.kind == "row":
            rows = []
            while i < len(blocks) and blocks[i].kind == "row":
                rows.append(blocks[i].cells)
                i += 1
            table = d.add_table(rows=len(rows), cols=max(len(r) for r in rows))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
            continue
        if b.kind == "title":
            d.add_heading(b.text, 0)
        elif b.kind in ("h2", "h3"):
            d.add_heading(b.text, 1 if b.kind == "h2" else 2)
        elif b.kind == "bullet":
            d.add_paragraph(b.text, style="List Bullet")
        elif b.kind == "number":
            d.add_paragraph(re.sub(r"^\d+\. ", "", b.text), style="List Number")
        elif b.kind in ("para", "small"):
            d.add_paragraph(b.text)
        i += 1
    buf = io.BytesIO()
    d.save(buf)
    return _fixed_zip(buf.getvalue())


def render(doc: Doc) -> bytes:
    """The file a user would add: PDF, .docx, Markdown (UTF-8) or text (Shift_JIS, CRLF)."""
    source = (SOURCES / doc.source).read_text(encoding="utf-8")
    if doc.fmt == "pdf":
        return render_pdf(doc, parse_markup(source))
    if doc.fmt == "docx":
        return render_docx(doc, parse_markup(source))
    if doc.fmt == "txt":
        return source.replace("\n", "\r\n").encode("cp932")
    return source.encode("utf-8")


# -------------------------------------------------------------------------- gold


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def locate(lines: list[str], at: str, to: str | None = None) -> list[int]:
    """[first, last]: the lines holding the quoted text ``at`` (…through ``to``).

    The quotes are matched on the text with line breaks removed (a PDF wraps a
    sentence over lines) after NFKC, and each must occur once.
    """
    joined, owner = "", []
    for no, line in enumerate(lines, start=1):
        norm = _nfkc(line)
        joined += norm
        owner += [no] * len(norm)

    def find(quote: str, after: int = 0) -> tuple[int, int]:
        q = _nfkc(quote)
        i = joined.find(q, after)
        if i < 0:
            raise ValueError(f"quote not found: {quote!r}")
        if after == 0 and joined.find(q, i + 1) >= 0:
            raise ValueError(f"quote occurs more than once: {quote!r}")
        return i, i + len(q) - 1

    a, b = find(at)
    if to is not None:
        _, b = find(to, a)
    return [owner[a], owner[b]]


def make_gold(corpus: Path) -> list[dict[str, Any]]:
    """Gold items with doc ids and line spans resolved against the built corpus."""
    sys.path.insert(0, str(SOURCES))
    try:
        from questions import QUESTIONS  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(SOURCES))
    from assistant.corpus import read_manifest

    ids = {d.title: d.id for d in read_manifest(corpus)}
    by_key = {d.key: ids[d.title] for d in DOCS}
    cache: dict[str, list[str]] = {}
    items = []
    for q in QUESTIONS:
        item: dict[str, Any] = {"id": q["id"], "kind": q["kind"], "question": q["question"],
                                "answers": q.get("answers", []), "all_required": q.get("all_required", False),
                                "doc": None, "lines": None}
        if q.get("doc"):
            doc_id = by_key[q["doc"]]
            if doc_id not in cache:
                cache[doc_id] = (corpus / doc_id).read_text(encoding="utf-8").split("\n")
            try:
                item["doc"] = doc_id
                item["lines"] = locate(cache[doc_id], q["at"], q.get("to"))
                alt = [locate(cache[doc_id], *(a if isinstance(a, (list, tuple)) else (a,))) for a in q.get("alt", [])]
            except ValueError as e:
                raise SystemExit(f"{q['id']}: {e}") from None
            if alt:
                item["alt_lines"] = alt
        if "expect" in q:  # cite items: supported | contradicted | unsupported
            item["expect"] = q["expect"]
        items.append(item)
    return items


# ------------------------------------------------------------------------- build


def build(out: Path) -> dict[str, Any]:
    """Render, add and write ``out/corpus`` and ``out/gold.jsonl``; returns a summary."""
    from assistant.corpus import add_document, write_manifest
    from assistant.gold import load_gold, validate_against_corpus

    corpus = out / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    write_manifest(corpus, [])
    with tempfile.TemporaryDirectory() as tmp:
        for doc in DOCS:
            path = Path(tmp) / doc.filename
            path.write_bytes(render(doc))
            add_document(corpus, path, title=doc.title, issuer=doc.issuer, doc_date=doc.date)
    items = make_gold(corpus)
    gold = out / "gold.jsonl"
    gold.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    problems = validate_against_corpus(load_gold(gold), corpus)
    if problems:
        raise SystemExit("gold problems:\n  " + "\n  ".join(problems))
    from assistant.corpus import read_manifest

    infos = read_manifest(corpus)
    return {
        "documents": [(d.id, d.source_type, len(d.page_starts or ()) or None,
                       (corpus / d.id).read_text(encoding="utf-8").count("\n")) for d in infos],
        "items": len(items),
        "kinds": dict(sorted(Counter(i["kind"] for i in items).items())),
    }


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.extra.build", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="build in a temp directory and compare with the committed corpus and gold")
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            build(Path(tmp))
            fresh = _tree(Path(tmp))
        committed = {k: v for k, v in _tree(HERE).items() if k.startswith("corpus/") or k == "gold.jsonl"}
        differ = sorted(k for k in fresh.keys() | committed.keys() if fresh.get(k) != committed.get(k))
        if differ:
            print("eval/extra differs from a fresh build: " + ", ".join(differ), file=sys.stderr)
            return 1
        print(f"eval/extra is reproducible ({len(fresh)} files)")
        return 0
    summary = build(HERE)
    for doc_id, kind, pages, lines in summary["documents"]:
        print(f"{doc_id}  {kind:8}  {lines:4} lines" + (f", {pages} pages" if pages else ""))
    print(f"gold.jsonl: {summary['items']} items {summary['kinds']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
