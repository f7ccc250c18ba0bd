"""Structure recovery: labelled values that PDF or Word layout split apart.

Slides and reports state many facts as structure, not sentences:

- ``項目：値`` lines (``○ 協  定：2011年6月発効``), possibly under a parent label
  (``●役 員`` then ``会 長 ：…``);
- a bare label with its value on the next line(s) (``●名 称`` / ``一般社団法人…``);
- a table flattened by PDF extraction into a line of column headers and a line of
  values (``北海道 東北 九州 …`` / ``40.2% 7.5% 7.5% …``): N headers and N values
  are N cells, so 東北's share is the second value, not "a 7.5% somewhere";
- rows of a table with a visible cell separator (``A | B | C``, as ``shiori add``
  writes Word tables, or Markdown tables) under a header row;
- rows of a table whose cells PDF extraction separates by spaces only, under a header
  row and often a unit caption (``（単位：億円）`` / ``事業名 令和6年度 令和7年度`` /
  ``事業A 120 150``): each figure becomes a cell keyed by its row and column, with the
  caption's unit, so ``150`` reads ``150億円``;
- a table printed one cell a line, also when it runs across a page break (page
  numbers and running headers between its rows are skipped).

Each recovered ``Cell`` keeps exact line provenance (1-based, inclusive, lines of
the stored document), so a citation quotes the label and the value together.
Everything here is a pure function of the document text.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from assistant.lazyre import lazy
from assistant.normalize import normalize

#: Bump when the cells recovered change (indexes store them).
STRUCTURE_VERSION = 3

#: Longest label (normalised characters) of a ``label：value`` line or a bare label.
MAX_LABEL = 20
#: A value line may sit this many (non-blank) lines under its bare label.
LABEL_REACH = 2

_BULLET = lazy(r"^[\s●○〇◆◇■□▪・•◎◯★☆※➢➤►▶→⇒\-–—*+#]*")
_KV = lazy(r"^(?P<label>[^:：。、]{1,40}?)\s*[:：]\s*(?P<value>\S.*)$")
_SENTENCE_END = lazy(r"[。！？]\s*$")
_VALUE_TOKEN = lazy(
    r"^[約計]?[\d,.]+(?:%|％|円|百万円|億円|万円|名|人|社|件|回|か国|年|月|日|倍|t|MW|kW)?$|^[◎○〇×△✓✔\-–—]$"
)
_URL_SCHEME = lazy(r"^(?:https?|ftp|mailto)$", re.I)
_SEPARATED = lazy(r"\s\|\s|^\||\|$")
#: A table's unit caption (``（単位：億円）``), anywhere in a line.
_UNIT_CAPTION = lazy(r"[(（]\s*単\s*位\s*[:：]\s*(?P<unit>[^()（）:：\s]{1,8})\s*[)）]")
#: Page furniture: ``- 1 -``, ``1/3``, ``p.2``, ``2ページ`` on a line of their own.
_PAGE_MARK = lazy(r"^\s*(?:[-–—]\s*\d{1,3}\s*[-–—]|\d{1,3}\s*/\s*\d{1,3}|[pP]\.?\s*\d{1,3}|\d{1,3}\s*ページ)\s*$")
_BARE_NUMBER = lazy(r"^\s*\d{1,3}\s*$")
#: A figure without a unit (a table whose unit is in its caption): ``612``, ``+93``, ``△7``, ``1,428``.
_PLAIN_NUMBER = lazy(r"^[+\-−△▲]?\d[\d,]*(?:\.\d+)?$")
#: An empty cell: a dash alone.
_EMPTY_CELL = lazy(r"^[-–—―－ー]+$")


@dataclass(frozen=True, slots=True)
class Cell:
    """A labelled value with its line provenance in one document."""

    doc: str
    kind: str  # "kv", "below", "table", "row"
    label: str  # normalised
    value: str  # normalised
    first_line: int  # cited span (label and value together)
    last_line: int
    value_line: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Cell:
        return cls(**{k: d[k] for k in cls.__slots__})  # type: ignore[attr-defined]

    @property
    def text(self) -> str:
        """What the cell says, for scoring: ``label：value``."""
        return f"{self.label}：{self.value}"


def _clean_label(raw: str) -> str:
    return _BULLET.sub("", normalize(raw)).strip(" ：:")


def _is_bare_label(norm: str) -> bool:
    """A short line that names something and states nothing (``●名 称``, ``○ 各極の費用分担：``)."""
    body = _BULLET.sub("", norm).strip()
    if not body or len(body) > MAX_LABEL or _SENTENCE_END.search(body):
        return False
    if body.endswith((":", "：")):
        return True
    return norm.lstrip().startswith(("●", "◆", "■", "○", "【")) and not re.search(r"\d", body)


def _tokens(raw: str) -> list[str]:
    """Whitespace-separated fields of an original line (PDF tables keep spaces between cells)."""
    return [t for t in re.split(r"[\s\u3000]+", raw.strip()) if t]


def _cells_of_row(raw: str) -> list[str]:
    return [c.strip() for c in raw.strip().strip("|").split("|")]


def recover_cells(doc: str, text: str) -> list[Cell]:
    """All cells of a document (``text`` as stored, lines split on ``\\n``)."""
    lines = text.split("\n")
    norm = [normalize(x) for x in lines]
    nonblank = [i for i, x in enumerate(norm) if x.strip()]
    nxt = {a: b for a, b in zip(nonblank, nonblank[1:], strict=False)}
    cells: list[Cell] = []
    parent: tuple[str, int] | None = None  # the bare label that kv lines below belong to
    for i in nonblank:
        line = norm[i]
        # Separated rows (Word / Markdown tables) are handled as tables below.
        if _SEPARATED.search(lines[i]):
            parent = None
            continue
        # A unit caption's colon (表1 予算額（単位：億円）) labels nothing: the table below uses it.
        m = _KV.match(_UNIT_CAPTION.sub("", line))
        label = _clean_label(m.group("label")).lstrip("(（") if m else ""
        if m and 0 < len(label) <= MAX_LABEL and not _SENTENCE_END.search(label) and not _URL_SCHEME.match(label):
            value = m.group("value").strip()
            if value.endswith((")", "）")) and value.count("(") + value.count("（") < value.count(")") + value.count("）"):
                value = value[:-1]
            first = i
            if parent and i - parent[1] <= 12:
                label = f"{parent[0]} {label}"
                first = parent[1]
            cells.append(Cell(doc, "kv", label, value, i + 1, i + 1, i + 1))
            if first != i:
                # The same cell quoted with its parent label, for questions naming the parent.
                cells.append(Cell(doc, "kv", label, value, first + 1, i + 1, i + 1))
            continue
        if _is_bare_label(line):
            parent = (_clean_label(line), i)
            cells.extend(_below(doc, lines, norm, nxt, i))
            continue
        parent = None  # a line that is neither a label nor a labelled value ends the group
    furniture = page_furniture(lines)
    spaced, used = _spaced_tables(doc, lines, norm, furniture)
    cells.extend(c for c in _header_tables(doc, lines, norm, nxt) if c.value_line - 1 not in used)
    cells.extend(_separated_tables(doc, lines))
    cells.extend(spaced)
    cells.extend(_column_tables(doc, norm, furniture))
    return cells


def page_furniture(lines: list[str]) -> set[int]:
    """Indices of lines that belong to the page, not the text: page numbers and the running header beside them.

    ``- 1 -`` and the like always are. A bare number is one when it ends the document or sits
    beside the running header: a line the document repeats that is also its title (one of its
    first lines) or that sits beside page numbers twice. Table cells repeat too (a region named
    in two tables), so repetition alone is not enough. Tables that run across a page break
    continue over these lines.
    """
    # NFKC, not ``normalize``: that drops a line holding a bare number, the page number sought.
    norm = [unicodedata.normalize("NFKC", x).strip() for x in lines]
    nonblank = [i for i, x in enumerate(norm) if x]
    counts = Counter(norm[i] for i in nonblank)
    head = {norm[i] for i in nonblank[:3]}
    marks = [pos for pos, i in enumerate(nonblank) if _PAGE_MARK.match(norm[i]) or _BARE_NUMBER.match(norm[i])]
    beside_marks = Counter(norm[nonblank[p]] for pos in marks for p in (pos - 1, pos + 1) if 0 <= p < len(nonblank))

    def running(j: int) -> bool:
        s = norm[j]
        return (counts[s] >= 2 and len(s) >= 4 and not _VALUE_TOKEN.match(s) and not _BARE_NUMBER.match(s)
                and (s in head or beside_marks[s] >= 2))

    out: set[int] = set()
    for pos in marks:
        i = nonblank[pos]
        near = [nonblank[p] for p in (pos - 1, pos + 1) if 0 <= p < len(nonblank)]
        if _PAGE_MARK.match(norm[i]) or pos == len(nonblank) - 1 or any(running(j) for j in near):
            out.add(i)
            out.update(j for j in near if running(j))
    return out


#: A space-separated table has at least this many columns (a row label and two values): two
#: fields a line are as often a heading and its date as a label and its value.
MIN_SPACED_COLUMNS = 3
#: Longest column name of a space-separated table's header row.
MAX_HEADER = 16
_CJK = lazy(r"[\u3040-\u30ff\u3400-\u9fff々〆]")
_PUNCT = lazy(r"[、。,]")
#: A column name that carries its unit: ``予算額(億円)``.
_HEADER_UNIT = lazy(r"^.+?[(（](?P<unit>億円|百万円|千円|万円|円|%|人|名|件|か所|トン|t|kW|MW|GW)[)）]$")


def _fields(raw: str) -> list[str]:
    """The normalised space-separated fields of an original line (normalising first would join them).

    ``normalize`` drops a bare number on a line of its own (a page number): a field is no line.
    """
    return [normalize(f) or unicodedata.normalize("NFKC", f) for f in _tokens(raw)]


def _spaced_header(raw: str) -> tuple[list[str], str] | None:
    """The column names of a header row (``事業名 令和6年度 令和7年度 増減``) and the unit caption it carries."""
    if len(_tokens(raw)) < MIN_SPACED_COLUMNS:
        return None  # most lines (Japanese prose has no spaces): decided before any normalising
    unit = ""
    m = _UNIT_CAPTION.search(raw)
    if m:
        unit, raw = normalize(m.group("unit")), raw[: m.start()] + " " + raw[m.end() :]
    names = _fields(raw)
    if len(names) < MIN_SPACED_COLUMNS or _SENTENCE_END.search(normalize(raw)):
        return None
    for f in names:
        if len(f) > MAX_HEADER or _VALUE_TOKEN.match(f) or _PLAIN_NUMBER.match(f) or _PUNCT.search(f):
            return None
    return names, unit


def _spaced_row(raw: str, k: int) -> list[str] | None:
    """The fields of a row of a ``k``-column table (one fewer when two cells are glued together)."""
    if len(_tokens(raw)) not in (k, k - 1):
        return None
    fields = _fields(raw)
    if len(fields) not in (k, k - 1) or _SENTENCE_END.search(normalize(raw)):
        return None
    if any(len(f) > MAX_CELL for f in fields) or _PLAIN_NUMBER.match(fields[0]):
        return None
    return fields


def _fits(column: list[str], value: str) -> bool:
    """Whether ``value`` has the shape of the column's other cells (a bare figure, or text with or without one)."""
    col = [x for x in column if not _EMPTY_CELL.match(x)]
    if _EMPTY_CELL.match(value) or not col:
        return True
    pure = [bool(_PLAIN_NUMBER.match(x)) for x in col]
    digit = [bool(_DIGIT.search(x)) for x in col]
    is_pure, has_digit = bool(_PLAIN_NUMBER.match(value)), bool(_DIGIT.search(value))
    if (all(pure) and not is_pure) or (not any(pure) and is_pure):
        return False
    return not ((all(digit) and not has_digit) or (not any(digit) and has_digit))


