"""Dense passage stores behind one small protocol, chosen from a registry.

Every store ranks passages by inner product on L2-normalised vectors and answers
the pipeline's dense stage (``best_rows``: a passage scores the best of its own
and its sentences' similarity). The protocol follows txtai's ``ann/base.py``:
``create`` (an empty store), ``add`` (rows from ``len(store)`` on), ``search``,
``save``/``load``, ``len`` (count) and ``metadata`` (what the manifest records).
The index writer, the incremental update and the pipeline use only these, so none
of them branches on a store's name.

- ``flat``: exact search, one numpy matrix-vector product over the memory-mapped
  ``embeddings.npy`` (the same result as FAISS ``IndexFlatIP``, a test checks, without
  importing FAISS on the query path of a small corpus).
- ``hnsw``: a FAISS HNSW graph over the passage vectors (``dense.faiss``), above
  ``HNSW_THRESHOLD`` passages. Its hits (10 × n, at least 100) are rescored with their
  sentences' memory-mapped vectors: exact search over passages plus sentences passes a
  10 ms budget at about 6,000 passages (``bench/`` scale study), and a sentence graph
  would hold ~12 GiB of vectors in RAM at 1M passages.
- ``milvus``: two Milvus collections (``assistant.milvus_store``, ``--store milvus``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from assistant import npyfile
from assistant.errors import IndexCorruptError, UsageError

if TYPE_CHECKING:
    from assistant.chunking import Chunk
    from assistant.config import Settings

DenseKind = Literal["flat", "hnsw"]

#: Passages above which the approximate index is used (see docs/PERFORMANCE.md).
HNSW_THRESHOLD = 5_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
#: recall@10 >= 0.95 up to 1M vectors (96 gave 0.934 there; docs/PERFORMANCE.md).
HNSW_EF_SEARCH = 128
#: With an approximate passage index, this many times n passages (at least
#: SENTENCE_POOL_MIN) are rescored with their best sentence's similarity.
SENTENCE_POOL_FACTOR = 10
SENTENCE_POOL_MIN = 100
#: Vectors handed to FAISS per ``add`` call (bounds the temporary copy).
ADD_BLOCK = 100_000


def choose_kind(n: int) -> DenseKind:
    """The local index type for ``n`` passages."""
    return "hnsw" if n > HNSW_THRESHOLD else "flat"


@dataclass(frozen=True)
class StoreBatch:
    """Passages ``row0 .. row0 + len(vectors)`` and their sentences, as given to ``add``."""

    row0: int
    vectors: np.ndarray  # (n, dim) float32, L2-normalised
    chunks: Sequence[Chunk]  # the passages (stores that keep provenance use them)
    sent_rows: np.ndarray  # (m,) passage row of each sentence (absolute)
    sent_texts: Sequence[str]
    sent_vectors: np.ndarray  # (m, dim)


class SentenceVectors(Protocol):
    """What ``best_rows`` needs of the sentence table (``store.SentenceTable``)."""

    rows: np.ndarray  # (m,) passage row of each sentence, ascending
    vectors: np.ndarray  # (m, dim)

    def of_row(self, row: int) -> range: ...


class DenseStore(Protocol):
    """A dense passage store: what the writer, the update and the pipeline use."""

    kind: str

    @classmethod
    def create(cls, settings: Settings, dim: int, directory: Path,
               size_hint: tuple[int, int] = (0, 0)) -> DenseStore:
        """An empty store writing into the index ``directory``, for about ``size_hint`` (passages, sentences)."""
        ...

    @classmethod
    def load(cls, settings: Settings, directory: Path, manifest: dict[str, Any],
             chunk_id: Callable[[int], str]) -> DenseStore:
        """The store of the index in ``directory`` (``chunk_id`` checks remote rows)."""
        ...

    @classmethod
    def release(cls, settings: Settings, meta: dict[str, Any], keep: dict[str, Any] | None = None) -> None:
        """Drop what ``meta`` names outside ``index/`` (a replaced or failed build's), except ``keep``'s."""
        ...

    @property
    def dim(self) -> int: ...

    def __len__(self) -> int: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` rows per query by passage vector: (scores, rows), shaped (n_queries, k')."""
        ...

    def best_rows(self, qvec: np.ndarray, n: int, sentences: SentenceVectors | None) -> list[tuple[int, float]]:
        """Top ``n`` (row, score) by max(passage, best sentence) similarity; ties by row."""
        ...

    def score_rows(self, qvec: np.ndarray, rows: np.ndarray, sentences: SentenceVectors | None) -> np.ndarray | None:
        """The ``best_rows`` score of each of ``rows``, exactly; None if this store cannot score given rows.

        Hybrid search scores the BM25 candidates that the dense run left out: an
        approximate graph can miss a passage that BM25 finds at once (a newly added
        document far from the graph's clusters), and a missing dense score counts as 0.
        """
        ...

    def add(self, batch: StoreBatch) -> None:
        """Append passages ``len(self)..`` (searchable at once; committed by the manifest)."""
        ...

    def save(self) -> dict[str, Any]:
        """Persist what ``add`` has not yet written; returns ``metadata()``."""
        ...

    def metadata(self) -> dict[str, Any]:
        """The manifest's ``store`` section (files, collections, counts)."""
        ...


# ------------------------------------------------------------------ local stores


def _top_rows(rows: np.ndarray, scores: np.ndarray, n: int) -> list[tuple[int, float]]:
    order = np.lexsort((rows, -scores))[:n]
    return [(int(rows[i]), float(scores[i])) for i in order]


def rescore_with_sentences(pool_rows: np.ndarray, pool_scores: np.ndarray, qvec: np.ndarray,
                           sentences: SentenceVectors) -> np.ndarray:
    """Each pooled passage's score raised to its best sentence's similarity (one product)."""
    by_row = getattr(sentences, "by_row", None)
    if by_row is None:
        by_row = np.searchsorted(sentences.rows, np.arange(int(pool_rows.max(initial=-1)) + 2))
    lo, hi = by_row[pool_rows], by_row[pool_rows + 1]
    lens = hi - lo
    if not int(lens.sum()):
        return pool_scores
    runs = getattr(sentences, "vector_runs", None)
    if runs is not None:  # read, not mapped: see store.SentenceTable.vector_runs
        vecs = runs(lo, lens)
    else:
        vecs = sentences.vectors[np.repeat(lo - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))]
    best = np.full(len(pool_rows), -1.0, dtype=np.float32)
    np.maximum.at(best, np.repeat(np.arange(len(pool_rows)), lens), np.asarray(vecs @ qvec, dtype=np.float32))
    return np.maximum(pool_scores, best)


