"""Fit the reader model: ``python -m assistant.reader.train`` (one command, fixed seed).

Training data: ``eval/gold.jsonl`` and ``eval/train.jsonl`` against the main corpus (never
``eval/holdout.jsonl``); ``--data`` may add files on other corpora (``eval/extra/train.jsonl``). Each file
is read against its own corpus and index (``training_corpus``): its questions are asked of
that corpus's pipeline, so their candidates and features use that index's idf and df, and
the examples of every corpus are pooled for fitting. For every question the pipeline
retrieves passages and gathers candidates exactly as ``ask`` does; a candidate is positive when its text
contains a gold answer and its lines overlap a gold span. The candidate scorer is
a LightGBM ranker; the abstention model is a LightGBM classifier of small trees over
question-level evidence (``abstain.MODEL_FEATURES``), monotone in its evidence
(``abstain.MONOTONE`` but the coverage columns of ``abstain.TREE_FREE``), fitted on out-of-fold candidate scores (stacking: each
question's row is computed with a ranker fitted without its fold) so it sees the
ranker as it behaves on unseen questions; its threshold is chosen on the
out-of-fold abstention scores of five fold splits pooled.
Cross-validation is grouped by question. ``fold_models`` gives the per-fold
models the eval uses to score the gold set out of fold.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
import threading
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.config import PROJECT_ROOT, Settings
from assistant.gold import GoldItem, load_gold
from assistant.reader.abstain import (
    ABSTAIN_FEATURES,
    MODEL_FEATURES,
    MONOTONE,
    TREE_FREE,
    abstain_features,
    model_columns,
)
from assistant.reader.candidates import Candidate
from assistant.reader.features import ADAPTER_SCALE, FEATURES, learned_similarity, set_adapted
from assistant.reader.scorer import MODEL_PATH, Linear, ReaderModel, Trees

logger = logging.getLogger(__name__)

SEED = 13
FOLDS = 5
#: Fold splits whose out-of-fold abstention scores are pooled to choose the abstention cut-off.
THRESHOLD_SEEDS: tuple[int, ...] = (13, 1, 2, 3, 4)
#: Candidate scorer: "trees" (LightGBM lambdarank) or "linear" (logistic regression).
SCORER = "trees"
#: LightGBM settings of the candidate ranker, chosen by grouped CV (small trees: little data).
LGB_PARAMS: dict[str, float | int] = {"n_estimators": 300, "num_leaves": 4, "learning_rate": 0.05,
                                      "min_child_samples": 10, "subsample": 0.8, "subsample_freq": 1,
                                      "colsample_bytree": 0.8}
#: The ranker's own settings: larger trees than the answer classifier's. Grouped CV over five fold
#: splits (887 items), top-1: 0.597 ± 0.004 with the settings above, 0.609 ± 0.008 with 8 leaves,
#: 0.606 ± 0.008 with 16 leaves, 20 samples a leaf and 200 trees (on the code before this stop's
#: merges: 0.593, 0.606 and 0.611; 32 leaves 0.612, 500 small trees 0.603).
RANKER_PARAMS: dict[str, float | int] = {**LGB_PARAMS, "num_leaves": 8}
#: L-BFGS steps of the learned similarity (``fit_adapter``): stopping early is its only regulariser.
#: Grouped 5-fold CV on the main corpus's 1,167 answerable training questions, top-1 among the
#: candidates by similarity alone: 0.428 with the cosine, 0.543 after 100 or 300 steps (it has
#: converged); with an L2 pull towards the cosine strong enough to matter (1e-3 and above) it
#: stays the cosine. As a ranker column, the ranker's CV top-1 0.622 -> 0.642.
ADAPTER_ITERATIONS = 100
#: Rankers fitted with as many seeds (their row and column samples differ) and averaged: one ranker's
#: choice between two close lines moved with its seed and with any change of the features, so that a
#: refit flipped several answers each way on every evaluation set.
BAGS = 5
#: Threads that fit models side by side (``SHIORI_TRAIN_THREADS``; default: one a core). LightGBM
#: fits outside the GIL, so ``eval --oof``'s five fold models and a retrain's cross-validation
#: runs take about half the time on two cores. Every model has its own seed and one thread, so
#: the fitted models are the same whatever the number of threads.
TRAIN_THREADS = int(os.environ.get("SHIORI_TRAIN_THREADS") or os.cpu_count() or 1)
#: Regularisation of the logistic regressions (inverse strength), chosen by grouped CV.
C_CANDIDATE = 0.5
C_ABSTAIN = 0.5
#: The abstention model: ``trees`` (``fit_abstain_trees``) or ``linear`` (``fit_abstain``, the logistic
#: regression it replaced). Grouped CV over the training pool, five fold splits' out-of-fold scores
#: at the cut-off: AUC 0.910 -> 0.915-0.918, precision / recall 0.59 / 0.59 -> 0.60-0.62 / 0.59-0.62;
#: on fresh16 (its questions not yet trained on) 0.36 / 0.50 -> 0.75 / 0.75 for every split.
ABSTAIN_SCORER = "trees"
#: Its trees: few leaves, so that each tree weighs two or three pieces of evidence together.
ABSTAIN_PARAMS: dict[str, float | int] = {"n_estimators": 200, "num_leaves": 3, "learning_rate": 0.03,
                                          "min_child_samples": 20, "subsample": 0.8, "subsample_freq": 1,
                                          "colsample_bytree": 0.8}
#: The share of unanswerable questions the abstention cut-off is chosen for: about their share in
#: the gold set (18 of 140 questions). The training pool holds more of them on purpose (near-miss
#: ones written to teach the abstention model), and the cut-off that balances precision and
#: recall depends on how common they are: chosen on the pool as it is, it abstains too readily.
NONE_SHARE = 0.12
#: Training files. A file beside a corpus directory (``DIR/train.jsonl`` with ``DIR/corpus/manifest.json``)
#: holds questions on that corpus; every other file, on the main corpus (``training_corpus``).
#: The second corpus's training questions are not among the defaults: trained on, its six short
#: documents are no longer a corpus the reader has never seen, and the blind sets on the main corpus
#: lost one or two answers with them (docs/READER.md, §6). ``--data`` adds them.
#: The blind sets of earlier stops (eval/fresh9-fresh17.jsonl): 795 questions written from the two
#: documents alone, run first on the system before the change they measured and diagnosed since; and
#: two sets written the same way to train on (eval/fresh18.jsonl, fresh19: 180 questions, never run
#: blind; eval/fresh20.jsonl is the blind set of this stop). Two more such sets, fresh21 and fresh22
#: (179 questions), are not trained on yet: with them the second corpus's abstention fell to 0.67 /
#: 0.67 (precision / recall, gate 0.65 / 0.75; two unanswerable questions answered at scores just
#: over the cut-off), against 0.69 / 0.75 without them (docs/READER.md, §6).
#: They train every part of the reader: the only questions worded apart from the project, and the
#: only unanswerable ones written that way (85). Until 2026-12-02 they trained the ranker only, because
#: on the abstention side they had cost the second corpus's abstention (0.77 / 0.83 to 0.69 / 0.75,
#: precision / recall); with the learned similarity that no longer happens (0.79 / 0.92 either way),
#: and out of fold on their own questions the abstention score separates the unanswerable ones
#: better with them (AUC 0.882 to 0.904; docs/READER.md, §6).
BLIND_FILES = tuple(PROJECT_ROOT / "eval" / f"fresh{n}.jsonl" for n in range(9, 20))
TRAIN_FILES = (PROJECT_ROOT / "eval" / "gold.jsonl", PROJECT_ROOT / "eval" / "train.jsonl", *BLIND_FILES)
#: Training files whose questions train the abstention side only (the answer classifier, the
#: abstention model and its cut-off), never the ranker: the second corpus's training questions.
#: Fitted on the two slide decks alone, the cut-off moved with every refit by enough to swing the
#: second corpus's abstention precision across its gate (0.71 to 0.77 between two refits that
#: changed nothing about it); with that corpus's own training questions the abstention model has
#: seen more than one kind of document, while the ranker still has not (docs/READER.md, §6).
ABSTAIN_FILES = (PROJECT_ROOT / "eval" / "extra" / "train.jsonl",)
#: Training files whose questions train the ranker only, never the abstention side (``--rank-data``):
#: none by default since the blind sets joined ``TRAIN_FILES``.
RANK_FILES: tuple[Path, ...] = ()
#: Kinds that train the candidate scorer (``cite`` items are draft sentences, not questions).
ANSWER_KINDS = ("fact", "number", "list", "why", "en", "paraphrase")


def _squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


@dataclass
class Example:
    """One question's candidates, features and labels."""

    item: GoldItem
    cands: list[Candidate]
    X: np.ndarray
    y: np.ndarray  # 1 for candidates that answer
    passage_tokens: list[frozenset[str]]
    passage_dense: list[float]
    query: object
    translated: float = 1.0
    passage_texts: tuple[str, ...] = ()
    #: Document frequency of a term in the index the question was asked of (``index.df``); None:
    #: the ``df`` given to ``fit`` (examples built before training spanned several corpora).
    df: object = None
    #: False for a question that trains the abstention side only (``--abstain-data``): the answer
    #: classifier, the abstention model and its cut-off, never the ranker.
    rank: bool = True
    #: False for a question that trains the ranker only (``--rank-data``): never the answer classifier,
    #: the abstention model or its cut-off.
    abstain: bool = True
    #: Each candidate's vector times the question's, per dimension (``features.adapter_inputs``): what
    #: the learned similarity is fitted on; None without a question vector.
    P: np.ndarray | None = None