def _unglue(fields: list[str], full: list[list[str]]) -> list[str] | None:
    """A row one field short whose two cells the extraction glued together (``12,000既存住宅…``).

    Candidate splits are where a bare figure meets text, text meets a figure, or a dash (an
    empty cell) ends a field; the row is kept only when exactly one split gives every column
    the shape its other rows have.
    """
    k = len(fields) + 1
    found: list[list[str]] = []
    for t, tok in enumerate(fields):
        for s in range(1, len(tok)):
            left, right = tok[:s], tok[s:]
            if not ((_PLAIN_NUMBER.match(left) and _CJK.match(right))
                    or (_CJK.match(left[-1]) and right[0].isdigit())
                    or (_EMPTY_CELL.match(right) and not _EMPTY_CELL.search(left[-1]))):
                continue
            row = [*fields[:t], left, right, *fields[t + 1 :]]
            if all(_fits([f[c] for f in full], row[c]) for c in range(k)):
                found.append(row)
    return found[0] if len(found) == 1 else None


def _spaced_tables(doc: str, lines: list[str], norm: list[str], furniture: set[int]) -> tuple[list[Cell], set[int]]:
    """Tables whose cells are separated by spaces only: a header row of N names over rows of N fields.

    A table needs two full rows and a column with a figure in every row; prose (one field a
    line, or sentences) never qualifies. A unit caption on the header row or the line above
    it applies to the bare figures; a header row repeated after a page break continues the
    table. Each cell quotes its header row (and the caption that gave its unit) down to its
    row, and, below the first row, its row alone too. Returns the cells and the lines used.
    """
    order = [i for i, x in enumerate(norm) if x.strip() and i not in furniture]
    out: list[Cell] = []
    used: set[int] = set()
    p = 0
    while p < len(order):
        i = order[p]
        head = None if _SEPARATED.search(lines[i]) else _spaced_header(lines[i])
        if head is None:
            p += 1
            continue
        names, unit = head
        k = len(names)
        rows: list[tuple[int, int, list[str]]] = []  # (top line, row line, fields)
        top = i
        caption = _UNIT_CAPTION.search(norm[order[p - 1]]) if p > 0 and not unit else None
        if caption:
            unit, top = normalize(caption.group("unit")), order[p - 1]
        q = p + 1
        while q < len(order):
            j = order[q]
            for b in range(order[q - 1] + 1, j):
                if b in furniture and _fields(_UNIT_CAPTION.sub(" ", lines[b])) == names:
                    top = b  # the header repeated on the next page (a running line to the page)
            if _fields(_UNIT_CAPTION.sub(" ", lines[j])) == names:  # the header again, after a page break
                top = j
                q += 1
                continue
            fields = None if _SEPARATED.search(lines[j]) else _spaced_row(lines[j], k)
            if fields is None:
                break
            rows.append((top, j, fields))
            q += 1
        full = [f for _, _, f in rows if len(f) == k]
        numeric = [c for c in range(1, k) if all(_DIGIT.search(f[c]) or _EMPTY_CELL.match(f[c]) for f in full)]
        if len(full) < 2 or not numeric:
            p += 1
            continue
        units = [(m.group("unit") if (m := _HEADER_UNIT.match(n)) else unit) for n in names]
        first_row: dict[int, int] = {}
        for top_line, j, _ in rows:
            first_row.setdefault(top_line, j)
        for top_line, j, fields in rows:
            row = fields if len(fields) == k else _unglue(fields, full)
            if row is None:
                continue
            for c in range(1, k):
                value = row[c]
                if _EMPTY_CELL.match(value):
                    continue
                if units[c] and _PLAIN_NUMBER.match(value):
                    value += units[c]
                label = f"{row[0]} {names[c]}"
                out.append(Cell(doc, "row", label, value, top_line + 1, j + 1, j + 1))
                if j != first_row[top_line]:
                    # Rows between: the row alone also answers (and fits a passage without the header).
                    out.append(Cell(doc, "row", label, value, j + 1, j + 1, j + 1))
        used.update(range(i, order[q - 1] + 1))
        p = q
    return out, used


