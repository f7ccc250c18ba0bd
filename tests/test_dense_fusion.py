"""Dense search (numpy flat = FAISS IndexFlatIP; HNSW recall) and the pure fusion functions."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.config import Settings
from assistant.dense import (
    HNSW_THRESHOLD,
    STORES,
    ExactStore,
    HnswStore,
    StoreBatch,
    build_store,
    choose_kind,
    get_store,
    store_kind,
    vectors_only,
)
from assistant.errors import IndexCorruptError, UsageError
from assistant.fusion import FUSERS, get_fuser, rrf, weighted

SETTINGS = Settings()


def _unit_rows(n: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _store(kind: str, vecs: np.ndarray, directory: Path):  # type: ignore[no-untyped-def]
    directory.mkdir(parents=True, exist_ok=True)
    return build_store(kind, SETTINGS, directory, vectors_only(vecs))


def _load(kind: str, directory: Path, n: int, graph: str | None = None):  # type: ignore[no-untyped-def]
    manifest = {"passages": n, "store": {"kind": "faiss", **({"graph": graph} if graph else {})}}
    return get_store(kind).load(SETTINGS, directory, manifest, str)


# ------------------------------------------------------------------------ dense


@pytest.mark.parametrize(("n", "k"), [(500, 10), (37, 37), (37, 50), (1, 3)])
def test_flat_search_equals_faiss_index_flat_ip(n: int, k: int, tmp_path: Path) -> None:
    import faiss

    vecs, queries = _unit_rows(n, 48, seed=n), _unit_rows(7, 48, seed=1000 + n)
    ours = _store("flat", vecs, tmp_path)
    scores, rows = ours.search(queries, k)

    ref = faiss.IndexFlatIP(48)
    ref.add(vecs)
    ref_scores, ref_rows = ref.search(queries, min(k, n))

    assert rows.shape == ref_rows.shape == (7, min(k, n))
    np.testing.assert_array_equal(rows, ref_rows)
    np.testing.assert_allclose(scores, ref_scores, atol=1e-5)
    assert rows.dtype == np.int64


def test_flat_search_single_query_vector_and_ties_by_row(tmp_path: Path) -> None:
    vecs = np.array([[1, 0], [0, 1], [1, 0], [1, 0]], dtype=np.float32)
    idx = _store("flat", vecs, tmp_path / "a")
    assert idx.kind == "flat" and len(idx) == 4 and idx.dim == 2
    scores, rows = idx.search(np.array([1, 0], dtype=np.float32), 3)  # 1-D query
    assert rows.tolist() == [[0, 2, 3]]  # three equal scores: by row
    np.testing.assert_allclose(scores, [[1, 1, 1]])
    empty_scores, empty_rows = _store("flat", np.zeros((0, 2), np.float32), tmp_path / "b").search(vecs[:1], 5)
    assert empty_scores.shape == empty_rows.shape == (1, 0)


def test_choose_kind_switches_to_hnsw_above_the_threshold() -> None:
    assert choose_kind(10) == "flat"
    assert choose_kind(HNSW_THRESHOLD) == "flat"
    assert choose_kind(HNSW_THRESHOLD + 1) == "hnsw"
    assert store_kind(SETTINGS, HNSW_THRESHOLD + 1) == "hnsw"
    assert store_kind(Settings(store="milvus"), 10) == "milvus"


def test_store_registry_names_every_store() -> None:
    assert sorted(STORES) == ["flat", "hnsw", "milvus"]
    assert get_store("flat") is ExactStore and get_store("hnsw") is HnswStore
    with pytest.raises(UsageError) as err:
        get_store("annoy")
    assert str(sorted(STORES)) in str(err.value)


def test_hnsw_recall_against_exact_search(tmp_path: Path) -> None:
    vecs, queries = _unit_rows(3000, 32, seed=7), _unit_rows(50, 32, seed=8)
    exact = _store("flat", vecs, tmp_path / "flat")
    approx = _store("hnsw", vecs, tmp_path / "hnsw")
    assert approx.kind == "hnsw"
    _, want = exact.search(queries, 10)
    scores, got = approx.search(queries, 10)
    recall = np.mean([len(set(g) & set(w)) / 10 for g, w in zip(got.tolist(), want.tolist(), strict=True)])
    assert recall >= 0.9, f"HNSW recall@10 = {recall:.3f}"
    # Scores are inner products of the returned rows.
    np.testing.assert_allclose(scores[0], vecs[got[0]] @ queries[0], atol=1e-5)


def test_dense_save_load_roundtrip(tmp_path: Path) -> None:
    vecs, queries = _unit_rows(200, 16, seed=3), _unit_rows(4, 16, seed=4)
    for kind in ("flat", "hnsw"):
        d = tmp_path / kind
        built = _store(kind, vecs, d)
        assert (d / "dense.faiss").exists() == (kind == "hnsw")
        assert set(built.metadata()["files"]) == {p.name for p in d.iterdir()}
        loaded = _load(kind, d, len(vecs))
        np.testing.assert_array_equal(np.asarray(loaded.vectors), vecs)
        for a, b in zip(built.search(queries, 5), loaded.search(queries, 5), strict=True):
            np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_add_appends_in_place_and_equals_a_build(kind: str, tmp_path: Path) -> None:
    """Rows added to a saved store land in the same files (a new graph file for HNSW) and
    search like a store built from all rows at once; rows past the committed count
    (an update that crashed before its manifest) are cut off by the next add."""
    vecs, queries = _unit_rows(300, 16, seed=11), _unit_rows(6, 16, seed=12)
    whole = _store(kind, vecs, tmp_path / "whole")
    d = tmp_path / "grown"
    _store(kind, vecs[:200], d)
    crashed = _load(kind, d, 200)
    crashed.add(StoreBatch(200, vecs[200:250], (), np.zeros(0, np.int32), (), np.zeros((0, 16), np.float32)))
    # never saved or committed: the files now hold 250 rows, the manifest still says 200
    store = _load(kind, d, 200)
    store.add(StoreBatch(200, vecs[200:], (), np.zeros(0, np.int32), (), np.zeros((0, 16), np.float32)))
    meta = store.save()
    assert np.load(d / "embeddings.npy").shape == (300, 16)
    if kind == "hnsw":
        assert meta["graph"] == "dense.300.faiss" and (d / "dense.faiss").exists()  # the old one until commit
    again = _load(kind, d, 300, meta.get("graph"))
    np.testing.assert_array_equal(np.asarray(again.vectors), vecs)
    for q in queries:
        grown, built = again.best_rows(q, 5, None), whole.best_rows(q, 5, None)
        # The same rows; the scores to float precision (faiss computes them in another order per graph).
        assert [r for r, _ in grown] == [r for r, _ in built]
        np.testing.assert_allclose([s for _, s in grown], [s for _, s in built], atol=1e-6)
    with pytest.raises(ValueError, match="in order"):
        again.add(StoreBatch(7, vecs[:1], (), np.zeros(0, np.int32), (), np.zeros((0, 16), np.float32)))


def test_dense_load_rejects_damaged_files(tmp_path: Path) -> None:
    vecs = _unit_rows(20, 8, seed=5)
    _store("hnsw", vecs, tmp_path)

    (tmp_path / "dense.faiss").write_bytes(b"not a faiss index")
    with pytest.raises(IndexCorruptError, match="FAISS index"):
        _load("hnsw", tmp_path, 20)

    _store("hnsw", vecs[:10], tmp_path)
    np.save(tmp_path / "embeddings.npy", vecs, allow_pickle=False)  # 20 vectors, graph of 10
    with pytest.raises(IndexCorruptError, match="does not match"):
        _load("hnsw", tmp_path, 20)
    with pytest.raises(IndexCorruptError, match="unreadable"):  # fewer rows than the manifest says
        _load("flat", tmp_path, 21)

    np.save(tmp_path / "embeddings.npy", vecs.astype(np.float64), allow_pickle=False)
    with pytest.raises(IndexCorruptError, match="wrong shape or type"):
        _load("flat", tmp_path, 20)

    (tmp_path / "embeddings.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(IndexCorruptError, match="unreadable") as err:
        _load("flat", tmp_path, 20)
    assert err.value.hint and "--rebuild" in err.value.hint


# ----------------------------------------------------------------------- fusion

RUNS = [
    [("d:1-3", 0.91), ("d:4-6", 0.80), ("d:7-9", 0.42)],
    [("d:7-9", 12.0), ("d:1-3", 7.5), ("e:1-2", 3.0)],
    [("e:1-2", 0.7), ("d:4-6", 0.6)],
]


@pytest.mark.parametrize("fuse", [rrf, weighted])
def test_fusion_does_not_modify_its_inputs(fuse) -> None:  # type: ignore[no-untyped-def]
    runs = [list(r) for r in RUNS]
    before = copy.deepcopy(runs)
    fuse(runs)
    fuse(tuple(tuple(r) for r in runs))
    assert runs == before


def test_rrf_values_and_order() -> None:
    fused = rrf(RUNS[:2], k=60)
    expected = {
        "d:1-3": 1 / 61 + 1 / 62,
        "d:7-9": 1 / 63 + 1 / 61,
        "d:4-6": 1 / 62,
        "e:1-2": 1 / 63,
    }
    assert [c for c, _ in fused] == ["d:1-3", "d:7-9", "d:4-6", "e:1-2"]
    for cid, score in fused:
        assert score == pytest.approx(expected[cid])


def test_rrf_is_independent_of_run_order() -> None:
    base = rrf(RUNS)
    for perm in itertools.permutations(RUNS):
        assert rrf(list(perm)) == base


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from("ABCDEFGHIJ"), unique=True, max_size=10),
        min_size=1,
        max_size=4,
    )
)
def test_rrf_run_order_independence_property(id_runs: list[list[str]]) -> None:
    """Exact equality (ranks and scores) for every permutation of the runs, ties included."""
    runs = [[(cid, 0.0) for cid in r] for r in id_runs]
    results = {tuple(rrf(list(p))) for p in itertools.permutations(runs)}
    assert len(results) == 1


def test_weighted_is_independent_of_run_order_when_weights_move_along() -> None:
    w = [0.5, 0.3, 0.2]
    base = weighted(RUNS, weights=w)
    for perm in itertools.permutations(range(3)):
        assert weighted([RUNS[i] for i in perm], weights=[w[i] for i in perm]) == base


@pytest.mark.parametrize("fuse", [rrf, weighted])
def test_single_run_keeps_its_order(fuse) -> None:  # type: ignore[no-untyped-def]
    run = [("z", 9.0), ("a", 5.0), ("m", 1.0), ("b", 0.5)]
    assert [c for c, _ in fuse([run])] == ["z", "a", "m", "b"]


@pytest.mark.parametrize("fuse", [rrf, weighted])
def test_ties_are_broken_by_id(fuse) -> None:  # type: ignore[no-untyped-def]
    # "b" and "a" swap ranks between two equally weighted runs: equal fused scores.
    runs = [[("b", 1.0), ("a", 0.0)], [("a", 1.0), ("b", 0.0)]]
    fused = fuse(runs)
    assert [c for c, _ in fused] == ["a", "b"]
    assert fused[0][1] == fused[1][1]


def test_weighted_min_max_normalises_each_run() -> None:
    fused = dict(weighted(RUNS[:2], weights=[0.7, 0.3]))
    # run 1: 0.91 -> 1, 0.42 -> 0; run 2: 12 -> 1, 3 -> 0
    assert fused["d:1-3"] == pytest.approx(0.7 * 1 + 0.3 * (7.5 - 3) / 9)
    assert fused["d:7-9"] == pytest.approx(0.7 * 0 + 0.3 * 1)
    assert fused["d:4-6"] == pytest.approx(0.7 * (0.80 - 0.42) / 0.49)
    assert fused["e:1-2"] == pytest.approx(0.0)
    # A run whose scores are all equal counts fully for each of its ids.
    assert weighted([[("x", 3.0), ("y", 3.0)]]) == [("x", 1.0), ("y", 1.0)]
    assert weighted([[], [("x", 1.0)]], weights=[0.5, 0.5]) == [("x", 0.5)]


def test_fusion_of_no_runs_is_empty() -> None:
    assert rrf([]) == []
    assert weighted([]) == []


def test_get_fuser_registry() -> None:
    assert get_fuser("rrf") is rrf
    assert get_fuser("weighted") is weighted
    with pytest.raises(UsageError) as err:
        get_fuser("borda")
    assert "'borda'" in str(err.value)
    assert str(sorted(FUSERS)) in str(err.value)
    assert err.value.exit_code == 2
