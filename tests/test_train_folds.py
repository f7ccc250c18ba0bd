"""The fold models of ``eval --oof``, written by the retrain with a manifest and read back when it matches.

Synthetic questions (no index, no embedder): eight candidates each, the positive the one with the
highest first feature; a stand-in for the abstention rows (its inputs are the fit's). Small fits
(one bag, one threshold split, few trees) keep the tests fast; the code paths are the retrain's.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from assistant.gold import GoldItem
from assistant.reader.abstain import ABSTAIN_FEATURES
from assistant.reader.features import FEATURES

train = pytest.importorskip("assistant.reader.train")
pytest.importorskip("lightgbm")


def _abstain_row(query, cands, X, logits, *rest):  # type: ignore[no-untyped-def]
    """A stand-in abstention row: the best candidate's features, shifted by its score."""
    answer_logits = rest[-1] if rest else None
    v = np.zeros(len(ABSTAIN_FEATURES), np.float32)
    if len(cands):
        b = int(np.argmax(logits))
        v[:] = X[b, np.arange(len(v)) % X.shape[1]] + float(logits[b])
        if answer_logits is not None:
            v[0] = float(np.max(answer_logits))
    return v


def _small(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(train, "abstain_features", _abstain_row)
    mp.setattr(train, "BAGS", 1)
    mp.setattr(train, "THRESHOLD_SEEDS", (train.SEED,))
    mp.setattr(train, "RANKER_PARAMS", {**train.RANKER_PARAMS, "n_estimators": 10})
    mp.setattr(train, "LGB_PARAMS", {**train.LGB_PARAMS, "n_estimators": 10})


@pytest.fixture()
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    _small(monkeypatch)


@pytest.fixture(scope="module")
def fitted() -> dict:  # type: ignore[type-arg]
    """The fold models of ``_examples()`` (fitted once for the module)."""
    with pytest.MonkeyPatch.context() as mp:
        _small(mp)
        examples = _examples()
        return train.fold_models(examples, _gold_ids(examples), None)


def _examples(n: int = 80, seed: int = 0) -> list[train.Example]:
    """Answerable questions (the positive has the highest first feature) and, every fifth, an unanswerable one."""
    rng = np.random.default_rng(seed)
    out = []
    for q in range(n):
        X = rng.normal(size=(8, len(FEATURES))).astype(np.float32)
        y = np.zeros(8, np.int8)
        kind = "none" if q % 5 == 4 else "fact"
        if kind == "none":
            X[:, 0] -= 2.0
        else:
            y[int(np.argmax(X[:, 0]))] = 1
        item = GoldItem(f"Q{q}", kind, f"question {q}", ("a",) if kind == "fact" else (), False, "d.txt", (1, 1))
        out.append(train.Example(item, [None] * 8, X, y, [frozenset({"a"})], [0.5], None,  # type: ignore[list-item]
                                 df=lambda term: 1))
    return out


def _gold_ids(examples: list[train.Example]) -> set[str]:
    return {e.item.id for e in examples[::2]}


def _data(tmp_path: Path) -> list[Path]:
    path = tmp_path / "train.jsonl"
    path.write_text('{"id": "Q1"}\n', encoding="utf-8")
    return [path]


def _saved(tmp_path: Path, examples: list[train.Example], by_id: dict) -> tuple[Path, dict]:  # type: ignore[type-arg]
    manifest = train.fold_manifest(examples, _gold_ids(examples), _data(tmp_path))
    path = tmp_path / "folds.json"
    train.save_fold_models(path, by_id, manifest)
    return path, manifest


def test_read_fold_models_answer_exactly_as_the_fitted_ones(tmp_path: Path, small: None, fitted: dict) -> None:  # type: ignore[type-arg]
    examples = _examples()
    path, manifest = _saved(tmp_path, examples, fitted)
    read, why = train.load_fold_models(path, manifest)
    assert read is not None and why.startswith("fold models read from")
    assert set(read) == set(fitted) == _gold_ids(examples)
    assert len({id(m) for m in read.values()}) == train.FOLDS  # one model a fold, shared by its items
    X = np.concatenate([e.X for e in examples])
    rows = np.stack([_abstain_row(None, e.cands, e.X, e.X[:, 0]) for e in examples])
    for item_id, model in fitted.items():
        other = read[item_id]
        assert np.array_equal(model.candidate.logits(X), other.candidate.logits(X))
        assert np.array_equal(model.answers.logits(X), other.answers.logits(X))
        cols = train.model_columns(train.MODEL_FEATURES)
        assert np.array_equal(model.abstain.proba(rows[:, cols]), other.abstain.proba(rows[:, cols]))
        assert model.abstain_threshold == other.abstain_threshold
    # The file says how to regenerate it, and its manifest is readable beside the models.
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert "python -m assistant.reader.train" in doc["about"]
    assert doc["manifest"]["settings"]["features"] == list(FEATURES)


def test_a_changed_training_file_makes_them_stale(tmp_path: Path, small: None, fitted: dict) -> None:  # type: ignore[type-arg]
    examples = _examples()
    path, _ = _saved(tmp_path, examples, fitted)
    data = _data(tmp_path)
    data[0].write_text('{"id": "Q1", "answers": ["b"]}\n', encoding="utf-8")
    read, why = train.load_fold_models(path, train.fold_manifest(examples, _gold_ids(examples), data))
    assert read is None and "stale" in why and "data_sha256" in why


def test_changed_examples_gold_ids_or_settings_make_them_stale(tmp_path: Path, small: None, fitted: dict,  # type: ignore[type-arg]
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    examples = _examples()
    path, manifest = _saved(tmp_path, examples, fitted)
    data, ids = _data(tmp_path), _gold_ids(examples)
    assert train.load_fold_models(path, train.fold_manifest(examples, ids, data))[0] is not None
    # one feature value of one candidate (a feature's code, the index or the query analysis changed)
    changed = _examples()
    changed[3].X[2, 5] += 0.25
    read, why = train.load_fold_models(path, train.fold_manifest(changed, ids, data))
    assert read is None and "examples_sha256" in why
    # another split of the items into folds
    read, why = train.load_fold_models(path, train.fold_manifest(examples, ids | {"Q1"}, data))
    assert read is None and "examples_sha256" in why
    # the abstention rows' code (the probe scorings see it)
    monkeypatch.setattr(train, "abstain_features", lambda *a: _abstain_row(*a) * 2)
    read, why = train.load_fold_models(path, train.fold_manifest(examples, ids, data))
    assert read is None and "examples_sha256" in why
    monkeypatch.setattr(train, "abstain_features", _abstain_row)
    # a trainer setting
    monkeypatch.setattr(train, "C_ABSTAIN", 0.25)
    read, why = train.load_fold_models(path, train.fold_manifest(examples, ids, data))
    assert read is None and "settings" in why
    monkeypatch.setattr(train, "C_ABSTAIN", manifest["settings"]["C_abstain"])
    assert train.load_fold_models(path, train.fold_manifest(examples, ids, data))[0] is not None


def test_a_missing_or_damaged_file_is_refitted(tmp_path: Path, small: None) -> None:
    examples = _examples(20)
    manifest = train.fold_manifest(examples, _gold_ids(examples), _data(tmp_path))
    read, why = train.load_fold_models(tmp_path / "folds.json", manifest)
    assert read is None and "no fold models" in why
    (tmp_path / "folds.json").write_text("{", encoding="utf-8")
    read, why = train.load_fold_models(tmp_path / "folds.json", manifest)
    assert read is None and "unreadable" in why


def test_the_code_hash_ignores_comments_and_docstrings_only(tmp_path: Path) -> None:
    src = 'def f(x):\n    """Twice x."""\n    return 2 * x  # doubled\n'
    (tmp_path / "m.py").write_text(src, encoding="utf-8")
    before = train.code_hash(("m",), tmp_path)
    (tmp_path / "m.py").write_text(src.replace("Twice", "Double").replace("# doubled", "# twice"),
                                   encoding="utf-8")
    assert train.code_hash(("m",), tmp_path) == before
    (tmp_path / "m.py").write_text(src.replace("2 * x", "3 * x"), encoding="utf-8")
    assert train.code_hash(("m",), tmp_path) != before


def test_the_fitting_modules_import_no_other_reader_module() -> None:
    """The manifest hashes the code of ``FIT_MODULES``: every reader module they import is among
    them, or is the package (its helpers build the examples, whose content is hashed)."""
    root = Path(train.__file__).parent
    for name in train.FIT_MODULES:
        tree = ast.parse((root / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("assistant.reader"):
                module = node.module.removeprefix("assistant.reader").lstrip(".")
                assert module == "" or module in train.FIT_MODULES, (name, node.module)


def test_eval_oof_reads_matching_fold_models_and_refits_stale_ones(
        tmp_path: Path, small: None, fitted: dict, monkeypatch: pytest.MonkeyPatch,  # type: ignore[type-arg]
        capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.evaluate import OutOfFold

    examples = _examples()
    ids = _gold_ids(examples)
    data = _data(tmp_path)
    monkeypatch.setattr(train, "TRAIN_FILES", tuple(data))
    monkeypatch.setattr(train, "RANK_FILES", ())
    monkeypatch.setattr(train, "ABSTAIN_FILES", ())
    monkeypatch.setattr(train, "training_examples", lambda *a, **k: examples)
    pipeline = SimpleNamespace(index=lambda: SimpleNamespace(df=None))
    items = [e.item for e in examples if e.item.id in ids]
    path, _ = _saved(tmp_path, examples, fitted)
    fits: list[set[str]] = []  # fitting is the retrain's own code (the first test): here, counted
    monkeypatch.setattr(train, "fold_models", lambda ex, eval_ids, df: fits.append(eval_ids) or fitted)

    read = OutOfFold.fit(pipeline, items, progress=False, folds_path=path)
    assert not fits and "fold models read from" in capsys.readouterr().err
    X = examples[0].X
    for item in items:
        assert np.array_equal(read.models[item.question].candidate.logits(X), fitted[item.id].candidate.logits(X))

    OutOfFold.fit(pipeline, items, progress=False, folds_path=path, refit=True)
    assert fits == [ids] and "refit asked for" in capsys.readouterr().err

    data[0].write_text('{"id": "Q2"}\n', encoding="utf-8")
    OutOfFold.fit(pipeline, items, progress=False, folds_path=path)
    err = capsys.readouterr().err
    assert fits == [ids, ids] and "stale: data_sha256 changed" in err and "python -m assistant.reader.train" in err
