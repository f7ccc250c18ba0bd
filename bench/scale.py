"""Scale study on synthetic corpora: dense ANN choices and BM25, 10k to 1M passages.

Dense vectors are perturbed mixtures of the real corpus's passage and sentence
embeddings (``normalize(a*u + (1-a)*v + noise)``, 384-d float32), so the data keep
the real embeddings' anisotropy without embedding millions of passages. BM25
passages are the real corpus's sentences shuffled into ~300-character passages.

Each (size, method) case is built in one child process and queried in another,
so "build RSS" and "serve RSS" are each process's own peak (``wait4``).
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import math
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from bench import GOLD_PATH, ROOT
from bench.util import dir_size, run_worker, summarize, vm_hwm_kib

logger = logging.getLogger(__name__)

SIZES: tuple[int, ...] = (10_000, 100_000, 1_000_000)
QUICK_SIZES: tuple[int, ...] = (10_000,)
DIM = 384
N_QUERIES = 100
K = 10
#: Candidates the pipeline takes from each retriever (Settings.candidates).
CANDIDATES = 50
EF_SEARCH: tuple[int, ...] = (16, 32, 64, 96, 128, 256)
NPROBE: tuple[int, ...] = (1, 4, 8, 16, 32, 64)
NOISE = 0.02
#: Sentences per passage in the real corpus (670 / 83); the flat path scores both.
SENTENCES_PER_PASSAGE = 8
#: The passages+sentences flat case is generated up to this size (9x the vectors).
SENT_MAX_N = 100_000
DENSE_CASES: tuple[str, ...] = ("numpy-flat", "shiori-flat+sent", "faiss-flat", "hnsw", "ivf")
#: Latency budget for the dense stage when choosing the flat -> HNSW switch point.
SWITCH_BUDGET_MS = 10.0
BM25_PASSAGE_CHARS = 300


# ------------------------------------------------------------------ data


def base_vectors(source: str = "auto", seed: int = 0) -> tuple[np.ndarray, str]:
    """Seed vectors: the repo index's passage+sentence embeddings, or random unit centres."""
    index = ROOT / "index"
    if source == "auto" and (index / "embeddings.npy").exists():
        parts = [np.load(index / "embeddings.npy", allow_pickle=False)]
        if (index / "sent_embeddings.npy").exists():
            parts.append(np.load(index / "sent_embeddings.npy", allow_pickle=False))
        base = np.concatenate(parts).astype(np.float32)
        if base.shape[1] == DIM:
            return base, f"real corpus embeddings ({len(base)} passage+sentence vectors)"
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((1000, DIM)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    return base, "random unit centres (1000)"


def _normalize(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def synth_block(base: np.ndarray, m: int, rng: np.random.Generator, noise: float = NOISE) -> np.ndarray:
    """``m`` vectors: a random convex mix of two seed vectors plus gaussian noise, unit length."""
    i = rng.integers(0, len(base), m)
    j = rng.integers(0, len(base), m)
    a = rng.uniform(0.5, 1.0, (m, 1)).astype(np.float32)
    v = a * base[i] + (1 - a) * base[j] + noise * rng.standard_normal((m, base.shape[1]), dtype=np.float32)
    return _normalize(v)


def synth_to_file(path: Path, base: np.ndarray, n: int, seed: int, chunk: int = 100_000) -> None:
    """Write ``n`` synthetic vectors to ``path`` (.npy, float32) in chunks."""
    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, base.shape[1]))
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        out[s : s + m] = synth_block(base, m, rng)
    out.flush()
    del out


def sentences_to_file(vec_path: Path, out_dir: Path, per: int, seed: int, chunk: int = 20_000) -> None:
    """Sentence vectors near their passage vector (``per`` each) + their passage rows."""
    vecs = np.load(vec_path, mmap_mode="r")
    n = len(vecs)
    rng = np.random.default_rng(seed)
    np.save(out_dir / "sent_rows.npy", np.repeat(np.arange(n, dtype=np.int32), per), allow_pickle=False)
    out = np.lib.format.open_memmap(
        out_dir / "sent_embeddings.npy", mode="w+", dtype=np.float32, shape=(n * per, vecs.shape[1])
    )
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        block = np.repeat(np.asarray(vecs[s : s + m]), per, axis=0)
        out[s * per : (s + m) * per] = _normalize(
            block + 0.03 * rng.standard_normal(block.shape, dtype=np.float32)
        )
    out.flush()
    del out