def label(item: GoldItem, cands: Sequence[Candidate]) -> np.ndarray:
    """1 for candidates whose text holds a gold answer and whose lines overlap a gold span."""
    from assistant.reader.candidates import line_of

    answers = [_squash(a) for a in item.answers]
    y = np.zeros(len(cands), dtype=np.int8)
    if not answers or item.doc is None:
        return y
    for i, c in enumerate(cands):
        if c.chunk.doc != item.doc:
            continue
        first, last = line_of(c.chunk, c.start), line_of(c.chunk, max(c.start, c.end - 1))
        if not any(first <= b and a <= last for a, b in item.spans()):
            continue
        text = _squash(c.text if c.cell is None else c.cell.label + c.cell.value)
        quote = _squash(c.source)
        if any(a in text or a in quote for a in answers):
            y[i] = 1
    return y


def query_vectors(pipeline, questions: Sequence[str], chunk: int = 32) -> list[np.ndarray | None]:  # type: ignore[no-untyped-def]
    """The query vector ``pipeline.search`` would compute for each question, encoded beforehand in
    chunks on ``TRAIN_THREADS`` threads (the encoder's cost is linear in tokens: what the threads buy
    is a core each). The same vectors, bit for bit, as ``ask --batch``'s (``batch.QueryVectors``):
    the bundled encoder packs texts without padding (``tests/test_batching.py``). None where
    ``search`` encodes nothing (BM25 only) or refuses the question (it raises then, as before)."""
    from assistant.errors import UsageError
    from assistant.normalize import normalize_query
    from assistant.validate import clean_query

    if pipeline.settings.mode not in ("hybrid", "dense"):
        return [None] * len(questions)

    def text(question: str) -> str | None:  # what ``search`` encodes
        try:
            return normalize_query(clean_query(question, "query"))
        except UsageError:
            return None

    texts = [text(q) for q in questions]
    unique = list(dict.fromkeys(t for t in texts if t is not None))
    parts = _map(lambda i: pipeline.embedder.embed_queries(unique[i:i + chunk]), range(0, len(unique), chunk))
    by_text = dict(zip(unique, (v for part in parts for v in part), strict=True))
    return [None if t is None else by_text[t] for t in texts]


