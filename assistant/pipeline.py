"""The one place where the stages are wired: load/build the index, search, ask, cite.

The CLI, the Gradio app and the eval all call ``Pipeline``; none of them
re-implements retrieval or answering.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.bm25 import get_tokenizer
from assistant.chunking import Chunk
from assistant.config import ANSWER_MODES, MODES, Settings
from assistant.embedding import Embedder, load_embedder
from assistant.errors import IndexCorruptError, IndexMissingError, IndexStaleError, UsageError
from assistant.fusion import get_fuser
from assistant.glossary import glossary_phrases, is_english, to_japanese_terms
from assistant.normalize import normalize_query
from assistant.reader.policy import DEFAULT_POLICY, ReaderPolicy
from assistant.store import LoadedIndex, build_index, load_index, refresh_index
from assistant.validate import clean_query

if TYPE_CHECKING:
    from assistant.answer import Answer
    from assistant.batching import Pending, QueryBatcher
    from assistant.cite import CitePolicy, CiteResult
    from assistant.reader.query import Query
    from assistant.reader.scorer import ReaderModel

logger = logging.getLogger(__name__)


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
        # Requests may come from several threads (the app): lazy loads happen once.
        self._lock = threading.RLock()
        self._batcher: QueryBatcher | None = None
        #: A pipeline made by ``with_reader_model`` shares its parent's batcher (one encoder user).
        self._batch_owner: Pipeline | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    self._embedder = load_embedder(self.settings.embedder)
        return self._embedder

    def with_embedder(self, embedder: Embedder) -> Pipeline:
        """The same settings and loaded index, embedding with ``embedder`` (the same model, wrapped).

        For callers that add something around the model, e.g. question vectors
        computed in one batch beforehand (``batch.QueryVectors``); the index is
        shared, not reloaded.
        """
        # The wrapped model's vectors are computed beforehand: handing each one to a batcher
        # thread would only add a thread switch per question (measured: a 100-question batch
        # run at 0.85-0.89x the warm asks' throughput on a quiet machine).
        other = Pipeline(replace(self.settings, batch_queries=False), embedder, progress=self.progress)
        other._index = self._index
        return other

    # --------------------------------------------------------- query encoding
    def query_batcher(self) -> QueryBatcher:
        """The batcher that encodes this pipeline's queries (created on first use)."""
        if self._batch_owner is not None:
            return self._batch_owner.query_batcher()
        if self._batcher is None:
            with self._lock:
                if self._batcher is None:
                    from assistant.batching import QueryBatcher

                    s = self.settings
                    workers = s.query_workers or min(len(os.sched_getaffinity(0)), s.max_batch)
                    # The model loads on the first encoding, not here: a bm25 search never needs it.
                    self._batcher = QueryBatcher(lambda texts: self.embedder.embed_queries(texts),
                                                 s.batch_window_ms, s.max_batch, workers)
        return self._batcher

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors of normalised texts; with ``batch_queries`` shared with concurrent requests."""
        if not self.settings.batch_queries:
            return self.embedder.embed_queries(texts)
        return self.query_batcher().encode(texts)

    @contextlib.contextmanager
    def _request(self) -> Iterator[None]:
        """One request: the batcher waits for its query (up to its window) before encoding others."""
        if not self.settings.batch_queries:
            yield
            return
        with self.query_batcher().expecting():
            yield

    # ------------------------------------------------------------------ index
    def build(self, rebuild: bool = False) -> dict[str, Any]:
        """Bring the index up to date and load it; returns its manifest.

        A missing or damaged index is built, a stale one updated in place when
        documents were only added (``writer.update_index``), else rebuilt; ``rebuild``
        always builds from scratch.
        """
        if rebuild:
            manifest = build_index(self.settings, self.embedder, progress=self.progress)
        else:
            try:
                self._index = load_index(self.settings)
                return self._index.manifest
            except (IndexMissingError, IndexStaleError, IndexCorruptError) as e:
                logger.info("%s; updating", e.message)
            manifest = refresh_index(self.settings, self.embedder, progress=self.progress)
        self._index = load_index(self.settings)
        return manifest

    def index(self) -> LoadedIndex:
        """The loaded index; a missing, stale or corrupt one is rebuilt when allowed."""
        if self._index is not None:
            return self._index
        with self._lock:
            if self._index is None:
                self._load_or_refresh()
        assert self._index is not None
        return self._index

    def _load_or_refresh(self) -> None:
        try:
            self._index = load_index(self.settings)
        except (IndexMissingError, IndexStaleError, IndexCorruptError) as e:
            if not self.settings.auto_rebuild:
                raise
            logger.warning("%s; updating the index", e.message)
            refresh_index(self.settings, self.embedder, progress=self.progress)
            self._index = load_index(self.settings)

    # ----------------------------------------------------------------- search
    def search(self, query: str, k: int | None = None, mode: str | None = None,
               _vector: np.ndarray | None = None) -> SearchResult:
        """Top ``k`` passages for ``query`` by ``mode`` (hybrid, dense or bm25)."""
        with self._request():
            return self._search(query, k, mode, _vector)

    def _search(self, query: str, k: int | None, mode: str | None,
                _vector: np.ndarray | Pending | None) -> SearchResult:
        """``search``; ``_vector`` is the query vector, or its encoding already under way (``ask``)."""
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
        english = is_english(q)
        pending = _vector if _vector is not None and not isinstance(_vector, np.ndarray) else None
        if mode in ("hybrid", "dense"):
            t = time.perf_counter()
            if isinstance(_vector, np.ndarray):
                qvec = _vector
            elif pending is None and s.batch_queries:
                pending = self.query_batcher().submit([qn])
            elif pending is None:
                qvec = self.embedder.embed_queries([qn])[0]
            timings["embed"] = (time.perf_counter() - t) * 1000
        bm25_run: list[tuple[int, float]] | None = None
        if mode in ("hybrid", "bm25") and not english:
            # Japanese BM25 needs no vector: with the encoding under way on a batcher worker,
            # it runs meanwhile (on another core; the encoder holds no GIL).
            t = time.perf_counter()
            tokens = tuple(get_tokenizer(s.tokenizer)(qn))
            bm25_run = index.bm25.search(tokens, n_cand)
            timings["bm25"] = (time.perf_counter() - t) * 1000
        if mode in ("hybrid", "dense"):
            if pending is not None:
                qvec = pending.result()[0]
                # From handing the text in to its vector (queueing included), overlapped or not.
                timings["embed"] = pending.seconds * 1000
            assert qvec is not None
            t = time.perf_counter()
            run = self._dense_run(index, qvec, n_cand)
            dense_by_row = dict(run)
            runs.append(run)
            timings["dense"] = (time.perf_counter() - t) * 1000
        if mode in ("hybrid", "bm25"):
            if bm25_run is None:  # English: terms from the dense run's passages (pseudo-relevance feedback)
                t = time.perf_counter()
                tokens, term_weights = self._english_terms(index, q, qvec, runs[0] if runs else [])
                bm25_run = index.bm25.search(tokens, n_cand, term_weights)
                timings["bm25"] = (time.perf_counter() - t) * 1000
            bm25_by_row = dict(bm25_run)
            runs.append(bm25_run)
        if mode == "hybrid" and qvec is not None:
            t = time.perf_counter()
            filled = self._fill_dense(index, qvec, [row for row, _ in runs[1] if row not in dense_by_row])
            if filled:
                dense_by_row.update(filled)  # the hits report true scores
                # Fused at no less than the run's own last score, so the normalisation keeps its
                # range: with an exact store nothing changes (a row it left out scores below its
                # last), and only a passage that the graph missed above that counts.
                lo = min((sc for _, sc in runs[0]), default=-np.inf)
                runs[0] = sorted(runs[0] + [(row, max(sc, lo)) for row, sc in filled],
                                 key=lambda rs: (-rs[1], rs[0]))
            timings["dense"] += (time.perf_counter() - t) * 1000
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
        with self._request():
            vectors, per_query_ms = self._vectors_for(cleaned, mode)
            out = []
            for q, v in zip(cleaned, vectors, strict=True):
                res = self._search(q, k, mode, v)
                if v is not None:
                    res.timings_ms["embed"] = per_query_ms
                out.append(res)
        return out

    def _vectors_for(self, cleaned: Sequence[str], mode: str) -> tuple[list[np.ndarray | None], float]:
        """The query vectors of several cleaned queries in one encoding, and each one's share of its time."""
        if mode not in ("hybrid", "dense") or not cleaned:
            return [None] * len(cleaned), 0.0
        self.index()
        t = time.perf_counter()
        embedded = self.encode_queries([normalize_query(q) for q in cleaned])
        return list(embedded), (time.perf_counter() - t) * 1000 / len(cleaned)

    def _english_terms(self, index: LoadedIndex, question: str, qvec: np.ndarray | None,
                       dense_run: Sequence[tuple[int, float]]) -> tuple[tuple[str, ...], dict[str, float]]:
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
        from assistant.crosslingual import STOP_WORDS, english_term_weights

        s = self.settings
        tokenize = get_tokenizer(s.tokenizer)
        vocab = index.bm25.vocab
        terms: list[str] = [t for t in tokenize(normalize_query(question))
                            if t in vocab and t.isascii() and t not in STOP_WORDS]
        translated: list[str] = []
        # A term's BM25 weight: the table's weights (a word's later translations count for
        # less); the question's own Latin tokens, the glossary's terms and feedback terms count 1.
        weights: dict[str, float] = {}
        if s.crosslingual and index.crosslingual:
            table_terms = english_term_weights(question, index.crosslingual, decay=s.translation_decay)
            translated += [t for t in table_terms if t in vocab]
            weights.update({t: w for t, w in table_terms.items() if t in vocab})
        if s.glossary:
            glossed = [t for t in tokenize(normalize_query(to_japanese_terms(question))) if t in vocab]
            translated += glossed
            # An entry's alternatives (director: 所長 部長 局長 …) weigh as the table's translations do.
            for entry in glossary_phrases(question):
                for n, alt in enumerate(entry.split()):
                    for t in tokenize(normalize_query(alt)):
                        if t in vocab:
                            weights[t] = max(weights.get(t, 0.0), s.translation_decay ** n)
        weights.update(dict.fromkeys(terms, 1.0))
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
        return tuple(dict.fromkeys(terms)), weights

    def _fill_dense(self, index: LoadedIndex, qvec: np.ndarray, missing: list[int]) -> list[tuple[int, float]]:
        """Exact dense scores of the BM25 candidates the dense run did not return.

        An exact store returns the true top ``n``, so a missing row scores below the
        run's last and is scored as such; an approximate graph can miss a passage
        entirely (measured: a document added to a 1M-passage HNSW graph, BM25's first
        hit by far, was in no dense run even at efSearch 2048). Scored anyway but
        fused at no less than the run's last score, the exact store's rankings stay
        as they were (eval unchanged); an unclamped fill moved the min-max range and
        cost 6 points of answer accuracy on the gold set.
        """
        if not missing:
            return []
        sentences = index.sentences if self.settings.dense_sentences else None
        scores = index.dense.score_rows(qvec, np.asarray(missing, np.int64), sentences)
        if scores is None:
            return []
        return [(row, float(sc)) for row, sc in zip(missing, scores, strict=True)]

    def _dense_run(self, index: LoadedIndex, qvec: np.ndarray, n: int) -> list[tuple[int, float]]:
        """Dense candidates: a passage scores the best of its own and its sentences' similarity.

        Slides pack unrelated items into one passage, which dilutes the passage
        vector; the best-matching sentence recovers them (eval: Recall@5 0.83 -> 0.91
        dense-only). How a store finds them (an exact scan, an HNSW pool rescored
        with the memory-mapped sentence vectors, Milvus's sentence collection) is the
        store's business (``dense.DenseStore.best_rows``).
        """
        sentences = index.sentences if self.settings.dense_sentences else None
        return index.dense.best_rows(qvec, n, sentences)

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
        if not query.english:
            query = replace(query, unknown=frozenset(t for t in query.terms if index.df(t) == 0))
        if not query.english and self.settings.synonyms > 0 and self.settings.crosslingual \
                and self.settings.tokenizer == "mecab":
            # Words, not bigrams, have dictionary entries; the term table is read only for a
            # question with a word the corpus never uses.
            unknown = [t for t in dict.fromkeys((*query.terms, *query.focus)) if index.df(t) == 0]
            if unknown and index.crosslingual:
                from assistant.crosslingual import japanese_synonyms

                found = japanese_synonyms(unknown, index.crosslingual, index.bm25.vocab,
                                          per_word=self.settings.synonyms)
                w = self.settings.synonym_weight
                query = replace(query, synonyms={t: dict.fromkeys(s, w) for t, s in found.items()})
        return query

    def ask(
        self, question: str, k: int | None = None, mode: str | None = None, answer_mode: str | None = None
    ) -> Answer:
        """A short extractive (or LLM) answer with numbered citations, or an abstention."""
        with self._request():
            return self._ask(question, k, mode, answer_mode, None)

    def ask_many(self, questions: Sequence[str], k: int | None = None, mode: str | None = None,
                 answer_mode: str | None = None) -> list[Answer]:
        """``ask`` for each question, their query vectors encoded together (a batch run)."""
        cleaned = [clean_query(q, "question") for q in questions]
        with self._request():
            vectors, _ = self._vectors_for(cleaned, mode or self.settings.mode)
            return [self._ask(q, k, mode, answer_mode, v) for q, v in zip(cleaned, vectors, strict=True)]

    def _ask(self, question: str, k: int | None, mode: str | None, answer_mode: str | None,
             _vector: np.ndarray | None) -> Answer:
        answer_mode = answer_mode or self.settings.answer_mode
        if answer_mode not in ANSWER_MODES:
            raise UsageError(f"unknown answer mode {answer_mode!r}; choose one of {sorted(ANSWER_MODES)}")
        question = clean_query(question, "question")
        k = self.settings.top_k if k is None else k
        if not 1 <= k <= 100:
            raise UsageError(f"-k must be between 1 and 100, got {k}")
        vector: np.ndarray | Pending | None = _vector
        if vector is None and self.settings.batch_queries and (mode or self.settings.mode) in ("hybrid", "dense"):
            vector = self.query_batcher().submit([normalize_query(question)])  # encoded while we analyse
        # Imported after the submission: in a new process the model loads meanwhile.
        from assistant.reader import read
        from assistant.reader.scorer import load_model

        query = self.analyse(question)
        result = self._search(question, max(k, self.reader_policy.passages), mode, vector)
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

    def on_corpus(self, corpus_dir: Path, index_dir: Path) -> Pipeline:
        """A pipeline with this one's settings, embedder and reader over another corpus and its index
        (the reader's retrain asks each training file's questions of that file's corpus)."""
        other = Pipeline(replace(self.settings, corpus_dir=Path(corpus_dir), index_dir=Path(index_dir)),
                         self.embedder, self.progress)
        other.reader_model = self.reader_model
        other.reader_policy = self.reader_policy
        other.cite_policy = self.cite_policy
        return other

    def with_reader_model(self, model: ReaderModel | None) -> Pipeline:
        """A pipeline sharing this one's index and embedder, answering with another reader model."""
        other = Pipeline(self.settings, self._embedder, self.progress)
        other._index = self._index
        other._batch_owner = self._batch_owner or self
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
