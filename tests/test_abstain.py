"""The abstention model's fit: evidence that only ever raises the answer probability, the priors free,
coverage weighed beside the answer score (trees), a steady cut-off.

Synthetic evidence rows (no index, no embedder): what ``train.fit_abstain`` learns from
correlated evidence, that it is scikit-learn's logistic regression when nothing is bounded,
and that the shipped model keeps to the columns and signs ``abstain.py`` declares.
"""

from __future__ import annotations

import numpy as np
import pytest

from assistant.reader.abstain import ABSTAIN_FEATURES, MODEL_FEATURES, MONOTONE, A, model_columns
from assistant.reader.scorer import load_model

train = pytest.importorskip("assistant.reader.train")
pytest.importorskip("scipy")


def _rows(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two collinear scores of one signal (as best_logit and best_prob are), a value-type prior, and
    a coverage column that, in this sample, runs lower for answerable questions (as paraphrases do).

    Answerable questions have a higher signal; value questions are more often unanswerable.
    """
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.7).astype(np.int8)
    value = (rng.random(n) < np.where(y == 1, 0.4, 0.9)).astype(np.float64)
    signal = rng.normal(size=n) + 1.2 * y
    logit = signal + 0.3 * rng.normal(size=n)
    prob = 1 / (1 + np.exp(-signal)) + 0.1 * rng.normal(size=n)
    lex = rng.normal(size=n) - 0.5 * y
    return np.stack([logit, prob, value, lex], axis=1), y


NAMES = ("best_logit", "best_prob", "value_type", "best_lex")


def test_unbounded_fit_is_scikit_learns_balanced_logistic_regression() -> None:
    pytest.importorskip("sklearn")
    X, y = _rows()
    ours = train.fit_abstain(X, y, NAMES, C=0.5, monotone=frozenset())
    ref = train._fit_linear(X, y, NAMES, 0.5, balanced=True)
    assert np.allclose(ours.weights, ref.weights, atol=2e-3)
    assert abs(ours.bias - ref.bias) < 2e-3
    assert np.allclose(ours.proba(X), ref.proba(X), atol=1e-3)


def test_bounded_evidence_never_weighs_against_answering() -> None:
    X, y = _rows()
    free = train.fit_abstain(X, y, NAMES, C=0.5, monotone=frozenset())
    bounded = train.fit_abstain(X, y, NAMES, C=0.5, monotone=frozenset({"best_logit", "best_prob", "best_lex"}))
    # Unbounded, the coverage column takes a negative weight: more of it, less answerable ...
    assert free.weights[3] < 0
    # ... bounded, none can; the prior stays free and says value questions are less often answerable.
    assert (bounded.weights[[0, 1, 3]] >= 0).all()
    assert bounded.weights[2] < 0
    # More of any bounded evidence never lowers the answer probability.
    x = X[:50].copy()
    for j in (0, 1, 3):
        up = x.copy()
        up[:, j] += 1.0
        assert (bounded.proba(up) >= bounded.proba(x) - 1e-12).all()


def test_the_fit_is_deterministic_and_separates_the_classes() -> None:
    X, y = _rows(seed=3)
    a = train.fit_abstain(X, y, NAMES)
    b = train.fit_abstain(X, y, NAMES)
    assert np.array_equal(a.weights, b.weights) and a.bias == b.bias
    p = a.proba(X)
    assert p[y == 1].mean() > p[y == 0].mean() + 0.2


def test_the_cut_off_balances_precision_and_recall_at_the_asked_share() -> None:
    rng = np.random.default_rng(1)
    answerable = (rng.random(500) < 0.75).astype(np.int8)
    scores = np.clip(0.3 + 0.35 * answerable + 0.15 * rng.normal(size=500), 0, 1)
    thr, p, r = train.choose_threshold(scores, answerable, none_share=0.12)
    assert 0.3 < thr < 0.65 and p > 0.5 and r > 0.5
    # A rarer unanswerable share asks for more precision: the cut-off can only go down.
    thr_rare, p_rare, _ = train.choose_threshold(scores, answerable, none_share=0.05)
    assert thr_rare <= thr


def test_model_features_are_evidence_and_two_priors() -> None:
    assert set(MODEL_FEATURES) <= set(ABSTAIN_FEATURES)
    assert MONOTONE == frozenset(MODEL_FEATURES) - {"value_type", "english"}
    # Habits of how training questions were written are not inputs.
    for habit in ("translated", "unknown", "n_terms", "has_focus"):
        assert habit not in MODEL_FEATURES
    assert model_columns(MODEL_FEATURES) == [A[n] for n in MODEL_FEATURES]


def _raises_answering(model, features: tuple[str, ...], names, rows: np.ndarray) -> bool:  # type: ignore[no-untyped-def]
    """Whether more of each feature of ``names`` never lowers ``model``'s probability of an answer."""
    for name in names:
        j = features.index(name)
        up = rows.copy()
        up[:, j] += np.abs(rows[:, j]).max() * 0.5 + 1.0
        if (model.proba(up) < model.proba(rows) - 1e-9).any():
            return False
    return True


def test_the_shipped_model_keeps_the_declared_columns_and_signs() -> None:
    from assistant.reader.abstain import TREE_FREE

    model = load_model()
    shipped = model.abstain
    assert shipped.features == MODEL_FEATURES
    rows = np.random.default_rng(0).random((300, len(MODEL_FEATURES))).astype(np.float32)
    assert _raises_answering(shipped, MODEL_FEATURES, sorted(MONOTONE - TREE_FREE), rows)
    # The value-type prior says what it said as a weight: value questions are less often answerable.
    j = MODEL_FEATURES.index("value_type")
    value, other = rows.copy(), rows.copy()
    value[:, j], other[:, j] = 1.0, 0.0
    assert shipped.proba(value).mean() < shipped.proba(other).mean()
    # The cut-off each fold split alone would give stays close to the pooled one (spread 0.012 for
    # the shipped linear model, 0.045 with the ranker refitted under another LightGBM seed; 0.04-0.05
    # for the unbounded model before).
    per_split = model.info["abstain_threshold_per_split"]
    assert len(per_split) == len(train.THRESHOLD_SEEDS)
    assert max(per_split) - min(per_split) < 0.06
    assert min(per_split) - 0.02 <= model.abstain_threshold <= max(per_split) + 0.02


def _interacting(n: int = 1500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Evidence whose coverage column means something only beside the answer score: a question the
    passages cover fully but whose best line scores low is unanswerable; one they cover little
    (a paraphrase) is answerable whatever its score."""
    rng = np.random.default_rng(seed)
    cover = rng.random(n)
    score = rng.normal(size=n)
    y = np.where(cover > 0.5, score + 0.3 * rng.normal(size=n) > 0.0, rng.random(n) < 0.85).astype(np.int8)
    return np.stack([score, cover], axis=1), y


def test_the_abstention_trees_weigh_coverage_beside_the_answer_score() -> None:
    pytest.importorskip("lightgbm")
    from sklearn.metrics import roc_auc_score

    names = ("answer_logit", "passage_cov")
    X, y = _interacting()
    Xt, yt = _interacting(seed=1)
    trees = train.fit_abstain_trees(X, y, names, monotone=frozenset({"answer_logit"}))
    linear = train.fit_abstain(X, y, names, monotone=frozenset({"answer_logit"}))
    # The logistic regression can only weigh coverage one way; the trees weigh it with the score.
    assert roc_auc_score(yt, trees.proba(Xt)) > roc_auc_score(yt, linear.proba(Xt)) + 0.05
    # The bounded column still only ever raises the probability of an answer.
    assert _raises_answering(trees, names, ["answer_logit"], Xt[:200])
    # Fixed seed: the same fit twice.
    again = train.fit_abstain_trees(X, y, names, monotone=frozenset({"answer_logit"}))
    assert np.array_equal(trees.proba(Xt), again.proba(Xt))


def test_the_abstention_trees_round_trip_through_the_model_file() -> None:
    pytest.importorskip("lightgbm")
    from assistant.reader.scorer import ReaderModel

    X, y = _interacting(n=300)
    trees = train.fit_abstain_trees(X, y, ("answer_logit", "passage_cov"))
    model = ReaderModel(load_model().candidate, trees, 0.4, {})
    again = ReaderModel.from_json(model.to_json())
    assert np.allclose(again.abstain.proba(X), trees.proba(X))


# ------------------------------------------------ the answer classifier (answer_logit)


def test_answer_logit_is_the_best_candidate_score_clipped() -> None:
    from assistant.reader.abstain import ANSWER_LOGIT_CLIP, answer_logit

    assert answer_logit(np.array([-1.0, 2.5, 0.3])) == pytest.approx(2.5)
    assert answer_logit(np.array([40.0])) == ANSWER_LOGIT_CLIP
    # No candidates, or a model file without the classifier: the floor (no evidence of an answer).
    assert answer_logit(np.zeros(0)) == answer_logit(None) == -ANSWER_LOGIT_CLIP


def test_the_answer_classifier_scores_the_lines_of_unanswerable_questions_low() -> None:
    """Every question's best line looks alike to a ranker (it only orders one question's lines); the
    classifier, fitted with the lines of unanswerable questions as negatives, scores them apart."""
    pytest.importorskip("lightgbm")
    from assistant.gold import GoldItem
    from assistant.reader.features import FEATURES, F
    from assistant.reader.train import Example, fit_answer

    rng = np.random.default_rng(0)

    def example(q: int, answerable: bool) -> Example:
        X = rng.normal(size=(6, len(FEATURES))).astype(np.float32)
        y = np.zeros(6, np.int8)
        # One line of each question stands out by its similarity; only an answerable question's
        # standing-out line also holds the asked value.
        X[0, F["dense"]] += 3.0
        X[:, F["type_match"]] = 0.0
        if answerable:
            X[0, F["type_match"]] = 1.0
            y[0] = 1
        kind = "fact" if answerable else "none"
        item = GoldItem(f"Q{q}", kind, "問い", ("答え",) if answerable else (), False, "d.txt", (1, 1))
        return Example(item, [None] * 6, X, y, [], [], None)  # type: ignore[list-item]

    train_set = [example(q, q % 3 != 0) for q in range(120)]
    model = fit_answer(train_set)
    test = [example(q, q % 2 == 0) for q in range(40)]
    best = np.array([model.logits(e.X).max() for e in test])
    answerable = np.array([e.item.kind != "none" for e in test])
    assert best[answerable].min() > best[~answerable].max()


def _constant(features: tuple[str, ...], value: float):  # type: ignore[no-untyped-def]
    """A one-leaf tree model: the same score for every row."""
    from assistant.reader.scorer import Trees

    z = np.zeros((1, 1))
    return Trees(features, np.full((1, 1), -1), z, z.astype(np.int64), z.astype(np.int64), np.full((1, 1), value))


@pytest.mark.parametrize(("score", "abstains"), [(-3.0, True), (3.0, False)])
def test_the_reader_abstains_on_the_answer_classifiers_score(one_document, tmp_path, score: float,  # type: ignore[no-untyped-def]
                                                            abstains: bool) -> None:
    from dataclasses import replace

    from assistant.reader.features import FEATURES
    from assistant.reader.scorer import Linear, ReaderModel

    text = "みなと市の防災訓練は毎年9月に市民公園で行う。\n参加者は約300名を見込む。\n"
    p = one_document(tmp_path, text, "防災訓練の案内")
    p.reader_policy = replace(p.reader_policy, off_topic_dense=-1.0, off_topic_dense_en=-1.0, off_topic_translated=-1.0)
    one = np.ones(1, np.float32)
    # An abstention model that weighs the answer classifier's best score alone (cut-off 0.5: score 0).
    abstain = Linear(("answer_logit",), one, 0.0, np.zeros(1, np.float32), one)
    model = ReaderModel(load_model().candidate, abstain, 0.5, {}, _constant(FEATURES, score))
    ans = p.with_reader_model(model).ask("防災訓練はどこで行いますか？")
    assert ans.abstained is abstains
    # Round trip: the classifier is saved with the model, and an older file without it loads.
    again = ReaderModel.from_json(model.to_json())
    assert again.answers is not None and again.answers.logits(np.zeros((2, len(FEATURES)))).tolist() == [score, score]
    older = {k: v for k, v in model.to_json().items() if k != "answers"}
    assert ReaderModel.from_json(older).answers is None