def build_examples(pipeline, items: Sequence[GoldItem], progress: bool = True) -> list[Example]:  # type: ignore[no-untyped-def]
    """Candidates and features of every item, computed as ``ask`` computes them."""
    from assistant.reader import passage_token_sets, translated_share
    from assistant.reader.candidates import gather
    from assistant.reader.features import adapter_inputs, featurize

    policy = pipeline.reader_policy
    index = pipeline.index()
    out = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc="features", unit="q", file=sys.stderr, leave=False)
    vectors = query_vectors(pipeline, [item.question for item in items])
    for item, vector in zip(items, vectors, strict=True):
        query = pipeline.analyse(item.question)
        result = pipeline.search(item.question, k=10, _vector=vector)
        query = query.with_search_terms(result.query_tokens, index.idf)
        hits = result.hits[: policy.passages]
        cands = gather(index, hits, result.query_vector, policy.passages)
        X = featurize(query, cands)
        ptoks = passage_token_sets(hits, cands)
        pdense = [float(h.dense_score) for h in hits if h.dense_score is not None]
        out.append(Example(item, cands, X, label(item, cands), ptoks, pdense, query, translated_share(query, index),
                           tuple(h.chunk.search_text for h in hits), index.df,
                           P=adapter_inputs(index.sentences.vectors, cands, result.query_vector)))
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    return out


def _fit_linear(X: np.ndarray, y: np.ndarray, names: Sequence[str], C: float, balanced: bool) -> Linear:
    from sklearn.linear_model import LogisticRegression

    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-6] = 1.0
    clf = LogisticRegression(C=C, class_weight="balanced" if balanced else None, max_iter=2000, random_state=SEED)
    clf.fit((X - mean) / scale, y)
    return Linear(tuple(names), clf.coef_[0].astype(np.float32), float(clf.intercept_[0]),
                  mean.astype(np.float32), scale.astype(np.float32))


def fit_abstain(X: np.ndarray, y: np.ndarray, names: Sequence[str], C: float = C_ABSTAIN,
                monotone: frozenset[str] = MONOTONE) -> Linear:
    """The linear abstention model (``ABSTAIN_SCORER = "linear"``; the shipped one is ``fit_abstain_trees``):
    a class-balanced logistic regression whose ``monotone`` features weigh >= 0.

    The objective is scikit-learn's (``C`` times the class-weighted log loss plus half the squared
    weights, on standardised columns), minimised by L-BFGS-B with a lower bound of zero on the
    weights of ``monotone`` features: more of such evidence never makes answering less likely.
    """
    from scipy.optimize import minimize

    mean = X.mean(axis=0).astype(np.float64)
    scale = X.std(axis=0).astype(np.float64)
    scale[scale < 1e-6] = 1.0
    Z = (X - mean) / scale
    y = np.asarray(y, dtype=np.float64)
    n1 = max(float(y.sum()), 1.0)
    n0 = max(float(len(y) - y.sum()), 1.0)
    sw = np.where(y == 1, len(y) / (2 * n1), len(y) / (2 * n0))  # "balanced", as scikit-learn weighs
    d = Z.shape[1]

    def loss(p: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = p[:d], p[d]
        z = Z @ w + b
        nll = float(C * (sw * (np.logaddexp(0, -z) * y + np.logaddexp(0, z) * (1 - y))).sum() + 0.5 * w @ w)
        g = C * sw * (1 / (1 + np.exp(-z)) - y)
        return nll, np.append(Z.T @ g + w, g.sum())

    bounds = [(0.0, None) if n in monotone else (None, None) for n in names] + [(None, None)]
    res = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 5000, "gtol": 1e-8})
    return Linear(tuple(names), res.x[:d].astype(np.float32), float(res.x[d]),
                  mean.astype(np.float32), scale.astype(np.float32))


def fit_abstain_trees(X: np.ndarray, y: np.ndarray, names: Sequence[str],
                      monotone: frozenset[str] = MONOTONE - TREE_FREE) -> Trees:
    """The abstention model as small trees (LightGBM, binary): the probability of an answer rises
    with every feature of ``monotone``; the priors and the ``TREE_FREE`` coverage columns go either way."""
    import lightgbm as lgb

    model = lgb.LGBMClassifier(random_state=SEED, verbose=-1, n_jobs=1, **ABSTAIN_PARAMS,
                               monotone_constraints=[int(n in monotone) for n in names])
    model.fit(np.asarray(X, np.float64), np.asarray(y))
    return Trees.from_lightgbm(model.booster_.dump_model(), names)


def fit_abstention(X: np.ndarray, y: np.ndarray, names: Sequence[str], C: float = C_ABSTAIN,
                   scorer: str = ABSTAIN_SCORER) -> Linear | Trees:
    """The abstention model of ``scorer`` (``ABSTAIN_SCORER``)."""
    return fit_abstain_trees(X, y, names) if scorer == "trees" else fit_abstain(X, y, names, C)


