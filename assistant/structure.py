"""Structure recovery: labelled values that PDF or Word layout split apart.

Slides and reports state many facts as structure, not sentences:

- ``項目：値`` lines (``○ 協  定：2007年10月発効``), possibly under a parent label
  (``●役 員`` then ``会 長 ：…``);
- a bare label with its value on the next line(s) (``●名 称`` / ``一般社団法人…``);
- a table flattened by PDF extraction into a line of column headers and a line of
  values (``欧州 日本 米国 …`` / ``45.5% 9.1% 9.1% …``): N headers and N values
  are N cells, so Japan's share is the second value, not "a 9.1% somewhere";
- rows of a table with a visible cell separator (``A | B | C``, as ``shiori add``
  writes Word tables, or Markdown tables) under a header row.

Each recovered ``Cell`` keeps exact line provenance (1-based, inclusive, lines of
the stored document), so a citation quotes the label and the value together.
Everything here is a pure function of the document text.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from assistant.lazyre import lazy
from assistant.normalize import normalize

#: Bump when the cells recovered change (indexes store them).
STRUCTURE_VERSION = 2

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
        m = _KV.match(line)
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
    cells.extend(_header_tables(doc, lines, norm, nxt))
    cells.extend(_separated_tables(doc, lines))
    cells.extend(_column_tables(doc, norm))
    return cells


#: A table printed one cell a line: at most this many columns, and this long a cell.
MAX_COLUMNS = 8
MAX_CELL = 40
_DIGIT = lazy(r"\d")


def _column_tables(doc: str, norm: list[str]) -> list[Cell]:
    """Tables whose PDF text puts every cell on its own line: N header lines, then rows of N lines.

    The column count is the N for which every column keeps one shape down the rows (a figure
    in every row, or in none) and the header lines hold no figures. Each cell quotes its row.
    """
    out: list[Cell] = []
    i, n = 0, len(norm)
    while i < n:
        # A run of short lines without sentence ends (blank lines end it).
        j = i
        while j < n and norm[j].strip() and len(norm[j]) <= MAX_CELL and not _SENTENCE_END.search(norm[j]):
            j += 1
        run = list(range(i, j))
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
