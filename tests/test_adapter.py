"""The learned similarity (``train.fit_adapter``, ``features.adapted_scores``): per-dimension weights of
the embedder's cosine, fitted on which candidates answer, cross-fitted for the ranker's training rows."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from assistant.gold import GoldItem
from assistant.reader import train
from assistant.reader.features import ADAPTER_SCALE, FEATURES, F, adapted_scores, adapter_inputs, featurize
from assistant.reader.scorer import Linear, ReaderModel, Trees


def _examples(n: int, seed: int, kind: str = "fact") -> list[train.Example]:
    """Questions of five candidates, the first answering. Dimension 2 carries the answer (a little
    larger for it); dimension 0 is noise with a wider spread, so the plain cosine (a row's sum) often
    prefers another candidate."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        P = rng.random((5, 4)).astype(np.float32) * np.array([0.6, 0.1, 0.1, 0.1], np.float32)
        P[0, 2] += 0.15
        item = GoldItem(f"Q{seed}-{i}", kind, "q", ("a",) if kind != "none" else (), False,
                        "d.txt" if kind != "none" else None, (1, 1) if kind != "none" else None)
        out.append(train.Example(item, [None] * 5, np.zeros((5, len(FEATURES)), np.float32),  # type: ignore[list-item]
                                 np.array([1, 0, 0, 0, 0] if kind != "none" else [0] * 5, np.int8),
                                 [], [], None, P=P))
    return out


def _top1(examples: list[train.Example], w: np.ndarray) -> float:
    return float(np.mean([e.y[int(np.argmax(e.P @ w))] for e in examples]))  # type: ignore[operator]


def test_the_adapter_learns_the_dimension_that_tells_answers_apart() -> None:
    fit_on, new = _examples(80, 1), _examples(80, 2)
    w = train.fit_adapter(fit_on)
    assert w is not None and w.shape == (4,)
    assert w[2] > w[0]
    cosine = np.ones(4, np.float32)
    assert _top1(new, w) > _top1(new, cosine) + 0.2


def test_no_question_with_vectors_leaves_no_adapter() -> None:
    bare = [train.Example(e.item, e.cands, e.X, e.y, [], [], None) for e in _examples(5, 3)]
    assert train.fit_adapter(bare) is None
    out, adapter = train.with_adapter(bare)
    assert adapter is None and [e.X.sum() for e in out] == [0.0] * 5


def test_ranker_only_and_unanswerable_questions_do_not_fit_it() -> None:
    """The adapter trains where the ranker does (answerable, ranked questions with an answering line)."""
    base = _examples(40, 4)
    flipped = [train.Example(e.item, e.cands, e.X, e.y[::-1].copy(), [], [], None, P=e.P, rank=False)
               for e in _examples(40, 5)]
    none = _examples(10, 6, kind="none")
    w = train.fit_adapter(base)
    assert np.allclose(train.fit_adapter(base + flipped + none), w)  # type: ignore[arg-type]


def test_training_rows_are_scored_out_of_fold_and_new_questions_by_the_full_adapter() -> None:
    answerable, none = _examples(50, 7), _examples(5, 8, kind="none")
    examples = answerable + none
    out, full = train.with_adapter(examples, folds=5)
    assert full is not None and np.allclose(full, train.fit_adapter(examples))
    col = F["dense_adapt"]
    for e, o in zip(examples, out, strict=True):
        assert e.X[:, col].sum() == 0.0  # the caller's rows are not written to
        assert np.allclose(o.X[:, F["dense_adapt_gap"]], o.X[:, col] - o.X[:, col].max())
    for e, o in zip(none, out[50:], strict=True):
        assert np.allclose(o.X[:, col], e.P @ full / ADAPTER_SCALE, atol=1e-5)  # type: ignore[operator]
    # A trained question's score comes from an adapter fitted without it, not the full one.
    differs = [not np.allclose(o.X[:, col], e.P @ full / ADAPTER_SCALE, atol=1e-6)  # type: ignore[operator]
               for e, o in zip(answerable, out[:50], strict=True)]
    assert all(differs)


def test_adapted_scores_reweight_the_cosine_per_dimension() -> None:
    vectors = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]], np.float32)
    q = np.array([0.6, 0.8], np.float32)
    cands = [SimpleNamespace(vec=1), SimpleNamespace(vec=-1), SimpleNamespace(vec=2)]
    at_cosine = adapted_scores(np.full(2, ADAPTER_SCALE, np.float32), vectors, cands, q)  # type: ignore[arg-type]
    assert at_cosine is not None and np.allclose(at_cosine, [1.0, 0.0, 0.8])
    w = np.array([0.0, 2 * ADAPTER_SCALE], np.float32)
    assert np.allclose(adapted_scores(w, vectors, cands, q), [1.28, 0.0, 1.6])  # type: ignore[arg-type]
    # The fitting inputs: a row's product with the weights is the same score, times the scale.
    P = adapter_inputs(vectors, cands, q)  # type: ignore[arg-type]
    assert P is not None and np.allclose(P @ w / ADAPTER_SCALE, [1.28, 0.0, 1.6])
    # No weights, no question vector (BM25 only), or weights of another embedder's size: no column.
    assert adapted_scores(None, vectors, cands, q) is None  # type: ignore[arg-type]
    assert adapted_scores(w, vectors, cands, None) is None  # type: ignore[arg-type]
    assert adapted_scores(np.ones(3, np.float32), vectors, cands, q) is None  # type: ignore[arg-type]


def test_featurize_writes_the_learned_similarity_and_its_gap() -> None:
    from tests.test_reader import _analyse, _cand

    cands = [_cand("参加者は約50名であった。"), _cand("会場は東京である。")]
    q = _analyse("参加者は何名か。")
    X = featurize(q, cands, np.array([0.7, 0.9], np.float32))
    assert np.allclose(X[:, F["dense_adapt"]], [0.7, 0.9])
    assert np.allclose(X[:, F["dense_adapt_gap"]], [-0.2, 0.0])
    # Without it (no adapter, or one of another embedder's size) the cosine stands in.
    plain = featurize(q, cands)
    assert np.allclose(plain[:, F["dense_adapt"]], plain[:, F["dense"]])
    assert np.allclose(plain[:, F["dense_adapt_gap"]], plain[:, F["dense_gap"]])


def test_the_adapter_round_trips_through_the_model_file() -> None:
    t = Trees(("a",), np.array([[-1]]), np.array([[0.0]]), np.array([[0]]), np.array([[0]]), np.array([[0.5]]))
    lin = Linear(("a",), np.ones(1, np.float32), 0.0, np.zeros(1, np.float32), np.ones(1, np.float32))
    model = ReaderModel(t, lin, 0.5, {}, None, np.array([50.0, 12.5, -3.25], np.float32))
    again = ReaderModel.from_json(model.to_json())
    assert again.adapter is not None and again.adapter.tolist() == [50.0, 12.5, -3.25]
    assert ReaderModel.from_json(ReaderModel(t, lin, 0.5).to_json()).adapter is None