def fit_candidate(examples: Sequence[Example], C: float = C_CANDIDATE, scorer: str = SCORER,
                  bags: int = 1) -> Linear | Trees:
    """The candidate scorer, fitted on the candidates of the answerable examples that have a positive
    (``bags`` rankers of consecutive seeds averaged; the cross-validation runs that give the abstention
    model its out-of-fold scores fit one each: five times as many fits would slow ``eval --oof`` fivefold)."""
    use = [e for e in examples if e.rank and e.item.kind in ANSWER_KINDS and e.y.any()]
    X = np.concatenate([e.X for e in use])
    y = np.concatenate([e.y for e in use])
    if scorer == "linear":
        return _fit_linear(X, y, FEATURES, C, balanced=True)
    import lightgbm as lgb

    group = [len(e.cands) for e in use]

    def one_bag(i: int) -> dict:  # type: ignore[type-arg]
        model = lgb.LGBMRanker(objective="lambdarank", random_state=SEED + i, verbose=-1, n_jobs=1, **RANKER_PARAMS)
        model.fit(X, y, group=group)
        return model.booster_.dump_model()

    return Trees.from_lightgbm_bag(_map(one_bag, range(bags)), FEATURES)  # type: ignore[arg-type]


def fit_adapter(examples: Sequence[Example], iterations: int | None = None) -> np.ndarray | None:
    """The learned similarity: per-dimension weights ``w`` of the embedder's cosine, ``sum_d w_d q_d v_d``.

    Fitted like the ranker, on the answerable questions that have an answering candidate: a softmax
    over each question's candidates, the log-probability of its answering ones maximised (L-BFGS,
    all questions' candidates in one matrix). It starts at the cosine (every weight
    ``ADAPTER_SCALE``); ``iterations`` (``ADAPTER_ITERATIONS``; 0: the cosine itself) stops it early,
    its only regulariser: 384 weights against about 1,500 questions. None when no question has vectors.
    """
    from scipy.optimize import minimize

    iterations = ADAPTER_ITERATIONS if iterations is None else iterations
    use = [e for e in examples if e.rank and e.item.kind in ANSWER_KINDS and e.y.any() and e.P is not None]
    if not use:
        return None
    M = np.concatenate([e.P for e in use]).astype(np.float64)  # type: ignore[misc]
    pos = np.concatenate([e.y > 0 for e in use])
    starts = np.cumsum([0] + [len(e.cands) for e in use[:-1]])
    group = np.repeat(np.arange(len(use)), [len(e.cands) for e in use])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = M @ w
        s = s - np.maximum.reduceat(s, starts)[group]
        e = np.exp(s)
        Z = np.add.reduceat(e, starts)
        ep = np.where(pos, e, 0.0)
        Zp = np.add.reduceat(ep, starts)
        nll = float(np.mean(np.log(Z) - np.log(Zp)))
        coef = e / Z[group] - ep / Zp[group]
        return nll, (M.T @ coef) / len(use)

    w0 = np.full(M.shape[1], ADAPTER_SCALE)
    if iterations <= 0:
        return w0.astype(np.float32)
    res = minimize(loss, w0, jac=True, method="L-BFGS-B", options={"maxiter": iterations})
    return res.x.astype(np.float32)


def with_adapter(examples: Sequence[Example], folds: int = FOLDS,
                 seed: int = SEED) -> tuple[list[Example], np.ndarray | None]:
    """``examples`` with their learned-similarity columns filled, and the adapter fitted on them all.

    A question the adapter trains on gets its score from an adapter fitted without its fold
    (cross-fitting): scored by the adapter that saw its answer, the ranker would learn to trust the
    column more than it deserves on a new question. The other questions (unanswerable ones, those
    without an answering candidate) get the full adapter's score, as a new question does.
    """
    full = fit_adapter(examples)
    if full is None:
        return list(examples), None
    fold = _groups(examples, folds, seed)
    per_fold = _map(lambda k: fit_adapter([e for e, f in zip(examples, fold, strict=True) if f != k]), range(folds))
    out = []
    for e, f in zip(examples, fold, strict=True):
        trained = e.rank and e.item.kind in ANSWER_KINDS and e.y.any()
        out.append(adapted(e, per_fold[f] if trained and per_fold[f] is not None else full))
    return out, full


def adapted(e: Example, w: np.ndarray | None) -> Example:
    """``e`` with its learned-similarity columns computed with the weights ``w`` (a copy of its rows)."""
    if w is None or e.P is None or not len(e.cands):
        return e
    X = e.X.copy()
    set_adapted(X, learned_similarity(e.P, w))
    return replace(e, X=X)


def fit_answer(examples: Sequence[Example]) -> Trees:
    """The answer classifier: does this candidate state the answer to its question?

    A LightGBM binary classifier over the candidate features (the ranker's settings), fitted on the
    candidates of the answerable examples that have a positive and on every candidate of the
    unanswerable ones (all negatives): unlike the ranker, whose scores only order the candidates
    of one question, its score is one scale for all questions, and it has seen the lines that
    look like an answer to a question the documents do not answer.
    """
    import lightgbm as lgb

    use = [e for e in examples if e.abstain and len(e.cands)
           and (e.item.kind == "none" or (e.item.kind in ANSWER_KINDS and e.y.any()))]
    X = np.concatenate([e.X for e in use])
    y = np.concatenate([e.y for e in use])
    model = lgb.LGBMClassifier(random_state=SEED, verbose=-1, n_jobs=1, **LGB_PARAMS)
    model.fit(X, y)
    return Trees.from_lightgbm(model.booster_.dump_model(), FEATURES)


def _abstain_row(e: Example, scorer: Linear | Trees, df,  # type: ignore[no-untyped-def]
                 answers: Linear | Trees | None = None) -> np.ndarray:
    logits = scorer.logits(e.X) if len(e.cands) else np.zeros(0, np.float32)
    answer_logits = answers.logits(e.X) if answers is not None and len(e.cands) else None
    df = e.df if e.df is not None else df
    return abstain_features(e.query, e.cands, e.X, logits, e.passage_tokens, e.passage_dense, df,  # type: ignore[arg-type]
                            e.translated, e.passage_texts, answer_logits)


