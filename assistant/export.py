"""Result files for the staff workflows: CSV, Excel, JSON Lines and Markdown, written atomically.

Every writer goes through ``atomic_path``: the file is written under a temporary
name in the destination directory and moved into place with ``os.replace``, so a
crash or an interrupted run leaves either the old file or the complete new one,
never half a file. The formats come from their libraries (``csv``, ``json``,
``openpyxl``, imported only when an ``.xlsx`` is written); Markdown is text.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import UsageError
from assistant.lazyre import rx
from assistant.messages import CITE_MARK, format_citation

#: Characters the XML inside an .xlsx cannot hold (openpyxl refuses them); shown as U+FFFD.
_XLSX_ILLEGAL = rx(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Excel's limit on the text of one cell.
XLSX_CELL_MAX = 32_767
#: Header fill and the colours of marked values (e.g. verdicts) in the Excel sheet.
HEADER_FILL = "DDE3F0"


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a result table: its key (the header), and its width in the Excel sheet."""

    key: str
    width: float = 14.0


# ------------------------------------------------------------------- atomic


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed.

    The temporary file is created with the usual permissions (0666 minus the umask),
    so the result looks like any file the user writes.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {path}: the directory {path.parent} does not exist")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb") as f:  # the data reach the disk before the name does
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def check_output(src: Path, out: Path, allowed: Sequence[str]) -> None:
    """Refuse, before any work, an output that cannot be written or would overwrite the input."""
    if out.suffix.lower() not in allowed:
        raise UsageError(f"cannot write {out.name}: the output must end in one of {sorted(allowed)}")
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: the directory {out.parent} does not exist")
    if out.exists() and src.exists() and out.resolve() == src.resolve():
        raise UsageError(f"the output {out} is the input file; choose another --out")


# ------------------------------------------------------------------- tables


def cell_text(value: Any) -> str:
    """A value as CSV text: ``None`` is empty, booleans are ``true``/``false``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv(path: Path, columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]) -> None:
    """UTF-8 with a byte-order mark (so Excel reads the Japanese correctly), one header row."""
    keys = [c.key for c in columns]
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(keys)
        for r in rows:
            w.writerow([cell_text(r.get(k)) for k in keys])


def write_jsonl(path: Path, records: Sequence[Mapping[str, Any]]) -> None:
    """One JSON object per line (UTF-8, not ASCII-escaped)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def xlsx_value(value: Any) -> Any:
    """A value openpyxl can store as itself: text without XML-illegal characters, within the cell limit."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = _XLSX_ILLEGAL.sub("\ufffd", str(value))
    return text if len(text) <= XLSX_CELL_MAX else text[: XLSX_CELL_MAX - 1] + "…"


def write_xlsx(
    path: Path,
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    sheet: str = "results",
    fills: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """One sheet: a bold, frozen, filterable header; set column widths; wrapped text, top-aligned.

    ``fills`` colours a cell by its value: ``{column key: {value: RGB hex}}`` (e.g. verdicts).
    Text is always stored as text (a question starting with ``=`` is not a formula).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    keys = [c.key for c in columns]
    ws.append(keys)
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor=HEADER_FILL)
    wrap = Alignment(wrap_text=True, vertical="top")
    for cell in ws[1]:
        cell.font, cell.fill, cell.alignment = head_font, head_fill, wrap
    fill_cache: dict[str, PatternFill] = {}
    for i, r in enumerate(rows, start=2):
        for j, key in enumerate(keys, start=1):
            value = xlsx_value(r.get(key))
            cell = ws.cell(row=i, column=j, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            cell.alignment = wrap
            color = (fills or {}).get(key, {}).get(value) if isinstance(value, str) else None
            if color:
                cell.fill = fill_cache.setdefault(color, PatternFill("solid", fgColor=color))
    for j, c in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(j)].width = c.width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(keys))}{max(1, len(rows) + 1)}"
    with atomic_path(path) as tmp:
        wb.save(tmp)


