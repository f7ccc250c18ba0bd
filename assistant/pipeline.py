"""The one place where the stages are wired: load/build the index, search, ask, cite.

The CLI, the Gradio app and the eval all call ``Pipeline``; none of them
re-implements retrieval or answering.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.bm25 import get_tokenizer
from assistant.chunking import Chunk
from assistant.config import ANSWER_MODES, MODES, Settings
from assistant.embedding import Embedder, load_embedder
from assistant.errors import IndexCorruptError, IndexMissingError, IndexStaleError, UsageError
from assistant.fusion import get_fuser
from assistant.glossary import is_english, to_japanese_terms
from assistant.normalize import normalize_query
from assistant.store import LoadedIndex, build_index, load_index
from assistant.validate import clean_query

if TYPE_CHECKING:
    from assistant.answer import Answer
    from assistant.cite import CiteResult

logger = logging.getLogger(__name__)

#: With an approximate passage index, this many times k passages (at least
#: SENTENCE_POOL_MIN) are rescored with their best sentence's similarity.
SENTENCE_POOL_FACTOR = 10
SENTENCE_POOL_MIN = 100


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved passage."""

    rank: int
    row: int
    chunk: Chunk
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None

    def to_json(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "rank": self.rank,
            "id": c.id,
            "doc": c.doc,
            "title": c.title,
            "first_line": c.first_line,
            "last_line": c.last_line,
            "page": c.page,
            "heading": c.heading,
            "score": round(self.score, 6),
            "dense_score": None if self.dense_score is None else round(self.dense_score, 6),
            "bm25_score": None if self.bm25_score is None else round(self.bm25_score, 6),
            "text": c.text,
        }


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Ranked passages for a query, with what the answer stage needs to reuse."""

    query: str
    mode: str
    hits: list[Hit]
    timings_ms: dict[str, float]
    #: Normalised query, its embedding (None in bm25 mode) and BM25 tokens.
    normalized: str = ""
    query_vector: np.ndarray | None = field(default=None, repr=False)
    query_tokens: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "mode": self.mode,
            "results": [h.to_json() for h in self.hits],
            "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()},
        }


class Pipeline:
    """Retrieval and answering over one corpus and index, configured by ``Settings``."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, progress: bool = True) -> None:
        self.settings = settings
        self._embedder = embedder
        self._index: LoadedIndex | None = None
        self.progress = progress

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.embedder)
        return self._embedder

    def with_embedder(self, embedder: Embedder) -> Pipeline:
        """The same settings and loaded index, embedding with ``embedder`` (the same model, wrapped).

        For callers that add something around the model, e.g. question vectors
        computed in one batch beforehand (``batch.QueryVectors``); the index is
        shared, not reloaded.
        """
        other = Pipeline(self.settings, embedder, progress=self.progress)
        other._index = self._index
        return other

    # ------------------------------------------------------------------ index
    def build(self, rebuild: bool = False) -> dict[str, Any]:
        """Build the index if it is missing, stale or ``rebuild``; returns its manifest."""
        if not rebuild:
            try:
                self._index = load_index(self.settings)
                return self._index.manifest
            except (IndexMissingError, IndexStaleError, IndexCorruptError) as e:
                logger.info("%s; building", e.message)
        manifest = build_index(self.settings, self.embedder, progress=self.progress)
        self._index = load_index(self.settings)
        return manifest

    def index(self) -> LoadedIndex:
        """The loaded index; a missing, stale or corrupt one is rebuilt when allowed."""
        if self._index is not None:
            return self._index
        try:
            self._index = load_index(self.settings)
        except (IndexMissingError, IndexStaleError, IndexCorruptError) as e:
            if not self.settings.auto_rebuild:
                raise
            logger.warning("%s; rebuilding the index", e.message)
            build_index(self.settings, self.embedder, progress=self.progress)
            self._index = load_index(self.settings)
        return self._index

    # ----------------------------------------------------------------- search
    def search(self, query: str, k: int | None = None, mode: str | None = None) -> SearchResult:
        """Top ``k`` passages for ``query`` by ``mode`` (hybrid, dense or bm25)."""
        s = self.settings
        mode = mode or s.mode
        if mode not in MODES:
            raise UsageError(f"unknown mode {mode!r}; choose one of {sorted(MODES)}")
        k = s.top_k if k is None else k
        if not 1 <= k <= 100:
            raise UsageError(f"-k must be between 1 and 100, got {k}")
        q = clean_query(query, "query")
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        index = self.index()
        timings["load"] = (time.perf_counter() - t0) * 1000
        qn = normalize_query(q)
        n_cand = max(s.candidates, k)
        runs: list[list[tuple[int, float]]] = []
        dense_by_row: dict[int, float] = {}
        bm25_by_row: dict[int, float] = {}
        qvec: np.ndarray | None = None
        tokens: tuple[str, ...] = ()
        if mode in ("hybrid", "dense"):
            t = time.perf_counter()
            qvec = self.embedder.embed_queries([qn])[0]
            timings["embed"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            run = self._dense_run(index, qvec, n_cand)
            dense_by_row = dict(run)
            runs.append(run)
            timings["dense"] = (time.perf_counter() - t) * 1000
        if mode in ("hybrid", "bm25"):
            t = time.perf_counter()
            lexical_query = qn
            if is_english(q):
                # BM25 indexes Japanese tokens: search with the glossary's Japanese terms.
                lexical_query = normalize_query(to_japanese_terms(q)) or qn
            tokens = tuple(get_tokenizer(s.tokenizer)(lexical_query))
            run = index.bm25.search(tokens, n_cand)
            bm25_by_row = dict(run)
            runs.append(run)
            timings["bm25"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        if mode == "hybrid":
            fuser = get_fuser(s.fusion)
            if s.fusion == "rrf":
                fused = fuser(runs, k=s.rrf_k)
            else:
                fused = fuser(runs, weights=[s.dense_weight, 1 - s.dense_weight])
        else:
            fused = runs[0]
        hits = [
            Hit(
                rank=i + 1,
                row=row,
                chunk=index.chunks[row],
                score=score,
                dense_score=dense_by_row.get(row),
                bm25_score=bm25_by_row.get(row),
            )
            for i, (row, score) in enumerate(fused[:k])
        ]
        timings["fuse"] = (time.perf_counter() - t) * 1000
        timings["total"] = (time.perf_counter() - t0) * 1000
        return SearchResult(q, mode, hits, timings, qn, qvec, tokens)

    def _dense_run(self, index: LoadedIndex, qvec: np.ndarray, n: int) -> list[tuple[int, float]]:
        """Dense candidates: a passage scores the best of its own and its sentences' similarity.

        Slides pack unrelated items into one passage, which dilutes the passage
        vector; the best-matching sentence recovers them (eval: Recall@5 0.83 -> 0.91
        dense-only). Large corpora search the passages' HNSW graph for a wider pool
        and rescore it with the sentences' memory-mapped vectors (a sentence graph
        would hold ~12 GiB of vectors in RAM at 1M passages). Milvus
        (``--store milvus``) ranks the same way itself.
        """
        if index.dense.kind == "milvus":
            return index.dense.best_rows(qvec, n, self.settings.dense_sentences)  # type: ignore[union-attr]
        sent = index.sentences
        if index.dense.kind != "flat" or not self.settings.dense_sentences:
            pool = max(SENTENCE_POOL_FACTOR * n, SENTENCE_POOL_MIN) if self.settings.dense_sentences else n
            scores, rows = index.dense.search(qvec, pool)
            keep = rows[0] >= 0
            pool_rows, pool_scores = rows[0][keep], scores[0][keep].astype(np.float32)
            if self.settings.dense_sentences and len(sent.rows) and len(pool_rows):
                # All the pool's sentences in one product, then each passage's best.
                lo, hi = sent.by_row[pool_rows], sent.by_row[pool_rows + 1]
                lens = hi - lo
                idx = np.repeat(lo - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
                best = np.full(len(pool_rows), -1.0, dtype=np.float32)
                np.maximum.at(best, np.repeat(np.arange(len(pool_rows)), lens),
                              np.asarray(sent.vectors[idx] @ qvec, dtype=np.float32))
                pool_scores = np.maximum(pool_scores, best)
            order = np.lexsort((pool_rows, -pool_scores))[:n]
            return [(int(pool_rows[i]), float(pool_scores[i])) for i in order]
        sims = np.asarray(index.dense.vectors @ qvec, dtype=np.float32)
        if len(sent.rows):
            best = np.full(len(sims), -1.0, dtype=np.float32)
            np.maximum.at(best, sent.rows, np.asarray(sent.vectors @ qvec, dtype=np.float32))
            sims = np.maximum(sims, best)
        n = min(n, len(sims))
        top = np.argpartition(-sims, n - 1)[:n] if n < len(sims) else np.arange(len(sims))
        order = top[np.lexsort((top, -sims[top]))]
        return [(int(r), float(sims[r])) for r in order]

    # -------------------------------------------------------------- answering
    def ask(
        self, question: str, k: int | None = None, mode: str | None = None, answer_mode: str | None = None
    ) -> Answer:
        """A short extractive (or LLM) answer with numbered citations, or an abstention."""
        answer_mode = answer_mode or self.settings.answer_mode
        if answer_mode not in ANSWER_MODES:
            raise UsageError(f"unknown answer mode {answer_mode!r}; choose one of {sorted(ANSWER_MODES)}")
        if answer_mode == "llm":
            from assistant.generate import generate_answer

            return generate_answer(self, question, k=k, mode=mode)
        from assistant.answer import answer_question

        return answer_question(self, question, k=k, mode=mode)

    def cite(self, sentences: Sequence[str], k: int | None = None) -> list[CiteResult]:
        """Find the supporting passage of each draft sentence."""
        from assistant.cite import lookup

        return lookup(self, sentences, k=k)