#: A table printed one cell a line: at most this many columns, and this long a cell.
MAX_COLUMNS = 8
MAX_CELL = 40
_DIGIT = lazy(r"\d")


def _column_tables(doc: str, norm: list[str], furniture: frozenset[int] | set[int] = frozenset()) -> list[Cell]:
    """Tables whose PDF text puts every cell on its own line: N header lines, then rows of N lines.

    The column count is the N for which every column keeps one shape down the rows (a figure
    in every row, or in none) and the header lines hold no figures. Each cell quotes its row.
    """
    out: list[Cell] = []
    i, n = 0, len(norm)
    while i < n:
        # A run of short lines without sentence ends (blank lines end it; page furniture is skipped).
        j = i
        while j < n and (j in furniture or (norm[j].strip() and len(norm[j]) <= MAX_CELL
                                           and not _SENTENCE_END.search(norm[j]))):
            j += 1
        run = [k for k in range(i, j) if k not in furniture]
        i = j + 1 if j > i else i + 1
        best = None
        for cols in range(3, MAX_COLUMNS + 1):
            if (len(run) - cols) // cols < 2:
                break
            for start in range(0, min(3, len(run) - cols * 3 + 1)):
                rows = (len(run) - start - cols) // cols
                head = run[start : start + cols]
                body = run[start + cols : start + cols + rows * cols]
                if any(_DIGIT.search(norm[k]) for k in head):
                    continue
                shapes = [[bool(_DIGIT.search(norm[body[r * cols + c]])) for r in range(rows)] for c in range(cols)]
                if not all(all(col) or not any(col) for col in shapes) or not any(all(col) for col in shapes):
                    continue
                if best is None or rows * cols > best[2] * best[1]:
                    best = (start, cols, rows)
        if best is None:
            continue
        start, cols, rows = best
        head = [norm[k].strip() for k in run[start : start + cols]]
        for r in range(rows):
            row = run[start + cols + r * cols : start + cols + (r + 1) * cols]
            key = norm[row[0]].strip()
            for c in range(1, cols):
                out.append(Cell(doc, "row", f"{key} {head[c]}", norm[row[c]].strip(), row[0] + 1, row[-1] + 1,
                                row[c] + 1))
    return out


