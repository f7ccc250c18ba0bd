"""Whole drafts: read a .docx/.md/.txt draft, check every sentence against the documents, report.

``read_blocks`` turns a draft into text blocks with their place in it (paragraph,
heading, bullet, table cell; line numbers for .md/.txt); ``draft_sentences`` splits
them into sentences and marks those with no checkable statement (``sentences``);
``check_draft`` sends all the others to ``Pipeline.cite`` in one call; the report is
written as .xlsx, .md or .jsonl (``write_report``). A draft that cannot be read at
all raises ``UsageError``.
"""

from __future__ import annotations

import logging
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from assistant.errors import ShioriError, UsageError
from assistant.export import Column, citation_text, md_escape, md_quote, md_table, write_table, write_text
from assistant.messages import DRAFT_VERDICT_LABELS, NO_STATEMENT_LABELS
from assistant.sentences import Reason, no_statement_reason, split_sentences
from assistant.validate import clean_query

if TYPE_CHECKING:
    from assistant.pipeline import Pipeline

logger = logging.getLogger(__name__)

BlockKind = Literal["paragraph", "heading", "bullet", "table"]
INPUT_EXTS: tuple[str, ...] = (".docx", ".md", ".txt")
OUTPUT_EXTS: tuple[str, ...] = (".xlsx", ".md", ".jsonl")
NO_STATEMENT = "no statement"
#: Verdict cell colours in the Excel report.
VERDICT_FILLS: dict[str, str] = {
    "strong": "D3F9D8",
    "partial": "FFF3BF",
    "conflict": "FFC9C9",
    "none": "FFE3E3",
    NO_STATEMENT: "EEEEEE",
}
VERDICT_ORDER: tuple[str, ...] = ("strong", "partial", "conflict", "none", NO_STATEMENT, "error")
#: Verdicts a reviewer must look at, in the order the Markdown report lists them.
TO_REVIEW: tuple[str, ...] = ("conflict", "none", "partial")
_LIST_STYLE_WORDS = ("list", "リスト", "箇条書き")
_HEADING_STYLE_WORDS = ("heading", "title", "subtitle", "見出し", "表題", "副題")
_SENTENCE_ENDS = ("。", "．", ".", "！", "!", "？", "?")
_CLOSING = "」』）)】］]〕〉》”’ 　"
_TXT_BULLET = ("・", "●", "○", "〇", "◆", "◇", "■", "□", "◎", "※", "•", "- ", "* ", "+ ", "－", "①", "②", "③")

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Block:
    """A unit of draft text and where it is: paragraph n, or table t row r column c (1-based)."""

    kind: BlockKind
    text: str
    paragraph: int | None = None
    line: int | None = None
    table: int | None = None
    row: int | None = None
    col: int | None = None

    def place(self) -> str:
        """``段落3``, ``見出し（12行目）``, ``表1 2行3列``: where a reader finds the block."""
        if self.kind == "table":
            where = f"表{self.table} {self.row}行{self.col}列"
            return where + (f"（{self.line}行目）" if self.line else "")
        base = f"{self.line}行目" if self.line else f"段落{self.paragraph}"
        prefix = {"heading": "見出し", "bullet": "箇条書き"}.get(self.kind)
        return f"{prefix}（{base}）" if prefix else base


@dataclass(frozen=True, slots=True)
class DraftSentence:
    """A sentence of the draft: its block, its number in the block, and why it is not checked (if so)."""

    n: int
    text: str
    block: Block
    index: int
    of: int
    reason: Reason | None
    #: What is sent to the lookup when it differs from ``text`` (a table value with its row and column names).
    query: str | None = None

    def location(self) -> str:
        return self.block.place() + (f" 第{self.index}文" if self.of > 1 else "")

    def location_json(self) -> dict[str, Any]:
        b = self.block
        return {
            "kind": b.kind,
            "paragraph": b.paragraph,
            "line": b.line,
            "table": b.table,
            "row": b.row,
            "col": b.col,
            "sentence": self.index,
            "label": self.location(),
        }


@dataclass(frozen=True, slots=True)
class CheckedSentence:
    """A draft sentence with its verdict (``CiteResult.to_json()``) or the error that stopped it."""

    sentence: DraftSentence
    result: dict[str, Any] | None
    error: str | None

    @property
    def verdict(self) -> str:
        if self.sentence.reason is not None:
            return NO_STATEMENT
        return self.result["strength"] if self.result else ""