def exact_topk(vectors: np.ndarray, queries: np.ndarray, k: int = K, chunk: int = 200_000) -> np.ndarray:
    """Exact inner-product top ``k`` rows per query, scanning ``vectors`` in chunks."""
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    for s in range(0, len(vectors), chunk):
        sims = queries @ np.asarray(vectors[s : s + chunk]).T
        cand_s = np.concatenate([best_s, sims], axis=1)
        cand_i = np.concatenate(
            [best_i, np.arange(s, s + sims.shape[1])[None, :].repeat(len(queries), 0)], axis=1
        )
        top = np.argpartition(-cand_s, k - 1, axis=1)[:, :k]
        best_s = np.take_along_axis(cand_s, top, 1)
        best_i = np.take_along_axis(cand_i, top, 1)
    order = np.argsort(-best_s, axis=1)
    return np.take_along_axis(best_i, order, 1)


def recall_at_k(found: Sequence[Sequence[int]], exact: np.ndarray, k: int = K) -> float:
    """Mean fraction of the exact top ``k`` found in each result's top ``k``."""
    return float(
        np.mean(
            [len(set(map(int, f[:k])) & set(map(int, e[:k]))) / k for f, e in zip(found, exact, strict=True)]
        )
    )


def ivf_nlist(n: int) -> int:
    return max(1, int(round(4 * math.sqrt(n))))


# ------------------------------------------------------------ dense tasks


def dense_build_task(task: dict[str, Any]) -> dict[str, Any]:
    """Worker: build one dense case from ``vectors.npy`` into ``case_dir``."""
    from assistant.config import Settings
    from assistant.dense import HNSW_EF_CONSTRUCTION, HNSW_M, build_store, vectors_only

    case, data_dir, case_dir = task["case"], Path(task["data_dir"]), Path(task["case_dir"])
    case_dir.mkdir(parents=True, exist_ok=True)
    vectors = np.load(data_dir / "vectors.npy", mmap_mode="r")
    n, dim = vectors.shape
    params: dict[str, Any] = {}
    t0 = time.perf_counter()
    if case in ("numpy-flat", "shiori-flat+sent"):
        build_store("flat", Settings(), case_dir, vectors_only(vectors))
        if case == "shiori-flat+sent":
            for name in ("sent_embeddings.npy", "sent_rows.npy"):
                shutil.copyfile(data_dir / name, case_dir / name)
    elif case == "hnsw":
        build_store("hnsw", Settings(), case_dir, vectors_only(vectors))
        params = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}
    else:
        import faiss

        if case == "faiss-flat":
            index = faiss.IndexFlatIP(dim)
        elif case == "ivf":
            nlist = ivf_nlist(n)
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            n_train = min(n, 50 * nlist)
            sample = np.sort(np.random.default_rng(1).choice(n, n_train, replace=False))
            index.train(np.ascontiguousarray(vectors[sample]))
            params = {"nlist": nlist, "train": n_train}
        else:
            raise ValueError(f"unknown dense case {case!r}; choose one of {sorted(DENSE_CASES)}")
        for s in range(0, n, 100_000):
            index.add(np.ascontiguousarray(vectors[s : s + 100_000]))
        faiss.write_index(index, str(case_dir / "index.faiss"))
    build_s = time.perf_counter() - t0
    return {"case": case, "n": n, "build_s": build_s, "size_bytes": dir_size(case_dir), "params": params}


