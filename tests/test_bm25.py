"""Japanese BM25: real MeCab tokenisation, the bigram tokenizer, scoring and the on-disk format."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from assistant.bm25 import TOKENIZERS, BM25Index, bigram_tokenize, mecab_tokenize
from assistant.errors import IndexCorruptError
from assistant.normalize import normalize

# Sentences adapted from the corpus (normalised, as BM25 sees them).
PASSAGES = [
    normalize("将来の原型炉開発を見据えた研究開発を加速する。"),
    normalize("ITER計画の各極の費用分担(建設期)は、欧州45.5%、日本9.1%である。"),
    normalize("国民の理解を深めるアウトリーチ活動を実施する。"),
    normalize("JT-60SAが令和5年10月に初プラズマを生成。"),
    normalize("ムーンショット型研究開発制度の令和5年度補正予算額は20,000百万円。"),
]


@pytest.fixture(scope="module")
def mecab_index() -> BM25Index:
    return BM25Index.build(PASSAGES, mecab_tokenize)


# ---------------------------------------------------------------- tokenisation


def test_mecab_tokens_are_content_words_in_dictionary_form() -> None:
    toks = mecab_tokenize("原型炉の研究開発を加速した")
    assert "研究" in toks and "開発" in toks and "加速" in toks
    assert "の" not in toks and "を" not in toks  # particles dropped
    assert "た" not in toks  # auxiliaries dropped
    assert mecab_tokenize("Japan Fusion Energy Council") == ["japan", "fusion", "energy", "council"]
    assert mecab_tokenize("。、「」") == []


def test_whitespace_splitting_is_the_pitfall() -> None:
    """Japanese has no spaces: ``str.split`` sees one token per sentence and BM25 finds nothing."""
    for p in PASSAGES:
        assert len(p.split()) <= 2  # only the spaces around a Latin word, if any
    naive = BM25Index.build(PASSAGES, str.split)
    assert np.all(naive.scores("原型炉 研究開発".split()) == 0)
    assert naive.search(["原型炉"], 5) == []
    # The morphological tokenizer finds the passage for the same words.
    real = BM25Index.build(PASSAGES, mecab_tokenize)
    assert real.search(mecab_tokenize("原型炉の研究開発"), 5)[0][0] == 0


def test_bigram_tokenizer() -> None:
    assert bigram_tokenize("原型炉") == ["原型", "型炉"]
    assert bigram_tokenize("原 型\n炉") == ["原型", "型炉"]  # whitespace ignored
    assert bigram_tokenize("炉") == ["炉"]
    assert bigram_tokenize("  ") == []
    assert set(TOKENIZERS) == {"mecab", "bigram"}


# --------------------------------------------------------------------- scoring


@pytest.mark.parametrize(
    ("question", "expected_row"),
    [
        ("原型炉の研究開発を加速するには", 0),
        ("日本の費用分担は何%か", 1),
        ("アウトリーチ活動", 2),
        ("初プラズマはいつ生成されたか", 3),
        ("ムーンショットの補正予算額", 4),
    ],
)
def test_japanese_query_finds_the_right_passage(
    mecab_index: BM25Index, question: str, expected_row: int
) -> None:
    hits = mecab_index.search(mecab_tokenize(normalize(question)), 3)
    assert hits, f"no BM25 hit for {question!r}"
    row, score = hits[0]
    assert row == expected_row
    assert score > 0


def test_scores_match_the_lucene_bm25_formula() -> None:
    docs = [["a", "b", "a"], ["b", "c"], ["c", "c", "c", "d"]]
    k1, b = 1.2, 0.75
    idx = BM25Index.build(["0", "1", "2"], lambda t: docs[int(t)], k1=k1, b=b)
    n, avgdl = 3, sum(map(len, docs)) / 3

    def expected(query: list[str]) -> list[float]:
        out = []
        for d in docs:
            tf, s = Counter(d), 0.0
            for term in query:
                df = sum(term in x for x in docs)
                if tf[term]:
                    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                    s += idf * tf[term] * (k1 + 1) / (tf[term] + k1 * (1 - b + b * len(d) / avgdl))
            out.append(s)
        return out

    for query in (["a"], ["c"], ["a", "c"], ["b", "b"], ["zzz"]):
        np.testing.assert_allclose(idx.scores(query), expected(query), rtol=1e-5)


def test_search_returns_positive_scores_best_first_ties_by_row() -> None:
    idx = BM25Index.build(["同じ文", "別の話", "同じ文"], bigram_tokenize)
    hits = idx.search(["同じ"], 10)
    assert [r for r, _ in hits] == [0, 2]  # equal scores: lower row first; row 1 (score 0) left out
    assert hits[0][1] == hits[1][1] > 0
    assert idx.search(["同じ"], 1) == hits[:1]
    assert idx.search([], 5) == []


def test_empty_and_degenerate_corpora() -> None:
    idx = BM25Index.build(["", "原型炉"], bigram_tokenize)
    assert idx.n_docs == 2
    assert idx.search(["原型"], 5)[0][0] == 1


# ------------------------------------------------------------------ persistence


def test_save_load_roundtrip_uses_plain_files(tmp_path: Path, mecab_index: BM25Index) -> None:
    d = tmp_path / "bm25"
    mecab_index.save(d)
    assert sorted(p.name for p in d.iterdir()) == [
        "docs.npy",
        "lengths.npy",
        "max_weights.npy",
        "offsets.npy",
        "params.json",
        "tf.npy",
        "vocab.json",
        "weights.npy",
    ]
    # Reviewable: plain JSON and arrays that load without pickle.
    vocab = json.loads((d / "vocab.json").read_text(encoding="utf-8"))
    assert "原型" in vocab
    for name in ("docs.npy", "offsets.npy", "weights.npy"):
        np.load(d / name, allow_pickle=False)

    for mmap in (True, False):
        loaded = BM25Index.load(d, mmap=mmap)
        assert loaded.n_docs == mecab_index.n_docs
        assert loaded.params == mecab_index.params
        for q in ("原型炉の研究開発", "費用分担", "存在しない語"):
            toks = mecab_tokenize(q)
            np.testing.assert_array_equal(loaded.scores(toks), mecab_index.scores(toks))
            assert loaded.search(toks, 3) == mecab_index.search(toks, 3)


def _saved(tmp_path: Path) -> Path:
    d = tmp_path / "bm25"
    BM25Index.build(PASSAGES, bigram_tokenize).save(d)
    return d


@pytest.mark.parametrize(
    ("damage", "what"),
    [
        (lambda d: (d / "offsets.npy").write_bytes(b"garbage"), "unreadable"),
        (lambda d: (d / "weights.npy").unlink(), "unreadable"),
        (lambda d: (d / "vocab.json").write_text("{broken", encoding="utf-8"), "unreadable"),
        (lambda d: (d / "params.json").write_text('{"k1": 1.2}', encoding="utf-8"), "unreadable"),
        (lambda d: np.save(d / "docs.npy", np.zeros(3, np.int32), allow_pickle=False), "inconsistent"),
        (lambda d: (d / "vocab.json").write_text('{"a": 0}', encoding="utf-8"), "inconsistent"),
        # An object array can only be read with pickle, which the loader never allows.
        (
            lambda d: np.save(d / "docs.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True),
            "unreadable",
        ),
    ],
)
def test_corrupt_files_raise_index_corrupt_error(tmp_path: Path, damage, what: str) -> None:  # type: ignore[no-untyped-def]
    d = _saved(tmp_path)
    damage(d)
    with pytest.raises(IndexCorruptError) as err:
        BM25Index.load(d)
    assert what in err.value.message
    assert str(d) in err.value.message
    assert err.value.hint and "shiori index --rebuild" in err.value.hint


def test_build_in_bounded_runs_equals_one_run() -> None:
    """The postings built a few tokens at a time (as for huge corpora) equal one pass."""
    from assistant.bm25 import build_from_ids

    rng = np.random.default_rng(0)
    terms = [f"t{i:03d}" for i in range(50)]
    lengths = rng.integers(0, 30, size=200)
    ids = rng.integers(0, 50, size=int(lengths.sum())).astype(np.int32)
    whole = build_from_ids(ids, lengths, terms)
    runs = build_from_ids(ids, lengths, terms, chunk_tokens=37)
    assert whole.vocab == runs.vocab and whole.params == runs.params
    assert np.array_equal(whole.offsets, runs.offsets) and np.array_equal(whole.docs, runs.docs)
    assert np.array_equal(whole.weights, runs.weights)
    for t in ("t001", "t042"):
        assert whole.search([t], 5) == runs.search([t], 5)


def test_bounded_search_equals_scoring_every_posting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Max-score pruning skips long posting lists only when it cannot change the top k: every
    query ranks as a full ``bincount`` over all postings does, scores to the bit, ties by row."""
    import random

    import assistant.bm25 as bm25

    rng = random.Random(0)
    vocab = [f"t{i}" for i in range(300)]
    zipf = np.array([1 / (i + 1) for i in range(300)])
    texts = [rng.choices(vocab, zipf / zipf.sum(), k=rng.randint(5, 60)) for _ in range(20_000)]
    idx = BM25Index.build(texts, lambda toks: toks)  # type: ignore[arg-type, return-value]
    plain = BM25Index(idx.vocab, idx.offsets, idx.docs, idx.weights, idx.n_docs, idx.params)
    monkeypatch.setattr(bm25, "BOUND_MIN_DF", 100)
    bounded = 0
    for _ in range(300):
        q = [rng.choice(vocab[:5]) for _ in range(2)] + [rng.choice(vocab) for _ in range(rng.randint(1, 4))]
        bounded += idx._search_bounded([idx.vocab[t] for t in q], 50) is not None
        assert idx.search(q, 50) == plain.search(q, 50), q
    assert bounded > 10  # the pruned path did run
    np.testing.assert_array_equal(idx.max_weights, np.maximum.reduceat(idx.weights, idx.offsets[:-1]))


