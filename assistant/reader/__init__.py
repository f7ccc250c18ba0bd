"""The reader stage: from an analysed question and retrieved passages to a cited answer.

``read(query, result, index, policy, model) -> Answer`` is a pure stage: it
calls nothing back in ``Pipeline``. It gathers candidates (sentences and
recovered cells of the top passages), scores them with the learned scorer,
decides whether to abstain from its own evidence, selects the answer's units and
direct value, and shapes the answer: the value first for value questions, one item
a line for lists, the reason sentence for why-questions, each part of a two-part
question with its own citation.

Modules: ``query`` (question analysis), ``candidates``, ``features``, ``scorer``
(learned weights), ``abstain``, ``select``, ``shape`` (answer text and citations),
``policy`` (every tuned value), ``train`` (one-command retrain).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from assistant.reader.abstain import abstain_features, missing_literals, model_columns
from assistant.reader.candidates import Candidate, gather
from assistant.reader.features import adapted_scores, featurize
from assistant.reader.policy import DEFAULT_POLICY, ReaderPolicy
from assistant.reader.query import Query, analyse
from assistant.reader.scorer import ReaderModel, load_model

if TYPE_CHECKING:
    from assistant.answer import Answer
    from assistant.bm25 import Tokenize
    from assistant.pipeline import Hit, SearchResult
    from assistant.store import LoadedIndex

__all__ = ["Evidence", "Query", "ReaderPolicy", "analyse", "evidence", "read"]


@dataclass(frozen=True)
class Evidence:
    """Everything the reader computed about one question before shaping the answer."""

    query: Query
    cands: list[Candidate]
    X: np.ndarray
    logits: np.ndarray
    abstain_x: np.ndarray
    abstain_score: float
    missing: tuple[str, ...]
    #: The candidates' learned similarity to the question (None without the model's adapter).
    adapted: np.ndarray | None = None


def translated_share(query: Query, index: LoadedIndex) -> float:
    """For an English question, the share of its content words the index's term table translates."""
    if not query.english:
        return 1.0  # before the table: a Japanese question never loads it
    table = getattr(index, "crosslingual", None)
    if not table:
        return 1.0
    from assistant.crosslingual import coverage

    hit, total = coverage(query.text, table)
    return hit / total if total else 0.0


def spelled_out(index: LoadedIndex, initialism: str) -> list[str]:
    """The corpus words an English abbreviation of a Japanese question may stand for (the term
    table is read only when the abbreviation is missing from the passages)."""
    table = getattr(index, "crosslingual", None)
    if not table:
        return []
    from assistant.crosslingual import spelled_out as expand

    return expand(initialism, table)


def passage_token_sets(hits: Sequence[Hit], cands: Sequence[Candidate]) -> list[frozenset[str]]:
    """The tokens of each hit's candidates (what the abstention model calls passage coverage)."""
    by_row: dict[int, set[str]] = {h.row: set() for h in hits}
    for c in cands:
        by_row.setdefault(c.row, set()).update(c.tokens)
    return [frozenset(by_row[h.row]) for h in hits]


def evidence(query: Query, result: SearchResult, index: LoadedIndex, tokenize: Tokenize, names: bool,
             policy: ReaderPolicy, model: ReaderModel) -> Evidence:
    """Candidates, their features and scores, and the abstention evidence for one question."""
    hits = result.hits[: policy.passages]
    cands = gather(index, hits, result.query_vector, policy.passages)
    adapted = adapted_scores(model.adapter, index.sentences.vectors, cands, result.query_vector)
    X = featurize(query, cands, adapted)
    logits = model.candidate.logits(X) if len(cands) else np.zeros(0, np.float32)
    passage_tokens = passage_token_sets(hits, cands)
    pdense = [float(h.dense_score) for h in hits if h.dense_score is not None]
    answer_logits = model.answers.logits(X) if model.answers is not None and len(cands) else None
    ax = abstain_features(query, cands, X, logits, passage_tokens, pdense, index.df, translated_share(query, index),
                          [h.chunk.search_text for h in hits], answer_logits)
    score = float(model.abstain.proba(ax[None, model_columns(model.abstain.features)])[0])
    missing = missing_literals(query, [h.chunk.search_text for h in hits], partial(spelled_out, index)) \
        if not query.english else ()
    return Evidence(query, cands, X, logits, ax, score, missing, adapted)


def read(query: Query, result: SearchResult, index: LoadedIndex, tokenize: Tokenize, names: bool = True,
         policy: ReaderPolicy = DEFAULT_POLICY, model: ReaderModel | None = None,
         clock: Callable[[], float] = time.perf_counter) -> Answer:
    """The cited answer to ``query`` from the passages of ``result`` (or an abstention)."""
    from assistant.reader.shape import shape

    t0 = clock()
    model = model or load_model()
    ev = evidence(query, result, index, tokenize, names, policy, model)
    answer = shape(ev, result, index, tokenize, names, policy, model)
    timings = dict(result.timings_ms)
    timings["read"] = (clock() - t0) * 1000
    timings["total"] = timings.get("total", 0.0) + timings["read"]
    from dataclasses import replace

    return replace(answer, timings_ms=timings)