def _one_thread():  # type: ignore[no-untyped-def]
    """A context that pins BLAS/OpenMP pools to one thread (``None`` without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return lambda: threadpool_limits(limits=1)


def _time_queries(fn, queries: np.ndarray, warmup: int = 5):  # type: ignore[no-untyped-def]
    """Per query: the result rows, its time with default threads and (interleaved) with one thread.

    A batch of one query gains little from a second thread and, on a busy machine,
    can wait for it; timing both on the same query back to back, in alternating
    order, keeps machine load from favouring either.
    """
    pin = _one_thread()
    for q in queries[:warmup]:
        fn(q)
    found, t_default, t_single = [], [], []
    for i, q in enumerate(queries):
        order = ("default", "single") if i % 2 == 0 else ("single", "default")
        for mode in order:
            if mode == "single" and pin is None:
                continue
            ctx = pin() if mode == "single" else contextlib.nullcontext()
            with ctx:
                t0 = time.perf_counter()
                rows = fn(q)
                dt = (time.perf_counter() - t0) * 1000
            if mode == "default":
                t_default.append(dt)
                found.append([int(r) for r in rows])
            else:
                t_single.append(dt)
    return found, t_default, t_single


def dense_query_task(task: dict[str, Any]) -> dict[str, Any]:
    """Worker: load one case from disk, time single queries (batch of 1), recall@10 vs exact."""
    from assistant.config import Settings
    from assistant.dense import HNSW_EF_SEARCH, get_store
    from assistant.pipeline import Pipeline

    case, data_dir, case_dir = task["case"], Path(task["data_dir"]), Path(task["case_dir"])
    queries = np.load(data_dir / "queries.npy")
    exact = np.load(data_dir / "exact.npy")
    t0 = time.perf_counter()
    configs: list[tuple[str, Any]] = []
    manifest = {"passages": None, "store": {"kind": "faiss"}}
    if case == "numpy-flat":
        idx = get_store("flat").load(Settings(), case_dir, manifest, str)
        configs.append(("exact", lambda q: idx.search(q, K)[1][0]))
    elif case == "shiori-flat+sent":
        idx = get_store("flat").load(Settings(), case_dir, manifest, str)
        sent = SimpleNamespace(
            rows=np.load(case_dir / "sent_rows.npy"),
            vectors=np.load(case_dir / "sent_embeddings.npy", mmap_mode="r"),
        )
        loaded = SimpleNamespace(dense=idx, sentences=sent)
        me = SimpleNamespace(settings=SimpleNamespace(dense_sentences=True))
        # The pipeline's own dense stage: best of passage and sentence similarity.
        configs.append(
            (
                "passage+sentences",
                lambda q: [r for r, _ in Pipeline._dense_run(me, loaded, q, CANDIDATES)[:K]],
            )
        )
    elif case == "hnsw":
        idx = get_store("hnsw").load(Settings(), case_dir, manifest, str)
        configs.append((f"efSearch={HNSW_EF_SEARCH} (HnswStore.search)", lambda q: idx.search(q, K)[1][0]))
        hnsw = idx.graph
        for ef in EF_SEARCH:

            def run(q, ef=ef):  # type: ignore[no-untyped-def]
                hnsw.hnsw.efSearch = ef
                return hnsw.search(q[None, :], K)[1][0]

            configs.append((f"efSearch={ef}", run))
    else:
        import faiss

        index = faiss.read_index(str(case_dir / "index.faiss"))
        if case == "faiss-flat":
            configs.append(("exact", lambda q: index.search(q[None, :], K)[1][0]))
        else:
            for p in NPROBE:

                def run(q, p=p):  # type: ignore[no-untyped-def]
                    index.nprobe = p
                    return index.search(q[None, :], K)[1][0]

                configs.append((f"nprobe={p}", run))
    load_s = time.perf_counter() - t0
    rows = []
    for label, fn in configs:
        found, times, times_1 = _time_queries(fn, queries)
        s, s1 = summarize(times), summarize(times_1)
        rows.append(
            {
                "config": label,
                "p50_ms": s["p50"],
                "p95_ms": s["p95"],
                "p50_ms_1thread": s1["p50"] if times_1 else None,
                "p95_ms_1thread": s1["p95"] if times_1 else None,
                # The sentence-max ranking differs from passage kNN by design: no recall vs exact.
                "recall_at_10": None if case == "shiori-flat+sent" else recall_at_k(found, exact),
            }
        )
    return {"case": case, "load_s": load_s, "rows": rows}


# ------------------------------------------------------------- BM25 tasks


def corpus_sentences() -> list[str]:
    """Normalised sentences of the real corpus (unique, in corpus order)."""
    from assistant.chunking import chunk_corpus, split_sentences
    from assistant.config import Settings
    from assistant.corpus import load_corpus

    s = Settings()
    chunks = chunk_corpus(load_corpus(s.corpus_dir), s.chunk_chars, s.chunk_overlap)
    return list(dict.fromkeys(x.text for c in chunks for x in split_sentences(c)))


def synth_passages(
    sentences: Sequence[str], n: int, seed: int = 0, target: int = BM25_PASSAGE_CHARS
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` passages, each random sentences appended until ``target`` characters.

    Returns (flat sentence indices, sentences per passage).
    """
    rng = np.random.default_rng(seed)
    lengths = np.array([len(s) for s in sentences])
    width = max(4, int(3 * target / max(1, lengths.mean())))
    picks_flat, counts_all = [], []
    for s0 in range(0, n, 200_000):
        m = min(200_000, n - s0)
        picks = rng.integers(0, len(sentences), (m, width))
        cum = np.cumsum(lengths[picks], axis=1)
        counts = np.minimum((cum < target).sum(axis=1) + 1, width)
        picks_flat.append(picks[np.arange(width)[None, :] < counts[:, None]])
        counts_all.append(counts)
    if not picks_flat:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(picks_flat).astype(np.int64), np.concatenate(counts_all).astype(np.int64)


