"""The learned candidate scorer and abstention model: one small JSON file, numpy at answer time.

The candidate scorer is a LightGBM lambdarank ensemble (small trees over the
candidate features, ranking the candidates of one question), or a logistic
regression; the abstention model is a LightGBM classifier of small trees over
question-level evidence (a logistic regression in older files). Both are fitted by ``python -m assistant.reader.train`` with
cross-validation grouped by question. The trees are stored flattened (feature,
threshold, children, leaf values per node) and evaluated for all trees at once in
numpy, so ``ask`` imports neither LightGBM nor scikit-learn.
The file records its feature names, the training set's size and hash, the seed
and the cross-validated figures, so a reviewer sees what the weights were fitted
on; answering needs only numpy (no scikit-learn import at ``ask`` time).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import IndexCorruptError

MODEL_PATH = Path(__file__).with_name("model.json")


@dataclass(frozen=True)
class Linear:
    """A standardised logistic regression: ``sigmoid(((x - mean) / scale) @ w + b)``."""

    features: tuple[str, ...]
    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray

    def logits(self, X: np.ndarray) -> np.ndarray:
        if X.shape[1] != len(self.features):
            raise ValueError(f"expected {len(self.features)} features, got {X.shape[1]}")
        return ((X - self.mean) / self.scale) @ self.weights + self.bias

    def proba(self, X: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(X)))

    def to_json(self, exact: bool = False) -> dict[str, Any]:
        """Six decimals; ``exact``: every float as it is (the fold models of ``eval --oof``, whose
        answers must be those of the models refitted in memory)."""
        def num(x: float) -> float:
            return float(x) if exact else round(float(x), 6)

        return {
            "features": list(self.features),
            "weights": [num(w) for w in self.weights],
            "bias": num(self.bias),
            "mean": [num(m) for m in self.mean],
            "scale": [num(s) for s in self.scale],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Linear:
        return cls(tuple(d["features"]), np.asarray(d["weights"], np.float32), float(d["bias"]),
                   np.asarray(d["mean"], np.float32), np.asarray(d["scale"], np.float32))


@dataclass(frozen=True)
class Trees:
    """A sum of regression trees (LightGBM's ``dump_model``), flattened into padded arrays.

    Node ``j`` of tree ``t``: ``feature[t, j]`` (-1 for a leaf), ``threshold``, ``left`` and
    ``right`` child indices, ``value`` (leaf output). A row goes left when
    ``x[feature] <= threshold``.
    """

    features: tuple[str, ...]
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray

    def logits(self, X: np.ndarray) -> np.ndarray:
        if X.shape[1] != len(self.features):
            raise ValueError(f"expected {len(self.features)} features, got {X.shape[1]}")
        t, width = self.feature.shape
        feat, thr, left, right, value = self._flat()
        Xt = np.ascontiguousarray(X, dtype=np.float64)
        node = np.broadcast_to(np.arange(t) * width, (len(X), t)).copy()
        rows = np.arange(len(X))[:, None]
        for _ in range(width):
            f = feat[node]
            inner = f >= 0
            if not inner.any():
                break
            x = Xt[rows, np.maximum(f, 0)]
            node = np.where(inner, np.where(x <= thr[node], left[node], right[node]), node)
        return value[node].sum(axis=1)

    def proba(self, X: np.ndarray) -> np.ndarray:
        """The probability of a binary classifier's trees (their sum is its log-odds)."""
        return 1.0 / (1.0 + np.exp(-self.logits(X)))

    def _flat(self) -> tuple[np.ndarray, ...]:
        """The node arrays with flat ids (tree * width + node), so every step is a 1-D gather."""
        flat = self.__dict__.get("_flat_cache")
        if flat is None:
            t, width = self.feature.shape
            base = np.arange(t)[:, None] * width
            flat = (self.feature.ravel(), self.threshold.ravel(), (self.left + base).ravel(),
                    (self.right + base).ravel(), self.value.ravel())
            object.__setattr__(self, "_flat_cache", flat)
        return flat

    def to_json(self, exact: bool = True) -> dict[str, Any]:  # always exact (``Linear.to_json``)
        # The node arrays as base64 of their little-endian bytes: a bag of 1,500 trees written as
        # JSON numbers took 15-25 ms of a cold ``ask`` to parse; the tree's shape and features stay readable.
        def packed(a: np.ndarray, dtype: str) -> str:
            return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).tobytes()).decode("ascii")

        return {"features": list(self.features), "shape": list(self.feature.shape), "encoding": "base64",
                "feature": packed(self.feature, "<i2"), "threshold": packed(self.threshold, "<f8"),
                "left": packed(self.left, "<i2"), "right": packed(self.right, "<i2"),
                "value": packed(self.value, "<f8")}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Trees:
        def arr(key: str, stored: str, dtype: type) -> np.ndarray:
            if d.get("encoding") == "base64":
                raw = np.frombuffer(base64.b64decode(d[key]), dtype=stored)
                return raw.astype(dtype).reshape(d["shape"])
            return np.asarray(d[key], dtype)  # nested lists, as older files store them

        return cls(tuple(d["features"]), arr("feature", "<i2", np.int64), arr("threshold", "<f8", np.float64),
                   arr("left", "<i2", np.int64), arr("right", "<i2", np.int64), arr("value", "<f8", np.float64))

    @classmethod
    def from_lightgbm_bag(cls, dumps: Sequence[dict[str, Any]], features: Sequence[str]) -> Trees:
        """The average of several LightGBM models (one sum of trees, each leaf divided by their number)."""
        bag = cls.from_lightgbm({"tree_info": [t for d in dumps for t in d["tree_info"]]}, features)
        return replace(bag, value=bag.value / len(dumps))

    @classmethod
    def from_lightgbm(cls, dump: dict[str, Any], features: Sequence[str]) -> Trees:
        """Flatten LightGBM's ``Booster.dump_model()`` (numerical splits, ``<=``)."""
        flat = [_flatten_tree(info["tree_structure"]) for info in dump["tree_info"]]
        width = max(len(x) for x in flat)
        pad = [x + [(-1, 0.0, 0, 0, 0.0)] * (width - len(x)) for x in flat]
        arr = np.asarray(pad, dtype=np.float64)
        return cls(tuple(features), arr[:, :, 0].astype(np.int64), arr[:, :, 1], arr[:, :, 2].astype(np.int64),
                   arr[:, :, 3].astype(np.int64), arr[:, :, 4])