def _below(doc: str, lines: list[str], norm: list[str], nxt: dict[int, int], i: int) -> list[Cell]:
    """A bare label's value: the next non-blank line(s) that are not labels themselves."""
    out: list[Cell] = []
    label = _clean_label(norm[i])
    j = nxt.get(i)
    steps = 0
    value = ""
    while j is not None and steps < LABEL_REACH:
        line = norm[j]
        if _is_bare_label(line) or _KV.match(line):
            break
        if len(_tokens(lines[j])) >= 3 and _header_values(lines, nxt, j):
            break  # a header line of a flattened table: handled by _header_tables
        value += line.strip()
        out.append(Cell(doc, "below", label, value, i + 1, j + 1, j + 1))
        steps += 1
        j = nxt.get(j)
        if _SENTENCE_END.search(line):
            break
    return out


def _header_values(lines: list[str], nxt: dict[int, int], i: int) -> list[str] | None:
    """The value fields of line ``i``'s table, when the next line has as many value-like fields."""
    j = nxt.get(i)
    if j is None:
        return None
    heads, vals = _tokens(lines[i]), _tokens(lines[j])
    if len(heads) < 2 or len(heads) != len(vals):
        return None
    norm_vals = [normalize(v) for v in vals]
    if sum(bool(_VALUE_TOKEN.match(v)) for v in norm_vals) < max(2, len(vals) - 1):
        return None
    if any(_VALUE_TOKEN.match(normalize(h)) for h in heads):
        return None  # two lines of values, not a header and its values
    return norm_vals


