"""Performance benchmarks for shiori: ``python -m bench [--quick]`` and ``python -m bench scale``.

Every timing is taken in the same run as a yardstick (the embedder's own
query-encoding time, its raw batch throughput, a bare model-loading process,
exact search) and reported as a ratio to it, because the machine is shared and
absolute numbers drift. Results go to ``bench/results/`` (git-ignored) as JSON,
the tables to stdout; ``docs/PERFORMANCE.md`` holds the last published tables.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLD_PATH = ROOT / "eval" / "gold.jsonl"
RESULTS_DIR = ROOT / "bench" / "results"

#: Targets from the performance brief (ratios are to the same-run yardstick).
TARGETS: dict[str, float] = {
    "search_p50_over_floor": 1.25,
    "ask_p50_over_floor": 1.5,
    "cite_p50_over_floor": 2.0,
    "build_over_raw_throughput": 0.9,
    "rebuild_fraction": 0.10,
    "cold_ask_over_bare_model": 1.5,
    "batch_over_warm_ask": 0.9,
    "dense_p50_ms_at_1m": 10.0,
    "dense_recall_at_10_at_1m": 0.95,
    "bm25_p50_ms_at_1m": 50.0,
    "peak_rss_gib_at_1m": 8.0,
}