class ExactStore:
    """Exact search over ``embeddings.npy`` (memory-mapped; new rows are appended to the file)."""

    kind = "flat"
    VECTORS = "embeddings.npy"

    def __init__(self, vectors: np.ndarray, directory: Path) -> None:
        self._vectors = vectors
        self._directory = Path(directory)

    # -- protocol
    @classmethod
    def create(cls, settings: Settings, dim: int, directory: Path,
               size_hint: tuple[int, int] = (0, 0)) -> ExactStore:
        npyfile.create(Path(directory) / cls.VECTORS, np.float32, (dim,))
        return cls(np.zeros((0, dim), np.float32), directory)

    @classmethod
    def load(cls, settings: Settings, directory: Path, manifest: dict[str, Any],
             chunk_id: Callable[[int], str]) -> ExactStore:
        return cls(_load_vectors(directory, manifest.get("passages")), directory)

    @classmethod
    def release(cls, settings: Settings, meta: dict[str, Any], keep: dict[str, Any] | None = None) -> None:
        """Nothing outside ``index/``: the files go with their directory."""

    @property
    def vectors(self) -> np.ndarray:
        return self._vectors

    @property
    def dim(self) -> int:
        return int(self._vectors.shape[1])

    def __len__(self) -> int:
        return int(self._vectors.shape[0])

    def score_rows(self, qvec: np.ndarray, rows: np.ndarray, sentences: SentenceVectors | None) -> np.ndarray | None:
        rows = np.asarray(rows, np.int64)
        scores = np.asarray(self._row_vectors(rows) @ qvec, dtype=np.float32)
        if sentences is not None and len(sentences.rows) and len(rows):
            scores = rescore_with_sentences(rows, scores, qvec, sentences)
        return scores

    def _row_vectors(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.vectors[rows], dtype=np.float32).reshape(len(rows), self.dim)

    def add(self, batch: StoreBatch) -> None:
        if batch.row0 != len(self):
            raise ValueError(f"rows must be added in order: expected row {len(self)}, got {batch.row0}")
        path = self._directory / self.VECTORS
        # Rows past the current count are an aborted update's: ``committed`` cuts them off.
        n = npyfile.append(path, np.asarray(batch.vectors, np.float32).reshape(-1, self.dim), committed=len(self))
        self._vectors = npyfile.load_rows(path, n)

    def save(self) -> dict[str, Any]:
        return self.metadata()

    def metadata(self) -> dict[str, Any]:
        return {"kind": "faiss", "files": [self.VECTORS]}

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, len(self))
        if k == 0:
            return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), np.int64)
        sims = q @ self.vectors.T
        if k < sims.shape[1]:
            part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        else:
            part = np.tile(np.arange(sims.shape[1]), (len(q), 1))
        part_scores = np.take_along_axis(sims, part, axis=1)
        # Sort by score, then row, so ties are deterministic.
        order = np.lexsort((part, -part_scores), axis=1)
        rows = np.take_along_axis(part, order, axis=1)
        return np.take_along_axis(part_scores, order, axis=1), rows.astype(np.int64)

    def best_rows(self, qvec: np.ndarray, n: int, sentences: SentenceVectors | None) -> list[tuple[int, float]]:
        if sentences is None:
            scores, rows = self.search(qvec, n)
            return _top_rows(rows[0], scores[0].astype(np.float32), n)
        sims = np.asarray(self.vectors @ qvec, dtype=np.float32)
        if len(sentences.rows):
            best = np.full(len(sims), -1.0, dtype=np.float32)
            np.maximum.at(best, sentences.rows, np.asarray(sentences.vectors @ qvec, dtype=np.float32))
            sims = np.maximum(sims, best)
        n = min(n, len(sims))
        top = np.argpartition(-sims, n - 1)[:n] if n < len(sims) else np.arange(len(sims))
        order = top[np.lexsort((top, -sims[top]))]
        return [(int(r), float(sims[r])) for r in order]


