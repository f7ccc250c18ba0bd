"""Dense passage index: inner product on L2-normalised vectors.

Small corpora use exact search; above ``HNSW_THRESHOLD`` passages an HNSW graph
(FAISS) over the passages is built instead, and the pipeline rescores its hits
with their sentences (the switch point comes from the ``bench/`` scale study:
exact search over passages plus sentences passes a 10 ms budget at about 6,000
passages).
Exact search runs as one numpy matrix-vector product over the memory-mapped
``embeddings.npy``: the same result as FAISS ``IndexFlatIP`` (a test checks it)
without importing FAISS (0.3 s) on the query path of a small corpus.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from assistant.errors import IndexCorruptError

DenseKind = Literal["flat", "hnsw"]

#: Passages above which the approximate index is used (see docs/PERFORMANCE.md).
HNSW_THRESHOLD = 5_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
#: recall@10 >= 0.95 up to 1M vectors (96 gave 0.934 there; docs/PERFORMANCE.md).
HNSW_EF_SEARCH = 128


def choose_kind(n: int) -> DenseKind:
    """The index type for ``n`` passages."""
    return "hnsw" if n > HNSW_THRESHOLD else "flat"


class DenseIndex:
    """Vectors plus, for large corpora, a FAISS HNSW graph over them."""

    def __init__(self, vectors: np.ndarray, kind: DenseKind, faiss_index: object | None = None) -> None:
        self.vectors = vectors
        self.kind = kind
        self._faiss = faiss_index

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    @classmethod
    def build(cls, vectors: np.ndarray, kind: DenseKind | None = None) -> DenseIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        kind = kind or choose_kind(len(vectors))
        if kind == "flat":
            return cls(vectors, kind)
        import faiss

        index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.add(vectors)
        return cls(vectors, kind, index)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` rows per query: (scores, rows), both shaped (n_queries, k')."""
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, len(self))
        if k == 0:
            return np.zeros((len(q), 0), np.float32), np.zeros((len(q), 0), np.int64)
        if self.kind == "flat":
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
        self._faiss.hnsw.efSearch = max(HNSW_EF_SEARCH, k)  # type: ignore[attr-defined]
        scores, rows = self._faiss.search(q, k)  # type: ignore[attr-defined]
        return scores, rows

    def save(self, directory: Path) -> None:
        np.save(directory / "embeddings.npy", self.vectors, allow_pickle=False)
        if self._faiss is not None:
            import faiss

            faiss.write_index(self._faiss, str(directory / "dense.faiss"))

    @classmethod
    def load(cls, directory: Path, kind: DenseKind) -> DenseIndex:
        try:
            vectors = np.load(directory / "embeddings.npy", mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as e:
            raise IndexCorruptError(
                f"embeddings in {directory} are unreadable: {e}", hint="run `shiori index --rebuild`"
            ) from e
        if vectors.ndim != 2 or vectors.dtype != np.float32:
            raise IndexCorruptError(f"embeddings in {directory} have the wrong shape or type")
        if kind == "flat":
            return cls(vectors, kind)
        import faiss

        try:
            index = faiss.read_index(str(directory / "dense.faiss"))
        except RuntimeError as e:
            raise IndexCorruptError(
                f"FAISS index in {directory} is unreadable", hint="run `shiori index --rebuild`"
            ) from e
        if index.ntotal != len(vectors):
            raise IndexCorruptError(f"FAISS index in {directory} does not match its embeddings")
        return cls(vectors, kind, index)
