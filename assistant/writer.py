"""The index writer: a full build into a new directory, or new documents added to an index in place.

Both go through ``IndexWriter``. Passages arrive in row order as ``IndexPart``s (a
build gives it the whole corpus, an update the added documents, the benchmark's
1M-passage artefact thousands of generated parts), each column file grows as they
arrive, and ``finish`` writes BM25, saves the dense store and writes the manifest.

An update (``shiori add`` then ``shiori index``) is possible when the only change
is documents appended to the corpus manifest: everything the index holds is per
document, so their rows go after the existing ones, exactly where a full rebuild
would put them. Column files take the new rows in place (``npyfile``); BM25 gets
the new postings and recomputed weights (``BM25Index.extend``); the dense store
``add``s them (an HNSW graph takes new nodes, Milvus new entities). What cannot be
appended (BM25's arrays, the graph) is written under a new name, and the manifest,
replaced last, commits the update: until then readers see the previous index.
The result equals a full rebuild of the same corpus (``tests/test_update.py``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from assistant import annotate, crosslingual, npyfile
from assistant.bm25 import BM25Index, build_from_ids, get_tokenizer
from assistant.chunking import Chunk, chunk_corpus, split_sentences
from assistant.config import Settings
from assistant.corpus import Document, DocumentInfo, load_corpus, load_documents, read_manifest
from assistant.dense import DenseStore, StoreBatch, get_store, store_kind
from assistant.embedding import Embedder, EmbeddingCache, embed_passages_cached
from assistant.errors import IndexCorruptError, IndexMissingError, UsageError
from assistant.store import (
    _INFO_LIBRARIES,
    MANIFEST,
    LoadedIndex,
    TextColumn,
    _version,
    cache_dir,
    expected_manifest,
    hash_prefix,
    open_index,
    read_index_manifest,
    stale_keys,
)

logger = logging.getLogger(__name__)

#: Line-oriented JSON files and their offsets, as (file, offsets file).
CHUNKS = ("chunks.jsonl", "chunks_offsets.npy")
CELLS = ("cells.jsonl", "cells_offsets.npy")
#: Text columns: name -> the ``IndexPart`` field that fills it.
TEXT_COLUMNS = {"sentence_text": "sent_texts", "typed_spans": "typed_spans"}


@dataclass
class IndexPart:
    """Passages in row order with everything the index stores about them (rows local to the part)."""

    chunks: list[Chunk]
    tokens: list[list[str]]  # BM25 tokens of each passage
    vectors: np.ndarray  # (n, dim)
    sent_rows: np.ndarray  # (m,) passage of each sentence, 0-based within this part
    sent_spans: np.ndarray  # (m, 2) document offsets
    sent_texts: list[str]
    sent_tokens: list[list[str]]  # sorted distinct BM25 tokens of each sentence
    sent_vectors: np.ndarray  # (m, dim)
    typed_spans: list[str]  # ``annotate.encode_spans`` of each sentence
    cells: list[dict[str, Any]]  # ``annotate.cell_record`` of each cell
    cell_rows: np.ndarray  # (k, 2): (passage, cell), both within this part
    stats: dict[str, Any] = field(default_factory=dict)


def _stderr_progress(total: int, desc: str, unit: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=False)
    return bar.update, bar.close


def compute_part(docs: Sequence[Document], settings: Settings, embedder: Embedder,
                 progress: bool = True) -> IndexPart:
    """Chunk, split, embed, tokenise and annotate ``docs`` (the stages a build runs per document)."""
    tokenize = get_tokenizer(settings.tokenizer)
    annotator = annotate.get_annotator(settings.ner)
    chunks = chunk_corpus(docs, settings.chunk_chars, settings.chunk_overlap)
    texts = [c.search_text for c in chunks]
    sent_rows: list[int] = []
    sent_spans: list[tuple[int, int]] = []
    sent_texts: list[str] = []
    for row, c in enumerate(chunks):
        for sent in split_sentences(c):
            sent_rows.append(row)
            sent_spans.append((sent.start, sent.end))
            sent_texts.append(sent.text)
    cache = EmbeddingCache(cache_dir(settings), embedder.name)
    embed = embed_passages_cached
    if settings.embed_engine == "ray":
        from assistant.ray_embed import ray_embed_function

        embed = ray_embed_function(settings)
    # The bar counts texts, the passages and then their sentences, each embedded on its own.
    total = len(texts) + len(sent_texts)
    desc = f"embedding {len(texts)} passages + {len(sent_texts)} sentences"
    update, close = _stderr_progress(total, desc, "text") if progress and total else (None, lambda: None)
    t_embed = time.perf_counter()
    try:
        vectors, n_new = embed(embedder, texts, cache, settings.batch_size, update)
        sent_vectors, n_new_s = embed(embedder, sent_texts, cache, settings.batch_size, update)
    finally:
        close()
    embed_seconds = time.perf_counter() - t_embed
    t_annotate = time.perf_counter()
    typed = annotator(sent_texts)
    cells, cell_rows = annotate.recover_all_cells(docs, chunks)
    names = settings.tokenizer == "mecab"
    records = [annotate.cell_record(c, tokenize, names) for c in cells]
    annotate_seconds = time.perf_counter() - t_annotate
    return IndexPart(
        chunks=chunks,
        tokens=[tokenize(t) for t in texts],
        vectors=np.asarray(vectors, dtype=np.float32).reshape(len(texts), embedder.dim),
        sent_rows=np.asarray(sent_rows, dtype=np.int32),
        sent_spans=np.asarray(sent_spans, dtype=np.int64).reshape(-1, 2),
        sent_texts=sent_texts,
        # Stored so answering does not re-run the tokenizer on every candidate.
        sent_tokens=[sorted(set(tokenize(t))) for t in sent_texts],
        sent_vectors=np.asarray(sent_vectors, dtype=np.float32).reshape(len(sent_texts), embedder.dim),
        typed_spans=[annotate.encode_spans(s) for s in typed],
        cells=records,
        cell_rows=np.asarray(cell_rows, dtype=np.int64).reshape(-1, 2),
        stats={"embed_seconds": embed_seconds, "annotate_seconds": annotate_seconds,
               "embedded_new": n_new + n_new_s},
    )


def _encode_lines(records: Sequence[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(r, ensure_ascii=False).encode("utf-8") + b"\n" for r in records]


class IndexWriter:
    """Appends ``IndexPart``s to the files of one index directory, then commits a manifest."""

    def __init__(self, directory: Path, settings: Settings, store: DenseStore, counts: dict[str, int],
                 ends: dict[str, int], vocab: list[str], base: LoadedIndex | None) -> None:
        self.directory = Path(directory)
        self.settings = settings
        self.store = store
        #: Committed rows per kind (passages, sentences, cells, cell pairs) and bytes per text file.
        self.counts = counts
        self.ends = ends
        self._vocab = vocab
        self._term_id = {t: i for i, t in enumerate(vocab)}
        self._base = base
        # BM25 input: a build keeps token ids (4 bytes a token), an update the new passages' tokens.
        self._bm25_terms: dict[str, int] = {}
        self._bm25_ids: list[np.ndarray] = []
        self._bm25_lengths: list[np.ndarray] = []
        self._bm25_tokens: list[list[str]] = []

    @classmethod
    def create(cls, directory: Path, settings: Settings, dim: int, kind: str,
               size_hint: tuple[int, int] = (0, 0)) -> IndexWriter:
        """A writer for a new index in the empty ``directory``, with a ``kind`` dense store."""
        directory = Path(directory)
        for text, offsets in (CHUNKS, CELLS):
            (directory / text).write_bytes(b"")
            np.save(directory / offsets, np.zeros(1, np.int64), allow_pickle=False)
        npyfile.create(directory / "sent_embeddings.npy", np.float32, (dim,))
        npyfile.create(directory / "sent_rows.npy", np.int32)
        npyfile.create(directory / "sent_spans.npy", np.int64, (2,))
        npyfile.create(directory / "cell_rows.npy", np.int64, (2,))
        for name in (*TEXT_COLUMNS, "sentence_tokens"):
            npyfile.create(directory / f"{name}.npy", np.int32 if name == "sentence_tokens" else np.uint8)
            np.save(directory / f"{name}_offsets.npy", np.zeros(1, np.int64), allow_pickle=False)
        store = get_store(kind).create(settings, dim, directory, size_hint)
        counts = {"passages": 0, "sentences": 0, "cells": 0, "cell_pairs": 0}
        ends = {name: 0 for name in (CHUNKS[0], CELLS[0], *TEXT_COLUMNS, "sentence_tokens")}
        return cls(directory, settings, store, counts, ends, [], None)

    @classmethod
    def extend(cls, index: LoadedIndex, settings: Settings) -> IndexWriter:
        """A writer that appends to the loaded (checked) ``index`` in its directory."""
        m = index.manifest
        counts = {"passages": index.size, "sentences": len(index.sentences.rows),
                  "cells": len(index.annotations.cells), "cell_pairs": len(index.annotations.cell_rows)}
        if counts["sentences"] != m.get("sentences") or counts["cells"] != m.get("cells"):
            raise IndexCorruptError(f"the index in {index.directory} does not match its manifest",
                                    hint="run `shiori index --rebuild`")
        # Leftovers of an update that crashed before its manifest: files nothing refers to.
        current = m.get("bm25_dir", "bm25")
        for path in index.directory.glob("bm25.*"):
            if path.name != current and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
        for path in index.directory.glob("*.tmp"):
            path.unlink(missing_ok=True)
        ann = index.annotations
        ends = {
            CHUNKS[0]: index.chunks.data_end,
            CELLS[0]: ann.cell_records.data_end,
            "sentence_text": index.sentences.texts.data_end,
            "typed_spans": ann.spans_column.data_end,  # type: ignore[attr-defined]
            "sentence_tokens": index.sentences.tokens.data_end,
        }
        return cls(index.directory, settings, index.dense, counts, ends, index.sentences.tokens.vocabulary, index)

    # ------------------------------------------------------------------ add
    def _lines(self, files: tuple[str, str], lines: Sequence[bytes], count: str) -> None:
        text, offsets = (self.directory / f for f in files)
        end = self.ends[files[0]]
        with open(text, "r+b") as f:
            f.truncate(end)  # bytes past the committed end belong to an unfinished update
            f.seek(end)
            f.write(b"".join(lines))
        ends = end + np.cumsum([len(x) for x in lines], dtype=np.int64)
        npyfile.append(offsets, ends, committed=self.counts[count] + 1)
        self.ends[files[0]] = int(ends[-1]) if len(ends) else end

    def _column(self, name: str, data: np.ndarray, ends: np.ndarray, count: str) -> None:
        npyfile.append(self.directory / f"{name}.npy", data, committed=self.ends[name])
        npyfile.append(self.directory / f"{name}_offsets.npy", ends, committed=self.counts[count] + 1)
        self.ends[name] = int(ends[-1]) if len(ends) else self.ends[name]

    def add(self, part: IndexPart) -> None:
        """Append a part's passages, sentences and cells after the rows written so far."""
        n0, m0, c0 = self.counts["passages"], self.counts["sentences"], self.counts["cells"]
        n, m = len(part.chunks), len(part.sent_texts)
        self._lines(CHUNKS, _encode_lines([c.store_json() for c in part.chunks]), "passages")
        rows = np.asarray(part.sent_rows, dtype=np.int32) + n0
        self.store.add(StoreBatch(n0, part.vectors, part.chunks, rows, part.sent_texts, part.sent_vectors))
        d = self.directory
        npyfile.append(d / "sent_embeddings.npy", part.sent_vectors, committed=m0)
        npyfile.append(d / "sent_rows.npy", rows, committed=m0)
        npyfile.append(d / "sent_spans.npy", np.asarray(part.sent_spans, dtype=np.int64).reshape(-1, 2),
                       committed=m0)
        for name, attr in TEXT_COLUMNS.items():
            data, ends = TextColumn.encode(getattr(part, attr), self.ends[name])
            self._column(name, data, ends, "sentences")
        tid, vocab, ids = self._term_id, self._vocab, []
        for toks in part.sent_tokens:
            for t in toks:
                i = tid.get(t)
                if i is None:
                    i = tid[t] = len(vocab)
                    vocab.append(t)
                ids.append(i)
        tok_ends = self.ends["sentence_tokens"] + np.cumsum([len(t) for t in part.sent_tokens], dtype=np.int64)
        self._column("sentence_tokens", np.asarray(ids, dtype=np.int32), tok_ends, "sentences")
        self._lines(CELLS, _encode_lines(part.cells), "cells")
        pairs = np.asarray(part.cell_rows, dtype=np.int64).reshape(-1, 2) + np.array([n0, c0])
        npyfile.append(d / "cell_rows.npy", pairs, committed=self.counts["cell_pairs"])
        if self._base is None:
            t = self._bm25_terms
            self._bm25_ids.append(np.fromiter((t.setdefault(x, len(t)) for toks in part.tokens for x in toks),
                                              np.int32))
            self._bm25_lengths.append(np.array([len(x) for x in part.tokens], dtype=np.int64))
        else:
            self._bm25_tokens.extend(part.tokens)
        self.counts["passages"] += n
        self.counts["sentences"] += m
        self.counts["cells"] += len(part.cells)
        self.counts["cell_pairs"] += len(pairs)

    # --------------------------------------------------------------- finish
    def _bm25(self) -> tuple[BM25Index, str]:
        if self._base is None:
            terms = sorted(self._bm25_terms)
            rank = np.empty(len(terms), dtype=np.int32)
            rank[np.fromiter((self._bm25_terms[t] for t in terms), np.int64, len(terms))] = np.arange(len(terms))
            ids = np.concatenate(self._bm25_ids) if self._bm25_ids else np.zeros(0, np.int32)
            lengths = np.concatenate(self._bm25_lengths) if self._bm25_lengths else np.zeros(0, np.int64)
            self._bm25_ids, self._bm25_lengths = [], []
            return build_from_ids(rank[ids] if len(terms) else ids, lengths, terms), "bm25"
        return self._base.bm25.extend(self._bm25_tokens), f"bm25.{self.counts['passages']}"

    def finish(self, fields: dict[str, Any], started: float | None = None,
               seconds_key: str = "build_seconds") -> dict[str, Any]:
        """Write BM25 and the store, then the manifest (``fields`` plus counts and files); returns it.

        ``started`` (a ``perf_counter`` time) is recorded as ``seconds_key`` just before
        the manifest is written. For an update the new manifest replaces the previous
        one: that is the commit.
        """
        d = self.directory
        bm25, bm25_dir = self._bm25()
        shutil.rmtree(d / bm25_dir, ignore_errors=True)  # a crashed attempt at the same update
        bm25.save(d / bm25_dir)
        # The English term table follows the vocabulary, so an update rewrites it with BM25
        # (a crash before the manifest leaves extra terms that the old vocabulary filters out).
        t_table = time.perf_counter()
        proper = crosslingual.proper_noun if self.settings.tokenizer == "mecab" else None
        table, table_source = crosslingual.table_for_index(bm25.vocab, get_tokenizer(self.settings.tokenizer), proper)
        crosslingual.save_table(d, table, table_source)
        table_fields = {"source": table_source, "keys": len(table)}
        table_seconds = round(time.perf_counter() - t_table, 3)
        # Ids are only ever appended to the vocabulary: the old manifest's rows stay readable.
        tmp_vocab = d / "sentence_tokens_vocab.json.tmp"
        tmp_vocab.write_text(json.dumps(self._vocab, ensure_ascii=False), encoding="utf-8")
        tmp_vocab.replace(d / "sentence_tokens_vocab.json")
        store_meta = self.store.save()
        manifest = {
            **fields,
            "dense": {"kind": self.store.kind, "count": len(self.store)},
            "store": store_meta,
            "bm25_dir": bm25_dir,
            "crosslingual": table_fields,
            "crosslingual_seconds": table_seconds,
            **self.counts,
            "chunks_sha256": hash_prefix(d / CHUNKS[0], self.ends[CHUNKS[0]]),
            "library_info": {name: _version(name) for name in (*_INFO_LIBRARIES, crosslingual.DICTIONARY_PACKAGE)},
            "python": sys.version.split()[0],
        }
        if started is not None:
            manifest[seconds_key] = round(time.perf_counter() - started, 3)
        tmp = d / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        tmp.replace(d / MANIFEST)
        if self._base is not None:
            old = self._base.manifest
            if old.get("bm25_dir", "bm25") != bm25_dir:
                shutil.rmtree(d / old.get("bm25_dir", "bm25"), ignore_errors=True)
            for name in set((old.get("store") or {}).get("files", ())) - set(store_meta.get("files", ())):
                (d / name).unlink(missing_ok=True)
        return manifest

    def discard(self) -> None:
        """Release what the store wrote outside the directory (a failed build's Milvus collections)."""
        type(self.store).release(self.settings, self.store.metadata())


