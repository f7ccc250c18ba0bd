"""Question lists (想定問答, 照会対応): read a .txt/.csv/.xlsx list, answer every row, write a table.

``read_questions`` turns a file into ``QuestionRow``s (one per non-blank input row,
with its row number and the row's other columns); ``answer_questions`` runs
``Pipeline.ask`` on each with the index and model loaded once (the questions'
vectors encoded a chunk at a time, which is cheaper than one by one), recording a
bad row's error in that row and going on; ``answer_table``/``answer_records`` flatten the results for
``export.write_table``. A file that cannot be read at all raises ``UsageError``.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.errors import ShioriError, UsageError
from assistant.export import Column, numbered_citations, write_table
from assistant.normalize import normalize_query
from assistant.validate import clean_query

if TYPE_CHECKING:
    from assistant.embedding import Embedder
    from assistant.pipeline import Pipeline

logger = logging.getLogger(__name__)

#: Header names of the question column (compared after NFKC and lower-casing).
QUESTION_HEADERS: tuple[str, ...] = ("質問", "question")
#: A header cell longer than this is data, not a column name (e.g. a question containing 質問).
MAX_HEADER_CHARS = 12
#: Values Excel writes into a cell whose formula failed.
EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}
)
#: Fields of a citation in the flat table, after ``citation{n}_``.
CITATION_FIELDS: tuple[str, ...] = ("title", "doc", "page", "first_line", "last_line", "quote")
#: What an input list may be, and what a result may be written as.
INPUT_EXTS: tuple[str, ...] = (".txt", ".csv", ".xlsx")
OUTPUT_EXTS: tuple[str, ...] = (".csv", ".xlsx", ".jsonl")

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class QuestionRow:
    """One row of a question list: where it was, the question cell, and the row's other cells."""

    row: int
    question: str
    extra: dict[str, str] = field(default_factory=dict)
    #: Why the question cell cannot be used (a number, an Excel error value), else None.
    error: str | None = None


@dataclass(frozen=True, slots=True)
class QuestionList:
    """A read question list: its rows and the names of its other columns, in order."""

    rows: list[QuestionRow]
    #: The other columns before and after the question column.
    before: list[str]
    after: list[str]
    #: Whether the first row named the question column (else the first column holds the questions).
    header: bool = False


@dataclass(frozen=True, slots=True)
class AnsweredRow:
    """A question row with its answer (``Answer.to_json()``), or the error that stopped it."""

    source: QuestionRow
    answer: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True, slots=True)
class BatchResult:
    """All rows of a run, in input order, with the time spent on each phase (seconds)."""

    rows: list[AnsweredRow]
    columns: QuestionList
    timings_s: dict[str, float]

    def summary(self) -> dict[str, Any]:
        answered = [r for r in self.rows if r.answer is not None]
        return {
            "rows": len(self.rows),
            "answered": sum(1 for r in answered if not r.answer.get("abstained")),  # type: ignore[union-attr]
            "abstained": sum(1 for r in answered if r.answer.get("abstained")),  # type: ignore[union-attr]
            "errors": sum(1 for r in self.rows if r.error),
            "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()},
        }


# ------------------------------------------------------------------- reading