def _flatten_tree(root: dict[str, Any]) -> list[tuple[int, float, int, int, float]]:
    """One LightGBM tree as (feature, threshold, left, right, leaf value) rows, root first."""
    nodes: list[tuple[int, float, int, int, float]] = []

    def walk(node: dict[str, Any]) -> int:
        i = len(nodes)
        nodes.append((-1, 0.0, i, i, 0.0))
        if "leaf_value" in node or "split_feature" not in node:
            nodes[i] = (-1, 0.0, i, i, float(node.get("leaf_value", 0.0)))
            return i
        if node.get("decision_type", "<=") != "<=":
            raise ValueError(f"unsupported split {node.get('decision_type')!r}")
        left = walk(node["left_child"])
        right = walk(node["right_child"])
        nodes[i] = (int(node["split_feature"]), float(node["threshold"]), left, right, 0.0)
        return i

    walk(root)
    return nodes


def _candidate_from_json(d: dict[str, Any]) -> Linear | Trees:
    return Trees.from_json(d) if "feature" in d else Linear.from_json(d)


@dataclass(frozen=True)
class ReaderModel:
    """The candidate scorer, the abstention model and its threshold, with their provenance.

    ``abstain``: small trees over the question-level evidence (``train.fit_abstain_trees``), or a
    logistic regression in older files.

    ``answers``: the answer classifier (does this line state the answer? one scale for all
    questions), whose best candidate score the abstention model weighs; None in older files.
    ``adapter``: the learned similarity's per-dimension weights (``features.adapted_scores``);
    None in older files and for models fitted without question vectors.
    """

    candidate: Linear | Trees
    abstain: Linear | Trees
    abstain_threshold: float
    info: dict[str, Any] = field(default_factory=dict)
    answers: Linear | Trees | None = None
    adapter: np.ndarray | None = None

    def to_json(self, exact: bool = False) -> dict[str, Any]:
        """``exact``: every float as fitted, so the loaded model answers as the fitted one does."""
        d = {"candidate": self.candidate.to_json(exact), "abstain": self.abstain.to_json(exact),
             "abstain_threshold": float(self.abstain_threshold) if exact else round(self.abstain_threshold, 4),
             "info": self.info}
        if self.answers is not None:
            d["answers"] = self.answers.to_json(exact)
        if self.adapter is not None:
            d["adapter"] = [float(w) if exact else round(float(w), 5) for w in self.adapter]
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ReaderModel:
        answers = _candidate_from_json(d["answers"]) if d.get("answers") else None
        adapter = np.asarray(d["adapter"], np.float32) if d.get("adapter") else None
        return cls(_candidate_from_json(d["candidate"]), _candidate_from_json(d["abstain"]),
                   float(d["abstain_threshold"]), d.get("info", {}), answers, adapter)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


_CACHE: dict[Path, ReaderModel] = {}


def load_model(path: Path = MODEL_PATH) -> ReaderModel:
    """The reader model shipped with shiori (or another file); read once per process."""
    path = Path(path)
    hit = _CACHE.get(path)
    if hit is None:
        try:
            hit = ReaderModel.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise IndexCorruptError(f"the reader model {path} is unreadable: {e}",
                                    hint="retrain it: python -m assistant.reader.train") from e
        _CACHE[path] = hit
    return hit