@dataclass(frozen=True, slots=True)
class DraftReport:
    """Every sentence of a draft, in order, with the time spent on each phase (seconds)."""

    source: str
    rows: list[CheckedSentence]
    timings_s: dict[str, float]

    def counts(self) -> dict[str, int]:
        """Sentences by verdict, in the order of ``VERDICT_ORDER`` (an error counts as ``error``)."""
        out = dict.fromkeys(VERDICT_ORDER, 0)
        for r in self.rows:
            key = r.verdict or "error"
            out[key] = out.get(key, 0) + 1
        return {k: v for k, v in out.items() if v}

    def summary(self) -> dict[str, Any]:
        return {
            "sentences": len(self.rows),
            "verdicts": self.counts(),
            "errors": sum(1 for r in self.rows if r.error),
            "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()},
        }


# ------------------------------------------------------------------- reading


def _style_name(paragraph: Any) -> str:
    style = getattr(paragraph, "style", None)
    return (getattr(style, "name", "") or "").lower()


def _docx_kind(paragraph: Any) -> BlockKind:
    """Heading by its style or outline level, bullet by its numbering or list style."""
    name = _style_name(paragraph)
    ppr = paragraph._p.pPr
    if any(name.startswith(w) for w in _HEADING_STYLE_WORDS):
        return "heading"
    if ppr is not None:
        from docx.oxml.ns import qn

        lvl = ppr.find(qn("w:outlineLvl"))
        if lvl is not None and lvl.get(qn("w:val"), "9") != "9":
            return "heading"
        if ppr.numPr is not None:
            return "bullet"
    return "bullet" if any(w in name for w in _LIST_STYLE_WORDS) else "paragraph"


def _cell_text(cell: Any) -> str:
    """A table cell's paragraphs (and nested tables' cells), one per line."""
    from docx.table import Table

    lines: list[str] = []
    for item in cell.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                lines += [_cell_text(c) for c in row.cells]
        else:
            lines.append(item.text)
    return "\n".join(x for x in lines if x.strip())


def read_docx_blocks(path: Path) -> list[Block]:
    """Body paragraphs and table cells in document order (headers, footers and text boxes are not read)."""
    from zipfile import BadZipFile

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except (BadZipFile, PackageNotFoundError, KeyError, ValueError) as e:
        raise UsageError(
            f"{path} is not a readable .docx document ({type(e).__name__}); "
            "open it in Word and save it as .docx (a .doc or a password-protected file cannot be read)"
        ) from None
    blocks: list[Block] = []
    paragraph = table = 0
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            table += 1
            seen: set[Any] = set()  # the cell elements themselves (an id() of a proxy can be reused)
            for r, row in enumerate(item.rows, start=1):
                for c, cell in enumerate(row.cells, start=1):
                    if cell._tc in seen:  # a merged cell is listed once per grid column and row
                        continue
                    seen.add(cell._tc)
                    text = _cell_text(cell)
                    if text.strip():
                        blocks.append(Block("table", text, table=table, row=r, col=c))
        elif item.text.strip():
            paragraph += 1
            blocks.append(Block(_docx_kind(item), item.text, paragraph=paragraph))
    return blocks


def _wide(c: str) -> bool:
    return bool(c) and unicodedata.east_asian_width(c) in "WF"


def _inline_text(token: Any) -> str:
    """The plain text of a markdown-it inline token (emphasis and link marks dropped).

    A soft line break (a wrapped source line) is a space between two Latin words
    and nothing next to Japanese, which is written without spaces.
    """
    parts: list[str | None] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "softbreak":
            parts.append(None)
    out = []
    for i, p in enumerate(parts):
        if p is None:
            before = next((x for x in reversed(parts[:i]) if x), "")[-1:]
            after = next((x for x in parts[i + 1 :] if x), "")[:1]
            p = "" if _wide(before) or _wide(after) else " "
        out.append(p)
    return "".join(out)


