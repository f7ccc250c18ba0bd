"""The one place where the stages are wired: load/build the index, search, ask, cite.

The CLI, the Gradio app and the eval all call ``Pipeline``; none of them
re-implements retrieval or answering.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
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
from assistant.reader.policy import DEFAULT_POLICY, ReaderPolicy
from assistant.store import LoadedIndex, build_index, load_index
from assistant.validate import clean_query

if TYPE_CHECKING:
    from assistant.answer import Answer
    from assistant.cite import CitePolicy, CiteResult
    from assistant.reader.query import Query
    from assistant.reader.scorer import ReaderModel

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
        #: The reader's tuned limits and its learned model (None: the shipped model file).
        self.reader_policy: ReaderPolicy = DEFAULT_POLICY
        self.reader_model: ReaderModel | None = None
        #: The drafting check's cut-offs (None: ``cite.DEFAULT_CITE_POLICY``, imported only by ``cite``).
        self.cite_policy: CitePolicy | None = None

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
    def search(self, query: str, k: int | None = None, mode: str | None = None,
               _vector: np.ndarray | None = None) -> SearchResult:
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
        english = is_english(q)
        n_cand = max(s.candidates, k)
        runs: list[list[tuple[int, float]]] = []
        dense_by_row: dict[int, float] = {}
        bm25_by_row: dict[int, float] = {}
        qvec: np.ndarray | None = None
        tokens: tuple[str, ...] = ()
        if mode in ("hybrid", "dense"):
            t = time.perf_counter()
            qvec = self.embedder.embed_queries([qn])[0] if _vector is None else _vector
            timings["embed"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            run = self._dense_run(index, qvec, n_cand)
            dense_by_row = dict(run)
            runs.append(run)
            timings["dense"] = (time.perf_counter() - t) * 1000
        if mode in ("hybrid", "bm25"):
            t = time.perf_counter()
            tokenize = get_tokenizer(s.tokenizer)
            if english:
                tokens = self._english_terms(index, q, qvec, runs[0] if runs else [])
            else:
                tokens = tuple(tokenize(qn))
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
                w = s.dense_weight_en if english else s.dense_weight
                fused = fuser(runs, weights=[w, 1 - w])
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

    def search_many(self, queries: Sequence[str], k: int | None = None,
                    mode: str | None = None) -> list[SearchResult]:
        """``search`` for several queries, their embeddings computed in one batch.

        A pasted paragraph or a question list costs one encoder call, not one per
        sentence; each result records its share of the batch's encoding time.
        """
        mode = mode or self.settings.mode
        cleaned = [clean_query(q, "query") for q in queries]
        vectors: list[np.ndarray | None] = [None] * len(cleaned)
        per_query_ms = 0.0
        if mode in ("hybrid", "dense") and cleaned:
            self.index()
            t = time.perf_counter()
            embedded = self.embedder.embed_queries([normalize_query(q) for q in cleaned])
            per_query_ms = (time.perf_counter() - t) * 1000 / len(cleaned)
            vectors = list(embedded)
        out = []
        for q, v in zip(cleaned, vectors, strict=True):
            res = self.search(q, k=k, mode=mode, _vector=v)
            if v is not None:
                res.timings_ms["embed"] = per_query_ms
            out.append(res)
        return out

    def _english_terms(self, index: LoadedIndex, question: str, qvec: np.ndarray | None,
                       dense_run: Sequence[tuple[int, float]]) -> tuple[str, ...]:
        """Japanese BM25 terms for an English question, taken from the corpus itself.

        BM25 indexes Japanese tokens, so an English question's own words find nothing
        but Latin names and numbers. Those are kept (English stop words are not: the
        corpus quotes English, so "the" is a BM25 term); the index's term table (JMdict
        glosses of the corpus's own vocabulary) translates the other words, and the
        glossary, when enabled, adds its terms; no topic needs a word list to work.
        Only when neither translates anything do terms come from the passages the
        multilingual embedder ranks first (pseudo-relevance feedback: the rarest terms
        of their sentences most similar to the question). With translations at hand
        they only pull the dense ranking's top passage up again, and that is wrong for
        most English questions (bench/crosslingual.py, table only, dense weight 0.7:
        Recall@1 0.30 without them, 0.23 with them, on the 56 English questions of
        eval/gold.jsonl and eval/train.jsonl).
        """
        from assistant.crosslingual import STOP_WORDS, english_terms

        s = self.settings
        tokenize = get_tokenizer(s.tokenizer)
        vocab = index.bm25.vocab
        terms: list[str] = [t for t in tokenize(normalize_query(question))
                            if t in vocab and t.isascii() and t not in STOP_WORDS]
        translated: list[str] = []
        if s.crosslingual and index.crosslingual:
            translated += [t for t in english_terms(question, index.crosslingual) if t in vocab]
        if s.glossary:
            translated += [t for t in tokenize(normalize_query(to_japanese_terms(question))) if t in vocab]
        terms += translated
        if not any(not t.isascii() for t in translated) and qvec is not None and dense_run and s.prf_sentences > 0:
            sents = index.sentences
            pool = [si for row, _ in dense_run[: s.prf_passages] for si in sents.of_row(row)]
            if pool:
                sims = np.asarray(sents.vectors[np.asarray(pool)] @ qvec, dtype=np.float32)
                best = [pool[i] for i in np.argsort(-sims)[: s.prf_sentences]]
                cand = {t for si in best for t in sents.tokens[si] if not t.isdigit() and len(t) > 1}
                ranked = sorted(cand, key=lambda t: (-index.idf(t), t))
                terms += ranked[: s.prf_terms]
        return tuple(dict.fromkeys(terms))

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
    def analyse(self, question: str) -> Query:
        """The question analysed once (type, focus, terms with the index's IDF)."""
        from assistant.reader.query import analyse

        index = self.index()
        query = analyse(question, get_tokenizer(self.settings.tokenizer), index.idf,
                        pos_tags=self.settings.tokenizer == "mecab")
        if query.english and query.answer_type in ("number", "date") and self.settings.english_focus > 0 \
                and self.settings.crosslingual and index.crosslingual:
            # The attribute a number or date question measures ("how many ports" -> 港, "how many minutes"
            # -> 分) through the corpus's term table: the reader anchors the value on it as on a
            # Japanese question's focus. Not for other questions: "which device" or "the term of
            # appointment" translate to words that name something else in the documents (機器,
            # 応募期間), and the reader then quotes that (eval/gold.jsonl out of fold).
            from assistant.crosslingual import english_focus

            focus = english_focus(question, index.crosslingual, index.bm25.vocab, self.settings.english_focus)
            query = replace(query, focus=focus) if focus else query
        return query

    def ask(
        self, question: str, k: int | None = None, mode: str | None = None, answer_mode: str | None = None
    ) -> Answer:
        """A short extractive (or LLM) answer with numbered citations, or an abstention."""
        answer_mode = answer_mode or self.settings.answer_mode
        if answer_mode not in ANSWER_MODES:
            raise UsageError(f"unknown answer mode {answer_mode!r}; choose one of {sorted(ANSWER_MODES)}")
        from assistant.reader import read
        from assistant.reader.scorer import load_model

        question = clean_query(question, "question")
        k = self.settings.top_k if k is None else k
        if not 1 <= k <= 100:
            raise UsageError(f"-k must be between 1 and 100, got {k}")
        query = self.analyse(question)
        result = self.search(question, k=max(k, self.reader_policy.passages), mode=mode)
        index = self.index()
        query = query.with_search_terms(result.query_tokens, index.idf)
        model = self.reader_model or load_model()
        policy = self.reader_policy
        if self.settings.abstain_threshold is not None:
            model = replace(model, abstain_threshold=self.settings.abstain_threshold)
            if self.settings.abstain_threshold <= 0:  # never abstain: the off-topic guard is off too
                policy = policy.without_abstention()
        answer = read(query, result, index, get_tokenizer(self.settings.tokenizer),
                      names=self.settings.tokenizer == "mecab", policy=policy, model=model)
        if answer_mode == "llm":
            from assistant.generate import generate_answer

            return generate_answer(self.settings, index, answer, result.hits[:k])
        return answer

    def with_reader_model(self, model: ReaderModel | None) -> Pipeline:
        """A pipeline sharing this one's index and embedder, answering with another reader model."""
        other = Pipeline(self.settings, self._embedder, self.progress)
        other._index = self._index
        other.reader_model = model
        other.reader_policy = self.reader_policy
        other.cite_policy = self.cite_policy
        return other

    def cite(self, sentences: Sequence[str], k: int | None = None) -> list[CiteResult]:
        """The drafting check of each draft sentence, in order (blank ones are skipped).

        All sentences are encoded in one batch, so a pasted paragraph costs one call.
        """
        from assistant.cite import DEFAULT_CITE_POLICY, check

        policy = self.cite_policy or DEFAULT_CITE_POLICY

        items = [clean_query(x, "sentence") for x in sentences if x.strip()]
        if not items:
            clean_query("", "sentence")  # raises the standard "empty" message
        index = self.index()
        tokenize = get_tokenizer(self.settings.tokenizer)
        names = self.settings.tokenizer == "mecab"
        results = self.search_many(items, k=max(k or self.settings.top_k, policy.passages))
        out = []
        for sentence, res in zip(items, results, strict=True):
            query = self.analyse(sentence).with_search_terms(res.query_tokens, index.idf)
            out.append(check(query, res, index, tokenize, names, policy))
        return out