class HnswStore(ExactStore):
    """Passage vectors as for ``flat`` plus a FAISS HNSW graph over them (``dense.faiss``)."""

    kind = "hnsw"
    GRAPH = "dense.faiss"

    def __init__(self, vectors: np.ndarray, directory: Path, graph: Any, graph_file: str | None) -> None:
        super().__init__(vectors, directory)
        self._graph = graph
        self._graph_file = graph_file
        self._changed = graph_file is None

    @classmethod
    def create(cls, settings: Settings, dim: int, directory: Path,
               size_hint: tuple[int, int] = (0, 0)) -> HnswStore:
        import faiss

        npyfile.create(Path(directory) / cls.VECTORS, np.float32, (dim,))
        graph = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        return cls(np.zeros((0, dim), np.float32), directory, graph, None)

    @classmethod
    def load(cls, settings: Settings, directory: Path, manifest: dict[str, Any],
             chunk_id: Callable[[int], str]) -> HnswStore:
        import faiss

        vectors = _load_vectors(directory, manifest.get("passages"))
        name = (manifest.get("store") or {}).get("graph", cls.GRAPH)
        try:
            graph = faiss.read_index(str(Path(directory) / name))
        except RuntimeError as e:
            raise IndexCorruptError(f"FAISS index in {directory} is unreadable",
                                    hint="run `shiori index --rebuild`") from e
        if graph.ntotal != len(vectors):
            raise IndexCorruptError(f"FAISS index in {directory} does not match its embeddings",
                                    hint="run `shiori index --rebuild`")
        return cls(vectors, directory, graph, name)

    def add(self, batch: StoreBatch) -> None:
        super().add(batch)
        vecs = np.asarray(batch.vectors, np.float32).reshape(-1, self.dim)
        for s in range(0, len(vecs), ADD_BLOCK):
            self._graph.add(np.ascontiguousarray(vecs[s : s + ADD_BLOCK]))
        self._changed = self._changed or len(vecs) > 0

    def save(self) -> dict[str, Any]:
        import faiss

        if self._changed:
            # A graph cannot be patched on disk: an update writes it under a new name and the
            # manifest (written last) names the current one, so a crash keeps the old graph.
            name = self.GRAPH if self._graph_file is None else f"dense.{len(self)}.faiss"
            tmp = self._directory / (name + ".tmp")
            faiss.write_index(self._graph, str(tmp))
            tmp.replace(self._directory / name)
            self._graph_file, self._changed = name, False
        return self.metadata()

    def metadata(self) -> dict[str, Any]:
        graph = self._graph_file or self.GRAPH
        return {"kind": "faiss", "graph": graph, "files": [self.VECTORS, graph]}

    def _row_vectors(self, rows: np.ndarray) -> np.ndarray:
        # The graph holds every vector in RAM already; the memory-mapped file would grow the RSS.
        if not len(rows):
            return np.zeros((0, self.dim), np.float32)
        return np.asarray(self._graph.reconstruct_batch(np.ascontiguousarray(rows, dtype=np.int64)), np.float32)

    @property
    def graph(self) -> Any:
        """The FAISS index (benchmarks sweep its ``efSearch``)."""
        return self._graph

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, len(self))
        if k == 0:
            return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), np.int64)
        self._graph.hnsw.efSearch = max(HNSW_EF_SEARCH, k)
        scores, rows = self._graph.search(q, k)
        return scores, rows

    def best_rows(self, qvec: np.ndarray, n: int, sentences: SentenceVectors | None) -> list[tuple[int, float]]:
        pool = n if sentences is None else max(SENTENCE_POOL_FACTOR * n, SENTENCE_POOL_MIN)
        scores, rows = self.search(qvec, pool)
        keep = rows[0] >= 0
        pool_rows, pool_scores = rows[0][keep], scores[0][keep].astype(np.float32)
        if sentences is not None and len(sentences.rows) and len(pool_rows):
            pool_scores = rescore_with_sentences(pool_rows, pool_scores, qvec, sentences)
        return _top_rows(pool_rows, pool_scores, n)


