"""The benchmark's internals on tiny sizes: data, exact search, recall, workers, tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is a repo-root package, not installed with assistant/
    sys.path.insert(0, str(ROOT))

from assistant.gold import GoldItem  # noqa: E402
from bench.baseline_llamaindex import line_span  # noqa: E402
from bench.quality import ItemOutcome, score  # noqa: E402
from bench.report import scale_report  # noqa: E402
from bench.scale import (  # noqa: E402
    crossing,
    exact_topk,
    recall_at_k,
    run_scale,
    switch_point,
    synth_block,
    synth_passages,
    synth_to_file,
)
from bench.table import markdown_table, verdict  # noqa: E402
from bench.util import run_child  # noqa: E402


def test_markdown_table_shape_and_cells() -> None:
    out = markdown_table(["name", "p50 ms", "ok"], [["a|b", 1.23456, True], ["c", None, False]])
    lines = out.splitlines()
    assert lines[0] == "| name | p50 ms | ok |"
    assert lines[1] == "|---|---:|---|"
    assert lines[2] == "| a\\|b | 1.23 | yes |"
    assert lines[3] == "| c | – | no |"
    with pytest.raises(ValueError):
        markdown_table(["a", "b"], [[1]])
    assert verdict(1.1, 1.25) == "met" and verdict(0.8, 0.9, higher_is_better=True) == "missed"


def test_synthetic_vectors_exact_search_and_recall(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    base = synth_block(np.eye(384, dtype=np.float32)[:50], 50, rng)
    synth_to_file(tmp_path / "v.npy", base, 2_000, seed=1, chunk=700)
    v = np.load(tmp_path / "v.npy", mmap_mode="r")
    assert v.shape == (2_000, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    q = synth_block(base, 7, rng)
    got = exact_topk(v, q, k=10, chunk=300)
    want = np.argsort(-(q @ np.asarray(v).T), axis=1)[:, :10]
    assert recall_at_k(got, want) == 1.0
    assert recall_at_k(got[:, ::-1], want) == 1.0  # order inside the top k does not matter
    assert recall_at_k(np.zeros_like(got), want) <= 0.1


def test_crossing_and_switch_point() -> None:
    assert crossing([(10_000, 2.0), (100_000, 20.0)], 10.0) == pytest.approx(50_000, rel=1e-6)
    assert crossing([(10_000, 30.0), (100_000, 200.0)], 10.0) > 0  # never negative
    fake = {
        "dense": [
            {
                "n": n,
                "case": "shiori-flat+sent",
                "rows": [{"config": "x", "p50_ms": t, "p50_ms_1thread": t, "recall_at_10": None}],
            }
            for n, t in ((10_000, 4.0), (100_000, 40.0))
        ]
        + [
            {
                "n": 100_000,
                "case": "hnsw",
                "rows": [
                    {"config": "efSearch=64", "p50_ms": 0.5, "p50_ms_1thread": 0.4, "recall_at_10": 0.97}
                ],
            }
        ]
    }
    sw = switch_point(fake, budget_ms=10.0)
    assert sw["recommended_threshold"] == 20_000
    assert sw["fastest_ann_at_recall_0.95"]["100000"]["p50_ms"] == 0.4


def test_synth_passages_reach_target_length() -> None:
    sentences = ["あいうえお。", "かきくけこさしすせそ。", "たちつてと。"]
    picks, counts = synth_passages(sentences, 200, seed=3, target=40)
    off = np.concatenate(([0], np.cumsum(counts)))
    lengths = [sum(len(sentences[j]) for j in picks[off[i] : off[i + 1]]) for i in range(200)]
    assert len(counts) == 200 and min(lengths) >= 40 and max(lengths) < 40 + 11


def test_vectorised_bm25_matches_bm25index_build() -> None:
    from assistant.bm25 import BM25Index, bigram_tokenize
    from bench.bm25_fast import build_from_sentences
    from bench.scale import passage_texts

    sentences = ["あいうえお。", "かきくけこ。", "さしすせそたちつ。", "abc def。", "x"]
    tokens = [bigram_tokenize(s) for s in sentences]
    picks, counts = synth_passages(sentences, 300, seed=1, target=20)
    off = np.concatenate(([0], np.cumsum(counts)))
    lists = iter([[t for j in picks[off[i] : off[i + 1]] for t in tokens[j]] for i in range(300)])
    ref = BM25Index.build(passage_texts(sentences, picks, counts), lambda _text: next(lists))
    fast = build_from_sentences(tokens, picks, counts)
    assert fast.vocab == ref.vocab and fast.n_docs == ref.n_docs and fast.params == ref.params
    assert np.array_equal(fast.offsets, ref.offsets) and np.array_equal(fast.docs, ref.docs)
    assert np.allclose(fast.weights, ref.weights, rtol=1e-6)
    got, want = fast.search(["かき", "abc"], 5), ref.search(["かき", "abc"], 5)
    assert [r for r, _ in got] == [r for r, _ in want]
    assert np.allclose([x for _, x in got], [x for _, x in want], rtol=1e-6)


def test_line_span_counts_newlines_before_offsets() -> None:
    text = "一行目\n二行目\n三行目\n"
    assert line_span(text, 0, 3) == (1, 1)
    assert line_span(text, 4, 11) == (2, 3)
    assert line_span(text, 4, 8) == (2, 2)  # ends on the newline of line 2


def test_score_uses_gold_spans_and_answers() -> None:
    item = GoldItem("G1", "fact", "誰?", ("近藤",), False, "a.txt", (10, 12))
    none = GoldItem("G2", "none", "何?", (), False, None, None)
    outs = [
        ItemOutcome(
            item, "主査は近藤氏。", False, ("a.txt", 11, 11), (("b.txt", 1, 2), ("a.txt", 12, 14)), 5.0
        ),
        ItemOutcome(none, "該当なし", True, None, (), 7.0),
    ]
    m = score(outs)
    assert m["answer_accuracy"] == 1.0 and m["citation_accuracy"] == 1.0
    assert m["recall_at_1"] == 0.0 and m["recall_at_5"] == 1.0 and m["abstention_recall"] == 1.0
    assert m["latency_ms_p50"] == 6.0 and m["cited_lines_mean"] == 1.0


def test_child_peak_rss_is_its_own() -> None:
    """A small child of a large parent reports its own peak, not the parent's (see util._LAUNCHER)."""
    ballast = np.ones(300 * 2**20 // 8)  # ~300 MiB in this process
    small = run_child([sys.executable, "-c", "pass"], timeout=60)
    big = run_child([sys.executable, "-c", "b = bytearray(200 * 2**20)"], timeout=60)
    assert small.returncode == 0 and small.maxrss_kib < 100 * 1024
    assert 200 * 1024 <= big.maxrss_kib < 300 * 1024
    del ballast


def test_scale_study_runs_on_tiny_sizes(tmp_path: Path) -> None:
    res = run_scale(
        [2_000],
        tmp_path,
        out=tmp_path / "scale.json",
        cases=("numpy-flat", "hnsw", "ivf"),
        bm25=False,
        base_source="random",
        timeout=120,
    )
    assert (tmp_path / "scale.json").exists()
    by_case = {e["case"]: e for e in res["dense"]}
    assert set(by_case) == {"numpy-flat", "hnsw", "ivf"}
    assert by_case["numpy-flat"]["rows"][0]["recall_at_10"] == 1.0
    assert by_case["ivf"]["params"]["nlist"] == round(4 * 2_000**0.5)
    assert len(by_case["hnsw"]["rows"]) == 7  # DenseIndex.search + the efSearch sweep
    for e in res["dense"]:
        assert e["size_bytes"] > 2_000 * 384 * 4 * 0.9
        assert 0 < e["serve_maxrss_kib"] < 2 * 1024**2
    table = scale_report(res)
    assert (
        "| passages | method | config | build s | size MiB | build RSS MiB | serve RSS MiB | p50 ms |"
        in table
    )
    assert "recall@10 |" in table and "### Switch point" in table


@pytest.mark.slow
def test_bench_quick_end_to_end(tmp_path: Path) -> None:
    """``python -m bench --quick`` with the real model (minutes: build, query path, cold start)."""
    out = tmp_path / "latest.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--sections", "query,cold", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "| operation | p50 ms | p95 ms | min ms | p50 / floor p50 |" in proc.stdout
    assert "| ask (hybrid + extractive answer) |" in proc.stdout and "### Build" in proc.stdout
    assert "yardstick median s" in proc.stdout and out.exists()
