"""Scale-out backends: Milvus (Lite) for the dense vectors, Ray Data for embedding.

Equivalence is the contract: the same corpus indexed with ``faiss`` and with
``milvus`` ranks the same passages (both are exact at this size), and vectors
embedded on Ray workers equal locally embedded ones to 1e-5. The backends are
the optional ``shiori[scale]`` extras: without them these tests skip, except
in CI (``CI=true``), where a missing extra is a failure.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.embedding import Embedder, EmbeddingCache, FakeEmbedder, load_embedder
from assistant.errors import IndexCorruptError, IndexStaleError
from assistant.pipeline import Pipeline
from assistant.store import build_index, cache_dir, load_index

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "eval" / "gold.jsonl"
QUERIES = ("申請の期限", "補助金の対象となる事業", "個人情報の取り扱い", "ＡＩの活用", "予算")


def _require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing and os.environ.get("CI") != "true":
        pytest.skip(
            f"needs the scale extras (pip install 'shiori[scale]'): {', '.join(missing)} not installed"
        )


@pytest.fixture
def need_milvus() -> None:
    _require("pymilvus", "milvus_lite", "llama_index.vector_stores.milvus")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """A local Ray for this module (no dashboard, no auth: a test-only setting), shut down after."""
    _require("ray", "pyarrow")
    import ray

    old = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    try:
        yield
    finally:
        if ray.is_initialized():
            ray.shutdown()
        if old is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = old


def _fixture_settings(corpus: Path, index_dir: Path, **kw: object) -> Settings:
    return Settings.from_env(
        environ={},
        corpus_dir=corpus,
        index_dir=index_dir,
        embedder="fake",
        tokenizer="bigram",
        chunk_chars=80,
        chunk_overlap=10,
        auto_rebuild=False,
        **kw,
    )


def _ids(p: Pipeline, q: str, mode: str, k: int = 5) -> list[str]:
    return [h.chunk.id for h in p.search(q, k=k, mode=mode).hits]


def _answer_json(p: Pipeline, q: str) -> dict:
    d = p.ask(q).to_json()
    d.pop("timings_ms")
    return d


# ------------------------------------------------------------ lean default


def test_default_path_imports_no_scale_backend(tmp_corpus: Path, tmp_path: Path) -> None:
    """Building and searching the default (faiss) index never imports Milvus or Ray."""
    code = (
        "import sys\n"
        "from assistant.config import Settings\nfrom assistant.embedding import FakeEmbedder\n"
        "from assistant.pipeline import Pipeline\nimport assistant.cli\n"
        f"s = Settings.from_env(environ={{}}, corpus_dir={str(tmp_corpus)!r}, index_dir={str(tmp_path / 'i')!r}, "
        "embedder='fake', tokenizer='bigram')\n"
        "p = Pipeline(s, FakeEmbedder(), progress=False); p.build(); p.search('申請')\n"
        "print([m for m in ('pymilvus', 'milvus_lite', 'ray', 'llama_index.vector_stores.milvus') if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------ Milvus Lite


@pytest.mark.slow
def test_milvus_index_matches_faiss(need_milvus: None, tmp_corpus: Path, tmp_path: Path) -> None:
    faiss_s = _fixture_settings(tmp_corpus, tmp_path / "faiss")
    milvus_s = _fixture_settings(tmp_corpus, tmp_path / "milvus", store="milvus")
    pf = Pipeline(faiss_s, FakeEmbedder(), progress=False)
    pm = Pipeline(milvus_s, FakeEmbedder(), progress=False)
    pf.build()
    manifest = pm.build()

    store = manifest["store"]
    assert store["kind"] == "milvus" and store["uri"] == milvus_s.resolved_milvus_uri()
    assert Path(store["uri"]).is_dir() and store["uri"].endswith(".db")  # Milvus Lite: a directory
    assert store["passages"]["count"] == manifest["passages"] > 3
    assert store["sentences"]["count"] == manifest["sentences"]
    assert manifest["dense"]["kind"] == "milvus"
    # Only the dense vectors move: BM25, chunks and the sentence data stay in index/.
    files = {p.name for p in (tmp_path / "milvus").iterdir()}
    assert "embeddings.npy" not in files and {"chunks.jsonl", "bm25", "sent_embeddings.npy"} <= files

    for q in QUERIES:
        for mode in ("hybrid", "dense"):
            a, b = pf.search(q, k=5, mode=mode), pm.search(q, k=5, mode=mode)
            assert [h.chunk.id for h in a.hits] == [h.chunk.id for h in b.hits], (q, mode)
            np.testing.assert_allclose([h.score for h in a.hits], [h.score for h in b.hits], atol=1e-5)
        assert _answer_json(pf, q) == _answer_json(pm, q)
    for sentences in (False, True):
        pf.settings = dataclasses.replace(faiss_s, dense_sentences=sentences)
        pm.settings = dataclasses.replace(milvus_s, dense_sentences=sentences)
        assert _ids(pf, QUERIES[0], "dense", 10) == _ids(pm, QUERIES[0], "dense", 10)

    # A new process (here: a fresh load) finds the collections released and loads them.
    again = Pipeline(milvus_s, FakeEmbedder(), progress=False)
    assert _ids(again, QUERIES[1], "hybrid") == _ids(pf, QUERIES[1], "hybrid")
    # DenseIndex.search's contract (passage vectors only) holds too.
    qv = FakeEmbedder().embed_queries([QUERIES[2]])
    fs, fr = pf.index().dense.search(qv, 4)
    ms, mr = pm.index().dense.search(qv, 4)
    assert fr.tolist() == mr.tolist()
    np.testing.assert_allclose(fs, ms, atol=1e-5)


@pytest.mark.slow
def test_milvus_store_staleness_and_rebuild(need_milvus: None, tmp_corpus: Path, tmp_path: Path) -> None:
    from pymilvus import MilvusClient

    faiss_s = _fixture_settings(tmp_corpus, tmp_path / "index")
    milvus_s = dataclasses.replace(faiss_s, store="milvus")
    build_index(faiss_s, FakeEmbedder(), progress=False)
    with pytest.raises(IndexStaleError, match="params differ"):  # faiss index, milvus wanted
        load_index(milvus_s)
    first = build_index(milvus_s, FakeEmbedder(), progress=False)
    with pytest.raises(IndexStaleError):  # and back
        load_index(faiss_s)
    with pytest.raises(IndexStaleError, match="milvus_uri"):  # another Milvus
        load_index(dataclasses.replace(milvus_s, milvus_uri=str(tmp_path / "other.db")))
    load_index(milvus_s)

    client = MilvusClient(milvus_s.resolved_milvus_uri())
    old = [first["store"][p]["collection"] for p in ("passages", "sentences")]
    assert set(old) <= set(client.list_collections())
    # A rebuild writes new collections and drops the replaced index's ones after the swap.
    second = build_index(milvus_s, FakeEmbedder(), progress=False)
    new = [second["store"][p]["collection"] for p in ("passages", "sentences")]
    assert set(new).isdisjoint(old)
    assert set(client.list_collections()) == set(new)

    # A collection with missing entities or a missing collection is never used silently.
    client.delete(new[0], ids=[load_index(milvus_s).chunks[0].id])
    client.flush(new[0])
    with pytest.raises(IndexCorruptError, match="entities"):
        load_index(milvus_s)
    client.drop_collection(new[0])
    with pytest.raises(IndexStaleError, match="missing"):
        load_index(milvus_s)
    # ... and a pipeline allowed to rebuild does so.
    p = Pipeline(dataclasses.replace(milvus_s, auto_rebuild=True), FakeEmbedder(), progress=False)
    assert p.search(QUERIES[0]).hits
    # Back to faiss: the Milvus collections of the replaced index are dropped.
    build_index(faiss_s, FakeEmbedder(), progress=False)
    assert client.list_collections() == []


@pytest.mark.slow
def test_failed_build_leaves_previous_milvus_index(
    need_milvus: None, tmp_corpus: Path, tmp_path: Path
) -> None:
    from pymilvus import MilvusClient

    s = _fixture_settings(tmp_corpus, tmp_path / "index", store="milvus")
    build_index(s, FakeEmbedder(), progress=False)
    before = set(MilvusClient(s.resolved_milvus_uri()).list_collections())

    def crash(_tmp: Path) -> None:
        raise RuntimeError("crash before the swap")

    with pytest.raises(RuntimeError):
        build_index(s, FakeEmbedder(), progress=False, fail_after_write=crash)
    assert set(MilvusClient(s.resolved_milvus_uri()).list_collections()) == before
    assert load_index(s).dense.kind == "milvus"


@pytest.mark.slow
def test_milvus_update_adds_to_the_collections(
    need_milvus: None, tmp_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An update goes through the same store protocol: new entities in the index's own
    collections, ranked as a faiss index of the same corpus; a crashed update's entities
    are removed when the index is next opened."""
    from pymilvus import MilvusClient

    from assistant.corpus import add_document
    from assistant.writer import IndexWriter, update_index

    faiss_s = _fixture_settings(tmp_corpus, tmp_path / "faiss")
    milvus_s = _fixture_settings(tmp_corpus, tmp_path / "milvus", store="milvus")
    first = build_index(milvus_s, FakeEmbedder(), progress=False)
    names = [first["store"][p]["collection"] for p in ("passages", "sentences")]
    src = tmp_path / "lhd.txt"
    src.write_text("大型ヘリカル装置\n\n所在地：岐阜県土岐市\nLHDは超伝導コイルを用いた実験装置である。\n",
                   encoding="utf-8")
    add_document(tmp_corpus, src)

    real_finish = IndexWriter.finish
    monkeypatch.setattr(IndexWriter, "finish", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash")))
    with pytest.raises(RuntimeError, match="crash"):
        update_index(milvus_s, FakeEmbedder(), progress=False)
    client = MilvusClient(milvus_s.resolved_milvus_uri())
    assert int(client.get_collection_stats(names[0])["row_count"]) > first["passages"]  # uncommitted rows
    monkeypatch.setattr(IndexWriter, "finish", real_finish)

    manifest = Pipeline(milvus_s, FakeEmbedder(), progress=False).build()
    assert manifest["updates"] == 1
    assert [manifest["store"][p]["collection"] for p in ("passages", "sentences")] == names
    assert manifest["store"]["passages"]["count"] == manifest["passages"] > first["passages"]
    assert manifest["store"]["sentences"]["count"] == manifest["sentences"]
    assert int(client.get_collection_stats(names[0])["row_count"]) == manifest["passages"]
    pm = Pipeline(milvus_s, FakeEmbedder(), progress=False)
    pf = Pipeline(faiss_s, FakeEmbedder(), progress=False)
    pf.build()
    for q in (*QUERIES, "岐阜県土岐市の実験装置"):
        assert _ids(pm, q, "hybrid") == _ids(pf, q, "hybrid"), q


@pytest.mark.slow
def test_milvus_lite_held_by_another_process(need_milvus: None, tmp_corpus: Path, tmp_path: Path) -> None:
    """Milvus Lite opens a database in one process at a time: the second gets a one-line cause."""
    from assistant.errors import BackendUnavailableError

    s = _fixture_settings(tmp_corpus, tmp_path / "index", store="milvus")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom pymilvus import MilvusClient\n"
            f"MilvusClient({s.resolved_milvus_uri()!r})\nprint('ready', flush=True)\nsys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(BackendUnavailableError, match="one process at a time"):
            build_index(s, FakeEmbedder(), progress=False)
        assert not (tmp_path / "index").exists()
    finally:
        holder.communicate(input="", timeout=60)


def _run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHIORI_")}
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", "-q", *args],
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_cli_index_and_ask_with_store_milvus(need_milvus: None, tmp_corpus: Path, tmp_path: Path) -> None:
    env = {
        "SHIORI_CORPUS_DIR": str(tmp_corpus),
        "SHIORI_EMBEDDER": "fake",
        "SHIORI_TOKENIZER": "bigram",
        "SHIORI_CHUNK_CHARS": "80",
        "SHIORI_CHUNK_OVERLAP": "10",
        "SHIORI_MILVUS_URI": str(tmp_path / "shiori.db"),
    }
    milvus_env = {**env, "SHIORI_INDEX_DIR": str(tmp_path / "index_m")}
    faiss_env = {**env, "SHIORI_INDEX_DIR": str(tmp_path / "index_f")}
    out = _run_cli("index", "--store", "milvus", "--json", env=milvus_env)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["store"] == "milvus" and summary["store_uri"] == str(tmp_path / "shiori.db")
    assert summary["dense"] == "milvus" and summary["passages"] > 3

    answers = {}
    for name, e, store in (("milvus", milvus_env, "milvus"), ("faiss", faiss_env, "faiss")):
        out = _run_cli("ask", QUERIES[0] + "はいつですか", "--store", store, "--json", env=e)
        assert out.returncode == 0, out.stderr
        answers[name] = json.loads(out.stdout)
        answers[name].pop("timings_ms")
    assert {"question", "answer", "abstained", "citations", "related"} <= set(answers["milvus"])
    assert answers["milvus"] == answers["faiss"]

    out = _run_cli("search", "予算", "--store", "milvus", "--no-rebuild", "--json", env=milvus_env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["results"]
    # The index was built for Milvus: asking for faiss without rebuilding names the mismatch.
    out = _run_cli("search", "予算", "--store", "faiss", "--no-rebuild", "--json", env=milvus_env)
    assert out.returncode == 1 and "stale" in out.stderr


# ------------------------------------------------------------ real corpus


class _MemoEmbedder:
    """The real embedder, embedding each query once (both stores see the same vector)."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.name, self.dim = inner.name, inner.dim
        self._memo: dict[str, np.ndarray] = {}

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        for t in texts:
            if t not in self._memo:
                self._memo[t] = self._inner.embed_queries([t])[0]
        return np.stack([self._memo[t] for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._inner.embed_passages(texts)


@pytest.mark.slow
def test_gold_top5_same_with_faiss_and_milvus(
    need_milvus: None, real_index: Settings, tmp_path: Path
) -> None:
    """Every eval question retrieves the same top 5 from both stores (both exact at 83 passages)."""
    from assistant.gold import load_gold

    milvus_s = dataclasses.replace(real_index, store="milvus", index_dir=tmp_path / "index")
    shutil.copytree(cache_dir(real_index), cache_dir(milvus_s))  # embeddings are reused, not recomputed
    emb = _MemoEmbedder(load_embedder(real_index.embedder))
    pf = Pipeline(real_index, emb, progress=False)
    pm = Pipeline(milvus_s, emb, progress=False)
    manifest = pm.build()
    assert manifest["embedded_new"] == 0
    items = load_gold(GOLD)
    differ = []
    for it in items:
        a, b = pf.search(it.question, k=5), pm.search(it.question, k=5)
        if [h.chunk.id for h in a.hits] != [h.chunk.id for h in b.hits]:
            differ.append(it.id)
        else:
            np.testing.assert_allclose([h.score for h in a.hits], [h.score for h in b.hits], atol=1e-5)
    assert differ == [], f"{len(differ)}/{len(items)} questions rank differently: {differ[:10]}"
    for it in items[:: max(1, len(items) // 8)]:  # answers and citations are identical too
        assert _answer_json(pf, it.question) == _answer_json(pm, it.question), it.id


# ------------------------------------------------------------ Ray Data


@pytest.mark.slow
def test_ray_embeddings_equal_local(local_ray: None, real_index: Settings, tmp_path: Path) -> None:
    """A few hundred passages and sentences embedded by Ray workers equal the local vectors."""
    from assistant.ray_embed import embed_passages_ray
    from assistant.store import load_index

    index = load_index(real_index)
    texts = [c.search_text for c in index.chunks.all()]
    local = [np.asarray(index.dense.vectors)]  # type: ignore[union-attr]
    n_sent = 300 - len(texts)
    texts += index.sentences.texts[:n_sent]
    local.append(np.asarray(index.sentences.vectors[:n_sent]))
    expected = np.concatenate(local)

    emb = load_embedder(real_index.embedder)
    cache = EmbeddingCache(tmp_path / "cache", emb.name)
    done: list[int] = []
    vecs, n_new = embed_passages_ray(emb, texts, cache, 16, done.append, settings=real_index)
    assert vecs.shape == expected.shape and vecs.dtype == np.float32
    np.testing.assert_allclose(vecs, expected, atol=1e-5)
    assert n_new == len(set(texts)) and sum(done) == len(texts)
    # Every batch went to the cache as it arrived: a second run embeds nothing.
    again, n_again = embed_passages_ray(
        emb, texts, EmbeddingCache(tmp_path / "cache", emb.name), 16, settings=real_index
    )
    assert n_again == 0
    np.testing.assert_array_equal(again, vecs)


@pytest.mark.slow
def test_index_with_ray_into_milvus(
    local_ray: None, need_milvus: None, tmp_corpus: Path, tmp_path: Path
) -> None:
    """`--ray --store milvus`: embedded on Ray workers, written to Milvus, same results as local faiss."""
    local = _fixture_settings(tmp_corpus, tmp_path / "local")
    scaled = _fixture_settings(tmp_corpus, tmp_path / "scaled", store="milvus", embed_engine="ray")
    build_index(local, FakeEmbedder(), progress=False)
    manifest = build_index(scaled, FakeEmbedder(), progress=False)
    assert manifest["embedded_new"] > 0
    np.testing.assert_allclose(
        np.load(tmp_path / "scaled" / "sent_embeddings.npy"),
        np.load(tmp_path / "local" / "sent_embeddings.npy"),
        atol=1e-6,
    )
    pl, ps = Pipeline(local, FakeEmbedder(), progress=False), Pipeline(scaled, FakeEmbedder(), progress=False)
    for q in QUERIES:
        assert _ids(pl, q, "hybrid") == _ids(ps, q, "hybrid")