def _groups(examples: Sequence[Example], folds: int, seed: int = SEED) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ids = np.arange(len(examples)) % folds
    rng.shuffle(ids)
    return ids


_nested = threading.local()


def _map(fn: Callable[[int], object], tasks: Sequence[int]) -> list:  # type: ignore[type-arg]
    """``[fn(t) for t in tasks]``, on ``TRAIN_THREADS`` threads at the outermost call only.

    Calls made inside a task run in sequence: the outermost level (fold models, cross-validation
    runs, folds) already keeps every core busy, and nesting would only add threads to switch.
    """
    workers = min(len(tasks), TRAIN_THREADS)
    if workers <= 1 or getattr(_nested, "inside", False):
        return [fn(t) for t in tasks]

    def run(t: int) -> object:
        _nested.inside = True
        try:
            return fn(t)
        finally:
            _nested.inside = False

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(run, tasks))


def cross_validate(examples: Sequence[Example], df, folds: int = FOLDS,  # type: ignore[no-untyped-def]
                   C: float = C_CANDIDATE, C_abs: float = C_ABSTAIN, seed: int = SEED) -> dict[str, object]:
    """Out-of-fold candidate accuracy and abstention features (for the abstention model)."""
    fold = _groups(examples, folds, seed)
    top1: list[float] = []
    rows = np.zeros((len(examples), len(ABSTAIN_FEATURES)), np.float32)

    def one_fold(k: int) -> tuple[list[int], list[np.ndarray], list[float]]:
        train = [e for e, f in zip(examples, fold, strict=True) if f != k]
        scorer = fit_candidate(train, C)
        answers = fit_answer(train)
        held = [i for i, f in enumerate(fold) if f == k]
        hits = [float(e.y[int(np.argmax(scorer.logits(e.X)))]) for e in (examples[i] for i in held)
                if e.rank and e.item.kind in ANSWER_KINDS and len(e.cands)]
        none = np.zeros(len(ABSTAIN_FEATURES), np.float32)
        return held, [_abstain_row(examples[i], scorer, df, answers) if examples[i].abstain else none
                      for i in held], hits

    for held, held_rows, hits in _map(one_fold, range(folds)):  # type: ignore[misc]
        rows[held] = np.asarray(held_rows, np.float32).reshape(len(held), -1)
        top1 += hits
    # Ranker-only questions (``Example.abstain`` False) leave the abstention side: its rows, labels
    # and out-of-fold scores are those of the other questions.
    keep = np.array([e.abstain for e in examples], dtype=bool)
    rows, fold = rows[keep], fold[keep]
    answerable = np.array([e.item.kind != "none" for e in examples if e.abstain], dtype=np.int8)
    abstain_oof = np.zeros(len(answerable))
    cols = model_columns(MODEL_FEATURES)
    for k in range(folds):
        tr, te = fold != k, fold == k
        model = fit_abstention(rows[tr][:, cols], answerable[tr], MODEL_FEATURES, C_abs)
        abstain_oof[te] = model.proba(rows[te][:, cols])
    return {"top1": float(np.mean(top1)) if top1 else 0.0, "n_top1": len(top1), "abstain_rows": rows,
            "abstain_oof": abstain_oof, "answerable": answerable}


def top1_spread(examples: Sequence[Example], seeds: Sequence[int] = THRESHOLD_SEEDS, folds: int = FOLDS,
                ) -> tuple[float, float, list[float]]:
    """Grouped-CV candidate top-1 over several fold splits: (mean, standard deviation, per split).

    With a few hundred questions one split moves top-1 by a point or two on its own: compare a
    change by the mean over splits, and believe it only when it clears the spread.
    """
    per: list[float] = []
    for seed in seeds:
        ids = _groups(examples, folds, seed)
        hits = []
        for k in range(folds):
            # The learned similarity is fitted inside the fold too, as ``fit`` does: cross-fitted for
            # the rows the ranker trains on, the fold's full adapter for the questions it is tested on.
            fitted, w = with_adapter([e for e, f in zip(examples, ids, strict=True) if f != k], folds, seed)
            scorer = fit_candidate(fitted)
            hits += [float(e.y[int(np.argmax(scorer.logits(adapted(e, w).X)))])
                     for e, f in zip(examples, ids, strict=True)
                     if f == k and e.rank and e.item.kind in ANSWER_KINDS and len(e.cands)]
        per.append(float(np.mean(hits)) if hits else 0.0)
    return float(np.mean(per)), float(np.std(per)), per


def choose_threshold(scores: np.ndarray, answerable: np.ndarray,
                     none_share: float | None = None) -> tuple[float, float, float]:
    """The abstention cut-off maximising the lower of abstention precision and recall.

    With ``none_share``, precision is measured as if unanswerable questions made up that share
    of the questions (each one weighted accordingly); recall does not depend on it.
    Returns (threshold, precision, recall) measured on the given (out-of-fold) scores.
    """
    none = answerable == 0
    n_none, n_ans = int(none.sum()), int((~none).sum())
    w = 1.0
    if none_share is not None and n_none and n_ans:
        w = none_share / (1 - none_share) * n_ans / n_none
    best = (0.5, 0.0, 0.0)
    best_key = (-1.0, -1.0)
    for t in np.unique(np.round(scores, 3)):
        abstain = scores < t
        if not abstain.any():
            continue
        hit = float((abstain & none).sum())
        p = w * hit / (w * hit + float((abstain & ~none).sum()))
        r = hit / max(n_none, 1)
        key = (min(p, r), p + r)
        if key > best_key:
            best_key, best = key, (float(t), p, r)
    return best