def passage_texts(
    sentences: Sequence[str], picks: np.ndarray, counts: np.ndarray, limit: int | None = None
) -> list[str]:
    """The text of the first ``limit`` (default all) passages."""
    off = np.concatenate(([0], np.cumsum(counts)))
    m = len(counts) if limit is None else min(limit, len(counts))
    return ["".join(sentences[j] for j in picks[off[i] : off[i + 1]]) for i in range(m)]


def _query_tokens(n: int) -> list[tuple[str, ...]]:
    from assistant.bm25 import mecab_tokenize
    from assistant.gold import load_gold
    from assistant.normalize import normalize_query

    qs = [it.question for it in load_gold(GOLD_PATH)][:n]
    return [tuple(mecab_tokenize(normalize_query(q))) for q in qs]


def bm25_task(task: dict[str, Any]) -> dict[str, Any]:
    """Worker: build BM25 over ``n`` synthetic passages with MeCab tokens and save it.

    ``tokenize="full"``: ``BM25Index.build(texts, mecab_tokenize)`` exactly as the
    index build calls it. ``"sampled"``: MeCab's speed is measured on a sample of
    passages and extrapolated to all; the construction (``builder`` "current" =
    ``BM25Index.build``, "vectorised" = ``bench.bm25_fast``) is timed on
    pre-tokenised passages (a passage's tokens are its sentences' tokens).
    """
    from assistant.bm25 import BM25Index, mecab_tokenize

    n, out = int(task["n"]), Path(task["index_dir"])
    builder = task.get("builder", "current")
    sentences = corpus_sentences()
    picks, counts = synth_passages(sentences, n, seed=task.get("seed", 0))
    sent_chars = np.array([len(x) for x in sentences])
    total_chars = int(sent_chars[picks].sum())
    sample = passage_texts(sentences, picks, counts, limit=int(task.get("sample", 2000)))
    mecab_tokenize("準備")
    t0 = time.perf_counter()
    for t in sample:
        mecab_tokenize(t)
    chars_per_s = sum(map(len, sample)) / (time.perf_counter() - t0)
    result: dict[str, Any] = {
        "n": n,
        "tokenize": task["tokenize"],
        "builder": builder,
        "chars": total_chars,
        "mecab_chars_per_s": chars_per_s,
        "tokenize_est_s": total_chars / chars_per_s,
    }
    if task["tokenize"] == "full":
        if builder != "current":
            raise ValueError("full tokenisation is measured with the current builder only")
        texts = passage_texts(sentences, picks, counts)
        t0 = time.perf_counter()
        index = BM25Index.build(texts, mecab_tokenize)
        result["build_s"] = time.perf_counter() - t0
        result["build_measured"] = "measured: BM25Index.build(texts, mecab_tokenize)"
    else:
        sent_tokens = [mecab_tokenize(x) for x in sentences]
        if builder == "current":
            texts = passage_texts(sentences, picks, counts)
            off = np.concatenate(([0], np.cumsum(counts)))
            token_lists = iter(
                [[tok for j in picks[off[i] : off[i + 1]] for tok in sent_tokens[j]] for i in range(n)]
            )
            gc.collect()
            t0 = time.perf_counter()
            index = BM25Index.build(texts, lambda _text: next(token_lists))
            label = "BM25Index.build"
        else:
            from bench.bm25_fast import build_from_sentences

            t0 = time.perf_counter()
            index = build_from_sentences(sent_tokens, picks, counts)
            label = "vectorised (bench.bm25_fast)"
        result["construct_s"] = time.perf_counter() - t0
        result["build_s"] = result["construct_s"] + result["tokenize_est_s"]
        result["build_measured"] = f"{label}, measured + MeCab extrapolated"
    result["build_vmhwm_kib"] = vm_hwm_kib()
    index.save(out)
    result["size_bytes"] = dir_size(out)
    result["vocab"] = len(index.vocab)
    result["postings"] = int(len(index.docs))
    return result