def read_md_blocks(path: Path) -> list[Block]:
    """Headings, paragraphs, list items and table cells of a Markdown draft (code blocks are skipped)."""
    from markdown_it import MarkdownIt

    text = _read_text(path)
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    blocks: list[Block] = []
    kind: BlockKind = "paragraph"
    lists = table = row = col = 0
    line: int | None = None
    for t in tokens:
        if t.type in ("bullet_list_open", "ordered_list_open"):
            lists += 1
        elif t.type in ("bullet_list_close", "ordered_list_close"):
            lists -= 1
        elif t.type == "heading_open":
            kind, line = "heading", t.map[0] + 1 if t.map else None
        elif t.type == "paragraph_open":
            kind, line = ("bullet" if lists else "paragraph"), t.map[0] + 1 if t.map else None
        elif t.type == "table_open":
            table, row = table + 1, 0
        elif t.type == "tr_open":
            row, col = row + 1, 0
            line = t.map[0] + 1 if t.map else line
        elif t.type in ("th_open", "td_open"):
            kind, col = "table", col + 1
        elif t.type == "inline":
            content = _inline_text(t)
            if not content.strip():
                continue
            if kind == "table":
                blocks.append(Block("table", content, line=line, table=table, row=row, col=col))
            else:
                blocks.append(Block(kind, content, line=line))
    return blocks


def read_txt_blocks(path: Path) -> list[Block]:
    """One block per non-blank line; a line starting with a list mark is a bullet."""
    blocks = []
    for i, line in enumerate(_read_text(path).split("\n"), start=1):
        if line.strip():
            kind: BlockKind = "bullet" if line.lstrip().startswith(_TXT_BULLET) else "paragraph"
            blocks.append(Block(kind, line, line=i))
    return blocks


def _read_text(path: Path) -> str:
    """A text draft as UTF-8 (or Shift_JIS), newlines unified."""
    from assistant.batch import decode_text, read_input

    return decode_text(read_input(path), path).replace("\r\n", "\n").replace("\r", "\n")


READERS: dict[str, Callable[[Path], list[Block]]] = {
    ".docx": read_docx_blocks,
    ".md": read_md_blocks,
    ".txt": read_txt_blocks,
}


def read_blocks(path: Path) -> list[Block]:
    """The blocks of the draft in ``path`` by its extension; ``UsageError`` when it cannot be read."""
    from assistant.batch import read_input

    path = Path(path)
    ext = path.suffix.lower()
    if ext not in READERS:
        hint = " (save it as .docx)" if ext in (".doc", ".rtf", ".odt") else ""
        raise UsageError(f"cannot read {path.name}: a draft must be one of {sorted(READERS)}{hint}")
    read_input(path)  # missing file or a directory: the same message for every format
    blocks = READERS[ext](path)
    if not blocks:
        raise UsageError(f"{path} has no text to check (headers, footers and text boxes are not read)")
    return blocks


# ------------------------------------------------------------------ sentences


def _table_names(blocks: Sequence[Block]) -> dict[tuple[int, int, int], str]:
    """Text of every table cell by (table, row, col), to name a bare value by its row and column."""
    return {(b.table, b.row, b.col): b.text.strip() for b in blocks if b.kind == "table"}  # type: ignore[misc]


def _value_query(b: Block, value: str, cells: Mapping[tuple[int, int, int], str]) -> str | None:
    """A table value with its row name (column 1) and column name (row 1): ``甲機構分担金（令和12年度）1,234百万円``."""
    assert b.table is not None and b.row is not None and b.col is not None
    row_name = cells.get((b.table, b.row, 1), "") if b.col > 1 else ""
    col_name = cells.get((b.table, 1, b.col), "") if b.row > 1 else ""
    names = [x for x in (row_name, col_name) if x and no_statement_reason(x) != "value" and "\n" not in x]
    if not names:
        return None
    head = names[0] + (f"（{names[1]}）" if len(names) > 1 else "")
    return f"{head} {value}"


def _is_heading(b: Block, sentence: str) -> bool:
    """A heading paragraph, or a cell of a table's first row that is not a sentence (a column name)."""
    if b.kind == "heading":
        return True
    return b.kind == "table" and b.row == 1 and not sentence.rstrip(_CLOSING).endswith(_SENTENCE_ENDS)


