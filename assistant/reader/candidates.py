"""Answer candidates: the sentences and recovered cells of the top passages.

A candidate is a span of original text (document offsets, so its quote is exact)
with what scoring needs: its normalised text, BM25 tokens, typed spans, its own
and its neighbours' similarity to the question. Sentences come from the index's
sentence table; cells (``label：value`` lines, flattened table cells, separated
table rows) from the index's annotations, so a table value is a candidate with
its header, not a number floating in a row of numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from assistant.chunking import Chunk
from assistant.normalize import starts_item
from assistant.spans import TypedSpan
from assistant.structure import Cell

if TYPE_CHECKING:
    from assistant.pipeline import Hit
    from assistant.store import LoadedIndex


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence or a cell of a retrieved passage."""

    kind: str  # "sentence" or "cell"
    hit_rank: int
    row: int
    chunk: Chunk
    #: Document offsets of the quote (original text).
    start: int
    end: int
    #: Normalised text that is scored (a cell: ``label：value``).
    text: str
    sent_index: int  # -1 for a cell
    pos: int  # position of the sentence in its passage (a cell: of its value's sentence)
    dense: float
    context: float  # best similarity of the neighbouring sentences
    passage_score: float
    passage_dense: float
    tokens: frozenset[str]
    spans: tuple[TypedSpan, ...]
    cell: Cell | None = None
    #: Tokens of the two sentences before it in its passage (its label or lead-in, on slides).
    before: frozenset[str] = frozenset()
    #: The sentence whose vector stands for it (its own; a cell's: the covering sentence nearest the
    #: question), -1 for none: what the learned similarity (``features.adapted_scores``) reads.
    vec: int = -1

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.chunk.doc, self.start, self.end)

    def overlaps(self, other: Candidate) -> bool:
        """Whether the two quote a common stretch of one document."""
        return self.chunk.doc == other.chunk.doc and self.start < other.end and other.start < self.end

    @property
    def is_item(self) -> bool:
        return self.kind == "sentence" and starts_item(self.text)

    @property
    def source(self) -> str:
        """The quote as the document writes it (original text, not normalised)."""
        return self.chunk.text[self.start - self.chunk.start : self.end - self.chunk.start]

    @property
    def label(self) -> str:
        return self.cell.label if self.cell else ""

    @property
    def value(self) -> str:
        return self.cell.value if self.cell else self.text


def _line_offsets(chunk: Chunk, first: int, last: int) -> tuple[int, int] | None:
    """Document offsets of lines ``first..last`` inside ``chunk`` (stripped of edge spaces)."""
    lines = chunk.text.split("\n")
    a, b = first - chunk.first_line, last - chunk.first_line
    if a < 0 or b >= len(lines):
        return None
    start = sum(len(x) + 1 for x in lines[:a])
    end = start + sum(len(x) + 1 for x in lines[a : b + 1]) - 1
    body = chunk.text[start:end]
    lead = len(body) - len(body.lstrip())
    trail = len(body) - len(body.rstrip())
    if lead + trail >= len(body):
        return None
    return chunk.start + start + lead, chunk.start + end - trail


def line_of(chunk: Chunk, offset: int) -> int:
    """1-based document line of a document offset inside ``chunk``."""
    return chunk.first_line + chunk.text.count("\n", 0, max(0, offset - chunk.start))


def sentence_candidates(index: LoadedIndex, hit: Hit, qvec: np.ndarray | None) -> list[Candidate]:
    """Every sentence of one retrieved passage."""
    sents = index.sentences
    idxs = list(sents.of_row(hit.row))
    if not idxs:
        return []
    if qvec is not None:
        dense = np.asarray(sents.vectors[idxs[0] : idxs[-1] + 1] @ qvec, dtype=np.float32)
    else:
        dense = np.zeros(len(idxs), np.float32)
    out = []
    pdense = float(hit.dense_score) if hit.dense_score is not None else float(dense.max(initial=0.0))
    tokens = [sents.tokens[si] for si in idxs]
    for j, si in enumerate(idxs):
        text = sents.texts[si]
        nb = [float(dense[x]) for x in (j - 1, j + 1) if 0 <= x < len(idxs)]
        start, end = (int(x) for x in sents.spans[si])
        before = frozenset().union(*tokens[max(0, j - 2) : j])
        out.append(Candidate(
            "sentence", hit.rank, hit.row, hit.chunk, start, end, text, si, j, float(dense[j]),
            max(nb) if nb else float(dense[j]), hit.score, pdense, tokens[j],
            tuple(index.annotations.spans(si, text)), None, before, si,
        ))
    return out


def cell_candidates(index: LoadedIndex, hit: Hit, sentences: Sequence[Candidate]) -> list[Candidate]:
    """The recovered cells that lie inside one retrieved passage (tokens and spans from the index)."""
    out = []
    chunk = hit.chunk
    ann = index.annotations
    for ci in ann.cells_of_row(hit.row):
        cell = ann.cells[ci]
        offs = _line_offsets(chunk, cell.first_line, cell.last_line)
        if offs is None:
            continue
        start, end = offs
        text = cell.text
        # The cell's similarity: the best of the sentences on its lines.
        covering = [s for s in sentences if s.start < end and start < s.end]
        value_sent = [s for s in covering if line_of(chunk, s.start) <= cell.value_line <= line_of(chunk, s.end - 1)]
        nearest = max(covering, key=lambda s: s.dense, default=None)
        dense = nearest.dense if nearest is not None else 0.0
        ctx = max((s.context for s in covering), default=0.0)
        pos = value_sent[0].pos if value_sent else (covering[0].pos if covering else 0)
        before = frozenset().union(*(s.before for s in covering[:1]))
        shift = len(cell.label) + 1
        spans = tuple(s.shifted(shift) for s in ann.cell_spans[ci])
        out.append(Candidate(
            "cell", hit.rank, hit.row, chunk, start, end, text, -1, pos, dense, ctx, hit.score,
            sentences[0].passage_dense if sentences else 0.0, ann.cell_tokens[ci], spans, cell, before,
            nearest.vec if nearest is not None else -1,
        ))
    return out