def write_table(
    path: Path,
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    records: Sequence[Mapping[str, Any]],
    sheet: str = "results",
    fills: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Write ``rows`` (flat, for .csv/.xlsx) or ``records`` (nested, for .jsonl) by ``path``'s extension."""
    writers: dict[str, Callable[[], None]] = {
        ".csv": lambda: write_csv(path, columns, rows),
        ".xlsx": lambda: write_xlsx(path, columns, rows, sheet=sheet, fills=fills),
        ".jsonl": lambda: write_jsonl(path, records),
    }
    ext = Path(path).suffix.lower()
    if ext not in writers:
        raise UsageError(f"cannot write {path}: the output must end in one of {sorted(writers)}")
    writers[ext]()


# ----------------------------------------------------------------- citations


def citation_text(c: Mapping[str, Any]) -> str:
    """The copy-ready citation of a citation dict (``Citation.to_json()``): ``（出典：…、doc L1–L2）``."""
    return format_citation(c["title"], c["doc"], c["first_line"], c["last_line"])


def numbered_citations(citations: Sequence[Mapping[str, Any]]) -> str:
    """``【1】（出典：…）`` lines, one per citation."""
    return "\n".join(CITE_MARK.format(n=c["n"]) + citation_text(c) for c in citations)


# ------------------------------------------------------------------ markdown

_MD_INLINE = rx(r"([\\`*\[\]<>|~])")
#: ``_`` only makes emphasis at a word edge: ``000_e93.txt`` stays as it is (copy-ready).
_MD_UNDERSCORE = rx(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_MD_LINE_START = rx(r"^(\s*)([#>+\-=]|\d+[.)])")


def _escape_mark(mark: str) -> str:
    """``#`` -> ``\\#``; ``12.`` -> ``12\\.`` (CommonMark escapes the punctuation only)."""
    return mark[:-1] + "\\" + mark[-1]


def md_escape(text: str) -> str:
    """Text shown literally in rendered Markdown, still readable raw.

    Only what would turn into markup is backslash-escaped: emphasis, code, links,
    HTML, table pipes, and list/heading/quote marks at the start of a line.
    """
    out = []
    for line in str(text).split("\n"):
        line = _MD_UNDERSCORE.sub(r"\\_", _MD_INLINE.sub(r"\\\1", line))
        out.append(_MD_LINE_START.sub(lambda m: m.group(1) + _escape_mark(m.group(2)), line))
    return "\n".join(out)


def md_cell(text: Any) -> str:
    """A Markdown table cell: escaped (line-start marks mean nothing there), line breaks as ``<br>``."""
    out = _MD_INLINE.sub(r"\\\1", cell_text(text))
    return _MD_UNDERSCORE.sub(r"\\_", out).replace("\n", "<br>")


def md_quote(text: str) -> str:
    """A block quote of (multi-line) source text."""
    return "\n".join("> " + md_escape(line) if line.strip() else ">" for line in text.split("\n"))


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(md_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md_cell(x) for x in r) + " |" for r in rows]
    return "\n".join(lines)


def answer_markdown(answer: Mapping[str, Any]) -> str:
    """An answer (``Answer.to_json()``) and its evidence as a Markdown file.

    The question, the answer with its 【n】 markers, then each source: its
    copy-ready citation and the exact quoted lines. An abstention lists the
    nearest passages instead, marked as not being the answer's source.
    """
    parts = ["# 質問", "", md_escape(answer["question"]), "", "## 回答", ""]
    direct = answer.get("direct")
    if direct and not answer.get("abstained"):
        parts += [f"**{md_escape(direct)}**", ""]
    parts += [md_escape(answer["answer"]), ""]
    if answer.get("notice"):
        parts += [f"*{md_escape(answer['notice'])}*", ""]
    cits = answer.get("citations") or []
    title = "出典"
    if answer.get("abstained"):
        cits, title = answer.get("related") or [], "関連する箇所（回答の根拠ではありません）"
    if cits:
        parts += [f"## {title}", ""]
        for c in cits:
            mark = CITE_MARK.format(n=c["n"]) if not answer.get("abstained") else f"関連{c['n']}"
            page = f"（p.{c['page']}）" if c.get("page") else ""
            parts += [f"{mark}{md_escape(citation_text(c))}{page}", "", md_quote(c["quote"]), ""]
    return "\n".join(parts).rstrip("\n") + "\n"