def test_term_weights_scale_each_terms_contribution(monkeypatch: pytest.MonkeyPatch) -> None:
    """An English question's later translations count for less (``term_weights``): a weight
    scales the term's score, an absent term counts 1, and the pruned search ranks as a full one."""
    import random

    import assistant.bm25 as bm25

    idx = BM25Index.build(["原型炉 の 設計", "原型炉 の 予算", "設計 の 予算"], lambda t: t.split())
    plain = idx.scores(["設計", "予算"])
    half = idx.scores(["設計", "予算"], {"予算": 0.5})
    np.testing.assert_allclose(half, idx.scores(["設計"]) + 0.5 * idx.scores(["予算"]), rtol=1e-6)
    np.testing.assert_array_equal(idx.scores(["設計", "予算"], {}), plain)
    assert [r for r, _ in idx.search(["原型炉", "予算"], 3, {"予算": 0.1})][:2] == [1, 0]

    rng = random.Random(1)
    vocab = [f"t{i}" for i in range(200)]
    zipf = np.array([1 / (i + 1) for i in range(200)])
    texts = [rng.choices(vocab, zipf / zipf.sum(), k=rng.randint(5, 40)) for _ in range(10_000)]
    big = BM25Index.build(texts, lambda toks: toks)  # type: ignore[arg-type, return-value]
    plain_idx = BM25Index(big.vocab, big.offsets, big.docs, big.weights, big.n_docs, big.params)
    monkeypatch.setattr(bm25, "BOUND_MIN_DF", 100)
    for _ in range(100):
        q = [rng.choice(vocab[:5]) for _ in range(2)] + [rng.choice(vocab) for _ in range(rng.randint(1, 4))]
        w = {t: rng.choice((1.0, 0.5, 0.25)) for t in q}
        assert big.search(q, 30, w) == plain_idx.search(q, 30, w), q
