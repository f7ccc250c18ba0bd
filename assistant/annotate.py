"""Index-time annotations: typed spans of every sentence and recovered table cells.

Computed once when the index is built, so ``ask`` never loads a statistical NER
model (cold start is benchmarked) and never re-parses documents. Stored beside
the sentence columns as plain files:

    typed_spans.npy, typed_spans_offsets.npy   one JSON array per sentence (memory-mapped)
    cells.jsonl, cells_offsets.npy             one recovered cell per line, decoded when read
    cell_rows.npy                              (row, cell) pairs sorted by passage row

Both are per document, so new documents append to them (``writer.update_index``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.chunking import Chunk
from assistant.corpus import Document
from assistant.errors import IndexCorruptError, UsageError
from assistant.spans import SPANS_VERSION, TypedSpan, annotate_rules
from assistant.structure import STRUCTURE_VERSION, Cell, recover_cells

logger = logging.getLogger(__name__)

Annotator = Callable[[Sequence[str]], list[list[TypedSpan]]]

#: Recorded in the index manifest: a change to the span rules, to structure recovery or to the
#: English term table makes it stale. ``terms`` is ``crosslingual.TABLE_VERSION``, written out
#: because importing that module costs a cold ``ask`` its regular expressions (a test keeps them equal).
ANNOTATION_VERSION = f"spans{SPANS_VERSION}.cells{STRUCTURE_VERSION}.files3.terms2"


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


def encode_spans(spans: Sequence[TypedSpan]) -> str:
    """A sentence's typed spans as the JSON array stored in ``typed_spans.npy``."""
    return json.dumps([[s.kind, s.start, s.end, s.value, s.qualifier] for s in spans], ensure_ascii=False)


_encode = encode_spans


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


def cell_record(cell: Cell, tokenize: Callable[[str], list[str]], names: bool = True) -> dict[str, Any]:
    """A cell as stored in ``cells.jsonl``: with its BM25 tokens and the typed spans of its value,
    so answering never runs the tokenizer or the span rules on a cell."""
    from assistant.spans import extract_spans

    spans = extract_spans(cell.value, use_mecab=names)
    # A table's change column (増減) signs its figures: -7億円 is a decrease, and the answer
    # quotes the sign with the figure (the span rules read the figure alone).
    if cell.value and cell.value[0] in "+-−△▲":
        spans = [replace(s, start=0, text=cell.value[: s.end]) if s.start == 1 else s for s in spans]
    return {**cell.to_json(), "tokens": sorted(set(tokenize(cell.text))),
            "spans": json.loads(encode_spans(spans))}


def save(directory: Path, sentence_spans: Sequence[Sequence[TypedSpan]], cells: Sequence[Cell],
         cell_rows: np.ndarray, tokenize: Callable[[str], list[str]], names: bool = True) -> None:
    """Write the annotation files into an index directory (tests; the index writer streams them)."""
    from assistant.store import TextColumn

    TextColumn.save(directory, "typed_spans", [encode_spans(s) for s in sentence_spans])
    lines = [json.dumps(cell_record(c, tokenize, names), ensure_ascii=False).encode("utf-8") + b"\n"
             for c in cells]
    (directory / "cells.jsonl").write_bytes(b"".join(lines))
    offsets = np.concatenate(([0], np.cumsum([len(x) for x in lines], dtype=np.int64))).astype(np.int64)
    np.save(directory / "cells_offsets.npy", offsets, allow_pickle=False)
    np.save(directory / "cell_rows.npy", np.asarray(cell_rows, dtype=np.int64).reshape(-1, 2), allow_pickle=False)


class _Field(Sequence):  # type: ignore[type-arg]
    """One field of the lazily decoded cell records, as a read-only sequence."""

    def __init__(self, records: Any, pick: Callable[[Any], Any]) -> None:
        self._records = records
        self._pick = pick

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self._pick(self._records[i])


def _parse_cell(r: dict[str, Any]) -> tuple[Cell, frozenset[str], list[TypedSpan]]:
    cell = Cell.from_json(r)
    spans = [TypedSpan(k, a, b, cell.value[a:b], v, q) for k, a, b, v, q in r["spans"]]
    return cell, frozenset(r["tokens"]), spans


@dataclass
class Annotations:
    """The loaded annotations of an index: typed spans by sentence, cells by passage row."""

    spans_column: object  # TextColumn of JSON arrays
    cells: Sequence[Cell]
    cell_rows: np.ndarray  # (n, 2) int64 sorted by row
    #: Per cell: its BM25 tokens and the typed spans of its value (offsets in the value).
    cell_tokens: Sequence[frozenset[str]] = field(default_factory=list)
    cell_spans: Sequence[list[TypedSpan]] = field(default_factory=list)
    #: The decoded ``cells.jsonl`` records behind the three cell views (``store.LineTable``).
    cell_records: Any = None
    _cache: dict[int, list[TypedSpan]] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path, n_sentences: int, n_rows: int, n_cells: int | None = None,
             n_pairs: int | None = None) -> Annotations:
        """The annotations of an index; ``n_cells``/``n_pairs`` are the manifest's counts
        (rows past them belong to an unfinished update). Cells are decoded when read."""
        from assistant import npyfile
        from assistant.store import LineTable, TextColumn

        try:
            column = TextColumn.load(directory, "typed_spans", n_sentences)
            records = LineTable.open(directory / "cells.jsonl", directory / "cells_offsets.npy", n_cells,
                                     _parse_cell, "cell")
            cell_rows = npyfile.load_rows(directory / "cell_rows.npy", n_pairs, mmap=False).reshape(-1, 2)
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise IndexCorruptError(f"annotations in {directory} are unreadable: {e}",
                                    hint="run `shiori index --rebuild`") from e
        if len(column) != n_sentences or (len(cell_rows) and (int(cell_rows[:, 0].max()) >= n_rows
                                                              or int(cell_rows[:, 1].max()) >= len(records))):
            raise IndexCorruptError(f"annotations in {directory} do not match the index",
                                    hint="run `shiori index --rebuild`")
        return cls(column, _Field(records, lambda r: r[0]), cell_rows, _Field(records, lambda r: r[1]),
                   _Field(records, lambda r: r[2]), records)

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