def _load_vectors(directory: Path, n: int | None) -> np.ndarray:
    try:
        vectors = npyfile.load_rows(Path(directory) / "embeddings.npy", n)
    except (OSError, ValueError) as e:
        raise IndexCorruptError(f"embeddings in {directory} are unreadable: {e}",
                                hint="run `shiori index --rebuild`") from e
    if vectors.ndim != 2 or vectors.dtype != np.float32:
        raise IndexCorruptError(f"embeddings in {directory} have the wrong shape or type",
                                hint="run `shiori index --rebuild`")
    return vectors


# ---------------------------------------------------------------------- registry


def _milvus() -> type[DenseStore]:
    from assistant.milvus_store import MilvusStore

    return MilvusStore


#: Store kind (the manifest's ``dense.kind``) -> its class, imported only when used.
STORES: dict[str, Callable[[], type[DenseStore]]] = {
    "flat": lambda: ExactStore,
    "hnsw": lambda: HnswStore,
    "milvus": _milvus,
}


def get_store(kind: str) -> type[DenseStore]:
    """The store class registered under ``kind``."""
    try:
        return STORES[kind]()
    except KeyError:
        raise UsageError(f"unknown dense store {kind!r}; choose one of {sorted(STORES)}") from None


def store_kind(settings: Settings, n: int) -> str:
    """The store an index of ``n`` passages uses: Milvus when configured, else exact or HNSW by size."""
    return "milvus" if settings.store == "milvus" else choose_kind(n)


def build_store(kind: str, settings: Settings, directory: Path, batch: StoreBatch) -> DenseStore:
    """A new store of ``kind`` in ``directory`` holding ``batch``, saved."""
    store = get_store(kind).create(settings, int(batch.vectors.shape[1]), directory,
                                   (len(batch.vectors), len(batch.sent_texts)))
    store.add(batch)
    store.save()
    return store


def vectors_only(vectors: np.ndarray) -> StoreBatch:
    """A batch of passage vectors without passages or sentences (benchmarks, tests)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    return StoreBatch(0, vectors, (), np.zeros(0, np.int32), (), np.zeros((0, vectors.shape[1]), np.float32))