def dedupe(cands: Sequence[Candidate]) -> list[Candidate]:
    """Drop repeats: overlapping passages hold the same sentence; slides repeat lines word for word."""
    seen: set[object] = set()
    out = []
    for c in cands:
        # Cells of one table share their quote (header and value lines): a cell is its label too.
        keys = (c.kind, *c.key, c.label), (c.kind, c.text)
        if any(k in seen for k in keys):
            continue
        seen.update(keys)
        out.append(c)
    # A passage that starts (or ends) inside a sentence holds a fragment of it (れらに加え、… after a
    # wrapped line); the overlapping passage holds the whole sentence, which is what is quoted.
    whole: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for c in out:
        if c.kind == "sentence":
            whole.setdefault((c.chunk.doc, c.start), []).append((c.start, c.end))
            whole.setdefault((c.chunk.doc, c.end), []).append((c.start, c.end))

    def fragment(c: Candidate) -> bool:
        return c.kind == "sentence" and any(
            a <= c.start and c.end <= b and (a, b) != (c.start, c.end)
            for key in ((c.chunk.doc, c.start), (c.chunk.doc, c.end)) for a, b in whole.get(key, ()))

    return [c for c in out if not fragment(c)]


#: A sentence holding the values of this many rows of one recovered table is the table, not a sentence.
MIN_TABLE_ROWS = 2


def table_rows_spanned(sentence: Candidate, cells: Sequence[Candidate]) -> int:
    """How many rows of a recovered table have a value inside ``sentence``'s lines.

    A table row's cells all end on the row's last line (a separated or space-separated row is
    one line; a row printed one cell a line ends at its last cell), so distinct last lines are
    distinct rows.
    """
    first, last = line_of(sentence.chunk, sentence.start), line_of(sentence.chunk, sentence.end - 1)
    return len({c.cell.last_line for c in cells
                if c.cell is not None and c.cell.kind == "row" and first <= c.cell.value_line <= last})


def gather(index: LoadedIndex, hits: Sequence[Hit], qvec: np.ndarray | None, passages: int,
           whole_tables: bool = False) -> list[Candidate]:
    """Sentences and cells of the top ``passages`` hits, in rank order, without repeats.

    ``whole_tables`` keeps a sentence that runs over several rows of a recovered table beside
    the rows' cells (the drafting check: a claim may restate several rows at once).
    """
    out: list[Candidate] = []
    for hit in hits[:passages]:
        sents = sentence_candidates(index, hit, qvec)
        cells = cell_candidates(index, hit, sents)
        # A flattened table's line of values means nothing without its headers: its cells replace it.
        value_lines = {c.cell.value_line for c in cells if c.cell is not None and c.cell.kind == "table"}
        if value_lines:
            sents = [s for s in sents if line_of(s.chunk, s.start) not in value_lines]
        # Table rows have no sentence ends, so the sentence splitter reads several rows (often the
        # whole table) as one "sentence" holding every row's values: its row cells replace it.
        if not whole_tables:
            sents = [s for s in sents if table_rows_spanned(s, cells) < MIN_TABLE_ROWS]
        out.extend(sents)
        out.extend(cells)
    return dedupe(out)


def following(index: LoadedIndex, cand: Candidate, limit: int = 8) -> list[Candidate]:
    """The sentences after ``cand`` in document order, across passage boundaries (no scores)."""
    sents = index.sentences
    out: list[Candidate] = []
    last_end = cand.end
    row = cand.row
    while 0 <= row < index.size and len(out) < limit:
        chunk = index.chunks[row]
        if chunk.doc != cand.chunk.doc:
            break
        for pos, si in enumerate(sents.of_row(row)):
            start, end = (int(x) for x in sents.spans[si])
            if start < last_end:
                continue
            text = sents.texts[si]
            out.append(Candidate("sentence", cand.hit_rank, row, chunk, start, end, text, si, pos, 0.0, 0.0, 0.0, 0.0,
                                 sents.tokens[si], tuple(index.annotations.spans(si, text))))
            last_end = end
            if len(out) >= limit:
                break
        row += 1
    return out


def preceding(index: LoadedIndex, cand: Candidate, limit: int = 8, across: bool = False) -> list[Candidate]:
    """The sentences before ``cand`` in its passage, nearest first (no scores); with ``across``, in its
    document, across passage boundaries (as ``following`` reads)."""
    sents = index.sentences
    out: list[Candidate] = []
    first_start = cand.start
    row = cand.row
    while 0 <= row < index.size and len(out) < limit:
        chunk = index.chunks[row] if row != cand.row else cand.chunk
        if chunk.doc != cand.chunk.doc:
            break
        for pos, si in reversed(list(enumerate(sents.of_row(row)))):
            start, end = (int(x) for x in sents.spans[si])
            if end > first_start:
                continue
            text = sents.texts[si]
            out.append(Candidate("sentence", cand.hit_rank, row, chunk, start, end, text, si, pos, 0.0, 0.0,
                                 0.0, 0.0, sents.tokens[si], tuple(index.annotations.spans(si, text))))
            first_start = start
            if len(out) >= limit:
                break
        if not across:
            break
        row -= 1
    return out