def bm25_query_task(task: dict[str, Any]) -> dict[str, Any]:
    """Worker: load a saved BM25 index (memory-mapped, as the pipeline does) and time queries."""
    from assistant.bm25 import BM25Index, mecab_tokenize
    from assistant.normalize import normalize_query

    t0 = time.perf_counter()
    index = BM25Index.load(Path(task["index_dir"]))
    load_s = time.perf_counter() - t0
    from assistant.gold import load_gold

    qs = [it.question for it in load_gold(GOLD_PATH)][:N_QUERIES]
    mecab_tokenize("準備")
    for q in qs[:5]:
        index.search(mecab_tokenize(normalize_query(q)), CANDIDATES)
    times = []
    for q in qs:
        t = time.perf_counter()
        index.search(mecab_tokenize(normalize_query(q)), CANDIDATES)
        times.append((time.perf_counter() - t) * 1000)
    s = summarize(times)
    return {"load_s": load_s, "p50_ms": s["p50"], "p95_ms": s["p95"]}


# ------------------------------------------------------- embedding cache


def cache_task(task: dict[str, Any]) -> dict[str, Any]:
    """Worker: ``EmbeddingCache.put_many`` cost as shards accumulate, and a cold load.

    A build writes one shard per batch of ``batch`` passages; this times the
    first and last ``probe`` puts of ``shards`` puts, then loading them all.
    """
    from assistant.embedding import EmbeddingCache

    root, shards, batch = Path(task["dir"]), int(task["shards"]), int(task.get("batch", 32))
    probe = min(100, max(1, shards // 4))
    rng = np.random.default_rng(0)
    vecs = _normalize(rng.standard_normal((batch, DIM), dtype=np.float32))
    cache = EmbeddingCache(root, "bench-model")
    times = []
    for i in range(shards):
        keys = [f"{i:08d}-{j:03d}" for j in range(batch)]
        t0 = time.perf_counter()
        cache.put_many(keys, vecs)
        times.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    fresh = EmbeddingCache(root, "bench-model")
    fresh.get_many(["missing"])
    load_s = time.perf_counter() - t0
    return {
        "shards": shards,
        "rows": shards * batch,
        "put_first_ms": float(np.median(times[:probe])),
        "put_last_ms": float(np.median(times[-probe:])),
        "write_total_s": sum(times) / 1000,
        "load_s": load_s,
        "load_vmhwm_kib": vm_hwm_kib(),
    }


# ------------------------------------------------------------ orchestration


def _save(results: dict[str, Any], out: Path | None) -> None:
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def merge_scale(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One result from several scale runs (e.g. 10k+100k and a separate 1M run), by size."""
    merged = {**runs[0], "dense": [], "bm25": [], "cache": [], "runs": []}
    for r in runs:
        merged["dense"] += r.get("dense", [])
        merged["bm25"] += r.get("bm25", [])
        merged["cache"] += r.get("cache", [])
        merged["runs"].append(
            {"machine": r["machine"], "sizes": sorted({e["n"] for e in r.get("dense", [])})}
        )
    merged["dense"].sort(key=lambda e: (e["n"], DENSE_CASES.index(e["case"])))
    merged["bm25"].sort(key=lambda e: e["n"])
    merged["switch"] = switch_point(merged)
    return merged


def bm25_plan(n: int, full_tokenize_max: int) -> list[tuple[str, str]]:
    """(tokenisation, builder) runs at size ``n``.

    Up to ``full_tokenize_max`` the current build runs as the index build runs it
    (MeCab on every passage); the vectorised builder runs beside it for comparison.
    Above it the current builder is left out: its Python objects need ~23 KiB per
    passage (≈ 23 GiB at 1M, extrapolated from 10k and 100k).
    """
    if n <= full_tokenize_max:
        return [("full", "current"), ("sampled", "vectorised")]
    if n <= 100_000:
        return [("sampled", "current"), ("sampled", "vectorised")]
    return [("sampled", "vectorised")]


def prepare_dense_data(data_dir: Path, base: np.ndarray, n: int, with_sentences: bool, seed: int = 0) -> dict:
    data_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    synth_to_file(data_dir / "vectors.npy", base, n, seed)
    queries = synth_block(base, N_QUERIES, np.random.default_rng(seed + 10_000))
    np.save(data_dir / "queries.npy", queries, allow_pickle=False)
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    exact = exact_topk(np.load(data_dir / "vectors.npy", mmap_mode="r"), queries)
    np.save(data_dir / "exact.npy", exact, allow_pickle=False)
    exact_s = time.perf_counter() - t0
    if with_sentences:
        sentences_to_file(data_dir / "vectors.npy", data_dir, SENTENCES_PER_PASSAGE, seed + 1)
    return {"generate_s": gen_s, "exact_s": exact_s}


def run_scale(
    sizes: Sequence[int],
    workdir: Path,
    out: Path | None = None,
    cases: Sequence[str] = DENSE_CASES,
    bm25: bool = True,
    full_tokenize_max: int = 100_000,
    base_source: str = "auto",
    keep: bool = False,
    mem_limit_gib: float | None = None,
    timeout: float = 4 * 3600,
    cache_shards: Sequence[int] = (),
) -> dict[str, Any]:
    """Run every case at every size; results are saved after each case (a long run can be polled)."""
    from bench.util import machine_info

    base, base_desc = base_vectors(base_source)
    results: dict[str, Any] = {
        "kind": "scale",
        "machine": machine_info(),
        "base_vectors": base_desc,
        "noise": NOISE,
        "queries": N_QUERIES,
        "k": K,
        "dense": [],
        "bm25": [],
    }
    for n in sizes:
        data_dir = Path(workdir) / f"n{n}"
        with_sent = "shiori-flat+sent" in cases and n <= SENT_MAX_N
        logger.info("scale n=%d: generating data", n)
        prep = prepare_dense_data(data_dir / "data", base, n, with_sent) if cases else {}
        for case in cases:
            if case == "shiori-flat+sent" and not with_sent:
                continue
            case_dir = data_dir / case
            logger.info("scale n=%d: %s build", n, case)
            common = {
                "case": case,
                "data_dir": str(data_dir / "data"),
                "case_dir": str(case_dir),
                "mem_limit_gib": mem_limit_gib,
            }
            b = run_worker({"task": "dense_build", **common}, timeout=timeout)
            logger.info("scale n=%d: %s query", n, case)
            q = run_worker({"task": "dense_query", **common}, timeout=timeout)
            results["dense"].append(
                {
                    "n": n,
                    "case": case,
                    "build_s": b["build_s"],
                    "size_bytes": b["size_bytes"],
                    "params": b["params"],
                    "build_maxrss_kib": b["maxrss_kib"],
                    "serve_maxrss_kib": q["maxrss_kib"],
                    "load_s": q["load_s"],
                    "rows": q["rows"],
                    "data": prep,
                }
            )
            _save(results, out)
            if not keep:
                shutil.rmtree(case_dir, ignore_errors=True)
        for mode, builder in bm25_plan(n, full_tokenize_max) if bm25 else ():
            idx_dir = data_dir / f"bm25-{builder}"
            logger.info("scale n=%d: bm25 build (%s tokenisation, %s builder)", n, mode, builder)
            b = run_worker(
                {
                    "task": "bm25",
                    "n": n,
                    "tokenize": mode,
                    "builder": builder,
                    "index_dir": str(idx_dir),
                    "mem_limit_gib": mem_limit_gib,
                },
                timeout=timeout,
            )
            row = {"n": n, **{k: v for k, v in b.items() if k not in ("vmhwm_kib", "wall_s", "maxrss_kib")}}
            if "error" not in b:
                q = run_worker({"task": "bm25_query", "index_dir": str(idx_dir)}, timeout=timeout)
                row.update(
                    query_p50_ms=q["p50_ms"],
                    query_p95_ms=q["p95_ms"],
                    load_s=q["load_s"],
                    serve_maxrss_kib=q["maxrss_kib"],
                )
            row["build_maxrss_kib"] = b["maxrss_kib"]
            results["bm25"].append(row)
            shutil.rmtree(idx_dir, ignore_errors=True) if not keep else None
            _save(results, out)
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    for shards in cache_shards:
        logger.info("embedding cache: %d shards", shards)
        c = run_worker(
            {"task": "cache", "dir": str(Path(workdir) / f"cache{shards}"), "shards": shards}, timeout=timeout
        )
        results.setdefault("cache", []).append(c)
        shutil.rmtree(Path(workdir) / f"cache{shards}", ignore_errors=True)
        _save(results, out)
    results["switch"] = switch_point(results)
    _save(results, out)
    return results


def _p50(entry: dict[str, Any], key: str = "p50_ms") -> float | None:
    v = entry["rows"][0].get(key)
    return None if v is None else float(v)


def crossing(points: Sequence[tuple[int, float]], budget_ms: float) -> float | None:
    """Size at which exact search reaches ``budget_ms``, from a fit ``t = b n`` of (n, p50 ms).

    A scan costs time proportional to the vectors it reads; the fit goes through
    the origin (least squares, so the largest size weighs most) because an
    intercept fitted to two noisy points can come out larger than the budget.
    """
    pts = [(float(n), float(t)) for n, t in points if t is not None and t > 0]
    if not pts:
        return None
    b = sum(n * t for n, t in pts) / sum(n * n for n, _ in pts)
    return budget_ms / b


def switch_point(results: dict[str, Any], budget_ms: float = SWITCH_BUDGET_MS) -> dict[str, Any]:
    """Where exact flat search stops fitting the dense latency budget, and the best ANN per size.

    The recommendation uses the pipeline's own flat path (passages + sentences)
    timed with one thread: stable on a shared machine, and never slower for a
    batch of one query in these runs.
    """
    out: dict[str, Any] = {"budget_ms": budget_ms}
    for case in ("numpy-flat", "shiori-flat+sent"):
        for label, key in (("", "p50_ms"), ("_1thread", "p50_ms_1thread")):
            pts = [(e["n"], _p50(e, key)) for e in results["dense"] if e["case"] == case]
            pts = [(n, t) for n, t in pts if t is not None]
            out[f"{case}{label}_crosses_budget_at"] = crossing(pts, budget_ms)
    best: dict[str, Any] = {}
    for e in results["dense"]:
        if e["case"] not in ("hnsw", "ivf"):
            continue
        for r in e["rows"]:
            if r["recall_at_10"] is None or r["recall_at_10"] < 0.95:
                continue
            t = min(x for x in (r["p50_ms"], r.get("p50_ms_1thread")) if x is not None)
            cur = best.get(str(e["n"]))
            if cur is None or t < cur["p50_ms"]:
                best[str(e["n"])] = {
                    "case": e["case"],
                    "config": r["config"],
                    "p50_ms": t,
                    "recall_at_10": r["recall_at_10"],
                }
    out["fastest_ann_at_recall_0.95"] = best
    # Smallest HNSW efSearch reaching recall 0.95 per size (the sweep rows, not the default row).
    ef: dict[str, Any] = {}
    for e in results["dense"]:
        if e["case"] != "hnsw":
            continue
        ok = [
            r
            for r in e["rows"]
            if r["config"].startswith("efSearch=")
            and "(" not in r["config"]
            and r["recall_at_10"] is not None
            and r["recall_at_10"] >= 0.95
        ]
        if ok:
            r = min(ok, key=lambda r: int(r["config"].split("=")[1]))
            ef[str(e["n"])] = {
                "efSearch": int(r["config"].split("=")[1]),
                "p50_ms": r["p50_ms"],
                "recall_at_10": r["recall_at_10"],
            }
    out["hnsw_min_ef_for_recall_0.95"] = ef
    basis = out.get("shiori-flat+sent_1thread_crosses_budget_at") or out.get(
        "shiori-flat+sent_crosses_budget_at"
    )
    if basis and basis > 0:
        # Round down to one significant figure (e.g. 37k -> 30k, 8.2k -> 8k).
        mag = 10 ** int(math.floor(math.log10(basis)))
        out["recommended_threshold"] = int(math.floor(basis / mag) * mag)
    return out