def fit(examples: Sequence[Example], df, folds: int = FOLDS) -> ReaderModel:  # type: ignore[no-untyped-def]
    """The shipped model: both parts fitted on every example; the threshold from out-of-fold scores."""
    examples, adapter = with_adapter(examples, folds)
    cv = cross_validate(examples, df, folds)
    # The cut-off from the out-of-fold scores of several fold splits pooled: with a few dozen
    # unanswerable questions, one split's scores moved it enough to swing abstention recall on
    # the second corpus by 15 points between two retrains that changed nothing about abstention.
    others = [s for s in THRESHOLD_SEEDS if s != SEED]
    runs = [cv] + _map(lambda s: cross_validate(examples, df, folds, seed=s), others)
    thr, p, r = choose_threshold(np.concatenate([c["abstain_oof"] for c in runs]),  # type: ignore[misc]
                                 np.concatenate([c["answerable"] for c in runs]), NONE_SHARE)  # type: ignore[misc]
    # Each split's own cut-off, recorded to show how far one split alone would move it.
    per_split = [choose_threshold(c["abstain_oof"], c["answerable"], NONE_SHARE)[0] for c in runs]  # type: ignore[arg-type]
    scorer = fit_candidate(examples, bags=BAGS)
    answers = fit_answer(examples)
    rows = cv["abstain_rows"][:, model_columns(MODEL_FEATURES)]  # type: ignore[index]
    abstain = fit_abstention(rows, cv["answerable"], MODEL_FEATURES, C_ABSTAIN)  # type: ignore[arg-type]
    return ReaderModel(scorer, abstain, thr, {
        "cv_candidate_top1": round(float(cv["top1"]), 4),  # type: ignore[arg-type]
        "cv_abstention_precision": round(p, 4), "cv_abstention_recall": round(r, 4),
        "folds": folds, "seed": SEED, "scorer": SCORER, "lgb": LGB_PARAMS, "lgb_ranker": RANKER_PARAMS, "C_abstain": C_ABSTAIN,
        "none_share": NONE_SHARE, "abstain_scorer": ABSTAIN_SCORER, "abstain_lgb": ABSTAIN_PARAMS,
        "abstain_monotone": sorted((MONOTONE - (TREE_FREE if ABSTAIN_SCORER == "trees" else frozenset()))
                                   & set(MODEL_FEATURES)),
        "abstain_threshold_per_split": [round(t, 4) for t in per_split],
        "adapter_iterations": ADAPTER_ITERATIONS,
    }, answers, adapter)


def fold_models(examples: Sequence[Example], eval_ids: set[str], df, folds: int = FOLDS,  # type: ignore[no-untyped-def]
                ) -> dict[str, ReaderModel]:
    """For each of ``eval_ids``, a model fitted without that item's fold (out-of-fold eval).

    The items in ``eval_ids`` are split into folds; every other example always trains.
    """
    ev = [i for i, e in enumerate(examples) if e.item.id in eval_ids]
    rng = np.random.default_rng(SEED)
    order = np.array(ev)
    rng.shuffle(order)
    def one_fold(k: int) -> tuple[set[int], ReaderModel]:
        held = set(order[k::folds].tolist())
        return held, fit([e for i, e in enumerate(examples) if i not in held], df, folds)

    out: dict[str, ReaderModel] = {}
    for held, model in _map(one_fold, range(folds)):  # type: ignore[misc]
        for i in held:
            out[examples[i].item.id] = model
    return out


#: The fold models of ``eval --oof`` on the gold set, written by the retrain beside the model (one
#: command regenerates both) and read by ``eval --oof`` when its manifest matches (``load_fold_models``).
FOLDS_PATH = MODEL_PATH.with_name("folds.json")
#: The gold file ``eval --oof`` scores by default: its questions are split into the folds.
OOF_GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"
#: The reader modules whose code turns the examples into fitted models: this one, the scorer, and
#: the abstention rows computed from each fold's scores (with the feature and query helpers they
#: call). Their code, comments and docstrings aside, is part of the fold models' manifest.
FIT_MODULES = ("train", "abstain", "scorer", "features", "query", "candidates")


def trainer_settings() -> dict[str, object]:
    """Every setting of the fit (the manifest records them; any change means refitting)."""
    return {"seed": SEED, "folds": FOLDS, "threshold_seeds": list(THRESHOLD_SEEDS), "scorer": SCORER,
            "lgb": LGB_PARAMS, "lgb_ranker": RANKER_PARAMS, "bags": BAGS, "C_candidate": C_CANDIDATE,
            "C_abstain": C_ABSTAIN, "none_share": NONE_SHARE, "answer_kinds": list(ANSWER_KINDS),
            "features": list(FEATURES), "abstain_features": list(ABSTAIN_FEATURES),
            "abstain_model_features": list(MODEL_FEATURES), "abstain_monotone": sorted(MONOTONE),
            "abstain_scorer": ABSTAIN_SCORER, "abstain_lgb": ABSTAIN_PARAMS, "abstain_tree_free": sorted(TREE_FREE),
            "adapter_iterations": ADAPTER_ITERATIONS, "adapter_scale": ADAPTER_SCALE}


def library_versions() -> dict[str, str]:
    """The versions of the libraries that fit (from their metadata: importing scikit-learn takes seconds)."""
    from importlib.metadata import version

    return {"python": sys.version.split()[0], "numpy": np.__version__,
            **{name: version(name) for name in ("lightgbm", "scipy", "scikit-learn")}}