# ----------------------------------------------------------------- entry points


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _stats(part: IndexPart, embedder: Embedder, settings: Settings) -> dict[str, Any]:
    return {
        "shiori_version": _version("shiori"),
        "embedder": {"spec": settings.embedder, "name": embedder.name, "dim": embedder.dim},
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in part.stats.items()},
    }


def build_index(
    settings: Settings,
    embedder: Embedder,
    *,
    progress: bool = True,
    fail_after_write: Callable[[Path], None] | None = None,
) -> dict[str, Any]:
    """Build the index for the corpus into ``settings.index_dir``; returns its manifest.

    ``fail_after_write`` is a test hook called with the temp directory just before
    the swap, to prove that a crash there leaves the previous index in place.
    """
    t0 = time.perf_counter()
    get_tokenizer(settings.tokenizer)  # fail on a bad name before embedding anything
    annotate.get_annotator(settings.ner)
    corpus_dir, index_dir = settings.corpus_dir, settings.index_dir
    infos = read_manifest(corpus_dir)
    part = compute_part(load_corpus(corpus_dir), settings, embedder, progress)
    if not part.chunks:
        raise UsageError(f"the corpus in {corpus_dir} has no text to index")
    old_manifest = _previous_manifest(index_dir)
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = index_dir.with_name(f".{index_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    writer: IndexWriter | None = None
    try:
        kind = store_kind(settings, len(part.chunks))
        writer = IndexWriter.create(tmp, settings, embedder.dim, kind, (len(part.chunks), len(part.sent_texts)))
        writer.add(part)
        fields = {**expected_manifest(settings, infos), **_stats(part, embedder, settings), "created": _now()}
        manifest = writer.finish(fields, t0, "build_seconds")
        if fail_after_write:
            fail_after_write(tmp)
        _swap_in(tmp, index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if writer is not None:
            writer.discard()
        raise
    # The replaced index's resources outside index/ (Milvus collections): released only now.
    old_kind = (old_manifest.get("dense") or {}).get("kind")
    if old_kind:
        try:
            get_store(old_kind).release(settings, old_manifest.get("store") or {}, keep=manifest["store"])
        except UsageError:
            logger.warning("the replaced index named an unknown dense store %r", old_kind)
    logger.info("built index: %d passages in %.1fs", manifest["passages"], manifest["build_seconds"])
    return manifest


def plan_update(manifest: dict[str, Any], expected: dict[str, Any],
                infos: Sequence[DocumentInfo]) -> list[DocumentInfo] | None:
    """The documents to append when they are the only change, in corpus order; else ``None``."""
    if stale_keys(manifest, expected) != ["corpus"]:
        return None
    have, want = manifest.get("corpus"), expected["corpus"]
    if not isinstance(have, dict) or any(want.get(k) != v for k, v in have.items()):
        return None  # a document was edited or removed: its rows cannot be patched in place
    ids = [d.id for d in infos]
    if ids[: len(have)] != list(have):
        return None  # the new documents are not at the end, where a rebuild would put them
    return list(infos[len(have):]) or None


def update_index(settings: Settings, embedder: Embedder, *, progress: bool = True) -> dict[str, Any] | None:
    """Append the documents added to the corpus since the index was built; ``None`` when a
    full build is needed instead (missing or damaged index, edited or removed documents,
    other settings, or a store type that changes with the new size)."""
    t0 = time.perf_counter()
    try:
        manifest = read_index_manifest(settings.index_dir)
    except (IndexMissingError, IndexCorruptError):
        return None
    infos = read_manifest(settings.corpus_dir)
    expected = expected_manifest(settings, infos)
    added = plan_update(manifest, expected, infos)
    if not added:
        return None
    try:
        index = open_index(settings, manifest, infos[: len(infos) - len(added)])
    except IndexCorruptError as e:
        logger.warning("%s; rebuilding instead of updating", e.message)
        return None
    part = compute_part(load_documents(settings.corpus_dir, added), settings, embedder, progress)
    total = index.size + len(part.chunks)
    if store_kind(settings, total) != index.dense.kind:
        logger.info("%d passages need a %s store: rebuilding", total, store_kind(settings, total))
        return None
    writer = IndexWriter.extend(index, settings)
    writer.add(part)
    keep = {k: manifest[k] for k in ("created", "build_seconds") if k in manifest}
    fields = {**expected, **_stats(part, embedder, settings), **keep, "updated": _now(),
              "updates": int(manifest.get("updates", 0)) + 1}
    manifest = writer.finish(fields, t0, "update_seconds")
    logger.info("added %d documents (%d passages) to the index in %.1fs", len(added), len(part.chunks),
                manifest["update_seconds"])
    return manifest


def refresh_index(settings: Settings, embedder: Embedder, *, progress: bool = True) -> dict[str, Any]:
    """Update the index in place when only documents were added, else rebuild it."""
    manifest = update_index(settings, embedder, progress=progress)
    return manifest if manifest is not None else build_index(settings, embedder, progress=progress)


def _swap_in(tmp: Path, index_dir: Path) -> None:
    old = index_dir.with_name(f".{index_dir.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if index_dir.exists():
        os.replace(index_dir, old)
    os.replace(tmp, index_dir)
    shutil.rmtree(old, ignore_errors=True)


def _previous_manifest(index_dir: Path) -> dict[str, Any]:
    """The manifest of the index about to be replaced (``{}`` if none or unreadable)."""
    try:
        manifest = json.loads((Path(index_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}