def decode_text(raw: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM (Windows "Unicode" text), else Shift_JIS (cp932).

    Shift_JIS is what Japanese Excel saves as CSV by default.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise UsageError(f"{path} is not readable UTF-16 text") from None
    if b"\x00" in raw:
        raise UsageError(f"{path} looks like a binary file, not text; save it as UTF-8 text, .csv or .xlsx")
    for enc in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    # Neither: keep going, and let the rows with undecodable bytes report it (U+FFFD).
    return raw.decode("utf-8", errors="replace")


def read_input(path: Path) -> bytes:
    """The bytes of an input file; ``UsageError`` with a plain message when it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory, not a file") from None
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None


def _header_key(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().lower()


def question_column(header: Sequence[str]) -> int | None:
    """Index of the question column in a header row: a cell named 質問/question, else one containing it."""
    keys = [_header_key(h) for h in header]
    for i, k in enumerate(keys):
        if k in QUESTION_HEADERS:
            return i
    for i, k in enumerate(keys):
        if len(k) <= MAX_HEADER_CHARS and any(name in k for name in QUESTION_HEADERS):
            return i
    return None


def column_letter(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (names for the columns of a list without a header row)."""
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(ord("A") + r) + name
    return name


def cell_to_text(value: Any) -> str:
    """Any cell value as text (for the columns carried over): dates in ISO form, 3.0 as 3."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, _dt.datetime) and value.time() == _dt.time(0):
        return value.date().isoformat()  # Excel stores a date as a datetime at midnight
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    return str(value)


def question_cell(value: Any) -> tuple[str, str | None]:
    """(question text, error): a question must be text, not a number, date or Excel error value."""
    if value is None:
        return "", None
    if isinstance(value, str):
        if value.strip() in EXCEL_ERRORS:
            return value, f"unreadable cell: Excel error value {value.strip()}"
        return value, None
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        kind = "the date"
    elif isinstance(value, bool):
        kind = "the value"
    elif isinstance(value, (int, float)):
        kind = "the number"
    else:
        kind = f"a {type(value).__name__}"
    return cell_to_text(value), f"unreadable cell: it holds {kind} {cell_to_text(value)}, not a question"


def rows_to_list(records: Sequence[tuple[int, Sequence[Any]]]) -> QuestionList:
    """Question rows from (row number, cells) records, the first of which may be a header row.

    The header row is the first record when one of its cells names the question
    column; otherwise there is no header and the first column holds the questions.
    Records whose cells are all empty are skipped (their numbers stay with the rest).
    """
    records = [(n, list(cells)) for n, cells in records if any(cell_to_text(c).strip() for c in cells)]
    if not records:
        return QuestionList([], [], [], header=False)
    width = max(len(cells) for _, cells in records)
    first = [cell_to_text(c) for c in records[0][1]] + [""] * (width - len(records[0][1]))
    qcol = question_column(first)
    if qcol is None:
        qcol, names, body = 0, [column_letter(i) for i in range(width)], records
    else:
        names = [h.strip() or column_letter(i) for i, h in enumerate(first)]
        body = records[1:]
    rows = []
    for n, cells in body:
        cells = cells + [None] * (width - len(cells))
        text, error = question_cell(cells[qcol])
        extra = {names[i]: cell_to_text(cells[i]) for i in range(width) if i != qcol}
        rows.append(QuestionRow(n, text, extra, error))
    return QuestionList(rows, names[:qcol], names[qcol + 1 :], header=body is not records)


def read_txt_questions(path: Path) -> QuestionList:
    """One question a line; blank lines are skipped (row = line number)."""
    text = decode_text(read_input(path), path)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return QuestionList([QuestionRow(i, q) for i, q in enumerate(lines, start=1) if q.strip()], [], [])


def read_csv_questions(path: Path) -> QuestionList:
    """A CSV (UTF-8 or Shift_JIS) with a 質問/question column, or the questions in the first column."""
    import csv
    import io

    text = decode_text(read_input(path), path)
    try:
        records = list(enumerate(csv.reader(io.StringIO(text, newline="")), start=1))
    except csv.Error as e:
        raise UsageError(f"{path} is not a readable CSV file: {e}") from None
    return rows_to_list(records)


def read_xlsx_questions(path: Path) -> QuestionList:
    """An Excel workbook: the first sheet with a 質問/question column, else the first sheet."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    read_input(path)  # the same messages as the other formats for a missing file or a directory
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as e:
        raise UsageError(
            f"{path} is not a readable .xlsx workbook ({type(e).__name__}); "
            "open it in Excel and save it as .xlsx (an .xls or a password-protected file cannot be read)"
        ) from None
    try:
        lists = []
        for ws in wb.worksheets:
            if not hasattr(ws, "iter_rows"):  # a chart sheet
                continue
            ws.reset_dimensions()  # some writers record wrong sheet sizes; read every row
            lists.append(rows_to_list(list(enumerate(ws.iter_rows(min_row=1, values_only=True), start=1))))
    finally:
        wb.close()
    if not lists:
        raise UsageError(f"{path} has no worksheet")
    return next((lst for lst in lists if lst.header), lists[0])


READERS: dict[str, Callable[[Path], QuestionList]] = {
    ".txt": read_txt_questions,
    ".csv": read_csv_questions,
    ".xlsx": read_xlsx_questions,
}


def read_questions(path: Path) -> QuestionList:
    """The question list in ``path`` by its extension; ``UsageError`` when it cannot be read at all."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in READERS:
        hint = " (save it as .xlsx)" if ext in (".xls", ".xlsm", ".ods") else ""
        raise UsageError(f"cannot read {path.name}: a question list must be one of {sorted(READERS)}{hint}")
    questions = READERS[ext](path)
    if not questions.rows:
        raise UsageError(f"{path} has no questions (every row is blank)")
    return questions


# ------------------------------------------------------------------- running

#: Questions whose vectors are computed together before they are answered (one model call).
EMBED_CHUNK = 16


class QueryVectors:
    """An embedder that serves query vectors computed beforehand in one batch, else asks its model.

    Encoding a batch of questions costs a fraction of encoding them one by one, and
    gives the same vectors (checked bit for bit for the bundled model), so a list
    answered with ``prefetch`` gets exactly the answers of ``shiori ask``, faster.
    Anything not prefetched goes to the wrapped model unchanged.
    """

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._vectors: dict[str, np.ndarray] = {}

    def prefetch(self, texts: Sequence[str]) -> None:
        """Encode ``texts`` in one call; they replace the previously prefetched ones."""
        unique = list(dict.fromkeys(texts))
        vecs = self.inner.embed_queries(unique) if unique else []
        self._vectors = dict(zip(unique, vecs, strict=True))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if texts and all(t in self._vectors for t in texts):
            return np.stack([self._vectors[t] for t in texts])
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)


def _query_text(question: str) -> str | None:
    """What the retriever embeds for ``question`` (None when it is refused anyway)."""
    try:
        return normalize_query(clean_query(question, "query"))
    except UsageError:
        return None


def answer_questions(
    pipeline: Pipeline,
    questions: QuestionList,
    k: int | None = None,
    mode: str | None = None,
    on_progress: Progress | None = None,
) -> BatchResult:
    """Ask every row in order with one loaded index; a bad row gets its error, the run goes on.

    Bad input (empty, too long, binary, an unreadable cell) is a row error. So is an
    unexpected failure on one question (logged with its traceback). A failure of the
    pipeline itself (index, model) stops the run: every row would fail the same way.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    pipeline.index()
    vectors: QueryVectors | None = None
    if (mode or pipeline.settings.mode) != "bm25":
        vectors = QueryVectors(pipeline.embedder)  # loads the model once, before the first row
        pipeline = pipeline.with_embedder(vectors)
    timings["load"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    out: list[AnsweredRow] = []
    total = len(questions.rows)
    for i, row in enumerate(questions.rows):
        if vectors is not None and i % EMBED_CHUNK == 0:
            chunk = questions.rows[i : i + EMBED_CHUNK]
            vectors.prefetch([t for r in chunk if not r.error and (t := _query_text(r.question))])
        if row.error:
            out.append(AnsweredRow(row, None, row.error))
        else:
            try:
                out.append(AnsweredRow(row, pipeline.ask(row.question, k=k, mode=mode).to_json(), None))
            except UsageError as e:
                out.append(AnsweredRow(row, None, e.message))
            except ShioriError:
                raise
            except Exception as e:  # noqa: BLE001 - one question's failure is reported in its row
                logger.exception("row %d failed", row.row)
                out.append(AnsweredRow(row, None, f"internal error: {type(e).__name__}: {e}"))
        if on_progress is not None:
            on_progress(i + 1, total)
    timings["answer"] = time.perf_counter() - t1
    return BatchResult(out, questions, timings)


# ------------------------------------------------------------------- writing


def _citation_json(c: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("n", "title", "doc", "page", "page_last", "first_line", "last_line", "quote", "score")
    return {key: c[key] for key in keys if key in c}


def answer_records(result: BatchResult) -> list[dict[str, Any]]:
    """One JSON object per row (the .jsonl output)."""
    records = []
    for r in result.rows:
        a = r.answer or {}
        records.append(
            {
                "row": r.source.row,
                "question": r.source.question,
                "direct": a.get("direct"),
                "answer_type": a.get("answer_type"),
                "answer": a.get("answer"),
                "abstained": a.get("abstained"),
                "citations": [_citation_json(c) for c in a.get("citations", [])],
                "related": [_citation_json(c) for c in a.get("related", [])],
                "notice": a.get("notice"),
                "error": r.error,
                "input": r.source.extra,
            }
        )
    return records


def _own_name(name: str, taken: set[str]) -> str:
    """An input column named like one of ours keeps its values under ``<name> (input)``."""
    return f"{name} (input)" if name in taken else name


def answer_table(result: BatchResult) -> tuple[list[Column], list[dict[str, Any]]]:
    """Columns and flat rows for .csv/.xlsx: the input's columns around the question, then the answer.

    Each citation gets ``citation{n}_title/doc/page/first_line/last_line/quote``;
    ``citations`` holds the copy-ready strings, one per line.
    """
    n_cit = max((len((r.answer or {}).get("citations", [])) for r in result.rows), default=0)
    ours = [
        Column("direct", 18),
        Column("answer", 60),
        Column("abstained", 10),
        Column("answer_type", 12),
        Column("citations", 48),
        Column("notice", 30),
        Column("error", 30),
    ]
    for i in range(1, n_cit + 1):
        widths = {"title": 30, "doc": 26, "page": 6, "first_line": 10, "last_line": 10, "quote": 60}
        ours += [Column(f"citation{i}_{f}", widths[f]) for f in CITATION_FIELDS]
    taken = {"row", "question", *(c.key for c in ours)}
    before = [Column(_own_name(h, taken), 12) for h in result.columns.before]
    after = [Column(_own_name(h, taken), 12) for h in result.columns.after]
    columns = [Column("row", 6), *before, Column("question", 40), *after, *ours]
    rows = []
    for r in result.rows:
        a = r.answer or {}
        flat: dict[str, Any] = {"row": r.source.row, "question": r.source.question}
        for h, v in r.source.extra.items():
            flat[_own_name(h, taken)] = v
        cits = a.get("citations", [])
        flat.update(
            direct=a.get("direct"),
            answer=a.get("answer"),
            abstained=a.get("abstained"),
            answer_type=a.get("answer_type"),
            citations=numbered_citations(cits) or None,
            notice=a.get("notice"),
            error=r.error,
        )
        for i, c in enumerate(cits, start=1):
            for f in CITATION_FIELDS:
                flat[f"citation{i}_{f}"] = c.get(f)
        rows.append(flat)
    return columns, rows


def write_answers(path: Path, result: BatchResult) -> None:
    """Write the results as .csv, .xlsx or .jsonl (by extension), atomically."""
    columns, rows = answer_table(result)
    write_table(path, columns, rows, answer_records(result), sheet="answers")


def default_output(path: Path) -> Path:
    """``list.xlsx`` -> ``list.answers.xlsx`` beside it (a .txt list gets an .xlsx)."""
    ext = path.suffix.lower() if path.suffix.lower() in OUTPUT_EXTS else ".xlsx"
    return path.with_name(f"{path.stem}.answers{ext}")
