"""Vector store backends on synthetic passages: ``python -m bench.stores [--sizes 10000 100000]``.

Random L2-normalised 384-d passage vectors; queries are passages perturbed with
noise (cosine ~0.7 to their source), so each has a real nearest neighbour. Each
(backend, size) case runs in its own child process, so memory is that process's
own: ``base`` is RSS after the imports and the input vectors, ``peak`` its
high-water mark (VmHWM) after inserting and querying.

Backends, each through shiori's own store protocol (``assistant.dense``: the same
``build_store`` and ``search`` calls for every one):
- ``faiss-flat``: ``ExactStore`` (numpy on ``embeddings.npy``), shiori's default.
- ``faiss-hnsw``: ``HnswStore`` (M=32, efConstruction=80, efSearch=128).
- ``milvus-lite-flat`` / ``milvus-lite-hnsw``: ``MilvusStore`` (TextNodes through
  llama-index's ``MilvusVectorStore`` into Milvus Lite, flush, index); same HNSW parameters.

Insert = everything from vectors in memory to a searchable, persisted store
(FAISS: build + save; Milvus: nodes + inserts + flush + index build).
Query = one query vector -> top 50 rows (``Settings.candidates``), p50 over the queries.
Results: ``bench/results/stores.json`` and a Markdown table on stdout (docs/SCALING.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import RESULTS_DIR
from bench.util import dir_size, summarize, vm_hwm_kib, vm_rss_kib

logger = logging.getLogger("bench.stores")

DIM = 384
K = 50
RECALL_K = 10
N_QUERIES = 200
BACKENDS: tuple[str, ...] = ("faiss-flat", "faiss-hnsw", "milvus-lite-flat", "milvus-lite-hnsw")


def synthetic(n: int, n_queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    src = x[rng.integers(0, n, n_queries)]
    q = src + rng.standard_normal(src.shape, dtype=np.float32) * (1.0 / np.sqrt(DIM))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return x, q.astype(np.float32)


def _chunks(n: int) -> list[Any]:
    from assistant.chunking import Chunk

    return [
        Chunk(
            id=f"synthetic.txt:{i + 1}-{i + 1}:{i:08x}",
            doc="synthetic.txt",
            title="synthetic",
            first_line=i + 1,
            last_line=i + 1,
            page=None,
            heading="",
            text=f"passage {i}",
            search_text=f"passage {i}",
            start=0,
            end=0,
        )
        for i in range(n)
    ]


def run_case(backend: str, n: int, n_queries: int, workdir: Path) -> dict[str, Any]:
    """One backend at one size, in this process."""
    if backend.startswith("milvus"):
        import llama_index.vector_stores.milvus  # noqa: F401  (imports counted in the base RSS)
        import pymilvus  # noqa: F401
    else:
        import faiss  # noqa: F401

    from assistant.config import Settings
    from assistant.dense import StoreBatch, build_store, vectors_only

    vectors, queries = synthetic(n, n_queries)
    base_kib = vm_rss_kib()
    kind = "hnsw" if backend.endswith("hnsw") else "flat"
    milvus = backend.startswith("milvus")
    settings = Settings.from_env(environ={}, index_dir=workdir / "index", store="milvus" if milvus else "faiss",
                                 milvus_uri=str(workdir / "bench.db"))
    if milvus:
        from assistant import milvus_store

        milvus_store.choose_kind = lambda _n: kind  # force the index type whatever the size
    batch = StoreBatch(0, vectors, _chunks(n), np.zeros(0, np.int32), (), np.zeros((0, DIM), np.float32))
    t0 = time.perf_counter()
    store = build_store("milvus" if milvus else kind, settings, workdir, batch)
    insert_s = time.perf_counter() - t0
    search = store.search
    size = dir_size(workdir / "bench.db" if milvus else workdir)
    search(queries[:5], K)  # warm-up
    lat: list[float] = []
    found: list[np.ndarray] = []
    for q in queries:
        t = time.perf_counter()
        _, rows = search(q, K)
        lat.append((time.perf_counter() - t) * 1000)
        found.append(rows[0][:RECALL_K])
    peak_kib = vm_hwm_kib()  # before the exact search below, which is only for recall
    (workdir / "exact").mkdir()
    flat = build_store("flat", settings, workdir / "exact", vectors_only(vectors))
    exact = np.concatenate(
        [flat.search(queries[s : s + 20], RECALL_K)[1] for s in range(0, len(queries), 20)]
    )
    recall = float(
        np.mean(
            [len(set(f.tolist()) & set(e.tolist())) / RECALL_K for f, e in zip(found, exact, strict=True)]
        )
    )
    return {
        "backend": backend,
        "n": n,
        "insert_s": round(insert_s, 3),
        "insert_per_s": round(n / insert_s, 1),
        "query_ms": summarize(lat),
        "recall_at_10": round(recall, 4),
        "base_rss_mib": round(base_kib / 1024, 1),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "disk_mib": round(size / 2**20, 1),
    }


def markdown(results: list[dict[str, Any]]) -> str:
    rows = [
        "| backend | passages | insert (passages/s) | insert total (s) | query p50 (ms) | query p95 (ms) "
        "| recall@10 | RSS before insert (MiB) | peak RSS (MiB) | on disk (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        q = r["query_ms"]
        rows.append(
            f"| {r['backend']} | {r['n']:,} | {r['insert_per_s']:,.0f} | {r['insert_s']:.1f} | {q['p50']:.2f} "
            f"| {q['p95']:.2f} | {r['recall_at_10']:.3f} | {r['base_rss_mib']:.0f} | {r['peak_rss_mib']:.0f} "
            f"| {r['disk_mib']:.0f} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.stores", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    ap.add_argument("--queries", type=int, default=N_QUERIES)
    ap.add_argument("--json", type=Path, default=RESULTS_DIR / "stores.json")
    ap.add_argument("--case", nargs=2, metavar=("BACKEND", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.case:
        print(json.dumps(run_case(args.case[0], int(args.case[1]), args.queries, args.workdir)))
        return 0
    results: list[dict[str, Any]] = []
    for n in args.sizes:
        for backend in args.backends:
            with tempfile.TemporaryDirectory(prefix="shiori-stores-") as tmp:
                logger.info("%s, %d passages", backend, n)
                out = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.stores",
                        "--case",
                        backend,
                        str(n),
                        "--queries",
                        str(args.queries),
                        "--workdir",
                        tmp,
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                    env={**os.environ, "PYTHONWARNINGS": "ignore"},
                )
                if out.returncode:
                    logger.error("%s at %d failed:\n%s", backend, n, out.stderr[-3000:])
                    continue
                results.append(json.loads(out.stdout.strip().splitlines()[-1]))
                logger.info("  %s", results[-1])
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({"load_average": os.getloadavg(), "cpus": os.cpu_count(), "results": results}, indent=1)
        + "\n",
        encoding="utf-8",
    )
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