def draft_sentences(blocks: Sequence[Block]) -> list[DraftSentence]:
    """Every sentence of the draft in order, with the reason it is not checked (headings, greetings, …).

    A bare value in a table (``1,234百万円``) is checked together with its row and
    column names, which is what it states; a value with neither stays unchecked.
    """
    cells = _table_names(blocks)
    out: list[DraftSentence] = []
    for b in blocks:
        parts = split_sentences(b.text)
        for i, s in enumerate(parts, start=1):
            reason: Reason | None = "heading" if _is_heading(b, s) else no_statement_reason(s)
            query = None
            if reason == "value" and b.kind == "table" and len(parts) == 1:
                query = _value_query(b, s, cells)
                reason = None if query else reason
            out.append(DraftSentence(len(out) + 1, s, b, i, len(parts), reason, query))
    return out


# ------------------------------------------------------------------- checking


def check_sentences(
    pipeline: Pipeline,
    sentences: Sequence[DraftSentence],
    k: int | None = None,
    on_progress: Progress | None = None,
) -> DraftReport:
    """Look up every checkable sentence with one ``Pipeline.cite`` call; bad sentences get their error."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    pipeline.index()
    timings["load"] = time.perf_counter() - t0
    todo: list[tuple[int, str]] = []
    errors: dict[int, str] = {}
    for i, s in enumerate(sentences):
        if s.reason is None:
            try:
                todo.append((i, clean_query(s.query or s.text, "sentence")))
            except UsageError as e:
                errors[i] = e.message
    total = len(sentences)
    if on_progress is not None:
        on_progress(total - len(todo), total)
    t1 = time.perf_counter()
    results = _cite_all(pipeline, todo, k, errors)
    timings["check"] = time.perf_counter() - t1
    if on_progress is not None:
        on_progress(total, total)
    rows = [CheckedSentence(s, results.get(i), errors.get(i)) for i, s in enumerate(sentences)]
    return DraftReport("", rows, timings)


def _cite_all(
    pipeline: Pipeline, todo: Sequence[tuple[int, str]], k: int | None, errors: dict[int, str]
) -> dict[int, dict[str, Any]]:
    """``Pipeline.cite`` on all sentences in one call (it batches them): results by sentence position."""
    if not todo:
        return {}
    try:
        found = pipeline.cite([q for _, q in todo], k=k)
    except UsageError:
        # Not expected after clean_query: find the sentence it refuses rather than lose the draft.
        logger.warning("the lookup refused the draft's sentences; checking them one by one")
        results: dict[int, dict[str, Any]] = {}
        for i, q in todo:
            try:
                results[i] = pipeline.cite([q], k=k)[0].to_json()
            except UsageError as e:
                errors[i] = e.message
        return results
    if len(found) != len(todo):
        raise ShioriError(f"the citation lookup returned {len(found)} results for {len(todo)} sentences")
    return {i: r.to_json() for (i, _), r in zip(todo, found, strict=True)}


def check_draft(
    pipeline: Pipeline, path: Path, k: int | None = None, on_progress: Progress | None = None
) -> DraftReport:
    """Read, split and check the draft in ``path``."""
    t0 = time.perf_counter()
    sentences = draft_sentences(read_blocks(path))
    read_s = time.perf_counter() - t0
    report = check_sentences(pipeline, sentences, k=k, on_progress=on_progress)
    return DraftReport(Path(path).name, report.rows, {"read": read_s, **report.timings_s})


# ------------------------------------------------------------------- writing


def _mismatch_text(m: Mapping[str, Any]) -> str:
    where = ""
    if m.get("doc"):
        where = f"（{m['doc']} L{m.get('first_line')}–L{m.get('last_line')}）"
    return f"{m.get('kind', '')}: 下書き「{m.get('claim', '')}」／資料「{m.get('source', '')}」{where}"


def _first_source(r: CheckedSentence) -> dict[str, Any]:
    sources = (r.result or {}).get("sources") or []
    return sources[0] if sources and r.sentence.reason is None else {}


def report_records(report: DraftReport) -> list[dict[str, Any]]:
    """One JSON object per sentence (the .jsonl report)."""
    out = []
    for r in report.rows:
        res = r.result or {}
        s = r.sentence
        out.append(
            {
                "n": s.n,
                "location": s.location_json(),
                "sentence": s.text,
                "checked_as": s.query,
                "strength": r.verdict or None,
                "reason": s.reason,
                "citation": res.get("citation") or None,
                "sources": res.get("sources", []) if s.reason is None else [],
                "mismatches": res.get("mismatches", []),
                "error": r.error,
            }
        )
    return out


REPORT_COLUMNS: list[Column] = [
    Column("n", 6),
    Column("location", 16),
    Column("sentence", 50),
    Column("strength", 12),
    Column("verdict", 14),
    Column("reason", 14),
    Column("citation", 40),
    Column("mismatches", 36),
    Column("source_title", 26),
    Column("source_doc", 24),
    Column("source_page", 6),
    Column("source_first_line", 10),
    Column("source_last_line", 10),
    Column("source_quote", 50),
    Column("checked_as", 30),
    Column("error", 24),
]


def report_rows(report: DraftReport) -> list[dict[str, Any]]:
    """Flat rows for the Excel report (columns ``REPORT_COLUMNS``)."""
    rows = []
    for r in report.rows:
        res, src, s = r.result or {}, _first_source(r), r.sentence
        rows.append(
            {
                "n": s.n,
                "location": s.location(),
                "sentence": s.text,
                "strength": r.verdict or None,
                "verdict": DRAFT_VERDICT_LABELS.get(r.verdict, r.verdict) or None,
                "reason": NO_STATEMENT_LABELS.get(s.reason) if s.reason else None,
                "citation": res.get("citation") or None,
                "mismatches": "\n".join(_mismatch_text(m) for m in res.get("mismatches", [])) or None,
                "source_title": src.get("title"),
                "source_doc": src.get("doc"),
                "source_page": src.get("page"),
                "source_first_line": src.get("first_line"),
                "source_last_line": src.get("last_line"),
                "source_quote": src.get("quote"),
                "checked_as": s.query,
                "error": r.error,
            }
        )
    return rows


def report_markdown(report: DraftReport) -> str:
    """The Markdown report: counts, one table row per sentence, then the sentences to review."""
    counts = report.counts()
    tally = " · ".join(f"{DRAFT_VERDICT_LABELS.get(v, 'エラー')} {n}" for v, n in counts.items())
    parts = [f"# 出典確認：{md_escape(report.source)}", "", f"{len(report.rows)} 文 — {tally}", ""]
    table = []
    for r in report.rows:
        res, s = r.result or {}, r.sentence
        verdict = DRAFT_VERDICT_LABELS.get(r.verdict, r.verdict) if r.verdict else "エラー"
        if s.reason:
            verdict += f"（{NO_STATEMENT_LABELS[s.reason]}）"
        table.append([s.n, s.location(), s.text, verdict, res.get("citation") or r.error or ""])
    parts += [md_table(["#", "場所", "文", "判定", "出典"], table), ""]
    review = [r for v in TO_REVIEW for r in report.rows if r.verdict == v]
    errors = [r for r in report.rows if r.error]
    if review or errors:
        parts += ["## 要確認", ""]
    for r in review + errors:
        res, s = r.result or {}, r.sentence
        label = DRAFT_VERDICT_LABELS.get(r.verdict, r.verdict) if r.verdict else "エラー"
        parts += [f"### {s.n}. {md_escape(s.location())} — {md_escape(label)}", "", md_quote(s.text), ""]
        if s.query:
            parts += [f"- 照合した文：{md_escape(s.query)}"]
        if r.error:
            parts += [f"- エラー：{md_escape(r.error)}"]
        for m in res.get("mismatches", []):
            parts += [f"- 食い違い：{md_escape(_mismatch_text(m))}"]
        src = _first_source(r)
        if src:
            lead = (
                ""
                if r.verdict in ("strong", "partial", "conflict")
                else "最も近い箇所（裏付けではありません）："
            )
            parts += [f"- {lead}{md_escape(citation_text(src))}", "", md_quote(src["quote"])]
        parts += [""]
    return "\n".join(parts).rstrip("\n") + "\n"


def write_report(path: Path, report: DraftReport) -> None:
    """Write the report as .xlsx, .md or .jsonl (by extension), atomically."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in OUTPUT_EXTS:
        raise UsageError(f"cannot write {path.name}: a draft report must end in one of {sorted(OUTPUT_EXTS)}")
    if ext == ".md":
        write_text(path, report_markdown(report))
        return
    write_table(
        path,
        REPORT_COLUMNS,
        report_rows(report),
        report_records(report),
        sheet="draft check",
        fills={"strength": VERDICT_FILLS},
    )


def default_output(path: Path) -> Path:
    """``draft.docx`` -> ``draft.check.xlsx`` beside it."""
    return path.with_name(f"{path.stem}.check.xlsx")