def code_hash(modules: Sequence[str] = FIT_MODULES, root: Path = Path(__file__).parent) -> str:
    """The code of the fitting modules, without comments and docstrings (editing those refits nothing)."""
    import ast

    h = hashlib.sha256()
    for name in modules:
        tree = ast.parse((root / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body
                    and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                node.body = body[1:] or [ast.Pass()]
        h.update(name.encode() + b"\0" + ast.dump(tree).encode() + b"\0")
    return h.hexdigest()[:16]


class _Probe:
    """A fixed linear scoring of the candidate features (``examples_hash``)."""

    def __init__(self, w: np.ndarray) -> None:
        self.w = w

    def logits(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, np.float64) @ self.w


def examples_hash(examples: Sequence[Example], eval_ids: set[str], df=None) -> str:  # type: ignore[no-untyped-def]
    """Everything the fit reads of the examples, in their order: ids, kinds, roles, feature rows and
    labels, the passages' evidence, and each example's abstention row under two fixed probe scorings
    (computed as the fit computes it from a fold's scores: the rows read the query, the candidates
    and the index's document frequencies, which have no other fingerprint here), plus which items
    ``eval --oof`` splits into folds."""
    h = hashlib.sha256()
    rng = np.random.default_rng(0)
    a, b = _Probe(rng.normal(size=len(FEATURES))), _Probe(rng.normal(size=len(FEATURES)))

    def put(*parts: object) -> None:
        for part in parts:
            data = part.tobytes() if isinstance(part, np.ndarray) else repr(part).encode("utf-8")
            h.update(len(data).to_bytes(8, "little") + data)

    for e in examples:
        put(e.item.id, e.item.kind, e.item.id in eval_ids, bool(e.rank), bool(e.abstain),
            np.ascontiguousarray(e.X, np.float64), np.asarray(e.y, np.int64), float(e.translated),
            [float(d) for d in e.passage_dense], [sorted(t) for t in e.passage_tokens], list(e.passage_texts))
        if e.abstain:
            for scorer, answers in ((a, b), (b, None)):
                put(np.asarray(_abstain_row(e, scorer, df, answers), np.float64))  # type: ignore[arg-type]
    return h.hexdigest()[:16]


def fold_manifest(examples: Sequence[Example], eval_ids: set[str], data: Sequence[Path],  # type: ignore[no-untyped-def]
                  df=None) -> dict[str, object]:
    """What the fold models are a function of: the training files, the examples built from them
    (index, query analysis and features included), the fitting code, its settings and libraries."""
    return {"data_sha256": {_rel(p): data_hash([p]) for p in data if p.exists()},
            "examples": len(examples), "eval_items": len(eval_ids),
            "examples_sha256": examples_hash(examples, eval_ids, df), "code_sha256": code_hash(),
            "settings": trainer_settings(), "versions": library_versions()}


def _rel(p: Path) -> str:
    p = Path(p).resolve()
    return str(p.relative_to(PROJECT_ROOT)) if p.is_relative_to(PROJECT_ROOT) else str(p)


def save_fold_models(path: Path, by_id: dict[str, ReaderModel], manifest: dict[str, object]) -> None:
    """The fold models (every float exact) with their manifest, which ``load_fold_models`` checks."""
    models: list[ReaderModel] = []
    fold_of: dict[str, int] = {}
    for item_id, model in by_id.items():
        k = next((i for i, m in enumerate(models) if m is model), None)
        if k is None:
            k = len(models)
            models.append(model)
        fold_of[item_id] = k
    doc = {"about": "eval --oof's fold models on the gold set; regenerate with: python -m assistant.reader.train",
           "manifest": manifest, "fold_of": fold_of, "models": [m.to_json(exact=True) for m in models]}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_fold_models(path: Path, manifest: dict[str, object]) -> tuple[dict[str, ReaderModel] | None, str]:
    """The fold models saved at ``path`` when their manifest equals ``manifest``, else None; and why."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        saved = doc["manifest"]
    except FileNotFoundError:
        return None, f"no fold models at {_rel(path)}"
    except (OSError, ValueError, KeyError, TypeError) as e:
        return None, f"the fold models at {_rel(path)} are unreadable ({e})"
    stale = [k for k in sorted(set(saved) | set(manifest)) if saved.get(k) != manifest.get(k)]
    if stale:
        return None, f"the fold models at {_rel(path)} are stale: {', '.join(stale)} changed"
    try:
        models = [ReaderModel.from_json(m) for m in doc["models"]]
        return {item_id: models[k] for item_id, k in doc["fold_of"].items()}, f"fold models read from {_rel(path)}"
    except (ValueError, KeyError, TypeError, IndexError) as e:
        return None, f"the fold models at {_rel(path)} are unreadable ({e})"


def data_hash(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def load_training_items(paths: Sequence[Path] = TRAIN_FILES) -> list[GoldItem]:
    """Every question of the training files (``cite`` items are not questions)."""
    items: list[GoldItem] = []
    for p in paths:
        if p.exists():
            items.extend(i for i in load_gold(p) if i.kind != "cite")
    return items


def training_corpus(path: Path) -> Path | None:
    """The corpus a training file's questions are asked of: the directory ``corpus/`` beside the
    file when it is a corpus (has a ``manifest.json``), as ``shiori eval --corpus DIR`` finds a
    corpus's ``gold.jsonl`` beside ``DIR``; None for the main corpus (the configured one)."""
    d = Path(path).parent / "corpus"
    return d if (d / "manifest.json").is_file() else None


def corpus_pipeline(pipeline, corpus_dir: Path | None):  # type: ignore[no-untyped-def]
    """``pipeline`` (its settings, embedder and reader) on ``corpus_dir`` and the index beside it
    (``DIR.index``, as ``shiori eval --corpus DIR`` reads it); ``pipeline`` itself when it already
    reads that corpus, and for ``None`` (the main corpus) on the configured corpus and index."""
    from assistant.config import corpus_index_dir

    if corpus_dir is None:
        main = Settings.from_env()
        corpus_dir, index_dir = main.corpus_dir, main.index_dir
    else:
        index_dir = Path(corpus_index_dir(corpus_dir))
    if Path(pipeline.settings.corpus_dir).resolve() == Path(corpus_dir).resolve():
        return pipeline
    return pipeline.on_corpus(Path(corpus_dir), index_dir)


def training_examples(pipeline, paths: Sequence[Path] = TRAIN_FILES,  # type: ignore[no-untyped-def]
                      asked: Sequence[GoldItem] = (), progress: bool = True,
                      abstain_only: Sequence[Path] = (), rank_only: Sequence[Path] = ()) -> list[Example]:
    """The examples of every training file, each built on its own corpus's pipeline and index, pooled.

    ``asked`` are questions on ``pipeline``'s corpus (the gold items ``eval --oof`` scores): they are
    built on ``pipeline`` and take the place of any training item with the same id. The questions of
    ``abstain_only`` (the retrain and ``eval --oof`` pass ``ABSTAIN_FILES``) come after them, marked to
    train the abstention side only (``Example.rank``). The questions of ``rank_only`` (``RANK_FILES``), on
    their own corpora like ``paths``, train the ranker only (``Example.abstain``).
    """
    extra = [p for p in abstain_only if p.exists() and p not in paths]
    tail = [replace(e, rank=False) for e in training_examples(pipeline, extra, progress=progress, abstain_only=())] \
        if extra else []
    groups: dict[Path, tuple[object, dict[str, GoldItem]]] = {}

    def group(pipe) -> dict[str, GoldItem]:  # type: ignore[no-untyped-def]
        return groups.setdefault(Path(pipe.settings.corpus_dir).resolve(), (pipe, {}))[1]

    ranker_only: set[str] = set()
    for p in (*paths, *(q for q in rank_only if q not in paths)):
        if p.exists():
            pipe = corpus_pipeline(pipeline, training_corpus(p))
            items = load_training_items([p])
            group(pipe).update((i.id, i) for i in items)
            if p in rank_only and p not in paths:
                ranker_only.update(i.id for i in items)
    if asked:
        mine = group(pipeline)
        for i in asked:
            if i.kind != "cite":
                for other in groups.values():  # an id asked here is asked of no other corpus
                    if other[1] is not mine:
                        other[1].pop(i.id, None)
                mine[i.id] = i  # in place of the training item with its id, else after them
                ranker_only.discard(i.id)
    out: list[Example] = []
    for pipe, items in groups.values():
        out += build_examples(pipe, list(items.values()), progress=progress)
    out = [replace(e, abstain=False) if e.item.id in ranker_only else e for e in out]
    return out + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.reader.train", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the model (default: the shipped one)")
    parser.add_argument("--data", type=Path, nargs="*", default=list(TRAIN_FILES), help="training JSONL files")
    parser.add_argument("--abstain-data", type=Path, nargs="*", default=list(ABSTAIN_FILES),
                        help="training files whose questions train the abstention side only (the answer classifier, "
                             "the abstention model and its cut-off), never the ranker (default: "
                             "eval/extra/train.jsonl; name none to leave them out)")
    parser.add_argument("--rank-data", type=Path, nargs="*", default=list(RANK_FILES),
                        help="training files whose questions train the ranker only, never the abstention side "
                             "(default: none)")
    parser.add_argument("--no-folds", action="store_true",
                        help="do not fit and write the fold models eval --oof reads (folds.json beside --out)")
    parser.add_argument("--spread", action="store_true",
                        help="only report the cross-validated top-1 over several fold splits (writes no model)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    from assistant.pipeline import Pipeline

    pipeline = Pipeline(Settings.from_env())
    examples = training_examples(pipeline, args.data, abstain_only=args.abstain_data, rank_only=args.rank_data)
    items = [e.item for e in examples]
    if args.spread:
        mean, std, per = top1_spread(examples)
        print(json.dumps({"cv_candidate_top1_mean": round(mean, 4), "std": round(std, 4),
                          "per_split": [round(x, 4) for x in per]}))
        return 0
    model = fit(examples, pipeline.index().df)
    def rel(p: Path) -> str:
        p = p.resolve()
        return str(p.relative_to(PROJECT_ROOT)) if p.is_relative_to(PROJECT_ROOT) else str(p)

    data = [p for p in (*args.data, *args.rank_data, *args.abstain_data) if p.exists()]
    model.info.update({"items": len(items), "data_sha256": data_hash(data), "data": [rel(p) for p in data],
                       "data_corpus": {rel(p): rel(training_corpus(p) or pipeline.settings.corpus_dir)
                                       for p in data},
                       "abstain_only_data": [rel(p) for p in args.abstain_data if p.exists()],
                       "rank_only_data": [rel(p) for p in args.rank_data if p.exists()]})
    model.save(args.out)
    print(json.dumps(model.info, ensure_ascii=False, indent=1))
    # The fold models eval --oof scores the gold set with, fitted on these examples (as it would
    # fit them) and written with their manifest; a stale file is refitted by eval --oof.
    eval_ids = {i.id for i in load_training_items([OOF_GOLD])}
    if not args.no_folds and eval_ids and any(e.item.id in eval_ids for e in examples):
        folds_path = FOLDS_PATH if args.out == MODEL_PATH else args.out.with_name(args.out.stem + ".folds.json")
        df = pipeline.index().df
        save_fold_models(folds_path, fold_models(examples, eval_ids, df), fold_manifest(examples, eval_ids, data, df))
        logger.info("fold models of eval --oof: %s", rel(folds_path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
