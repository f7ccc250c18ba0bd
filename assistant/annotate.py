"""Index-time annotations: typed spans of every sentence and recovered table cells.

Computed once when the index is built, so ``ask`` never loads a statistical NER
model (cold start is benchmarked) and never re-parses documents. Stored beside
the sentence columns as plain files:

    typed_spans.npy, typed_spans_offsets.npy   one JSON array per sentence (memory-mapped)
    cells.jsonl                                one recovered cell per line
    cell_rows.npy                              (row, cell) pairs sorted by passage row
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.chunking import Chunk
from assistant.corpus import Document
from assistant.errors import IndexCorruptError, UsageError
from assistant.spans import SPANS_VERSION, TypedSpan, annotate_rules
from assistant.structure import STRUCTURE_VERSION, Cell, recover_cells

logger = logging.getLogger(__name__)

Annotator = Callable[[Sequence[str]], list[list[TypedSpan]]]

#: Recorded in the index manifest: a change to the span rules or to structure recovery makes it stale.
ANNOTATION_VERSION = f"spans{SPANS_VERSION}.cells{STRUCTURE_VERSION}.files2"


def _ginza(texts: Sequence[str]) -> list[list[TypedSpan]]:
    from assistant.ner import annotate_ginza

    return annotate_ginza(texts)


#: Index-time span annotators (``Settings.ner``): rules + MeCab proper nouns, or those plus ja-ginza's NER.
ANNOTATORS: dict[str, Annotator] = {"rules": annotate_rules, "ginza": _ginza}


def get_annotator(name: str) -> Annotator:
    try:
        return ANNOTATORS[name]
    except KeyError:
        raise UsageError(f"unknown ner {name!r}; choose one of {sorted(ANNOTATORS)}") from None


def _encode(spans: Sequence[TypedSpan]) -> str:
    return json.dumps([[s.kind, s.start, s.end, s.value, s.qualifier] for s in spans], ensure_ascii=False)


def recover_all_cells(docs: Sequence[Document], chunks: Sequence[Chunk]) -> tuple[list[Cell], np.ndarray]:
    """Cells of every document and the (row, cell) pairs of the passages that hold each whole cell."""
    cells: list[Cell] = []
    for d in docs:
        cells.extend(recover_cells(d.id, d.text))
    by_doc: dict[str, list[int]] = {}
    for row, c in enumerate(chunks):
        by_doc.setdefault(c.doc, []).append(row)
    pairs: list[tuple[int, int]] = []
    for ci, cell in enumerate(cells):
        for row in by_doc.get(cell.doc, ()):
            ch = chunks[row]
            if ch.first_line <= cell.first_line and cell.last_line <= ch.last_line:
                pairs.append((row, ci))
    arr = np.asarray(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    return cells, arr


def save(directory: Path, sentence_spans: Sequence[Sequence[TypedSpan]], cells: Sequence[Cell],
         cell_rows: np.ndarray, tokenize: Callable[[str], list[str]], names: bool = True) -> None:
    """Write the annotation files into an index directory being built.

    Each cell is stored with its BM25 tokens and the typed spans of its value, so
    answering never runs the tokenizer or the span rules on a cell.
    """
    from assistant.spans import extract_spans
    from assistant.store import TextColumn

    TextColumn.save(directory, "typed_spans", [_encode(s) for s in sentence_spans])
    with open(directory / "cells.jsonl", "w", encoding="utf-8") as f:
        for c in cells:
            rec = {**c.to_json(), "tokens": sorted(set(tokenize(c.text))),
                   "spans": json.loads(_encode(extract_spans(c.value, use_mecab=names)))}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    np.save(directory / "cell_rows.npy", np.asarray(cell_rows, dtype=np.int64).reshape(-1, 2), allow_pickle=False)


@dataclass
class Annotations:
    """The loaded annotations of an index: typed spans by sentence, cells by passage row."""

    spans_column: object  # TextColumn of JSON arrays
    cells: list[Cell]
    cell_rows: np.ndarray  # (n, 2) int64 sorted by row
    #: Per cell: its BM25 tokens and the typed spans of its value (offsets in the value).
    cell_tokens: list[frozenset[str]] = field(default_factory=list)
    cell_spans: list[list[TypedSpan]] = field(default_factory=list)
    _cache: dict[int, list[TypedSpan]] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path, n_sentences: int, n_rows: int) -> Annotations:
        from assistant.store import TextColumn

        try:
            column = TextColumn.load(directory, "typed_spans")
            records = [json.loads(line) for line in
                       (directory / "cells.jsonl").read_text(encoding="utf-8").splitlines() if line]
            cells = [Cell.from_json(r) for r in records]
            cell_tokens = [frozenset(r["tokens"]) for r in records]
            cell_spans = [[TypedSpan(k, a, b, c.value[a:b], v, q) for k, a, b, v, q in r["spans"]]
                          for r, c in zip(records, cells, strict=True)]
            cell_rows = np.load(directory / "cell_rows.npy", allow_pickle=False)
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise IndexCorruptError(f"annotations in {directory} are unreadable: {e}",
                                    hint="run `shiori index --rebuild`") from e
        if len(column) != n_sentences or (len(cell_rows) and (int(cell_rows[:, 0].max()) >= n_rows
                                                              or int(cell_rows[:, 1].max()) >= len(cells))):
            raise IndexCorruptError(f"annotations in {directory} do not match the index",
                                    hint="run `shiori index --rebuild`")
        return cls(column, cells, cell_rows, cell_tokens, cell_spans)

    def spans(self, si: int, text: str) -> list[TypedSpan]:
        """Typed spans of sentence ``si`` (whose normalised text is ``text``)."""
        hit = self._cache.get(si)
        if hit is None:
            raw = json.loads(self.spans_column[si])  # type: ignore[index]
            hit = [TypedSpan(k, a, b, text[a:b], v, q) for k, a, b, v, q in raw]
            self._cache[si] = hit
        return hit

    def cells_of_row(self, row: int) -> list[int]:
        """Indices of the cells that lie wholly inside passage ``row``."""
        if not len(self.cell_rows):
            return []
        lo, hi = np.searchsorted(self.cell_rows[:, 0], [row, row + 1])
        return [int(c) for c in self.cell_rows[lo:hi, 1]]
