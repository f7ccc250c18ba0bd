"""Fitting side by side: the reader's models are the same whatever the number of training threads.

Synthetic candidate rows (no index, no embedder): ``train._map`` keeps the order of its tasks
and runs nested calls in sequence, and a bag of rankers fitted on two threads equals the bag
fitted on one.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from assistant.reader.features import FEATURES

train = pytest.importorskip("assistant.reader.train")
pytest.importorskip("lightgbm")


def _examples(n: int = 60, seed: int = 0) -> list[SimpleNamespace]:
    """Questions of eight candidates each; the positive is the candidate with the highest first feature."""
    rng = np.random.default_rng(seed)
    out = []
    for q in range(n):
        X = rng.normal(size=(8, len(FEATURES))).astype(np.float32)
        y = np.zeros(8, np.int8)
        y[int(np.argmax(X[:, 0]))] = 1
        out.append(SimpleNamespace(item=SimpleNamespace(kind="fact", id=f"Q{q}"), X=X, y=y, cands=[None] * 8, rank=True))
    return out


def test_map_keeps_the_order_and_runs_nested_calls_in_sequence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(train, "TRAIN_THREADS", 2)
    seen: list[tuple[int, str]] = []

    def inner(t: int) -> str:
        seen.append((t, threading.current_thread().name))
        return threading.current_thread().name

    def outer(t: int) -> tuple[int, list[str]]:
        return t * 10, train._map(inner, [t, t + 100])

    got = train._map(outer, [1, 2, 3])
    assert [g[0] for g in got] == [10, 20, 30]
    # each task's inner calls ran on the task's own thread: no pool inside a pool
    for _, names in got:
        assert len(set(names)) == 1
    assert len(seen) == 6


def test_a_bag_fitted_on_two_threads_equals_one_fitted_on_one(monkeypatch: pytest.MonkeyPatch) -> None:
    examples = _examples()
    X = np.concatenate([e.X for e in examples])
    monkeypatch.setattr(train, "TRAIN_THREADS", 1)
    one = train.fit_candidate(examples, bags=3)
    monkeypatch.setattr(train, "TRAIN_THREADS", 2)
    two = train.fit_candidate(examples, bags=3)
    assert np.array_equal(one.logits(X), two.logits(X))
    # the bag learned the rule: the first feature's best candidate ranks first
    top = [int(np.argmax(one.logits(e.X))) for e in examples]
    assert np.mean([e.y[t] for e, t in zip(examples, top, strict=True)]) > 0.8