def _header_tables(doc: str, lines: list[str], norm: list[str], nxt: dict[int, int]) -> list[Cell]:
    """Flattened tables: a header line of N fields over a line of N values."""
    out: list[Cell] = []
    prev: dict[int, int] = {b: a for a, b in nxt.items()}
    for i in nxt:
        vals = _header_values(lines, nxt, i)
        if vals is None:
            continue
        j = nxt[i]
        heads = [normalize(h) for h in _tokens(lines[i])]
        title_i = prev.get(i)
        title = ""
        first = i
        if title_i is not None and _is_bare_label(norm[title_i]):
            title, first = _clean_label(norm[title_i]), title_i
        for h, v in zip(heads, vals, strict=True):
            label = f"{title} {h}".strip()
            out.append(Cell(doc, "table", label, v, first + 1, j + 1, j + 1))
    return out


def _separated_tables(doc: str, lines: list[str]) -> list[Cell]:
    """Rows with a visible separator (``A | B | C``) under their header row."""
    out: list[Cell] = []
    header: list[str] | None = None
    header_line = -1
    for i, raw in enumerate(lines):
        if not _SEPARATED.search(raw):
            header = None
            continue
        fields = [normalize(c) for c in _cells_of_row(raw)]
        if all(re.fullmatch(r":?-{2,}:?", f) or not f for f in fields):
            continue  # a Markdown rule line
        if header is None:
            header, header_line = fields, i
            continue
        key = fields[0]
        for j, value in enumerate(fields[1:], start=1):
            if not value:
                continue
            col = header[j] if j < len(header) else ""
            out.append(Cell(doc, "row", f"{key} {col}".strip(), value, header_line + 1, i + 1, i + 1))
            if i - header_line > 1:
                # The row alone also answers (when the question names the row, not the column).
                out.append(Cell(doc, "row", f"{key} {col}".strip(), value, i + 1, i + 1, i + 1))
    return out
